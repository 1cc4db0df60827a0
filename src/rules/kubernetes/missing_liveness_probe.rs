use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-liveness-probe",
    doc: rule_doc!("missing-liveness-probe"),
    checks: &[Check::Kubernetes(check)],
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    if obj.runs_to_completion() {
        return;
    }
    for c in obj.containers().into_iter().filter(|c| !c.init) {
        if c.spec.liveness_probe.is_none() {
            let mut route = c.route.clone();
            route.push(Seg::Key("name"));
            cx.report(
                obj.span(&route, Part::Entry),
                format!("container `{}` has no liveness probe", c.spec.name),
            )
            .help("add a `livenessProbe` that checks only that this process can serve (not its dependencies)");
        }
    }
}
