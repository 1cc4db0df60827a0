//! Facts about Cargo packages (which crates and locked versions a package uses) and the facts the
//! front ends export for cross-file rules.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;

use crate::source::FileId;

/// A Cargo package, as far as rules need it.
#[derive(Debug, Clone, Default)]
pub struct Package {
    pub name: String,
    pub root: PathBuf,
    /// Normal and target-specific dependencies (not dev or build ones), keyed by the name code
    /// uses (`hyper_util`, or a rename), underscores for hyphens.
    pub deps: HashMap<String, Dependency>,
    /// Locked versions by crate name (underscores), from the nearest Cargo.lock.
    pub locked: HashMap<String, Vec<String>>,
    pub has_lock: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Dependency {
    /// The crate's real name, underscores for hyphens.
    pub package: String,
    pub features: Vec<String>,
}

impl Package {
    pub fn depends_on(&self, krate: &str) -> bool {
        self.deps.values().any(|d| d.package == krate)
    }

    /// The real crate behind a name used in code (a dependency may be renamed).
    pub fn crate_of(&self, local: &str) -> Option<&str> {
        self.deps.get(local).map(|d| d.package.as_str())
    }

    pub fn dependency(&self, krate: &str) -> Option<&Dependency> {
        self.deps.values().find(|d| d.package == krate)
    }
}

pub fn normalize_crate(name: &str) -> String {
    name.replace('-', "_")
}

#[derive(Deserialize)]
struct Manifest {
    package: Option<ManifestPackage>,
    #[serde(default)]
    dependencies: HashMap<String, DepSpec>,
    #[serde(default)]
    target: HashMap<String, TargetDeps>,
}

#[derive(Deserialize)]
struct ManifestPackage {
    name: Option<String>,
}

#[derive(Deserialize)]
struct TargetDeps {
    #[serde(default)]
    dependencies: HashMap<String, DepSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DepSpec {
    Version(#[allow(dead_code)] String),
    Detailed {
        package: Option<String>,
        #[serde(default)]
        features: Vec<String>,
    },
}

#[derive(Deserialize)]
struct Lockfile {
    #[serde(default)]
    package: Vec<LockedPackage>,
}

#[derive(Deserialize)]
struct LockedPackage {
    name: String,
    version: String,
}

/// Reads `Cargo.toml` at `root`; `None` when it is missing, unreadable or has no `[package]`.
pub fn read_package(root: &Path) -> Option<Package> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let manifest: Manifest = toml::from_str(&text).ok()?;
    let pkg = manifest.package?;
    let mut deps = HashMap::new();
    let all = manifest
        .dependencies
        .into_iter()
        .chain(manifest.target.into_values().flat_map(|t| t.dependencies));
    for (key, spec) in all {
        let (package, features) = match spec {
            DepSpec::Version(_) => (key.clone(), Vec::new()),
            DepSpec::Detailed { package, features } => {
                (package.unwrap_or_else(|| key.clone()), features)
            }
        };
        deps.insert(
            normalize_crate(&key),
            Dependency {
                package: normalize_crate(&package),
                features,
            },
        );
    }
    let mut locked: HashMap<String, Vec<String>> = HashMap::new();
    let mut has_lock = false;
    for dir in root.ancestors() {
        let lock_path = dir.join("Cargo.lock");
        if let Ok(text) = std::fs::read_to_string(&lock_path) {
            if let Ok(lock) = toml::from_str::<Lockfile>(&text) {
                has_lock = true;
                for p in lock.package {
                    locked
                        .entry(normalize_crate(&p.name))
                        .or_default()
                        .push(p.version);
                }
            }
            break;
        }
    }
    Some(Package {
        name: pkg.name.unwrap_or_default(),
        root: root.to_path_buf(),
        deps,
        locked,
        has_lock,
    })
}

/// Finds the package a Rust file belongs to: the nearest `Cargo.toml`, provided the file is one of
/// that package's targets (under `src/`, `tests/`, `benches/`, `examples/`, or `build.rs`).
/// Results are cached per directory.
#[derive(Default)]
pub struct PackageCache {
    by_dir: Mutex<HashMap<PathBuf, Option<Arc<Package>>>>,
}

impl PackageCache {
    pub fn package_of(&self, file: &Path) -> Option<Arc<Package>> {
        let abs = std::path::absolute(file).ok()?;
        let mut dir = abs.parent()?;
        loop {
            if dir.join("Cargo.toml").is_file() {
                let pkg = self.load(dir)?;
                let rel = abs.strip_prefix(&pkg.root).ok()?;
                let first = rel.components().next()?.as_os_str().to_str()?;
                return matches!(first, "src" | "tests" | "benches" | "examples" | "build.rs")
                    .then_some(pkg);
            }
            dir = dir.parent()?;
        }
    }

    fn load(&self, dir: &Path) -> Option<Arc<Package>> {
        let mut cache = self.by_dir.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(dir.to_path_buf())
            .or_insert_with(|| read_package(dir).map(Arc::new))
            .clone()
    }
}

/// Whether a file is test, bench or example code by its place in the package (or, outside a
/// package, by a `tests`/`benches`/`examples` directory in its path).
pub fn is_test_path(file: &Path, package: Option<&Package>) -> bool {
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    if let Some(pkg) = package {
        if let Ok(rel) = abs.strip_prefix(&pkg.root) {
            let mut comps = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned());
            return matches!(
                comps.next().as_deref(),
                Some("tests" | "benches" | "examples" | "build.rs")
            );
        }
    }
    file.components().any(|c| {
        matches!(
            c.as_os_str().to_str(),
            Some("tests" | "benches" | "examples")
        )
    }) || file.file_name().and_then(|n| n.to_str()) == Some("build.rs")
}

/// Facts a Rust file exports for cross-file rules.
#[derive(Debug, Clone, Default)]
pub struct RustFacts {
    /// `tokio::signal::ctrl_c()` calls in production code.
    pub ctrl_c_calls: Vec<Range<usize>>,
    /// SIGTERM is handled: `SignalKind::terminate()`, a `SIGTERM` constant, or the `ctrlc` crate's
    /// `termination` feature.
    pub handles_sigterm: bool,
    /// An actix-web `HttpServer` is started (it drains on SIGTERM by itself)...
    pub starts_actix_server: bool,
    /// ...unless its signal handling is turned off.
    pub disables_actix_signals: bool,
    /// Every path production code refers to, resolved through imports (`tower_http::limit::
    /// RequestBodyLimitLayer::new`), and `path.method` for methods chained on a call to it.
    pub references: BTreeSet<String>,
    /// Every method name called in production code.
    pub methods: BTreeSet<String>,
    /// Routes, handlers and what they call.
    pub service: crate::lang::rust_service::ServiceFacts,
}

impl RustFacts {
    /// Whether code refers to `path` or to something under it.
    pub fn refers_to(&self, path: &str) -> bool {
        self.references
            .range(path.to_string()..)
            .next()
            .is_some_and(|r| {
                r.strip_prefix(path).is_some_and(|rest| {
                    rest.is_empty() || rest.starts_with("::") || rest.starts_with('.')
                })
            })
    }
}

/// Everything cross-file rules can see.
#[derive(Debug, Default)]
pub struct Project {
    pub rust: Vec<RustFileFacts>,
}

impl Project {
    /// Rust files grouped by package; a file outside any package is a package of its own.
    pub fn rust_packages(&self) -> Vec<Vec<&RustFileFacts>> {
        let mut by_key: std::collections::BTreeMap<Result<&Path, FileId>, Vec<&RustFileFacts>> =
            std::collections::BTreeMap::new();
        for f in &self.rust {
            by_key
                .entry(f.package.as_deref().ok_or(f.file))
                .or_default()
                .push(f);
        }
        by_key.into_values().collect()
    }
}

#[derive(Debug)]
pub struct RustFileFacts {
    pub file: FileId,
    /// The package root, when the file belongs to one.
    pub package: Option<PathBuf>,
    pub facts: RustFacts,
}
