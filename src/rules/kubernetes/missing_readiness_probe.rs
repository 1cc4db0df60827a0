use crate::lang::kubernetes::K8sObject;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-readiness-probe",
    doc: rule_doc!("missing-readiness-probe"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    super::report_missing_probe(
        obj,
        cx,
        |c| c.readiness_probe.as_ref(),
        "readiness",
        "add a `readinessProbe` so traffic only reaches pods that are ready to serve it",
        true,
    );
}
