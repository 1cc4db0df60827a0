use std::collections::HashSet;

use crate::lang::rust_service::{DependencyCall, Route};
use crate::project::{Project, RustFileFacts};
use crate::rules::rust::service::{direct_dependencies, fns_named, route_bodies};
use crate::rules::{rule_doc, Check, Ctx, Rule};
use crate::source::FileId;

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

/// What a route's handler reaches: the handler's name (`None` for a closure), the function it
/// reaches it through (one call deep), and the dependency call.
pub struct Reach {
    pub handler: Option<String>,
    pub via: Option<String>,
    pub file: FileId,
    pub dependency: DependencyCall,
}

impl Reach {
    /// `handler `health` reaches `sqlx::query` through `check_db``.
    pub fn describe(&self) -> String {
        let handler = match &self.handler {
            Some(h) => format!("handler `{h}`"),
            None => "handler".to_string(),
        };
        let via = self
            .via
            .as_ref()
            .map(|v| format!(" through `{v}`"))
            .unwrap_or_default();
        format!("{handler} reaches {}{via}", self.dependency.what)
    }
}

/// The first database, cache or service call the handler of `route` (declared in `file`) makes,
/// directly or one call deeper (`health(State(s)) { check_db(&s.pool).await }`).
pub fn reached_dependency(
    package: &[&RustFileFacts],
    file: FileId,
    route: &Route,
) -> Option<Reach> {
    let by_file = |id| package.iter().copied().find(|f| f.file == id);
    for body in route_bodies(package, file, route) {
        let Some(body_file) = by_file(body.file) else {
            continue;
        };
        if let Some(dep) = direct_dependencies(body_file, &body.range).first() {
            return Some(Reach {
                handler: body.name.map(str::to_string),
                via: None,
                file: body_file.file,
                dependency: (*dep).clone(),
            });
        }
        let mut seen = HashSet::new();
        for (name, at) in &body_file.service_in(&body.range).call_sites {
            if !body.range.contains(at) || !seen.insert(name.as_str()) {
                continue;
            }
            if Some(name.as_str()) == body.name {
                continue;
            }
            for (callee_file, callee) in fns_named(package, body.file, name) {
                let Some(cf) = by_file(callee_file) else {
                    continue;
                };
                if let Some(dep) = direct_dependencies(cf, &callee.body).first() {
                    return Some(Reach {
                        handler: body.name.map(str::to_string),
                        via: Some(name.clone()),
                        file: cf.file,
                        dependency: (*dep).clone(),
                    });
                }
            }
        }
    }
    None
}

fn check(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        for f in &package {
            for route in &f.facts.service.routes {
                if !looks_like_liveness(&route.path) {
                    continue;
                }
                let Some(reach) = reached_dependency(&package, f.file, route) else {
                    continue;
                };
                cx.report_in(
                    f.file,
                    route.span.clone(),
                    format!(
                        "`{}` looks like a liveness endpoint, but its {}; if a livenessProbe uses it, a dependency outage restarts every pod",
                        route.path,
                        reach.describe()
                    ),
                )
                .help("keep liveness trivial (the process can answer); check dependencies in a separate readiness endpoint such as `/readyz`")
                .related(
                    reach.file,
                    reach.dependency.span.clone(),
                    format!("reaches {} here", reach.dependency.what),
                );
            }
        }
    }
}
