use crate::project::{Project, RustFileFacts};
use crate::rules::services::{failing_probe, http_probes, routes_serving, rust_services};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "probe-path-not-served",
    doc: rule_doc!("probe-path-not-served"),
    checks: &[Check::Project(check)],
    options: None,
};

/// Router methods that serve paths the route list does not spell out: prefixes (`nest`,
/// actix scopes), catch-alls and whole services mounted on a path.
const OPAQUE_METHODS: &[&str] = &[
    "nest",
    "nest_service",
    "fallback",
    "fallback_service",
    "default_service",
    "route_service",
    "scope",
];
/// Frameworks whose routes are composed in ways the route facts do not follow (warp filters
/// chained with `and`, actix scopes), or that are not read at all.
const OPAQUE_PATHS: &[&str] = &[
    "warp",
    "poem",
    "rocket",
    "salvo",
    "tide",
    "hyper::service",
    "actix_web::web::scope",
];

/// Whether the route facts of the service can be taken as its complete list of paths.
fn routes_complete(files: &[&RustFileFacts]) -> bool {
    let has_routes = files.iter().any(|f| !f.facts.service.routes.is_empty());
    let opaque = files.iter().any(|f| {
        OPAQUE_METHODS.iter().any(|m| f.facts.methods.contains(*m))
            || OPAQUE_PATHS.iter().any(|p| f.facts.refers_to(p))
    });
    has_routes && !opaque
}

/// Whether the path's last segment appears after a `/` in a string literal anywhere in the
/// service's code (`"/healthz"`, `"/api/healthz/"`): served by code the route facts do not see,
/// such as a hand-written `match req.uri().path()`. A bare `"ready"` (a response body) does not
/// count.
fn mentioned(files: &[&RustFileFacts], path: &str) -> bool {
    let Some(last) = path.split('/').rfind(|s| !s.is_empty()) else {
        return true;
    };
    files.iter().any(|f| {
        f.text.match_indices(last).any(|(at, _)| {
            let before = f.text[..at].chars().next_back();
            let after = f.text[at + last.len()..].chars().next();
            before == Some('/') && matches!(after, Some('"' | '/' | '?'))
        })
    })
}

fn check(project: &Project, cx: &mut Ctx) {
    for (container, files) in rust_services(project) {
        if !routes_complete(&files) {
            continue;
        }
        for probe in http_probes(container) {
            if !routes_serving(&files, probe.path).is_empty() || mentioned(&files, probe.path) {
                continue;
            }
            let consequence = failing_probe(probe.kind);
            let routes: Vec<String> = files
                .iter()
                .flat_map(|f| {
                    f.facts
                        .service
                        .routes
                        .iter()
                        .map(|r| format!("`{}`", r.path))
                })
                .take(6)
                .collect();
            let first = files.iter().find_map(|f| {
                f.facts
                    .service
                    .routes
                    .first()
                    .map(|r| (f.file, r.span.clone()))
            });
            let finding = cx
                .report_in(
                    container.file,
                    container.span(&format!("{}.httpGet.path", probe.key)),
                    format!(
                        "the {} probe of `{}` requests `{}`, which no route of the service serves: {consequence}",
                        probe.kind, container.spec.name, probe.path
                    ),
                )
                .help(format!(
                    "point the probe at a path the service serves (its routes include {}), or add a route for `{}`",
                    routes.join(", "),
                    probe.path
                ));
            if let Some((file, span)) = first {
                finding.related(file, span, "the service's routes are declared here");
            }
        }
    }
}
