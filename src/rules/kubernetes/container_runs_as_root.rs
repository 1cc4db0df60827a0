use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::at;
use crate::rules::{rule_doc, Check, Ctx, K8sCondition, Rule};

pub static RULE: Rule = Rule {
    name: "container-runs-as-root",
    doc: rule_doc!("container-runs-as-root"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some((pod, pod_route)) = obj.pod_spec() else {
        return;
    };
    let pod_sc = pod.security_context.as_ref();
    let pod_user = pod_sc.and_then(|s| s.run_as_user);
    let pod_non_root = pod_sc.and_then(|s| s.run_as_non_root) == Some(true);
    for c in obj.containers() {
        let sc = c.spec.security_context.as_ref();
        let user = sc.and_then(|s| s.run_as_user).or(pod_user);
        let non_root = sc.and_then(|s| s.run_as_non_root).unwrap_or(pod_non_root);
        // An explicit `runAsUser: 0`, where it is written.
        if user == Some(0) {
            let route = if sc.and_then(|s| s.run_as_user).is_some() {
                at(
                    &c.route,
                    &[Seg::Key("securityContext"), Seg::Key("runAsUser")],
                )
            } else {
                at(
                    &pod_route,
                    &[Seg::Key("securityContext"), Seg::Key("runAsUser")],
                )
            };
            cx.report(
                obj.span(&route, Part::Value),
                format!(
                    "container `{}` is set to run as root (`runAsUser: 0`)",
                    c.spec.name
                ),
            )
            .help("run as an unprivileged user: a non-zero `runAsUser` and `runAsNonRoot: true`");
            continue;
        }
        if user.is_some_and(|u| u > 0) || non_root {
            continue;
        }
        cx.report(
            obj.span(&at(&c.route, &[Seg::Key("name")]), Part::Entry),
            format!("container `{}` may run as root: neither it nor the pod sets `runAsNonRoot: true` or a non-zero `runAsUser`, so the image's user decides", c.spec.name),
        )
        .help("set `securityContext.runAsNonRoot: true` (and `runAsUser` if the image has no numeric non-root `USER`) on the pod or the container")
        .when_k8s(K8sCondition::AtMostInfoIfImageNonRoot);
    }
}
