use std::collections::HashSet;

use crate::project::{Project, RustFileFacts};
use crate::rules::rust::service::{direct_dependencies, fns_named, route_bodies};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "liveness-endpoint-checks-dependencies",
    doc: rule_doc!("liveness-endpoint-checks-dependencies"),
    checks: &[Check::Project(check)],
    options: None,
};

/// Last path segments that name a liveness check.
const LIVENESS: &[&str] = &[
    "live",
    "livez",
    "liveness",
    "healthz",
    "health",
    "ping",
    "alive",
    "healthcheck",
    "health_check",
    "health-check",
    "heartbeat",
];
/// Segments that make a path a readiness or startup check, where dependencies belong.
const NOT_LIVENESS: &[&str] = &[
    "ready",
    "readiness",
    "startup",
    "deep",
    "deps",
    "dependencies",
];

pub fn looks_like_liveness(path: &str) -> bool {
    let path = path.to_ascii_lowercase();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(last) = segments.last() else {
        return false;
    };
    LIVENESS.contains(last)
        && !segments
            .iter()
            .any(|s| NOT_LIVENESS.iter().any(|n| s.contains(n)))
}

fn check(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        let by_file = |id| {
            package
                .iter()
                .copied()
                .find(|f: &&RustFileFacts| f.file == id)
        };
        for f in &package {
            for route in &f.facts.service.routes {
                if !looks_like_liveness(&route.path) {
                    continue;
                }
                let mut found = None;
                for body in route_bodies(&package, f.file, route) {
                    let Some(body_file) = by_file(body.file) else {
                        continue;
                    };
                    if let Some(dep) = direct_dependencies(body_file, &body.range).first() {
                        found = Some((body.name, None, body_file.file, (*dep).clone()));
                        break;
                    }
                    // One call deeper: `health(State(s)) { check_db(&s.pool).await }`.
                    let mut seen = HashSet::new();
                    for (name, at) in &body_file.facts.service.call_sites {
                        if !body.range.contains(at) || !seen.insert(name.as_str()) {
                            continue;
                        }
                        if Some(name.as_str()) == body.name {
                            continue;
                        }
                        for (callee_file, callee) in fns_named(&package, body.file, name) {
                            let Some(cf) = by_file(callee_file) else {
                                continue;
                            };
                            if let Some(dep) = direct_dependencies(cf, &callee.body).first() {
                                found =
                                    Some((body.name, Some(name.clone()), cf.file, (*dep).clone()));
                                break;
                            }
                        }
                        if found.is_some() {
                            break;
                        }
                    }
                    if found.is_some() {
                        break;
                    }
                }
                let Some((handler, via, dep_file, dep)) = found else {
                    continue;
                };
                let handler = match handler {
                    Some(h) => format!("handler `{h}`"),
                    None => "handler".to_string(),
                };
                let via = via.map(|v| format!(" through `{v}`")).unwrap_or_default();
                cx.report_in(
                    f.file,
                    route.span.clone(),
                    format!(
                        "`{}` looks like a liveness endpoint, but its {handler} reaches {}{via}; if a livenessProbe uses it, a dependency outage restarts every pod",
                        route.path, dep.what
                    ),
                )
                .help("keep liveness trivial (the process can answer); check dependencies in a separate readiness endpoint such as `/readyz`")
                .related(dep_file, dep.span.clone(), format!("reaches {} here", dep.what));
            }
        }
    }
}
