//! Finding the files to check: a gitignore-aware walk, classified by file name.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::config::Config;
use crate::source::FileKind;

/// Directories never worth linting: VCS data, build output, dependencies.
const SKIPPED_DIRS: &[&str] = &[".git", ".hg", ".svn", "target", "node_modules"];

/// Extensions after `Dockerfile.` that mean documentation, templates, backups or BuildKit's
/// per-Dockerfile ignore file (`Dockerfile.dockerignore`), not a Dockerfile.
const NOT_DOCKERFILE_SUFFIXES: &[&str] = &[
    "md",
    "txt",
    "rst",
    "json",
    "yaml",
    "yml",
    "sh",
    "bak",
    "orig",
    "rej",
    "swp",
    "j2",
    "jinja",
    "tmpl",
    "tpl",
    "template",
    "in",
    "erb",
    "dockerignore",
];

#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub display: String,
    pub kind: FileKind,
}

/// What a walk found: files to check, errors, and the build descriptions the service map reads.
#[derive(Debug, Default)]
pub struct Discovered {
    pub inputs: Vec<Input>,
    pub errors: Vec<String>,
    /// Compose files, skaffold configs and Tiltfiles (see [`is_build_description`]).
    pub build_files: Vec<PathBuf>,
}

/// Files that say which Dockerfile builds which image: Compose files (`compose.yaml`,
/// `docker-compose.prod.yml`), skaffold configs and Tiltfiles. They are read by the service map,
/// not checked.
pub fn is_build_description(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if name == "Tiltfile" {
        return true;
    }
    let Some(stem) = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
    else {
        return false;
    };
    let first = stem.split('.').next().unwrap_or(stem);
    matches!(first, "compose" | "docker-compose") || first.starts_with("skaffold")
}

/// The kind of a file by its name, or `None` for files prodlint does not read.
pub fn classify(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "rs" {
        return Some(FileKind::Rust);
    }
    // JSON manifests (`kubectl apply -f x.json`): read as YAML, kept only when they hold
    // objects with `apiVersion` and `kind`. Lockfiles and editor settings never do.
    if ext == "json" {
        return (!matches!(
            name,
            "package.json" | "package-lock.json" | "composer.json" | "tsconfig.json"
        ) && !name.ends_with(".schema.json"))
        .then_some(FileKind::Kubernetes);
    }
    if ext == "yaml" || ext == "yml" {
        let in_workflows = path
            .parent()
            .is_some_and(|d| d.ends_with(".github/workflows"));
        let action = name == "action.yml" || name == "action.yaml";
        return Some(if in_workflows || action {
            FileKind::Workflow
        } else {
            FileKind::Kubernetes
        });
    }
    if matches!(ext, "sh" | "bash")
        || matches!(
            name,
            "Makefile" | "makefile" | "GNUmakefile" | "justfile" | "Justfile" | ".justfile"
        )
        || ext == "mk"
    {
        return Some(FileKind::Script);
    }
    if name == "Dockerfile"
        || name == "Containerfile"
        || matches!(
            ext,
            "Dockerfile" | "dockerfile" | "Containerfile" | "containerfile"
        )
    {
        return Some(FileKind::Dockerfile);
    }
    // `Dockerfile.prod`, `Dockerfile-WINDOWS_LTSC2022`, `Dockerfile_arm`.
    for prefix in [
        "Dockerfile.",
        "Dockerfile-",
        "Dockerfile_",
        "Containerfile.",
        "Containerfile-",
        "Containerfile_",
    ] {
        if let Some(suffix) = name.strip_prefix(prefix) {
            let last = suffix
                .rsplit('.')
                .next()
                .unwrap_or(suffix)
                .to_ascii_lowercase();
            if !suffix.is_empty() && !NOT_DOCKERFILE_SUFFIXES.contains(&last.as_str()) {
                return Some(FileKind::Dockerfile);
            }
        }
    }
    None
}

/// How a path is shown: relative to the working directory when under it, `/`-separated.
pub fn display_path(path: &Path) -> String {
    // Asked once: prodlint never changes its working directory, and every file is shown.
    static CWD: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    let cwd = CWD.get_or_init(|| std::env::current_dir().ok());
    let shown = match (path.is_absolute(), cwd) {
        (true, Some(cwd)) => path.strip_prefix(cwd).unwrap_or(path),
        _ => path,
    };
    let parts: Vec<String> = shown
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| match c {
            Component::RootDir => String::new(),
            other => other.as_os_str().to_string_lossy().into_owned(),
        })
        .collect();
    let joined = parts.join("/");
    if joined.is_empty() {
        ".".into()
    } else if shown.has_root() && !joined.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Walks the given paths. Returns the inputs (sorted, deduplicated) and I/O problems.
pub fn discover(paths: &[PathBuf], config: &Config, force_exclude: bool) -> Discovered {
    let mut found: BTreeMap<String, Input> = BTreeMap::new();
    let mut errors = Vec::new();
    let mut build_files = Vec::new();
    let mut add = |path: PathBuf, kind: FileKind| {
        let display = display_path(&path);
        found.entry(display.clone()).or_insert(Input {
            path,
            display,
            kind,
        });
    };
    // Files named on the command line are taken as they are; directories are walked together by
    // one parallel walker (a walker per path costs a thread pool each: 200 named directories took
    // ten times as long as their parent).
    let mut dirs: Vec<&PathBuf> = Vec::new();
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(m) => m,
            Err(e) => {
                errors.push(format!("cannot read `{}`: {e}", root.display()));
                continue;
            }
        };
        if meta.is_file() {
            // Named explicitly: checked even if excluded, unless --force-exclude.
            if force_exclude && config.exclusion()(root, false) {
                continue;
            }
            if let Some(kind) = classify(root) {
                add(root.clone(), kind);
            }
        } else {
            dirs.push(root);
        }
    }
    if let Some((first, rest)) = dirs.split_first() {
        let mut builder = ignore::WalkBuilder::new(first);
        for dir in rest {
            builder.add(dir);
        }
        let walker = builder
            .hidden(false)
            .require_git(false)
            .follow_links(false)
            .filter_entry({
                let excluded = config.exclusion();
                move |entry| {
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    let skipped_dir = is_dir
                        && entry.depth() > 0
                        && entry
                            .file_name()
                            .to_str()
                            .is_some_and(|n| SKIPPED_DIRS.contains(&n));
                    !(skipped_dir || (entry.depth() > 0 && excluded(entry.path(), is_dir)))
                }
            })
            .build_parallel();
        // The walk is parallel (directory reads dominate a warm run); the map sorts the result.
        let walked: std::sync::Mutex<(Vec<PathBuf>, Vec<String>)> = Default::default();
        walker.run(|| {
            Box::new(|entry| {
                let mut walked = walked.lock().unwrap_or_else(|e| e.into_inner());
                match entry {
                    Ok(entry) if entry.file_type().is_some_and(|t| t.is_file()) => {
                        walked.0.push(entry.into_path());
                    }
                    Ok(_) => {}
                    Err(e) => walked.1.push(format!("cannot walk: {e}")),
                }
                ignore::WalkState::Continue
            })
        });
        let (mut files, mut walk_errors) = walked.into_inner().unwrap_or_else(|e| e.into_inner());
        walk_errors.sort();
        errors.extend(walk_errors);
        let mut indexes = TrackedIndexes::default();
        for dir in &dirs {
            let extra = tracked_but_ignored(dir, &files, config, &mut indexes);
            files.extend(extra);
        }
        for path in files {
            if is_build_description(&path) {
                build_files.push(path.clone());
            }
            if let Some(kind) = classify(&path) {
                add(path, kind);
            }
        }
    }
    build_files.sort();
    build_files.dedup();
    Discovered {
        inputs: found.into_values().collect(),
        errors,
        build_files,
    }
}

/// Each work tree's tracked paths, read once per run however many paths lie in it.
#[derive(Default)]
struct TrackedIndexes(std::collections::HashMap<PathBuf, Vec<PathBuf>>);

/// Files under `root` that git tracks but the walk left out because `.gitignore` matches them:
/// committed files are checked whatever `.gitignore` says (it only keeps untracked files out).
/// Configured excludes and the always-skipped directories still apply.
fn tracked_but_ignored(
    root: &Path,
    walked: &[PathBuf],
    config: &Config,
    indexes: &mut TrackedIndexes,
) -> Vec<PathBuf> {
    let Some((top, index)) = crate::git::index::work_tree_of(root) else {
        return Vec::new();
    };
    let tracked = indexes.0.entry(index.clone()).or_insert_with(|| {
        std::fs::read(&index)
            .ok()
            .and_then(|bytes| crate::git::index::tracked_paths(&bytes))
            .unwrap_or_default()
    });
    let Ok(canonical_root) = std::fs::canonicalize(root) else {
        return Vec::new();
    };
    let Ok(below) = canonical_root.strip_prefix(&top) else {
        return Vec::new();
    };
    let seen: std::collections::HashSet<&Path> = walked.iter().map(PathBuf::as_path).collect();
    let excluded = config.exclusion();
    let mut out = Vec::new();
    for rel in tracked.iter() {
        let Ok(inside) = rel.strip_prefix(below) else {
            continue;
        };
        if classify(inside).is_none() && !is_build_description(inside) {
            continue;
        }
        let path = root.join(inside);
        if seen.contains(path.as_path()) {
            continue;
        }
        let mut dirs = inside
            .ancestors()
            .skip(1)
            .filter(|d| !d.as_os_str().is_empty());
        let skipped = dirs.any(|d| {
            d.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| SKIPPED_DIRS.contains(&n))
                || excluded(&root.join(d), true)
        });
        if !skipped && !excluded(&path, false) && path.is_file() {
            out.push(path);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_name() {
        let k = |p: &str| classify(Path::new(p));
        assert_eq!(k("src/main.rs"), Some(FileKind::Rust));
        assert_eq!(k("Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("api.Dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("build.dockerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("api.Containerfile"), Some(FileKind::Dockerfile));
        assert_eq!(k("Dockerfile.prod"), Some(FileKind::Dockerfile));
        assert_eq!(k("Dockerfile.md"), None);
        assert_eq!(k("Dockerfile.j2"), None);
        assert_eq!(k("Dockerfile.dockerignore"), None);
        assert_eq!(k("Dockerfile_arm"), Some(FileKind::Dockerfile));
        assert_eq!(
            k("deploy/redis-controller.json"),
            Some(FileKind::Kubernetes)
        );
        assert_eq!(k("web/package-lock.json"), None);
        assert_eq!(k("Dockerfile-WINDOWS_LTSC2022"), Some(FileKind::Dockerfile));
        assert_eq!(k("Containerfile_debug"), Some(FileKind::Dockerfile));
        assert_eq!(k("Dockerfile-notes.md"), None);
        assert_eq!(k("Dockerfile_"), None);
        assert_eq!(k("Dockerfile.ci.dockerignore"), None);
        assert_eq!(k("deploy/app.yml"), Some(FileKind::Kubernetes));
        assert_eq!(k("Cargo.toml"), None);
        assert_eq!(k(".github/workflows/ci.yml"), Some(FileKind::Workflow));
        assert_eq!(
            k("deploy/.github/workflows/x.yaml"),
            Some(FileKind::Workflow)
        );
        assert_eq!(k("workflows/ci.yml"), Some(FileKind::Kubernetes));
        assert_eq!(
            k(".github/actions/setup/action.yml"),
            Some(FileKind::Workflow)
        );
        assert_eq!(k("scripts/entrypoint.sh"), Some(FileKind::Script));
        assert_eq!(k("Makefile"), Some(FileKind::Script));
        assert_eq!(k("justfile"), Some(FileKind::Script));
        assert_eq!(k("rules.mk"), Some(FileKind::Script));
        assert_eq!(k("README"), None);
        let b = |p: &str| is_build_description(Path::new(p));
        assert!(b("compose.yaml") && b("docker-compose.prod.yml") && b("compose.full.yaml"));
        assert!(b("deploy/skaffold.yaml") && b("Tiltfile"));
        assert!(!b("composer.yaml") && !b("values.yaml") && !b("Tiltfile.bak"));
    }
}
