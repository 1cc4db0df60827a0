use crate::project::{Project, RustFileFacts};
use crate::rules::services::{
    failing_probe, http_probes, route_serves, rust_services, served_routes, ServedRoute,
};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "probe-path-not-served",
    doc: rule_doc!("probe-path-not-served"),
    checks: &[Check::Project(check), Check::RustFacts(TRIGGERS)],
    options: None,
};

/// Function bodies whose references this rule reads (see `RustTriggers`).
/// The opaque-composition evidence (`OPAQUE_METHODS`, `OPAQUE_PATHS`).
const TRIGGERS: RustTriggers = &[
    "nest_service",
    "fallback",
    "fallback_service",
    "default_service",
    "route_service",
    "warp",
    "poem",
    "rocket",
    "salvo",
    "tide",
    "hyper:service",
];

/// Router methods that serve paths the route list does not spell out: prefixes (`nest`,
/// actix scopes), catch-alls and whole services mounted on a path.
const OPAQUE_METHODS: &[&str] = &[
    "nest_service",
    "fallback",
    "fallback_service",
    "default_service",
    "route_service",
];
/// Frameworks whose routes are composed in ways the route facts do not follow (warp filters
/// chained with `and`), or that are not read at all.
const OPAQUE_PATHS: &[&str] = &["warp", "poem", "rocket", "salvo", "tide", "hyper::service"];

/// The service's complete list of served routes, if the route facts can be taken as one.
fn complete_routes<'p>(files: &[&'p RustFileFacts]) -> Option<Vec<ServedRoute<'p>>> {
    let opaque = files.iter().any(|f| {
        OPAQUE_METHODS.iter().any(|m| f.facts.methods.contains(*m))
            || OPAQUE_PATHS.iter().any(|p| f.facts.refers_to(p))
    });
    let routes = served_routes(files).filter(|_| !opaque)?;
    (!routes.is_empty()).then_some(routes)
}

/// Whether the path's last segment appears after a `/` in a string literal anywhere in the
/// service's code (`"/healthz"`, `"/api/healthz/"`): served by code the route facts do not see,
/// such as a hand-written `match req.uri().path()`. A bare `"ready"` (a response body) does not
/// count, nor do route paths and `nest`/`scope` prefixes themselves (a nested `"/healthz"` is
/// served elsewhere).
fn mentioned(files: &[&RustFileFacts], path: &str) -> bool {
    let Some(last) = path.split('/').rfind(|s| !s.is_empty()) else {
        return true;
    };
    files.iter().any(|f| {
        let service = &f.facts.service;
        let in_route = |at: usize| {
            service.routes.iter().any(|r| r.span.contains(&at))
                || service.nests.iter().any(|n| n.prefix_span.contains(&at))
        };
        let text = f.text.as_str();
        text.match_indices(last).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + last.len()..].chars().next();
            before == Some('/') && matches!(after, Some('"' | '/' | '?')) && !in_route(at)
        })
    })
}

fn check(project: &Project, cx: &mut Ctx) {
    for (container, files) in rust_services(project) {
        let Some(routes) = complete_routes(&files) else {
            continue;
        };
        for probe in http_probes(container) {
            let served = routes.iter().any(|r| route_serves(&r.path, probe.path));
            if served || mentioned(&files, probe.path) {
                continue;
            }
            let consequence = failing_probe(probe.kind);
            let listed: Vec<String> = routes
                .iter()
                .map(|r| format!("`{}`", r.path))
                .take(6)
                .collect();
            // A route that serves the probe's path below a prefix (`/internal` + `/healthz`).
            let nested = routes.iter().find(|r| {
                let path = probe.path.trim_end_matches('/');
                route_serves(&r.route.path, probe.path)
                    || (path.starts_with('/') && r.path.ends_with(path))
            });
            // Else a route spelled almost like it (`/health` for `/healthz`).
            let similar = routes
                .iter()
                .map(|r| (crate::rules::edit_distance(&r.path, probe.path), r))
                .filter(|(d, r)| *d > 0 && *d <= 2 && *d < r.path.len() / 3)
                .min_by_key(|(d, _)| *d)
                .map(|(_, r)| r);
            let (help, related) = match (nested, similar) {
                (Some(r), _) => (
                    format!(
                        "the route is nested and served at `{}`: point the probe there",
                        r.path
                    ),
                    Some((r, format!("served at `{}`, under a prefix", r.path))),
                ),
                (None, Some(r)) => (
                    format!("did you mean `{}`? Point the probe at it, or add a route for `{}`", r.path, probe.path),
                    Some((r, format!("`{}` is served here", r.path))),
                ),
                (None, None) => (
                    format!(
                        "point the probe at a path the service serves (its routes include {}), or add a route for `{}`",
                        listed.join(", "),
                        probe.path
                    ),
                    routes
                        .first()
                        .map(|r| (r, "the service's routes are declared here".to_string())),
                ),
            };
            let finding = cx
                .report_in(
                    container.file,
                    container.span(&format!("{}.httpGet.path", probe.key)),
                    format!(
                        "the {} probe of `{}` requests `{}`, which no route of the service serves: {consequence}",
                        probe.kind, container.spec.name, probe.path
                    ),
                )
                .help(help);
            if let Some((r, label)) = related {
                finding.related(r.file.file, r.route.span.clone(), label);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn distances() {
        assert_eq!(crate::rules::edit_distance("/healthz", "/health"), 1);
        assert_eq!(crate::rules::edit_distance("/readyz", "/ready"), 1);
        assert_eq!(crate::rules::edit_distance("/livez", "/readyz"), 5);
        assert_eq!(crate::rules::edit_distance("", "/a"), 2);
    }
}
