pub mod missing_liveness_probe;
pub mod missing_memory_limit;
pub mod missing_readiness_probe;

use k8s_openapi::api::core::v1::{Container, Probe};

use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{Ctx, K8sCondition};

/// Reports each long-running, non-init container without the probe `probe` selects; Jobs and
/// CronJobs run to completion and are exempt.
fn report_missing_probe(
    obj: &K8sObject,
    cx: &mut Ctx,
    probe: fn(&Container) -> Option<&Probe>,
    kind: &str,
    help: &str,
    info_unless_served: bool,
) {
    if obj.runs_to_completion() {
        return;
    }
    let workload = obj.workload();
    for c in obj.containers().into_iter().filter(|c| !c.init) {
        if probe(c.spec).is_none() {
            let mut route = c.route.clone();
            route.push(Seg::Key("name"));
            let finding = cx
                .report(
                    obj.span(&route, Part::Entry),
                    format!("container `{}` has no {kind} probe", c.spec.name),
                )
                .help(help);
            if let (true, Some(w)) = (info_unless_served, &workload) {
                finding.when_k8s(K8sCondition::InfoUnlessServed(w.clone()));
            }
        }
    }
}
