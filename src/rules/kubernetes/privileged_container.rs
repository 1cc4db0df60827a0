use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::at;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "privileged-container",
    doc: rule_doc!("privileged-container"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in obj.containers() {
        let Some(sc) = &c.spec.security_context else {
            continue;
        };
        if sc.privileged == Some(true) {
            let route = at(
                &c.route,
                &[Seg::Key("securityContext"), Seg::Key("privileged")],
            );
            cx.report(
                obj.span(&route, Part::Value),
                format!("container `{}` runs privileged: it has every capability of the node's root user and can take over the node", c.spec.name),
            )
            .help("remove `privileged: true`; grant only the capabilities it needs with `capabilities.add`");
        }
        if sc.allow_privilege_escalation == Some(true) {
            let route = at(
                &c.route,
                &[
                    Seg::Key("securityContext"),
                    Seg::Key("allowPrivilegeEscalation"),
                ],
            );
            cx.report(
                obj.span(&route, Part::Value),
                format!("container `{}` allows privilege escalation: a setuid binary in the image can make a compromised process root", c.spec.name),
            )
            .help("set `allowPrivilegeEscalation: false`");
        }
    }
}
