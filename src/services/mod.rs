//! The service map: for each Kubernetes workload container, the Dockerfile that builds its image
//! and the source (a Cargo package or Go module) that Dockerfile builds. Built once per run from
//! the front ends' facts; cross-file rules join through it, and `--explain-services` prints it.
//!
//! Explicit `[[services]]` entries in the config win. Otherwise a container's image is matched
//! to a build declared in a Compose file, skaffold config or Tiltfile, then by name (the image's
//! last path segment against a Dockerfile's directory or file name, the program it runs, or the
//! Cargo binary or package it builds), then — in a repository with a single service Dockerfile —
//! to that Dockerfile when the image's name is one of the repository's own. A container that
//! matches nothing, or more than one Dockerfile, is left unmapped and cross-file rules stay silent
//! for it.

pub mod builds;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::discover::display_path;
use crate::lang::dockerfile_facts::ImageFacts;
use crate::lang::image;
use crate::project::{Package, Project, RustFileFacts};
use builds::BuildEntry;

/// A step of the map and why it was taken.
#[derive(Debug, Clone)]
pub struct Link<T> {
    pub to: T,
    pub how: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A Cargo package, by its directory.
    Cargo(PathBuf),
    /// A Go module, by the directory of its `go.mod`.
    Go(PathBuf),
}

/// What the map knows about one deployed container (index-aligned with
/// `Project::k8s.containers`).
#[derive(Debug, Clone, Default)]
pub struct Service {
    /// Index into `Project::dockerfiles`.
    pub dockerfile: Option<Link<usize>>,
    pub source: Option<Link<Source>>,
    /// Why the map stops where it does.
    pub unmapped: Option<String>,
}

/// A Compose service built from a Dockerfile: shown by `--explain-services` beside the
/// Kubernetes containers.
#[derive(Debug, Clone)]
pub struct ComposeService {
    pub build: BuildEntry,
    pub dockerfile: Option<usize>,
    pub source: Option<Link<Source>>,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceMap {
    pub containers: Vec<Service>,
    pub compose: Vec<ComposeService>,
    /// The source each Dockerfile builds (index-aligned with `Project::dockerfiles`): as mapped
    /// for a container or Compose service that uses it, else from the Dockerfile alone.
    pub dockerfile_sources: Vec<Option<Link<Source>>>,
    /// Build descriptions that could not be read.
    pub problems: Vec<String>,
    /// Repositories a deploy tool builds (skaffold artifacts, Tiltfile `docker_build`s): the tool
    /// replaces a manifest's reference to one with the tag it built.
    pub built_by_deploy_tool: Vec<String>,
}

impl ServiceMap {
    /// Whether a deploy tool of the run builds `image` (same repository, whatever the tag).
    pub fn built_by_deploy_tool(&self, image: &str) -> bool {
        let repository = image::repository(image);
        self.built_by_deploy_tool.iter().any(|b| b == repository)
    }
}

/// Dockerfiles for development environments, not for images that get deployed.
fn is_dev_dockerfile(path: &Path) -> bool {
    path.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some(".devcontainer" | ".gitpod" | "devcontainer")
        )
    })
}

pub fn build(project: &Project, config: &Config, build_files: &[PathBuf]) -> ServiceMap {
    let (entries, problems) = builds::read_all(build_files, config.max_file_size);
    let mut map = ServiceMap {
        problems,
        // Compose builds (they have a service) only tag an image locally; a cluster still pulls.
        built_by_deploy_tool: (entries.iter())
            .filter(|e| e.service.is_none())
            .filter_map(|e| e.image.as_deref())
            .map(|i| image::repository(i).to_string())
            .filter(|r| !r.is_empty())
            .collect(),
        ..ServiceMap::default()
    };
    let cx = Mapper {
        project,
        config,
        entries: &entries,
    };
    for c in &project.k8s.containers {
        let image = c.spec.image.as_deref().unwrap_or("");
        map.containers.push(cx.map_image(image));
    }
    for entry in entries.iter().filter(|e| e.service.is_some()) {
        let dockerfile = cx.dockerfile_at(&entry.dockerfile);
        map.compose.push(ComposeService {
            build: entry.clone(),
            dockerfile,
            source: dockerfile.and_then(|d| cx.source_of(d, Some(&entry.context))),
        });
    }
    map.dockerfile_sources = (0..project.dockerfiles.len())
        .map(|i| {
            let deployed = map.containers.iter().find_map(|s| {
                let used = s.dockerfile.as_ref().is_some_and(|d| d.to == i);
                s.source.clone().filter(|_| used)
            });
            let composed = || {
                map.compose
                    .iter()
                    .find_map(|c| c.source.clone().filter(|_| c.dockerfile == Some(i)))
            };
            deployed.or_else(composed).or_else(|| cx.source_of(i, None))
        })
        .collect();
    map
}

struct Mapper<'a> {
    project: &'a Project,
    config: &'a Config,
    entries: &'a [BuildEntry],
}

/// Whether a build's image names the deployed one: the same repository, or the deployed one
/// under a registry prefix (skaffold's `image: api` deployed as `gcr.io/acme/api:v1`).
fn same_repository(built: &str, deployed: &str) -> bool {
    let (b, d) = (image::repository(built), image::repository(deployed));
    !b.is_empty() && (b == d || d.ends_with(&format!("/{b}")))
}

/// The part of a tag after its version (`latest-cart` and `2.0.2-cart` → `cart`): several images
/// of one repository told apart by tag suffix, as the OpenTelemetry demo does.
fn tag_suffix(reference: &str) -> Option<String> {
    image::tag(reference)?
        .split_once('-')
        .map(|(_, s)| s.to_string())
}

impl Mapper<'_> {
    fn dockerfile_at(&self, path: &Path) -> Option<usize> {
        let path = crate::engine::normalized(path);
        self.project
            .dockerfiles
            .iter()
            .position(|(_, p, _)| *p == path)
    }

    fn map_image(&self, image: &str) -> Service {
        if image.is_empty() {
            return Service {
                unmapped: Some("the container has no image".into()),
                ..Service::default()
            };
        }
        // 1. `[[services]]` in the config.
        let bare = image::repository(image);
        if let Some(s) = self
            .config
            .services
            .iter()
            .find(|s| s.image.is_match(image) || s.image.is_match(bare))
        {
            let how = format!("[[services]] `{}` in the config", s.name);
            let dockerfile = s.dockerfile.as_ref().and_then(|d| self.dockerfile_at(d));
            let source = match &s.source {
                Some(dir) => Some(Link {
                    to: self.source_at(dir),
                    how: how.clone(),
                }),
                None => dockerfile.and_then(|d| self.source_of(d, None)),
            };
            let unmapped = match (&s.dockerfile, dockerfile) {
                (Some(d), None) => Some(format!(
                    "`{}` is not among the checked Dockerfiles (excluded?)",
                    display_path(d)
                )),
                _ => None,
            };
            return Service {
                dockerfile: dockerfile.map(|d| Link { to: d, how }),
                source,
                unmapped,
            };
        }
        // 2. A build declared in a Compose file, skaffold config or Tiltfile.
        let mut declared: Vec<&BuildEntry> = self
            .entries
            .iter()
            .filter(|e| {
                e.image
                    .as_deref()
                    .is_some_and(|b| same_repository(b, image))
            })
            .collect();
        if declared.len() > 1 {
            let suffix = tag_suffix(image);
            let narrowed: Vec<&BuildEntry> = declared
                .iter()
                .copied()
                .filter(|e| suffix.is_some() && e.image.as_deref().and_then(tag_suffix) == suffix)
                .collect();
            let suffixed = declared
                .iter()
                .all(|e| e.image.as_deref().and_then(tag_suffix).is_some());
            if !narrowed.is_empty() {
                declared = narrowed;
            } else if suffixed {
                // The repository's builds are told apart by tag suffix, and none is this one's.
                return Service {
                    unmapped: Some(format!(
                        "{} builds declare images of `{}`, told apart by tag suffix, and none has the suffix of `{image}`",
                        declared.len(),
                        image::repository(image)
                    )),
                    ..Service::default()
                };
            }
        }
        declared.dedup_by(|a, b| a.dockerfile == b.dockerfile);
        if let [entry] = declared.as_slice() {
            return match self.dockerfile_at(&entry.dockerfile) {
                Some(d) => Service {
                    dockerfile: Some(Link {
                        to: d,
                        how: format!("built by {}", entry.declared),
                    }),
                    source: self.source_of(d, Some(&entry.context)),
                    unmapped: None,
                },
                None => Service {
                    unmapped: Some(format!(
                        "built by {} from `{}`, which is not among the checked Dockerfiles",
                        entry.declared,
                        display_path(&entry.dockerfile)
                    )),
                    ..Service::default()
                },
            };
        }
        if declared.len() > 1 {
            return Service {
                unmapped: Some(format!(
                    "several builds declare this image: {}{}",
                    declared
                        .iter()
                        .take(4)
                        .map(|e| e.declared.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    match declared.len() {
                        n if n > 4 => format!(" and {} more", n - 4),
                        _ => String::new(),
                    }
                )),
                ..Service::default()
            };
        }
        // 3. By name.
        let name = image::name(image);
        let candidates: Vec<(usize, String)> = self
            .project
            .dockerfiles
            .iter()
            .enumerate()
            .filter(|(_, (_, path, _))| !is_dev_dockerfile(path))
            .filter_map(|(i, (_, path, facts))| name_match(name, path, facts).map(|how| (i, how)))
            .collect();
        match candidates.as_slice() {
            [(d, how)] => {
                return Service {
                    dockerfile: Some(Link {
                        to: *d,
                        how: how.clone(),
                    }),
                    source: self.source_of(*d, None),
                    unmapped: None,
                }
            }
            [] => {}
            several => {
                return Service {
                    unmapped: Some(format!(
                        "image name `{name}` matches several Dockerfiles: {}",
                        several
                            .iter()
                            .filter_map(|(d, _)| self.project.dockerfiles.get(*d))
                            .map(|(_, p, _)| format!("`{}`", display_path(p)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                    ..Service::default()
                }
            }
        }
        // 4. The repository's only service Dockerfile, for an image named like the repository's
        // own packages (never for `postgres:16` beside it).
        let service_dockerfiles: Vec<usize> = self
            .project
            .dockerfiles
            .iter()
            .enumerate()
            .filter(|(_, (_, path, _))| !is_dev_dockerfile(path))
            .map(|(i, _)| i)
            .collect();
        let own_name = self
            .project
            .packages
            .iter()
            .any(|p| p.name == name || p.bins.iter().any(|b| b == name));
        if let ([d], true) = (service_dockerfiles.as_slice(), own_name) {
            return Service {
                dockerfile: Some(Link {
                    to: *d,
                    how: format!(
                        "the only service Dockerfile, and `{name}` is a package of this repository"
                    ),
                }),
                source: self.source_of(*d, None),
                unmapped: None,
            };
        }
        Service {
            unmapped: Some(format!(
                "no build declares image `{}` and no Dockerfile is named like `{name}` (a third-party image, or map it with [[services]] in prodlint.toml)",
                bare
            )),
            ..Service::default()
        }
    }

    fn source_at(&self, dir: &Path) -> Source {
        let dir = crate::engine::normalized(dir);
        if dir.join("go.mod").is_file() {
            Source::Go(dir)
        } else {
            Source::Cargo(dir)
        }
    }

    /// The package or module the Dockerfile builds, from its `cargo`/`go` commands and the program
    /// it runs; `context` is the build context when a build description gives it.
    fn source_of(&self, dockerfile: usize, context: Option<&Path>) -> Option<Link<Source>> {
        let (_, path, facts) = self.project.dockerfiles.get(dockerfile)?;
        let dir = path.parent()?;
        // Candidate contexts: the declared one, else the Dockerfile's directory and those above.
        let contexts: Vec<&Path> = match context {
            Some(c) => vec![c],
            None => dir.ancestors().collect(),
        };
        let packages = &self.project.packages;
        // The one package in the candidate contexts that `pred` picks, if exactly one does.
        let only = |pred: &dyn Fn(&Package) -> bool| -> Option<&Arc<Package>> {
            let mut found = packages
                .iter()
                .filter(|p| contexts.iter().any(|c| p.root.starts_with(c)) && pred(p));
            let first = found.next()?;
            found.next().is_none().then_some(first)
        };
        let cargo = |p: &Package, how: String| {
            Some(Link {
                to: Source::Cargo(p.root.clone()),
                how,
            })
        };
        for build in &facts.cargo {
            for path in &build.paths {
                for c in &contexts {
                    let root = crate::engine::normalized(&c.join(path));
                    if let Some(p) = packages.iter().find(|p| p.root == root) {
                        return cargo(p, format!("the Dockerfile builds `{path}`"));
                    }
                }
            }
            for bin in &build.bins {
                if let Some(p) = only(&|p| p.bins.contains(bin)) {
                    return cargo(p, format!("the Dockerfile builds binary `{bin}`"));
                }
            }
            for name in &build.packages {
                if let Some(p) = only(&|p| p.name == *name) {
                    return cargo(p, format!("the Dockerfile builds package `{name}`"));
                }
            }
        }
        if let Some(program) = &facts.program {
            if let Some(p) = only(&|p| p.bins.contains(program)) {
                return cargo(p, format!("the image runs `{program}`, a binary of it"));
            }
        }
        if facts.go_build.is_some() {
            let module = dir
                .ancestors()
                .take_while(|a| contexts.iter().any(|c| a.starts_with(c)))
                .find(|a| a.join("go.mod").is_file());
            if let Some(m) = module {
                return Some(Link {
                    to: Source::Go(m.to_path_buf()),
                    how: "the Dockerfile runs `go build`; nearest `go.mod`".into(),
                });
            }
        }
        if !facts.cargo.is_empty() {
            // `cargo build --release` in a context with one binary package.
            let context = context.unwrap_or(dir);
            let bins: Vec<&Arc<Package>> = packages
                .iter()
                .filter(|p| p.root.starts_with(context) && !p.bins.is_empty())
                .collect();
            if let [p] = bins.as_slice() {
                return cargo(p, "the only binary package in the build context".into());
            }
        }
        None
    }
}

/// How a Dockerfile is named like image `name`, if it is.
fn name_match(name: &str, path: &Path, facts: &ImageFacts) -> Option<String> {
    let file = path.file_name()?.to_str()?;
    let dir = path.parent()?.file_name().and_then(|d| d.to_str());
    if dir == Some(name) && (file == "Dockerfile" || file == "Containerfile") {
        return Some(format!("its directory is named `{name}`"));
    }
    if file == format!("{name}.Dockerfile") || file == format!("Dockerfile.{name}") {
        return Some(format!("its file name names `{name}`"));
    }
    if facts.program.as_deref() == Some(name) {
        return Some(format!("it runs a program named `{name}`"));
    }
    if facts
        .cargo
        .iter()
        .any(|b| b.bins.iter().chain(&b.packages).any(|x| x == name))
    {
        return Some(format!("it builds `{name}` with cargo"));
    }
    None
}

impl Source {
    pub fn describe(&self, project: &Project) -> String {
        match self {
            Source::Cargo(root) => {
                let name = project
                    .packages
                    .iter()
                    .find(|p| p.root == *root)
                    .map(|p| p.name.as_str())
                    .unwrap_or("?");
                format!("Cargo package `{name}` ({})", display_path(root))
            }
            Source::Go(dir) => format!("Go module ({})", display_path(&dir.join("go.mod"))),
        }
    }
}

/// A Cargo package and the path dependencies it links, transitively: a service's routes and
/// handlers are often in a library crate of the same workspace.
pub fn service_packages<'p>(project: &'p Project, root: &Path) -> Vec<&'p Arc<Package>> {
    let mut roots: Vec<&Path> = vec![root];
    let mut seen: HashSet<&Path> = roots.iter().copied().collect();
    let mut i = 0;
    while let Some(&r) = roots.get(i) {
        i += 1;
        if let Some(p) = project.package_at(r) {
            for dep in &p.path_deps {
                if seen.insert(dep.as_path()) {
                    roots.push(dep.as_path());
                }
            }
        }
    }
    project
        .packages
        .iter()
        .filter(|p| seen.contains(p.root.as_path()))
        .collect()
}

/// The Rust files of a Cargo package and of the path dependencies it links (see
/// [`service_packages`]).
pub fn rust_files<'p>(project: &'p Project, root: &Path) -> Vec<&'p RustFileFacts> {
    project.files_of_packages(
        service_packages(project, root)
            .into_iter()
            .map(|p| p.root.as_path()),
    )
}

/// The text `--explain-services` prints.
pub fn explain(project: &Project, map: &ServiceMap, sources: &crate::source::SourceDb) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let at = |file: crate::source::FileId, span: std::ops::Range<usize>| {
        sources
            .get(file)
            .map(|s| {
                let (line, _) = s.line_col(span.start);
                format!("{}:{line}", s.display)
            })
            .unwrap_or_default()
    };
    let dockerfile = |d: usize| {
        project
            .dockerfiles
            .get(d)
            .map(|(_, p, _)| display_path(p))
            .unwrap_or_default()
    };
    let mut mapped = (0, 0);
    for (c, s) in project.k8s.containers.iter().zip(&map.containers) {
        let _ = writeln!(out, "{} ({})", c.label(), at(c.file, c.span("name")));
        let _ = writeln!(
            out,
            "  image       {}",
            c.spec.image.as_deref().unwrap_or("-")
        );
        if let Some(d) = &s.dockerfile {
            mapped.0 += 1;
            let _ = writeln!(out, "  dockerfile  {}  ({})", dockerfile(d.to), d.how);
        }
        match &s.source {
            Some(src) => {
                mapped.1 += 1;
                let _ = writeln!(
                    out,
                    "  source      {}  ({})",
                    src.to.describe(project),
                    src.how
                );
            }
            None if s.dockerfile.is_some() => {
                let _ = writeln!(
                    out,
                    "  source      not found: the Dockerfile builds no Cargo package or Go module prodlint can see"
                );
            }
            None => {}
        }
        if let Some(why) = &s.unmapped {
            let _ = writeln!(out, "  unmapped    {why}");
        }
        out.push('\n');
    }
    let mut compose_mapped = 0;
    for c in &map.compose {
        let name = c.build.service.as_deref().unwrap_or("?");
        let _ = writeln!(out, "{} (Compose service `{name}`)", c.build.declared);
        if let Some(image) = &c.build.image {
            let _ = writeln!(out, "  image       {image}");
        }
        match c.dockerfile {
            Some(d) => {
                let _ = writeln!(out, "  dockerfile  {}  (its `build`)", dockerfile(d));
            }
            None => {
                let _ = writeln!(
                    out,
                    "  dockerfile  `{}` is not among the checked Dockerfiles",
                    display_path(&c.build.dockerfile)
                );
            }
        }
        if let Some(src) = &c.source {
            compose_mapped += 1;
            let _ = writeln!(
                out,
                "  source      {}  ({})",
                src.to.describe(project),
                src.how
            );
        }
        out.push('\n');
    }
    for p in &map.problems {
        let _ = writeln!(out, "note: {p}");
    }
    let _ = writeln!(
        out,
        "{} Kubernetes container(s): {} mapped to a Dockerfile, {} to source; {} Compose build(s), {} mapped to source",
        project.k8s.containers.len(),
        mapped.0,
        mapped.1,
        map.compose.len(),
        compose_mapped
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_tag_suffixes() {
        assert!(same_repository("adservice", "gcr.io/acme/adservice:v1"));
        assert!(same_repository("ghcr.io/a/b:local", "ghcr.io/a/b:1.0"));
        assert!(!same_repository("service", "gcr.io/acme/adservice:v1"));
        assert_eq!(
            tag_suffix("ghcr.io/o/demo:2.0.2-cart").as_deref(),
            Some("cart")
        );
        assert_eq!(
            tag_suffix("ghcr.io/o/demo:latest-frontend-proxy").as_deref(),
            Some("frontend-proxy")
        );
        assert_eq!(tag_suffix("api:1.0"), None);
    }
}
