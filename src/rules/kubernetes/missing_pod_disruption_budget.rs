use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{rule_doc, Check, Ctx, K8sCondition, Rule};

pub static RULE: Rule = Rule {
    name: "missing-pod-disruption-budget",
    doc: rule_doc!("missing-pod-disruption-budget"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some(Some(n)) = obj.replicas() else {
        return;
    };
    if n <= 1 {
        return;
    }
    let Some(workload) = obj.workload() else {
        return;
    };
    cx.report(
        obj.span(&[Seg::Key("metadata"), Seg::Key("name")], Part::Value),
        format!("{} `{}` runs {n} replicas but no PodDisruptionBudget selects them: a node drain or cluster upgrade may evict all of them at once", obj.kind(), obj.name()),
    )
    .help("add a PodDisruptionBudget whose selector matches the pod labels, with `maxUnavailable: 1` (or a `minAvailable` below the replica count)")
    .when_k8s(K8sCondition::UnlessBudgeted(workload));
}
