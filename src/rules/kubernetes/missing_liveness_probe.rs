use crate::lang::kubernetes::K8sObject;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-liveness-probe",
    doc: rule_doc!("missing-liveness-probe"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    super::report_missing_probe(
        obj,
        cx,
        |c| c.liveness_probe.as_ref(),
        "liveness",
        "add a `livenessProbe` that checks only that this process can serve (not its dependencies)",
        false,
    );
}
