use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, long_running, receives_traffic};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "identical-liveness-readiness-probe",
    doc: rule_doc!("identical-liveness-readiness-probe"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in long_running(obj) {
        let (Some(live), Some(ready)) = (&c.spec.liveness_probe, &c.spec.readiness_probe) else {
            continue;
        };
        let (Some(a), Some(b)) = (handler(c.spec, live), handler(c.spec, ready)) else {
            continue;
        };
        if a != b {
            continue;
        }
        let span = obj.span(&at(&c.route, &[Seg::Key("readinessProbe")]), Part::Key);
        let (lt, rt) = (tolerance(live), tolerance(ready));
        // Readiness matters only for a container that receives traffic.
        let traffic = receives_traffic(obj, c.spec, false);
        let finding = if lt >= 2 * rt {
            cx.report(
                span,
                format!(
                    "container `{}` checks {a} for both liveness and readiness; liveness waits {lt} s before a restart against readiness's {rt} s, so an outage of what it checks is shed first and restarts pods only if it lasts",
                    c.spec.name
                ),
            )
            .help("prefer a liveness check that only tests the process itself (`/livez`), so a dependency outage never restarts pods")
            .info()
        } else {
            cx.report(
                span,
                format!(
                    "container `{}` uses the same check ({a}) for liveness and readiness with similar thresholds: when it fails, pods are restarted instead of just taken out of rotation",
                    c.spec.name
                ),
            )
            .help("make liveness check only that the process is alive (a cheap `/livez`), and keep dependency checks in readiness; or make liveness much more tolerant (`failureThreshold` × `periodSeconds` at least twice readiness's)")
        };
        if let Some(condition) = traffic {
            finding.when_k8s(condition);
        }
    }
}

/// What a probe runs, with named ports resolved through the container's ports.
fn handler(c: &Container, p: &Probe) -> Option<String> {
    if let Some(h) = &p.http_get {
        let path = h.path.as_deref().unwrap_or("/");
        return Some(format!("`GET {path}` on port {}", port(c, &h.port)));
    }
    if let Some(t) = &p.tcp_socket {
        return Some(format!("a TCP connect to port {}", port(c, &t.port)));
    }
    if let Some(g) = &p.grpc {
        return Some(match g.service.as_deref().filter(|s| !s.is_empty()) {
            Some(service) => format!("the gRPC health check of `{service}` on port {}", g.port),
            None => format!("the gRPC health check on port {}", g.port),
        });
    }
    if let Some(e) = &p.exec {
        return Some(format!(
            "`{}`",
            e.command.as_deref().unwrap_or(&[]).join(" ")
        ));
    }
    None
}

fn port(c: &Container, p: &IntOrString) -> String {
    match p {
        IntOrString::Int(n) => n.to_string(),
        IntOrString::String(name) => c
            .ports
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .find(|cp| cp.name.as_deref() == Some(name.as_str()))
            .map_or_else(|| name.clone(), |cp| cp.container_port.to_string()),
    }
}

/// How long a probe tolerates failure before acting: `failureThreshold` × `periodSeconds`
/// (defaults 3 and 10).
fn tolerance(p: &Probe) -> i64 {
    i64::from(p.failure_threshold.unwrap_or(3).max(1))
        * i64::from(p.period_seconds.unwrap_or(10).max(1))
}
