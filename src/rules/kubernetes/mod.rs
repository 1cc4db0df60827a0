pub mod container_runs_as_root;
pub mod container_runtime_socket_mounted;
pub mod go_memlimit_exceeds_memory_limit;
pub mod host_namespace_shared;
pub mod identical_liveness_readiness_probe;
pub mod liveness_probe_uses_readiness_endpoint;
pub mod missing_liveness_probe;
pub mod missing_memory_limit;
pub mod missing_pod_disruption_budget;
pub mod missing_prestop_hook;
pub mod missing_readiness_probe;
pub mod missing_resource_requests;
pub mod privileged_container;
pub mod probe_port_unknown;
pub mod secret_in_env_literal;
pub mod single_replica_deployment;
pub mod termination_grace_too_short;

use k8s_openapi::api::core::v1::{Container, Probe};

use crate::lang::kubernetes::{K8sObject, Part, PortRef, Seg};
use crate::rules::{Ctx, K8sCondition};

/// Reports each long-running, non-init container without the probe `probe` selects; Jobs and
/// CronJobs run to completion and are exempt. With `traffic_only`, only containers that
/// receive traffic are reported ([`K8sCondition::ReceivesTraffic`]).
fn report_missing_probe(
    obj: &K8sObject,
    cx: &mut Ctx,
    probe: fn(&Container) -> Option<&Probe>,
    kind: &str,
    help: &str,
    traffic_only: bool,
) {
    if obj.runs_to_completion() {
        return;
    }
    for c in obj.containers().into_iter().filter(|c| !c.init) {
        if probe(c.spec).is_none() && !is_placeholder(c.spec) {
            let route = at(&c.route, &[Seg::Key("name")]);
            let finding = cx
                .report(
                    obj.span(&route, Part::Entry),
                    format!("container `{}` has no {kind} probe", c.spec.name),
                )
                .help(help);
            if let Some(condition) = traffic_only
                .then(|| receives_traffic(obj, c.spec, true))
                .flatten()
            {
                finding.when_k8s(condition);
            }
        }
    }
}

/// A container that only keeps its pod alive and does no work a probe could check: its command
/// is `sleep`, `tail -f` or a shell script of nothing else (`while true; do sleep 30; done`), or
/// its image is a `pause` image. Shell scripts are read with the shell front end.
pub(crate) fn is_placeholder(c: &Container) -> bool {
    let image = c.image.as_deref().unwrap_or("");
    let name = crate::lang::image::name(image);
    if name == "pause" || name.starts_with("pause-") {
        return true;
    }
    let argv = argv(c);
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_string();
    // Waits, or does nothing: `sleep infinity`, `tail -f /dev/null`, a loop's `true`.
    let idles = |name: &str, args: &[&str]| match name {
        "sleep" => args.len() <= 1,
        "tail" => args.len() == 2 && args[0] == "-f",
        "true" | ":" => args.is_empty(),
        _ => false,
    };
    let waits = |name: &str| matches!(name, "sleep" | "tail");
    let Some((program, args)) = argv.split_first() else {
        return false;
    };
    let program = base(program);
    // `sh -c '<script>'`: the script's commands, every one of them idle.
    if let Some(script) = shell_script(&argv) {
        let parsed = crate::lang::shell::parse(script, 0);
        let commands: Vec<(String, Vec<&str>)> = parsed
            .top_level()
            .map(|c| {
                let name = c.program_name().unwrap_or("").to_string();
                (
                    name,
                    c.program_args().iter().map(|w| w.text.as_str()).collect(),
                )
            })
            .collect();
        return commands.iter().all(|(n, a)| idles(n, a)) && commands.iter().any(|(n, _)| waits(n));
    }
    idles(&program, args) && waits(&program)
}

/// The words a container runs: its `command`, then its `args`.
pub(crate) fn argv(c: &Container) -> Vec<&str> {
    (c.command.iter().flatten())
        .chain(c.args.iter().flatten())
        .map(String::as_str)
        .collect()
}

/// The script a shell runs when the words are `sh -c '<script>'` (or `-ec`, `-lc`).
pub(crate) fn shell_script<'a>(argv: &[&'a str]) -> Option<&'a str> {
    let (program, args) = argv.split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    if !crate::lang::shell::is_shell(program) {
        return None;
    }
    let dash_c = (args.iter())
        .position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))?;
    args.get(dash_c + 1).copied()
}

/// The condition that keeps a finding only on a container that receives traffic
/// ([`K8sCondition::ReceivesTraffic`]); `None` for objects that are not workloads.
fn receives_traffic(
    obj: &K8sObject,
    c: &Container,
    info_unless_served: bool,
) -> Option<K8sCondition> {
    let workload = obj.workload()?;
    let pod_ports = (obj.containers().iter())
        .filter(|c| !c.init)
        .flat_map(|c| PortRef::of_container(c.spec))
        .collect();
    Some(K8sCondition::ReceivesTraffic {
        workload,
        ports: PortRef::of_container(c),
        pod_ports,
        info_unless_served,
    })
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

/// A Kubernetes memory quantity in bytes: `512Mi`, `1Gi`, `1G`, `1e9`, `134217728`, `1.5Gi`.
pub(crate) fn memory_bytes(q: &str) -> Option<f64> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+' || c == '-'))
        .unwrap_or(q.len());
    let (number, suffix) = q.split_at(split);
    // `1e9`, `1E3`: a decimal exponent, not a suffix.
    if let Some(exp) = suffix.strip_prefix(['e', 'E']) {
        let n: f64 = number.parse().ok()?;
        let e: i32 = exp.parse().ok()?;
        return Some(n * 10f64.powi(e));
    }
    let n: f64 = number.parse().ok()?;
    let factor = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "m" => 1e-3,
        _ => return None,
    };
    Some(n * factor)
}

/// The container's `resources.limits` entry for `resource` as written (`512Mi`, `500m`).
pub(crate) fn limit_quantity<'c>(c: &'c Container, resource: &str) -> Option<&'c str> {
    let q = c.resources.as_ref()?.limits.as_ref()?.get(resource)?;
    Some(q.0.as_str())
}

/// The container's memory limit in bytes, if it has one that parses.
pub(crate) fn memory_limit(c: &Container) -> Option<f64> {
    memory_bytes(limit_quantity(c, "memory")?)
}

/// The container's CPU limit in cores (`500m` → 0.5), if it has one that parses.
pub(crate) fn cpu_limit(c: &Container) -> Option<f64> {
    // CPU quantities use the same notation as memory ones.
    memory_bytes(limit_quantity(c, "cpu")?)
}

/// How long the container's `preStop` hook pauses, if it has one that pauses.
pub(crate) fn prestop_pause(c: &Container) -> Option<i64> {
    pause_seconds(c.lifecycle.as_ref()?.pre_stop.as_ref()?)
}

/// The pause a `preStop` hook makes: the native `sleep` action, or a literal `sleep N` in an
/// `exec` command (`[sleep, "5"]`, `[/bin/sh, -c, "sleep 15"]`).
fn pause_seconds(h: &k8s_openapi::api::core::v1::LifecycleHandler) -> Option<i64> {
    if let Some(s) = &h.sleep {
        return Some(s.seconds);
    }
    let command = h.exec.as_ref()?.command.as_ref()?;
    let words: Vec<&str> = command.iter().flat_map(|a| a.split_whitespace()).collect();
    words.windows(2).find_map(|w| {
        let is_sleep = w[0] == "sleep" || w[0].ends_with("/sleep");
        if is_sleep {
            w[1].trim_end_matches(['s', ';']).parse::<i64>().ok()
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::memory_bytes;

    #[test]
    fn memory_quantities() {
        assert_eq!(memory_bytes("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(memory_bytes("1G"), Some(1e9));
        assert_eq!(memory_bytes("1e3"), Some(1000.0));
        assert_eq!(memory_bytes("128974848"), Some(128974848.0));
        assert_eq!(memory_bytes("1.5Gi"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(memory_bytes("lots"), None);
    }
}
