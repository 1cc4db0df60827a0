//! Facts about Cargo packages (which crates and locked versions a package uses) and the facts the
//! front ends export for cross-file rules.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

use crate::source::FileId;

/// A Cargo package, as far as rules need it.
#[derive(Debug, Clone, Default)]
pub struct Package {
    pub name: String,
    pub root: PathBuf,
    /// Normal and target-specific dependencies (not dev or build ones), keyed by the name code
    /// uses (`hyper_util`, or a rename), underscores for hyphens.
    pub deps: HashMap<String, Dependency>,
    /// The workspace: the nearest directory with a `Cargo.lock`.
    pub workspace: Arc<Workspace>,
    /// The workspace's release profile aborts on panic (`[profile.release] panic = "abort"` in the
    /// `Cargo.toml` next to `Cargo.lock`, where Cargo reads profiles).
    pub panic_abort: bool,
    /// Hash of the files this was read from (for the cache key of the package's files).
    pub fingerprint: u64,
    /// The binaries it builds: `[[bin]]` names, the package name for `src/main.rs`, and
    /// `src/bin/<name>.rs` / `src/bin/<name>/main.rs`.
    pub bins: Vec<String>,
    /// Target files named by `path =` in `[lib]`/`[[bin]]` (absolute), which may lie outside
    /// `src/` (`[[bin]] path = "version.rs"`).
    pub target_paths: Vec<PathBuf>,
    /// Directories of its path dependencies (normal and target ones, also through
    /// `{ workspace = true }`), absolute: a service's code is also in the crates it links.
    pub path_deps: Vec<PathBuf>,
    /// Its binary, test, bench and example targets with their root files (what
    /// [`crate::surface`] reads a file's role from); the library is `src/lib.rs` or `[lib] path`.
    pub targets: Vec<Target>,
    /// The features `default` turns on (a binary that needs others is not built by default).
    pub default_features: Vec<String>,
    /// Packages it uses only as dev-dependencies (names with underscores).
    pub dev_deps: Vec<String>,
    /// A cargo-fuzz package (`[package.metadata] cargo-fuzz = true`).
    pub fuzz: bool,
}

/// A Cargo target other than the library.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub name: String,
    /// The crate root file (absolute, normalized).
    pub root: PathBuf,
    /// `required-features`: the target is built only when these are on.
    pub required_features: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Bin,
    Test,
    Bench,
    Example,
}

/// What a package takes from its workspace's `Cargo.lock` and the `Cargo.toml` beside it; read
/// once per workspace, not once per member. The lock file is parsed only when a rule asks.
#[derive(Debug, Default)]
pub struct Workspace {
    lock_text: String,
    locked: OnceLock<HashMap<String, Vec<String>>>,
    panic_abort: bool,
    fingerprint: u64,
    /// `[workspace.dependencies]` of the root manifest: path (absolute) and features.
    shared: HashMap<String, (Option<PathBuf>, Vec<String>)>,
}

impl Workspace {
    /// Locked versions of a crate (by its name with underscores); empty without a lock file.
    pub fn locked(&self, krate: &str) -> &[String] {
        let locked = self.locked.get_or_init(|| {
            let mut locked: HashMap<String, Vec<String>> = HashMap::new();
            if let Ok(lock) = toml::from_str::<Lockfile>(&self.lock_text) {
                for p in lock.package {
                    locked
                        .entry(normalize_crate(&p.name))
                        .or_default()
                        .push(p.version);
                }
            }
            locked
        });
        locked.get(krate).map_or(&[], Vec::as_slice)
    }
}

/// A hash of several texts, each length-prefixed so they cannot run into each other.
fn hash_parts(parts: &[&[u8]]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    for part in parts {
        crate::cache::field(&mut h, part);
    }
    h.digest()
}

fn read_workspace(dir: &Path) -> Workspace {
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.lock")) else {
        return Workspace::default();
    };
    let root_manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok();
    let fingerprint = hash_parts(&[
        text.as_bytes(),
        root_manifest.as_deref().unwrap_or("").as_bytes(),
    ]);
    let root = root_manifest
        .and_then(|t| toml::from_str::<RootManifest>(&t).ok())
        .unwrap_or_default();
    let panic_abort = root
        .profile
        .get("release")
        .and_then(|p| p.panic.as_deref())
        .is_some_and(|p| p == "abort");
    let shared = root
        .workspace
        .map(|w| w.dependencies)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(name, spec)| match spec {
            DepSpec::Version(_) => None,
            DepSpec::Detailed { path, features, .. } => {
                Some((name, (path.map(|p| dir.join(p)), features)))
            }
        })
        .collect();
    Workspace {
        lock_text: text,
        locked: OnceLock::new(),
        panic_abort,
        fingerprint,
        shared,
    }
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
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: HashMap<String, DepSpec>,
    #[serde(default)]
    target: HashMap<String, TargetDeps>,
    lib: Option<TargetSpec>,
    #[serde(default)]
    bin: Vec<TargetSpec>,
    #[serde(default)]
    test: Vec<TargetSpec>,
    #[serde(default)]
    bench: Vec<TargetSpec>,
    #[serde(default)]
    example: Vec<TargetSpec>,
    #[serde(default)]
    features: HashMap<String, toml::Value>,
}

#[derive(Deserialize)]
struct TargetSpec {
    name: Option<String>,
    path: Option<String>,
    #[serde(default, rename = "required-features")]
    required_features: Vec<String>,
}

#[derive(Deserialize)]
struct ManifestPackage {
    name: Option<String>,
    metadata: Option<toml::Table>,
}

#[derive(Deserialize)]
struct TargetDeps {
    #[serde(default)]
    dependencies: HashMap<String, DepSpec>,
    #[serde(default, rename = "dev-dependencies")]
    dev_dependencies: HashMap<String, DepSpec>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DepSpec {
    Version(#[allow(dead_code)] String),
    Detailed {
        package: Option<String>,
        #[serde(default)]
        features: Vec<String>,
        path: Option<String>,
        #[serde(default)]
        workspace: bool,
    },
}

/// `[profile.release] panic = ".."` of a workspace root manifest.
#[derive(Deserialize, Default)]
struct RootManifest {
    #[serde(default)]
    profile: HashMap<String, ProfileSpec>,
    workspace: Option<WorkspaceSpec>,
}

#[derive(Deserialize, Default)]
struct WorkspaceSpec {
    #[serde(default)]
    dependencies: HashMap<String, DepSpec>,
}

#[derive(Deserialize, Default)]
struct ProfileSpec {
    panic: Option<String>,
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
/// Reads the package whose `Cargo.toml` is in `root`; `workspace` gives the facts of the nearest
/// directory with a `Cargo.lock` (the workspace root).
pub fn read_package(
    root: &Path,
    workspace: impl FnOnce(&Path) -> Arc<Workspace>,
) -> Option<Package> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).ok()?;
    let mut manifest: Manifest = toml::from_str(&text).ok()?;
    let pkg = manifest.package.take()?;
    let ws: Arc<Workspace> = root
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").is_file())
        .map(workspace)
        .unwrap_or_default();
    let mut deps = HashMap::new();
    let mut path_deps = Vec::new();
    let mut dev_deps: Vec<String> = Vec::new();
    let mut normal = std::mem::take(&mut manifest.dependencies);
    let mut dev = std::mem::take(&mut manifest.dev_dependencies);
    for t in std::mem::take(&mut manifest.target).into_values() {
        normal.extend(t.dependencies);
        dev.extend(t.dev_dependencies);
    }
    for (key, spec) in dev {
        let package = match spec {
            DepSpec::Detailed {
                package: Some(p), ..
            } => p,
            _ => key,
        };
        dev_deps.push(normalize_crate(&package));
    }
    dev_deps.sort();
    dev_deps.dedup();
    let all = normal.into_iter();
    for (key, spec) in all {
        let (package, mut features, path, inherited) = match spec {
            DepSpec::Version(_) => (None, Vec::new(), None, false),
            DepSpec::Detailed {
                package,
                features,
                path,
                workspace,
            } => (package, features, path.map(|p| root.join(p)), workspace),
        };
        let package = package.unwrap_or_else(|| key.clone());
        let mut path = path;
        if inherited {
            if let Some((shared_path, shared_features)) = ws.shared.get(&key) {
                features.extend(shared_features.iter().cloned());
                path = path.or_else(|| shared_path.clone());
            }
        }
        path_deps.extend(path);
        deps.insert(
            normalize_crate(&key),
            Dependency {
                package: normalize_crate(&package),
                features,
            },
        );
    }
    let name = pkg.name.unwrap_or_default();
    let mut bins: Vec<String> = manifest.bin.iter().filter_map(|b| b.name.clone()).collect();
    let src = root.join("src");
    if src.join("main.rs").is_file() && !bins.contains(&name) {
        bins.push(name.clone());
    }
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string);
            let is_bin =
                path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").is_file();
            if let Some(stem) = stem.filter(|s| is_bin && !bins.contains(s)) {
                bins.push(stem);
            }
        }
    }
    bins.sort();
    let target_paths = manifest
        .lib
        .iter()
        .chain(&manifest.bin)
        .chain(&manifest.test)
        .chain(&manifest.bench)
        .chain(&manifest.example)
        .filter_map(|t| t.path.as_ref())
        .map(|p| crate::engine::normalized(&root.join(p)))
        .collect();
    let targets = targets(root, &name, &manifest, &bins);
    let default_features = match manifest.features.get("default") {
        Some(toml::Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    };
    let fuzz = pkg
        .metadata
        .as_ref()
        .and_then(|m| m.get("cargo-fuzz"))
        .and_then(toml::Value::as_bool)
        .unwrap_or(false);
    Some(Package {
        name,
        root: root.to_path_buf(),
        deps,
        panic_abort: ws.panic_abort,
        fingerprint: hash_parts(&[text.as_bytes(), &ws.fingerprint.to_le_bytes()]),
        workspace: ws,
        bins,
        target_paths,
        path_deps: path_deps
            .iter()
            .map(|p| crate::engine::normalized(p))
            .collect(),
        targets,
        default_features,
        dev_deps,
        fuzz,
    })
}

/// The package's binary, test, bench and example targets with their root files: those the
/// manifest declares (`path`, or Cargo's default place for the name) and the binaries Cargo finds
/// on its own (`src/main.rs`, `src/bin/<name>.rs`, `src/bin/<name>/main.rs`).
fn targets(root: &Path, package: &str, manifest: &Manifest, bins: &[String]) -> Vec<Target> {
    let abs = |p: PathBuf| crate::engine::normalized(&root.join(p));
    let mut out: Vec<Target> = Vec::new();
    let declared = [
        (TargetKind::Bin, &manifest.bin, "src/bin"),
        (TargetKind::Test, &manifest.test, "tests"),
        (TargetKind::Bench, &manifest.bench, "benches"),
        (TargetKind::Example, &manifest.example, "examples"),
    ];
    for (kind, specs, dir) in declared {
        for spec in specs.iter() {
            let name = spec.name.clone().unwrap_or_default();
            let root_file = match &spec.path {
                Some(p) => abs(PathBuf::from(p)),
                None if kind == TargetKind::Bin && name == package => abs("src/main.rs".into()),
                None => {
                    let single = root.join(dir).join(format!("{name}.rs"));
                    if single.is_file() {
                        abs(single)
                    } else {
                        abs(Path::new(dir).join(&name).join("main.rs"))
                    }
                }
            };
            out.push(Target {
                kind,
                name,
                root: root_file,
                required_features: spec.required_features.clone(),
            });
        }
    }
    for bin in bins {
        if out
            .iter()
            .any(|t| t.kind == TargetKind::Bin && &t.name == bin)
        {
            continue;
        }
        let candidates = [
            PathBuf::from("src/bin").join(format!("{bin}.rs")),
            PathBuf::from("src/bin").join(bin).join("main.rs"),
            PathBuf::from("src/main.rs"),
        ];
        if let Some(found) = candidates.into_iter().find(|c| root.join(c).is_file()) {
            out.push(Target {
                kind: TargetKind::Bin,
                name: bin.clone(),
                root: abs(found),
                required_features: Vec::new(),
            });
        }
    }
    out
}

/// Finds the package a Rust file belongs to: the nearest `Cargo.toml`, provided the file is one of
/// that package's targets (under `src/`, `tests/`, `benches/`, `examples/`, or `build.rs`).
/// Results are cached per directory.
#[derive(Default)]
pub struct PackageCache {
    by_dir: Mutex<HashMap<PathBuf, Option<Arc<Package>>>>,
    workspaces: Mutex<HashMap<PathBuf, Arc<Workspace>>>,
    /// The test-only modules each module file (`mod.rs`, `lib.rs`, ...) declares; every file of
    /// a directory asks about the same ones.
    test_modules: Mutex<HashMap<PathBuf, Arc<HashSet<String>>>>,
    /// Directory → the nearest directory at or above it with a `Cargo.toml`.
    manifest_dirs: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
}

impl PackageCache {
    pub fn package_of(&self, file: &Path) -> Option<Arc<Package>> {
        let abs = std::path::absolute(file).ok()?;
        let dir = self.manifest_dir(abs.parent()?)?;
        let pkg = self.load(&dir)?;
        let rel = abs.strip_prefix(&pkg.root).ok()?;
        let first = rel.components().next()?.as_os_str().to_str()?;
        let standard = matches!(first, "src" | "tests" | "benches" | "examples" | "build.rs");
        let named = || pkg.target_paths.contains(&crate::engine::normalized(&abs));
        (standard || named()).then_some(pkg)
    }

    /// The package whose directory holds `file`, wherever in it the file is (`package_of` only
    /// answers for the places Cargo compiles from).
    pub fn enclosing_package(&self, file: &Path) -> Option<Arc<Package>> {
        let abs = std::path::absolute(file).ok()?;
        let dir = self.manifest_dir(abs.parent()?)?;
        self.load(&dir)
    }

    /// The nearest directory from `dir` up that holds a `Cargo.toml`, remembered per directory
    /// (every file of a directory asks, and each step up is a `stat`).
    fn manifest_dir(&self, dir: &Path) -> Option<PathBuf> {
        memo(&self.manifest_dirs, dir, || {
            if dir.join("Cargo.toml").is_file() {
                Some(dir.to_path_buf())
            } else {
                self.manifest_dir(dir.parent()?)
            }
        })
    }

    /// Every package loaded so far (those the run's Rust files belong to), by directory.
    pub fn all(&self) -> Vec<Arc<Package>> {
        let mut all: Vec<Arc<Package>> = lock(&self.by_dir).values().flatten().cloned().collect();
        all.sort_by(|a, b| a.root.cmp(&b.root));
        all.dedup_by(|a, b| a.root == b.root);
        all
    }

    pub(crate) fn test_modules(&self, path: &Path) -> Arc<HashSet<String>> {
        memo(&self.test_modules, path, || {
            Arc::new(
                std::fs::read_to_string(path)
                    .map(|text| test_modules(&text))
                    .unwrap_or_default(),
            )
        })
    }

    fn load(&self, dir: &Path) -> Option<Arc<Package>> {
        memo(&self.by_dir, dir, || {
            read_package(dir, |ws| {
                memo(&self.workspaces, ws, || Arc::new(read_workspace(ws)))
            })
            .map(Arc::new)
        })
    }
}

/// The value cached for `key`, computed on a miss without holding the lock so other threads go
/// on; when two threads miss at once both compute, and the first result stays.
fn memo<V: Clone>(map: &Mutex<HashMap<PathBuf, V>>, key: &Path, compute: impl FnOnce() -> V) -> V {
    if let Some(hit) = lock(map).get(key) {
        return hit.clone();
    }
    let value = compute();
    lock(map).entry(key.to_path_buf()).or_insert(value).clone()
}

/// The guarded value, also after a panic elsewhere (every check runs guarded; a poisoned lock
/// holds nothing half-written that matters here).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The module name a file would be declared under and the files that could declare it: `mod.rs`,
/// `lib.rs` and `main.rs` beside it (beside its directory for a `mod.rs`) and `<dir>.rs` one level
/// up. `None` for a path with no parent or a name that is not UTF-8.
pub fn module_owners(file: &Path) -> Option<(&str, Vec<PathBuf>)> {
    let stem = file.file_stem()?.to_str()?;
    let dir = file.parent()?;
    let (name, owner_dir) = if stem == "mod" {
        (dir.file_name()?.to_str()?, dir.parent()?)
    } else {
        (stem, dir)
    };
    let mut owners = vec![
        owner_dir.join("mod.rs"),
        owner_dir.join("lib.rs"),
        owner_dir.join("main.rs"),
    ];
    if let (Some(up), Some(d)) = (owner_dir.parent(), owner_dir.file_name()) {
        owners.push(up.join(format!("{}.rs", d.to_string_lossy())));
    }
    Some((name, owners))
}

/// Whether a module file is compiled only for tests because its parent declares it so:
/// `#[cfg(test)] mod name;` in `lib.rs`, `main.rs`, `mod.rs` or `<dir>.rs`.
pub fn declared_test_only(
    file: &Path,
    test_modules_of: &dyn Fn(&Path) -> Arc<HashSet<String>>,
) -> bool {
    let Some(stem) = file.file_stem().and_then(|s| s.to_str()) else {
        return false;
    };
    if matches!(
        stem,
        "test_util" | "test_utils" | "test_helpers" | "testutil" | "mocks"
    ) {
        return true;
    }
    if matches!(stem, "lib" | "main") {
        return false;
    }
    let declared_so = |file: &Path| {
        module_owners(file)
            .is_some_and(|(name, owners)| owners.iter().any(|p| test_modules_of(p).contains(name)))
    };
    if declared_so(file) {
        return true;
    }
    // A file inside a directory module declared test-only (`#[cfg(test)] mod test;` over
    // `test/end_to_end.rs`), up to the package's `src/`.
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d.file_name().is_none_or(|n| n == "src") || d.join("Cargo.toml").is_file() {
            return false;
        }
        if declared_so(&d.join("mod.rs")) {
            return true;
        }
        dir = d.parent();
    }
    false
}

/// Finds `mod <name>;` whose attributes (the text since the previous item) include `cfg(test`.
#[cfg(test)]
fn declares_test_module(text: &str, name: &str) -> bool {
    test_modules(text).contains(name)
}

/// The modules a file declares test-only: every `mod <name>;` whose attributes (the text since
/// the previous item) include `cfg(test`.
fn test_modules(text: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("mod ").map(|i| i + from) {
        from = at + "mod ".len();
        let rest = &text[from..];
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(name_len);
        let word_before = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == ')');
        if name.is_empty() || !after.trim_start().starts_with(';') || !word_before {
            continue;
        }
        let item_start = text[..at].rfind([';', '}']).map_or(0, |i| i + 1);
        let attrs: String = text[item_start..at]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let test_cfg = [
            "cfg(test",
            "cfg(all(test",
            "cfg(any(test",
            "test-util",
            "test_util",
        ]
        .iter()
        .any(|c| attrs.contains(c))
            || (!attrs.contains("not(") && cfg_features(&attrs).any(crate::surface::is_test_word));
        if test_cfg {
            out.insert(name.to_string());
        }
    }
    out
}

/// The feature names a run of attributes (whitespace removed) tests in a `cfg`:
/// `feature="testsuite"`.
fn cfg_features(attrs: &str) -> impl Iterator<Item = &str> {
    attrs
        .match_indices("feature=\"")
        .filter_map(|(i, m)| attrs[i + m.len()..].split('"').next())
}

/// Facts a Rust file exports for cross-file rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
    /// Structs whose `Debug` prints secrets, and where variables are `Debug`-logged.
    pub logging: crate::lang::rust_logging::LoggingFacts,
    /// Thread counts, shutdown bounds, servers.
    pub runtime: crate::lang::rust_runtime::RuntimeFacts,
    /// Function bodies (their insides) that were not parsed because they hold nothing a rule
    /// or fact needs (test code left out: it is never walked): what `service` says about them
    /// comes from [`RustFileFacts::service_in`] and [`RustFileFacts::static_uses`].
    pub idle_bodies: Vec<Range<usize>>,
    /// Upper-case names methods are called on in those bodies (statics, for
    /// [`RustFileFacts::static_uses`]).
    pub unread_statics: Vec<String>,
    /// Names channel sends are called on in those bodies (for [`RustFileFacts::sends_to`]).
    pub unread_senders: Vec<String>,
}

/// Whether `text` holds `name` as a whole identifier followed by `.` (a method call on it).
fn names_static(text: &str, name: &str) -> bool {
    words_at(text, name).any(|end| text[end..].trim_start().starts_with('.'))
}

/// Whether `text` holds `needle` anywhere (SIMD search: these run over whole packages).
fn contains(text: &str, needle: &str) -> bool {
    memchr::memmem::find(text.as_bytes(), needle.as_bytes()).is_some()
}

/// Whether `text` holds `word` as a whole identifier.
fn has_word(text: &str, word: &str) -> bool {
    words_at(text, word).next().is_some()
}

/// Where each occurrence of `word` as a whole identifier in `text` ends.
fn words_at<'t>(text: &'t str, word: &'t str) -> impl Iterator<Item = usize> + 't {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word)
        .filter(move |(i, _)| {
            !word.is_empty()
                && !text[..*i].ends_with(ident)
                && !text[i + word.len()..].starts_with(ident)
        })
        .map(move |(i, _)| i + word.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_inside_a_test_only_directory_module() {
        // `topology/mod.rs` says `#[cfg(test)] mod test;`; `test/mod.rs` declares `end_to_end`.
        let of = |owner: &Path| -> Arc<HashSet<String>> {
            let text = match owner.to_str() {
                Some("/r/src/topology/mod.rs") => "#[cfg(test)]\nmod test;\nmod running;",
                _ => "mod end_to_end;",
            };
            Arc::new(test_modules(text))
        };
        assert!(declared_test_only(
            Path::new("/r/src/topology/test/end_to_end.rs"),
            &of
        ));
        assert!(declared_test_only(
            Path::new("/r/src/topology/test/mod.rs"),
            &of
        ));
        assert!(!declared_test_only(
            Path::new("/r/src/topology/running.rs"),
            &of
        ));
        assert!(!declared_test_only(
            Path::new("/r/src/topology/builder/graph.rs"),
            &of
        ));
    }

    #[test]
    fn test_only_module_declarations() {
        let lib =
            "pub mod a;\n#[cfg(test)]\npub(crate) mod blackbox;\n#[cfg(test)] mod b { }\nmod c;";
        assert!(declares_test_module(lib, "blackbox"));
        assert!(!declares_test_module(lib, "a"));
        assert!(!declares_test_module(lib, "c"));
        assert!(!declares_test_module("#[cfg(test)]\nmod ab;", "b"));
        assert!(declares_test_module(
            "#[cfg(any(test, feature = \"x\"))]\nmod t;",
            "t"
        ));
        assert!(declares_test_module(
            "#[cfg(feature = \"test-util\")]\npub mod t;",
            "t"
        ));
    }
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
    /// Services, disruption budgets and autoscalers of every Kubernetes file in the run.
    pub k8s: crate::lang::kubernetes::K8sFacts,
    /// Each Dockerfile's path (absolute, normalised) and what it tells about its image.
    pub dockerfiles: Vec<(FileId, PathBuf, crate::lang::dockerfile_facts::ImageFacts)>,
    /// The project scope of each Dockerfile, in the order of `dockerfiles` (see
    /// [`crate::lang::kubernetes::Workload::scope`]): a container is mapped to a Dockerfile of
    /// its own project only.
    pub dockerfile_scopes: Vec<u32>,
    /// Each shell script's path (absolute, normalised) and how it ends.
    pub scripts: Vec<(FileId, PathBuf, crate::lang::script::ScriptEnd)>,
    /// The Cargo packages the run's Rust files belong to.
    pub packages: Vec<Arc<Package>>,
    /// Which Dockerfile and source each Kubernetes container comes from.
    pub services: crate::services::ServiceMap,
    /// `packages` by root, and the indices in `rust` of each package's files: built on first use
    /// (service mapping and several rules look up the files of each of hundreds of containers).
    by_root: OnceLock<RootIndex>,
}

#[derive(Debug, Default)]
struct RootIndex {
    packages: HashMap<PathBuf, usize>,
    files: HashMap<PathBuf, Vec<usize>>,
}

impl Project {
    fn root_index(&self) -> &RootIndex {
        self.by_root.get_or_init(|| {
            let mut index = RootIndex::default();
            for (i, p) in self.packages.iter().enumerate() {
                index.packages.entry(p.root.clone()).or_insert(i);
            }
            for (i, f) in self.rust.iter().enumerate() {
                if let Some(p) = &f.package {
                    index.files.entry(p.root.clone()).or_default().push(i);
                }
            }
            index
        })
    }

    /// The package whose root is `root`.
    pub fn package_at(&self, root: &Path) -> Option<&Arc<Package>> {
        let i = *self.root_index().packages.get(root)?;
        self.packages.get(i)
    }

    /// The Rust files of the packages with these roots, in file order.
    pub fn files_of_packages<'p>(
        &'p self,
        roots: impl IntoIterator<Item = &'p Path>,
    ) -> Vec<&'p RustFileFacts> {
        let index = &self.root_index().files;
        let mut files: Vec<usize> = roots
            .into_iter()
            .filter_map(|r| index.get(r))
            .flatten()
            .copied()
            .collect();
        files.sort_unstable();
        files.dedup();
        files.iter().filter_map(|&i| self.rust.get(i)).collect()
    }

    /// Rust files grouped by package; a file outside any package is a package of its own.
    /// In the order of their roots (files outside packages last, by id).
    pub fn rust_packages(&self) -> Vec<Vec<&RustFileFacts>> {
        // Hashed, then the groups sorted: a sorted map compared paths for each of thousands of
        // files, a noticeable part of a warm run.
        let mut index: HashMap<&Path, usize> = HashMap::new();
        let mut groups: Vec<(Result<&Path, FileId>, Vec<&RustFileFacts>)> = Vec::new();
        for f in &self.rust {
            match &f.package {
                Some(p) => {
                    let i = *index.entry(p.root.as_path()).or_insert_with(|| {
                        groups.push((Ok(p.root.as_path()), Vec::new()));
                        groups.len() - 1
                    });
                    groups[i].1.push(f);
                }
                None => groups.push((Err(f.file), vec![f])),
            }
        }
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        groups.into_iter().map(|(_, files)| files).collect()
    }
}

#[derive(Debug)]
pub struct RustFileFacts {
    pub file: FileId,
    /// The package, when the file belongs to one (also to read the file again with every body
    /// parsed).
    pub package: Option<Arc<Package>>,
    pub facts: RustFacts,
    /// The file's text (shared with the source database), for the few joins that look for a
    /// literal the facts do not keep.
    pub text: Arc<crate::source::Text>,
    pub is_test: bool,
    /// The facts of the whole file, every body parsed, read on first need.
    pub every_body: std::sync::OnceLock<Option<RustFacts>>,
}

impl RustFileFacts {
    /// The service facts to look up inside `range` (a handler's or a helper's body). Dependency
    /// calls and call sites of bodies that were not parsed (see `rust_scan`) are not in
    /// `facts`: when `range` overlaps one, the file is read again with every body parsed.
    pub fn service_in(&self, range: &Range<usize>) -> &crate::lang::rust_service::ServiceFacts {
        let idle = self
            .facts
            .idle_bodies
            .iter()
            .any(|r| r.start < range.end && range.start < r.end);
        match idle.then(|| self.every_body()).flatten() {
            Some(f) => &f.service,
            None => &self.facts.service,
        }
    }

    /// Methods called on the static `name` (`SEEN.lock().insert(..)`) anywhere in the file's
    /// code. No trigger keeps bodies for statics (they matter only for the rare static map), so
    /// the unparsed bodies that name it are read here (`unread_service`).
    pub fn static_uses(&self, name: &str) -> Vec<crate::lang::rust_service::StaticUse> {
        let mut uses: Vec<_> = (self.facts.service.static_uses.iter())
            .filter(|u| u.name == name)
            .cloned()
            .collect();
        let noted = self.facts.unread_statics.iter().any(|s| s == name);
        let unread = match noted {
            true => self.unread_service(|text| names_static(text, name)),
            false => Vec::new(),
        };
        for (at, facts) in unread {
            uses.extend(facts.static_uses.into_iter().map(|mut u| {
                u.span = at(u.span);
                u
            }));
        }
        uses.retain(|u| u.name == name);
        uses.sort_by_key(|u| u.span.start);
        uses
    }

    /// Sends into a channel (`tx.send(..)`) through a value or field named one of `names`,
    /// anywhere in the file's code. No trigger keeps bodies for sends (every `.send(` of every
    /// HTTP request would be one; they matter only next to an unbounded channel), so the unparsed
    /// bodies that name one are read here (`unread_service`).
    pub fn sends_to(&self, names: &[&str]) -> Vec<crate::lang::rust_service::ChannelSend> {
        let mut sends: Vec<_> = self.facts.service.sends.clone();
        let noted = (self.facts.unread_senders.iter()).any(|s| names.contains(&s.as_str()));
        let unread = match noted {
            true => self.unread_service(|text| {
                contains(text, "send") && names.iter().any(|n| has_word(text, n))
            }),
            false => Vec::new(),
        };
        for (at, facts) in unread {
            sends.extend(facts.sends.into_iter().map(|mut s| {
                s.span = at(s.span);
                s
            }));
        }
        sends.retain(|s| names.contains(&s.name.as_str()));
        sends.sort_by_key(|s| s.span.start);
        sends
    }

    /// The service facts of each body that was not parsed (test code aside) and whose text
    /// `wanted` accepts, each parsed on its own as `fn f() { .. }`, with the function that moves
    /// their spans into the file. Only what a body says by itself is right there: paths are not
    /// resolved against the file's imports, and the function around it is not known.
    fn unread_service(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Vec<(
        impl Fn(Range<usize>) -> Range<usize>,
        crate::lang::rust_service::ServiceFacts,
    )> {
        const HEAD: &str = "fn f() {";
        // A test file's bodies are not production code (none of them was parsed).
        let unread = if self.is_test {
            &[][..]
        } else {
            &self.facts.idle_bodies[..]
        };
        let (starts, wrapped): (Vec<usize>, Vec<String>) = unread
            .iter()
            .filter_map(|body| {
                let text = self.text.as_str().get(body.clone()).filter(|t| wanted(t))?;
                Some((body.start, format!("{HEAD}{text}}}")))
            })
            .unzip();
        let texts: Vec<&str> = wrapped.iter().map(String::as_str).collect();
        let facts = crate::lang::rust::facts_of_each(&texts, None, false);
        starts
            .into_iter()
            .zip(facts)
            .filter_map(|(start, facts)| {
                let at = move |r: Range<usize>| {
                    let shift = |x: usize| (x + start).saturating_sub(HEAD.len());
                    shift(r.start)..shift(r.end)
                };
                Some((at, facts?.service))
            })
            .collect()
    }

    /// Log macros that `Debug`-format a variable of a known type, complete for the types in
    /// `types`. A body that only logs this way was not parsed (`rust_scan::LOGS_DEBUG`): when its
    /// function names one of `types`, that function is parsed from the text here.
    pub fn debug_logged(&self, types: &[&str]) -> Vec<crate::lang::rust_logging::DebugLogged> {
        let mut logged = self.facts.logging.debug_logged.clone();
        let (starts, texts): (Vec<usize>, Vec<&str>) = (self.facts.logging.unread.iter())
            .filter(|u| u.types.iter().any(|t| types.contains(&t.as_str())))
            .filter_map(|u| {
                Some((
                    u.function.start,
                    self.text.as_str().get(u.function.clone())?,
                ))
            })
            .unzip();
        let facts = crate::lang::rust::facts_of_each(&texts, self.package.clone(), false);
        for (at, facts) in starts.into_iter().zip(facts) {
            logged.extend(
                facts
                    .into_iter()
                    .flat_map(|f| f.logging.debug_logged)
                    .map(|mut d| {
                        d.span = at + d.span.start..at + d.span.end;
                        d
                    }),
            );
        }
        logged.sort_by_key(|d| d.span.start);
        logged
    }

    /// The facts of the whole file, every body parsed (read once, on first need; `None` when
    /// that fails).
    fn every_body(&self) -> Option<&RustFacts> {
        self.every_body
            .get_or_init(|| {
                crate::lang::rust::facts_of_every_body(
                    self.text.as_str(),
                    self.package.clone(),
                    self.is_test,
                )
            })
            .as_ref()
    }
}
