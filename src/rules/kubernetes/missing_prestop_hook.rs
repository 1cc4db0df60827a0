use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, long_running, receives_traffic};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-prestop-hook",
    doc: rule_doc!("missing-prestop-hook"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in long_running(obj) {
        let has_pre_stop = c
            .spec
            .lifecycle
            .as_ref()
            .is_some_and(|l| l.pre_stop.is_some());
        if has_pre_stop {
            continue;
        }
        let finding = cx
            .report(
                obj.span(&at(&c.route, &[Seg::Key("name")]), Part::Entry),
                format!("container `{}` has no `preStop` hook: Service endpoints are removed only after SIGTERM is sent, so requests still arrive while the process is shutting down", c.spec.name),
            )
            .help("add a short pause before SIGTERM: `lifecycle: {preStop: {sleep: {seconds: 5}}}` (Kubernetes 1.30+) or `exec: {command: [sleep, \"5\"]}`, and keep `terminationGracePeriodSeconds` above it");
        if let Some(condition) = receives_traffic(obj, c.spec, true) {
            finding.when_k8s(condition);
        }
    }
}
