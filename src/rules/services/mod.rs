//! Cross-file rules: a Kubernetes container joined through the service map (`src/services.rs`)
//! with the Dockerfile that builds its image and the code that image runs.

pub mod go_memlimit_not_set;
pub mod grpc_probe_without_health_service;
pub mod jemalloc_conf_env_ignored;
pub mod liveness_probe_checks_dependencies;
pub mod probe_path_not_served;
pub mod run_as_non_root_with_named_user;
pub mod shutdown_exceeds_grace_period;
pub mod worker_threads_exceed_cpu_limit;

use std::ops::Range;

use crate::lang::dockerfile_facts::ImageFacts;
use k8s_openapi::api::core::v1::Probe;

use crate::lang::kubernetes::ContainerFacts;
use crate::lang::rust_service::{Nest, NestTarget, Route, RouteScope};
use crate::project::{Project, RustFileFacts};
use crate::services::{rust_files, Source};
use crate::source::FileId;

/// An HTTP probe of a container.
pub struct HttpProbe<'a> {
    /// `liveness`, `readiness`, `startup`.
    pub kind: &'static str,
    /// `livenessProbe`: the key its spans are filed under.
    pub key: &'static str,
    /// The path without its query string.
    pub path: &'a str,
}

/// The container's probes: kind, the key their spans are filed under, the probe if set.
pub fn probes(c: &ContainerFacts) -> [(&'static str, &'static str, Option<&Probe>); 3] {
    [
        ("liveness", "livenessProbe", c.spec.liveness_probe.as_ref()),
        (
            "readiness",
            "readinessProbe",
            c.spec.readiness_probe.as_ref(),
        ),
        ("startup", "startupProbe", c.spec.startup_probe.as_ref()),
    ]
}

pub fn http_probes(c: &ContainerFacts) -> Vec<HttpProbe<'_>> {
    probes(c)
        .into_iter()
        .filter_map(|(kind, key, probe)| {
            let path = probe?.http_get.as_ref()?.path.as_deref()?;
            let path = path.split('?').next().unwrap_or(path);
            Some(HttpProbe { kind, key, path })
        })
        .collect()
}

/// What a probe that can never succeed does to the pod, by probe kind.
pub fn failing_probe(kind: &str) -> &'static str {
    match kind {
        "liveness" => {
            "the probe fails on every check and the kubelet restarts the container over and over"
        }
        "readiness" => "the pod never becomes ready and gets no traffic (a rollout stalls on it)",
        _ => "the startup probe never succeeds and the container is restarted before it ever runs",
    }
}

/// Whether the Cargo package of any of the service's files depends on `krate` (for a file
/// outside any package: whether its text names the crate). Dependencies, not references: a
/// body that only names the crate may not have been parsed (`rust_scan`).
pub fn depends_on(files: &[&RustFileFacts], krate: &str) -> bool {
    files.iter().any(|f| match &f.package {
        Some(p) => p.depends_on(krate),
        None => f.text.as_str().contains(krate),
    })
}

/// The deployed containers whose source is a Cargo package, with the Rust files of that package
/// and of the path dependencies it links.
pub fn rust_services(project: &Project) -> Vec<(&ContainerFacts, Vec<&RustFileFacts>)> {
    project
        .k8s
        .containers
        .iter()
        .zip(&project.services.containers)
        .filter_map(|(c, s)| match &s.source.as_ref()?.to {
            Source::Cargo(root) => Some((c, rust_files(project, root))),
            Source::Go(_) => None,
        })
        .filter(|(_, files)| !files.is_empty())
        .collect()
}

/// An environment variable a container gets, from its manifest `env` or its image's `ENV`
/// (the manifest wins), with where it is set.
pub struct EnvSetting<'a> {
    pub value: Option<&'a str>,
    pub file: FileId,
    pub span: Range<usize>,
    /// `the container's env`, `the image's ENV`.
    pub source: &'static str,
}

pub fn env_setting<'p>(
    project: &'p Project,
    c: &'p ContainerFacts,
    name: &str,
) -> Option<EnvSetting<'p>> {
    let env = c.spec.env.as_deref().unwrap_or(&[]);
    if let Some(i) = env.iter().position(|e| e.name == name) {
        return Some(EnvSetting {
            value: env[i].value.as_deref(),
            file: c.file,
            span: c.span(&format!("env.{i}.name")),
            source: "the container's env",
        });
    }
    let (file, _, image) = image_of(project, c)?;
    let (_, value, span) = image.env.iter().rev().find(|(n, _, _)| n == name)?;
    Some(EnvSetting {
        value: Some(value),
        file: *file,
        span: span.clone(),
        source: "the image's ENV",
    })
}

/// The Dockerfile the service map joins the container with.
pub fn image_of<'p>(
    project: &'p Project,
    c: &ContainerFacts,
) -> Option<&'p (FileId, std::path::PathBuf, ImageFacts)> {
    let i = project
        .k8s
        .containers
        .iter()
        .position(|x| std::ptr::eq(x, c))?;
    let d = project.services.containers.get(i)?.dockerfile.as_ref()?;
    project.dockerfiles.get(d.to)
}

/// A route of the service with the path it is served at, once `nest` prefixes are applied.
pub struct ServedRoute<'p> {
    pub file: &'p RustFileFacts,
    pub route: &'p Route,
    pub path: String,
}

/// Nests deeper than this are not followed (a nest cycle in code that does not compile).
const MAX_NEST_DEPTH: usize = 8;

/// Every route of the service at its full path, following axum `nest`s: a route in function `f`
/// under `.nest("/api", f(..))`, in a local under `.nest("/api", local)` of the same function, or
/// in a router built inside the `nest` call. `None` when some nest cannot be followed — its
/// prefix is not a literal, its router is built elsewhere, or its function name is defined
/// more than once — so the full paths are not known.
pub fn served_routes<'p>(files: &[&'p RustFileFacts]) -> Option<Vec<ServedRoute<'p>>> {
    let nests: Vec<(&RustFileFacts, &Nest)> = files
        .iter()
        .flat_map(|f| f.facts.service.nests.iter().map(move |n| (*f, n)))
        .collect();
    let defined = |name: &str| {
        files
            .iter()
            .flat_map(|f| &f.facts.service.fns)
            .filter(|d| d.name == name)
            .count()
    };
    // With `merge`, a nested router may take in routes of a router built elsewhere, which the
    // prefixes below would miss.
    let merges = files.iter().any(|f| f.facts.methods.contains("merge"));
    if merges && !nests.is_empty() {
        return None;
    }
    // Of the routers written in place around a position, only the innermost one's prefix
    // applies to it: its own nest carries the outer prefixes, and those of the function or
    // local it is in. (A scope starts where its own nest is: not around itself.)
    let innermost = |file: FileId, at: usize| -> Option<Range<usize>> {
        nests
            .iter()
            .filter(|(nf, _)| nf.file == file)
            .filter_map(|(_, n)| match &n.target {
                NestTarget::Inline(r) | NestTarget::Scope(r)
                    if r.contains(&at) && r.start != at =>
                {
                    Some(r.clone())
                }
                _ => None,
            })
            .min_by_key(|r| r.len())
    };
    let applies = |n: &Nest, nest_file: FileId, file: FileId, scope: &RouteScope, at: usize| {
        match &n.target {
            NestTarget::Inline(range) | NestTarget::Scope(range) => {
                nest_file == file && innermost(file, at).as_ref() == Some(range)
            }
            NestTarget::Local(name) => {
                nest_file == file
                    && n.scope.in_fn == scope.in_fn
                    && scope.bound.as_deref() == Some(name.as_str())
                    && innermost(file, at).is_none()
            }
            NestTarget::Fn(name) => {
                scope.in_fn.as_deref() == Some(name.as_str()) && innermost(file, at).is_none()
            }
            NestTarget::Unknown => false,
        }
    };
    // Each nest must be understood and reach at least one route.
    for (nf, n) in &nests {
        let known = match &n.target {
            NestTarget::Unknown => false,
            NestTarget::Fn(name) => defined(name) == 1,
            // A scope may register only handlers by name, reached through their own nests.
            NestTarget::Scope(_) => continue,
            _ => true,
        };
        // It prefixes a route, or another nest (a scope built in the function it names).
        let reaches = files.iter().any(|f| {
            f.facts
                .service
                .routes
                .iter()
                .any(|r| applies(n, nf.file, f.file, &r.scope, r.span.start))
        }) || nests.iter().any(|(of, o)| {
            !std::ptr::eq(*o, *n) && applies(n, nf.file, of.file, &o.scope, o.span.start)
        });
        if !known || !reaches {
            return None;
        }
    }
    fn prefixes(
        nests: &[(&RustFileFacts, &Nest)],
        applies: &dyn Fn(&Nest, FileId, FileId, &RouteScope, usize) -> bool,
        file: FileId,
        scope: &RouteScope,
        at: usize,
        depth: usize,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if depth < MAX_NEST_DEPTH {
            for (nf, n) in nests {
                if applies(n, nf.file, file, scope, at) {
                    let outer =
                        prefixes(nests, applies, nf.file, &n.scope, n.span.start, depth + 1);
                    out.extend(
                        outer
                            .into_iter()
                            .map(|o| format!("{o}{}", n.prefix.trim_end_matches('/'))),
                    );
                }
            }
        }
        if out.is_empty() {
            out.push(String::new());
        }
        out
    }
    let mut out = Vec::new();
    for f in files {
        for r in &f.facts.service.routes {
            for prefix in prefixes(&nests, &applies, f.file, &r.scope, r.span.start, 0) {
                out.push(ServedRoute {
                    file: f,
                    route: r,
                    path: format!("{prefix}{}", r.path),
                });
            }
        }
    }
    Some(out)
}

/// The routes of the service that serve `path`, at their full paths when the nests are known,
/// else as written.
pub fn routes_serving<'p>(files: &[&'p RustFileFacts], path: &str) -> Vec<ServedRoute<'p>> {
    let routes = served_routes(files).unwrap_or_else(|| {
        files
            .iter()
            .flat_map(|f| {
                f.facts.service.routes.iter().map(move |r| ServedRoute {
                    file: f,
                    route: r,
                    path: r.path.clone(),
                })
            })
            .collect()
    });
    routes
        .into_iter()
        .filter(|r| route_serves(&r.path, path))
        .collect()
}

/// Whether a route pattern serves a request path: `{id}`/`:id` match one segment,
/// `{*rest}`/`*rest` the rest; a trailing `/` is ignored.
pub fn route_serves(route: &str, path: &str) -> bool {
    let segments = |p: &str| -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let (route, path) = (segments(route), segments(path));
    let mut i = 0;
    for r in &route {
        if r.starts_with("{*") || r.starts_with('*') {
            return true;
        }
        let Some(p) = path.get(i) else {
            return false;
        };
        let param = (r.starts_with('{') && r.ends_with('}')) || r.starts_with(':');
        if !param && r != p {
            return false;
        }
        i += 1;
    }
    i == path.len()
}

#[cfg(test)]
mod tests {
    use super::route_serves;

    #[test]
    fn route_patterns() {
        assert!(route_serves("/healthz", "/healthz"));
        assert!(route_serves("/healthz/", "/healthz"));
        assert!(route_serves("/api/{version}/health", "/api/v1/health"));
        assert!(route_serves("/api/:version/health", "/api/v1/health"));
        assert!(route_serves("/static/{*path}", "/static/a/b"));
        assert!(route_serves("/", "/"));
        assert!(!route_serves("/", "/healthz"));
        assert!(!route_serves("/health", "/healthz"));
        assert!(!route_serves("/api/health", "/api"));
    }
}
