use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::is_placeholder;
use crate::rules::{rule_doc, Check, Ctx, K8sCondition, Rule};

pub static RULE: Rule = Rule {
    name: "single-replica-deployment",
    doc: rule_doc!("single-replica-deployment"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some(replicas) = obj.replicas() else {
        return;
    };
    if replicas.is_some_and(|r| r != 1) {
        return;
    }
    let Some(workload) = obj.workload() else {
        return;
    };
    // A pod of placeholders (a `sleep infinity` client to exec into) serves nothing, whatever
    // selects it.
    let containers = obj.containers();
    let app: Vec<_> = containers.iter().filter(|c| !c.init).collect();
    if !app.is_empty() && app.iter().all(|c| is_placeholder(c.spec)) {
        return;
    }
    let (span, what) = match replicas {
        Some(_) => (
            obj.span(&[Seg::Key("spec"), Seg::Key("replicas")], Part::Value),
            "`replicas: 1`",
        ),
        None => (
            obj.span(&[Seg::Key("metadata"), Seg::Key("name")], Part::Value),
            "no `replicas` (so 1)",
        ),
    };
    cx.report(
        span,
        format!("{} `{}` serves a Service with {what} and no autoscaler: every rollout, node drain or crash is an outage", obj.kind(), obj.name()),
    )
    .help("run at least 2 replicas (spread across nodes with `topologySpreadConstraints`), or scale it with a HorizontalPodAutoscaler whose `minReplicas` is 2 or more")
    .when_k8s(K8sCondition::ServedAndNotAutoscaled(workload));
}
