pub mod container_runs_as_root;
pub mod identical_liveness_readiness_probe;
pub mod liveness_probe_uses_readiness_endpoint;
pub mod missing_liveness_probe;
pub mod missing_memory_limit;
pub mod missing_readiness_probe;
pub mod privileged_container;
pub mod probe_port_unknown;
pub mod secret_in_env_literal;

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

/// Containers that serve for the life of the pod: not init containers, and not in Jobs or CronJobs,
/// which run to completion. Probe and lifecycle rules look only at these.
fn long_running<'a>(obj: &K8sObject<'a>) -> Vec<crate::lang::kubernetes::ContainerRef<'a>> {
    if obj.runs_to_completion() {
        return Vec::new();
    }
    obj.containers().into_iter().filter(|c| !c.init).collect()
}

/// `route` + `tail`.
fn at(route: &[Seg], tail: &[Seg]) -> Vec<Seg> {
    let mut r = route.to_vec();
    r.extend_from_slice(tail);
    r
}
