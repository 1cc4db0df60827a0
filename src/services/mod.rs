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

use std::collections::{HashMap, HashSet};
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
    /// Repositories a kustomization of the run gives a tag or digest (`images: [{name, newTag}]`):
    /// `kustomize build` writes it in the manifest's place.
    pub tagged_by_kustomization: Vec<String>,
}

impl ServiceMap {
    /// Whether a deploy tool of the run builds `image` (same repository, whatever the tag).
    pub fn built_by_deploy_tool(&self, image: &str) -> bool {
        let repository = image::repository(image);
        self.built_by_deploy_tool.iter().any(|b| b == repository)
    }

    /// Whether a kustomization of the run sets `image`'s tag or digest.
    pub fn tagged_by_kustomization(&self, image: &str) -> bool {
        let repository = image::repository(image);
        (self.tagged_by_kustomization.iter()).any(|t| t == repository)
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
    let cx = Mapper::new(project, config, &entries);
    for c in &project.k8s.containers {
        let image = c.spec.image.as_deref().unwrap_or("");
        map.containers.push(cx.map_image(image, c.scope));
    }
    for entry in entries.iter().filter(|e| e.service.is_some()) {
        let dockerfile = cx.dockerfile_at(&entry.dockerfile);
        map.compose.push(ComposeService {
            build: entry.clone(),
            dockerfile,
            source: dockerfile.and_then(|d| cx.source_of(d, Some(&entry.context))),
        });
    }
    // Each Dockerfile's source: the first deployment's, else the first Compose service's, else
    // its own (one pass over each list, not one per Dockerfile).
    let mut first_source: HashMap<usize, Link<Source>> = HashMap::new();
    let deployed = (map.containers.iter())
        .filter_map(|s| Some((s.dockerfile.as_ref()?.to, s.source.clone()?)));
    let composed = (map.compose.iter()).filter_map(|c| Some((c.dockerfile?, c.source.clone()?)));
    for (dockerfile, source) in deployed.chain(composed) {
        first_source.entry(dockerfile).or_insert(source);
    }
    map.dockerfile_sources = (0..project.dockerfiles.len())
        .map(|i| first_source.remove(&i).or_else(|| cx.source_of(i, None)))
        .collect();
    map
}

/// The service map's joins, indexed once so that mapping every container is linear in the
/// number of containers, Dockerfiles and builds.
struct Mapper<'a> {
    project: &'a Project,
    config: &'a Config,
    entries: &'a [BuildEntry],
    /// Dockerfile index by normalized path.
    by_path: HashMap<PathBuf, usize>,
    /// Dockerfiles (not development ones) by each name [`name_match`] can match, in order.
    by_name: HashMap<String, Vec<usize>>,
    /// Build entries (indices) by image repository.
    builds_by_repository: HashMap<&'a str, Vec<usize>>,
    /// Dockerfiles that are not development ones, and the same by project scope.
    service_dockerfiles: Vec<usize>,
    service_dockerfiles_by_scope: HashMap<u32, Vec<usize>>,
    /// Package and binary names of the repository.
    own_names: HashSet<&'a str>,
}

/// The part of a tag after its version (`latest-cart` and `2.0.2-cart` → `cart`): several images
/// of one repository told apart by tag suffix, as the OpenTelemetry demo does.
fn tag_suffix(reference: &str) -> Option<String> {
    image::tag(reference)?
        .split_once('-')
        .map(|(_, s)| s.to_string())
}

impl<'a> Mapper<'a> {
    fn new(project: &'a Project, config: &'a Config, entries: &'a [BuildEntry]) -> Self {
        let mut by_path = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut service_dockerfiles = Vec::new();
        let mut service_dockerfiles_by_scope: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, (_, path, facts)) in project.dockerfiles.iter().enumerate() {
            by_path.entry(path.clone()).or_insert(i);
            if is_dev_dockerfile(path) {
                continue;
            }
            service_dockerfiles.push(i);
            if let Some(&scope) = project.dockerfile_scopes.get(i) {
                service_dockerfiles_by_scope
                    .entry(scope)
                    .or_default()
                    .push(i);
            }
            let mut names = names_matched(path, facts);
            names.sort_unstable();
            names.dedup();
            for name in names {
                by_name.entry(name).or_default().push(i);
            }
        }
        let mut builds_by_repository: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let repository = e.image.as_deref().map(image::repository).unwrap_or("");
            if !repository.is_empty() {
                builds_by_repository.entry(repository).or_default().push(i);
            }
        }
        let own_names = (project.packages.iter())
            .flat_map(|p| std::iter::once(p.name.as_str()).chain(p.bins.iter().map(String::as_str)))
            .collect();
        Mapper {
            project,
            config,
            entries,
            by_path,
            by_name,
            builds_by_repository,
            service_dockerfiles,
            service_dockerfiles_by_scope,
            own_names,
        }
    }

    fn dockerfile_at(&self, path: &Path) -> Option<usize> {
        self.by_path.get(&crate::engine::normalized(path)).copied()
    }

    /// The builds whose image is `image`'s repository, or that repository without a registry
    /// prefix (skaffold's `image: api` deployed as `gcr.io/acme/api:v1`), in declaration order.
    fn builds_of(&self, image: &str) -> Vec<&'a BuildEntry> {
        let deployed = image::repository(image);
        if deployed.is_empty() {
            return Vec::new();
        }
        // `gcr.io/acme/api` is built as itself, as `acme/api` or as `api`.
        let mut suffixes = vec![deployed];
        suffixes.extend(deployed.match_indices('/').map(|(i, _)| &deployed[i + 1..]));
        let mut found: Vec<usize> = suffixes
            .iter()
            .filter_map(|s| self.builds_by_repository.get(s))
            .flatten()
            .copied()
            .collect();
        // Declaration order, as a scan of the entries gives.
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .filter_map(|i| self.entries.get(i))
            .collect()
    }

    /// Whether Dockerfile `d` is in project `scope` (unknown scopes match: a project built by
    /// hand in a test has none).
    fn in_scope(&self, d: usize, scope: u32) -> bool {
        self.project
            .dockerfile_scopes
            .get(d)
            .is_none_or(|&s| s == scope)
    }

    fn map_image(&self, image: &str, scope: u32) -> Service {
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
        let mut declared: Vec<&BuildEntry> = self.builds_of(image);
        // Builds of another project (a sibling repository's compose file) do not count.
        declared.retain(|e| {
            self.dockerfile_at(&e.dockerfile)
                .is_none_or(|d| self.in_scope(d, scope))
        });
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
        let candidates: Vec<(usize, String)> = (self.by_name.get(name).into_iter().flatten())
            .filter(|&&i| self.in_scope(i, scope))
            .filter_map(|&i| {
                let (_, path, facts) = self.project.dockerfiles.get(i)?;
                name_match(name, path, facts).map(|how| (i, how))
            })
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
        let own_name = self.own_names.contains(name);
        let in_project = match self.project.dockerfile_scopes.is_empty() {
            true => self.service_dockerfiles.as_slice(),
            false => self
                .service_dockerfiles_by_scope
                .get(&scope)
                .map_or(&[][..], Vec::as_slice),
        };
        if let ([d], true) = (in_project, own_name) {
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

/// Every image name [`name_match`] can match for this Dockerfile (the index's keys).
fn names_matched(path: &Path, facts: &ImageFacts) -> Vec<String> {
    let mut names = Vec::new();
    let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
    if file == "Dockerfile" || file == "Containerfile" {
        if let Some(dir) = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|d| d.to_str())
        {
            names.push(dir.to_string());
        }
    }
    names.extend(file.strip_suffix(".Dockerfile").map(str::to_string));
    names.extend(file.strip_prefix("Dockerfile.").map(str::to_string));
    names.extend(facts.program.clone());
    for build in &facts.cargo {
        names.extend(build.bins.iter().chain(&build.packages).cloned());
    }
    names
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
        let entry = |image: &str| BuildEntry {
            image: Some(image.to_string()),
            ..BuildEntry::default()
        };
        let entries = [
            entry("adservice"),
            entry("ghcr.io/a/b:local"),
            entry("service"),
        ];
        let project = Project::default();
        let config = Config::default();
        let cx = Mapper::new(&project, &config, &entries);
        let built = |deployed: &str| -> Vec<Option<String>> {
            cx.builds_of(deployed)
                .iter()
                .map(|e| e.image.clone())
                .collect()
        };
        assert_eq!(
            built("gcr.io/acme/adservice:v1"),
            [Some("adservice".to_string())]
        );
        assert_eq!(
            built("ghcr.io/a/b:1.0"),
            [Some("ghcr.io/a/b:local".to_string())]
        );
        assert!(built("gcr.io/acme/otherservice:v1").is_empty());
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
