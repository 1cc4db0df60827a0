//! The production surface: what role each Rust file plays in what a repository ships.
//!
//! A serving rule asks "can this hang, leak or drop requests in production?", so it must know
//! whether the code runs in a deployed service at all. A test helper, a benchmark runner, an
//! admin tool or code tonic-build wrote is not where a reviewer wants a timeout finding. This
//! stage runs once per run, after discovery and before any Rust file is checked, and derives
//! each file's role from what the repository states — never from one project's names:
//!
//! - Cargo targets and their root files: `tests/`, `benches/`, `examples/`, `build.rs`, and
//!   `[[test]]`/`[[bench]]`/`[[example]]` targets wherever their `path` puts them (a test target
//!   in `src/tests/` claims that directory);
//! - binaries: the package's main binary serves; another binary is a tool unless a Dockerfile of
//!   the run builds it or its `main` starts a server; a binary that needs `required-features`
//!   outside `default` is not built by default and is a tool;
//! - packages: cargo-fuzz packages and test-named packages are tests, cargo subcommands
//!   (`cargo-*`) and `xtask` are tools, and a library that only dev-dependencies and test
//!   packages use is test support;
//! - `cfg`: modules declared `#[cfg(test)]` (or under a test-named feature) in their parent;
//!   items under such a `cfg` are left out by the Rust walker itself (`rust::is_test_only`);
//! - generated code: an `@generated` / "Code generated … DO NOT EDIT" header, known when the
//!   file is read (`generated_header`);
//! - subcommands: in a serving binary whose `main` dispatches on a command-line enum, the arms
//!   no deployment runs and that start no server (`app migrate`, `app healthcheck`), the
//!   functions only they call and the modules only they use are tool code
//!   ([`subcommands`]); their spans are given per file (`tool_spans`).
//!
//! Each rule declares the roles it applies to (`roles:` in its front matter; serving rules:
//! service and library). Files of other roles are not walked at all, like test code always was.
//! `prodlint check --explain-surface` prints every file's role with its evidence.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::lang::kustomize;
use crate::project::{Package, PackageCache, TargetKind};
use crate::source::FileKind;

mod subcommands;

/// What the files that could declare a module say of it.
enum Declared {
    /// One names it, or may declare modules another way (`#[path]`, `include!`).
    Yes,
    /// Some exist and none names it.
    NotNamed,
    /// None of them exists.
    NoOwner,
}

/// What a Rust file is, for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Compiled into a binary that serves (its main binary, or one a Dockerfile builds).
    Service,
    /// A library target: shipped in whatever links it.
    Library,
    /// A command-line tool, admin or migration binary, build script, cargo subcommand.
    Tool,
    /// Tests, benchmarks, fuzz targets and the support code only they use.
    Test,
    /// Examples.
    Example,
    /// Written by a code generator (tonic-build, prost-build, …): its call sites are elsewhere.
    Generated,
    /// A partial object another file completes: a patch a `kustomization.yaml` lists. Judged
    /// as part of what it patches, never alone.
    Fragment,
    /// A Rust file under a package's `src/` that no module declares: Cargo never compiles it.
    Unused,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Service,
        Role::Library,
        Role::Tool,
        Role::Test,
        Role::Example,
        Role::Generated,
        Role::Fragment,
        Role::Unused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Service => "service",
            Role::Library => "library",
            Role::Tool => "tool",
            Role::Test => "test",
            Role::Example => "example",
            Role::Generated => "generated",
            Role::Fragment => "fragment",
            Role::Unused => "unused",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Code a deployed service runs.
    pub fn is_production(self) -> bool {
        matches!(self, Role::Service | Role::Library)
    }
}

/// A file's role and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRole {
    pub role: Role,
    pub evidence: String,
}

impl FileRole {
    fn new(role: Role, evidence: impl Into<String>) -> FileRole {
        FileRole {
            role,
            evidence: evidence.into(),
        }
    }
}

/// Words that make a package, a feature or a module test-only when they are one of its
/// `-`/`_`-separated words: the one list of them (`is_test_word`).
const TEST_WORDS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "testsuite",
    "testutil",
    "testutils",
    "testkit",
    "e2e",
    "mock",
    "mocked",
    "mocks",
    "mocking",
    "bench",
    "benches",
    "benchmark",
    "benchmarks",
    "fuzz",
    "fuzzing",
    "fake",
    "fakes",
];

/// Whether a package, feature or module name marks test code: one of its words is in
/// [`TEST_WORDS`] (`testsuite`, `test-util`, `integration-tests`, `mock-provider`), or it is a
/// `test_util`-style compound.
pub fn is_test_word(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split(['-', '_']).collect();
    words.iter().any(|w| TEST_WORDS.contains(w))
        || matches!(
            words.as_slice(),
            ["test", "util" | "utils" | "helpers" | "support", ..]
        )
}

/// Text in a `main` that starts a server (for a binary that is not the package's main one).
const SERVES: &[&str] = &[
    "serve(",
    "::bind(",
    ".bind(",
    "HttpServer::new",
    "Server::builder",
    "Server::new",
    ".launch()",
    ".listen(",
];

/// Whether code's text starts a server (one of [`SERVES`]).
fn starts_server(text: &str) -> bool {
    SERVES.iter().any(|s| text.contains(s))
}

/// Directory names that hold examples (`examples/`, `samples/`); test directories are those
/// [`is_test_word`] accepts plus these fixture names.
const EXAMPLE_DIRS: &[&str] = &["example", "examples", "sample", "samples"];
const FIXTURE_DIRS: &[&str] = &["testdata", "test-data", "test_data", "fixture", "fixtures"];
/// Developer tools and development-container configuration: what runs there is a developer's
/// shell or a one-off program, not the service. (CI directories are not among them: release
/// images are often built from a Dockerfile kept under `.github/`.)
const TOOL_DIRS: &[&str] = &["tools", "tooling", ".devcontainer"];

/// The role a directory name gives the files under it, if any.
fn directory_role(name: &str) -> Option<Role> {
    if EXAMPLE_DIRS.contains(&name) {
        Some(Role::Example)
    } else if TOOL_DIRS.contains(&name) {
        Some(Role::Tool)
    } else if is_test_word(name) || FIXTURE_DIRS.contains(&name) {
        Some(Role::Test)
    } else {
        None
    }
}

/// The roles of a run's files; built once, asked per file from the worker threads.
pub struct Surface<'p> {
    packages: &'p PackageCache,
    /// The paths the run was given (absolute): directories above them say nothing about a file.
    roots: Vec<PathBuf>,
    /// Package roots of libraries that only tests use, with the evidence.
    test_support: HashMap<PathBuf, String>,
    /// Binary names a Dockerfile of the run builds or copies (`--bin x`, `release/x`).
    deployed_bins: HashSet<String>,
    /// Whether a binary's root file starts a server, by root file.
    serving: Mutex<HashMap<PathBuf, bool>>,
    /// The run's Rust files (absolute, sorted) and its Dockerfiles, manifests and scripts.
    rust_files: Vec<PathBuf>,
    config_files: Vec<(PathBuf, FileKind)>,
    /// Words of the commands the repository deploys (read when first needed).
    deployed_words: OnceLock<HashSet<String>>,
    /// What only one-shot subcommands of a serving binary run, by the binary's root file.
    tool_code: Mutex<HashMap<PathBuf, Arc<subcommands::ToolCode>>>,
    /// Files a `kustomization.yaml` of the run lists as patches (absolute), with the
    /// kustomizations that list them.
    kustomize_patches: HashMap<PathBuf, Vec<PathBuf>>,
    /// The words of a Rust file that may name its modules (see [`declared_modules`]), by file;
    /// `None` when it cannot be read or may declare modules in ways not read here.
    declared_modules: Mutex<HashMap<PathBuf, Option<Arc<HashSet<String>>>>>,
}

impl<'p> Surface<'p> {
    /// `files` are the run's inputs: the packages of its Rust files are loaded here, its
    /// Dockerfiles read for the binaries they build.
    pub fn build<'a>(
        packages: &'p PackageCache,
        roots: &[PathBuf],
        files: impl Iterator<Item = (&'a Path, FileKind)>,
    ) -> Surface<'p> {
        let mut rust_files = Vec::new();
        let mut config_files = Vec::new();
        for (file, kind) in files {
            if kind == FileKind::Rust {
                packages.package_of(file);
                rust_files.push(absolute(file));
            } else {
                config_files.push((file.to_path_buf(), kind));
            }
        }
        rust_files.sort();
        let all = packages.all();
        let mut deployed_bins = HashSet::new();
        for (file, _) in config_files
            .iter()
            .filter(|(_, k)| *k == FileKind::Dockerfile)
        {
            if let Ok(text) = std::fs::read_to_string(file) {
                deployed_bins.extend(built_binaries(&text));
            }
        }
        let mut kustomize_patches: HashMap<PathBuf, Vec<PathBuf>> = HashMap::new();
        let kustomizations = (config_files.iter()).filter(|(f, _)| kustomize::is_kustomization(f));
        for (file, _) in kustomizations {
            if let Ok(text) = std::fs::read_to_string(file) {
                let dir = file.parent().unwrap_or(Path::new(""));
                for patch in kustomize::patch_refs(&text) {
                    let listed = kustomize_patches.entry(absolute(&dir.join(patch.path)));
                    listed.or_default().push(file.clone());
                }
            }
        }
        Surface {
            packages,
            roots: roots.iter().map(|r| absolute(r)).collect(),
            test_support: test_support(&all, &deployed_bins),
            deployed_bins,
            kustomize_patches,
            declared_modules: Mutex::default(),
            serving: Mutex::default(),
            rust_files,
            config_files,
            deployed_words: OnceLock::new(),
            tool_code: Mutex::default(),
        }
    }

    /// The role of a Dockerfile, manifest, workflow or script: *test* or *example* under a
    /// directory named so (`test/`, `e2e/`, `testdata/`, `fixtures/`, `fake/`, `examples/`,
    /// `samples/`), *tool* under `tools/` or dev-container configuration (`.devcontainer/`),
    /// below the path the run was given, or when the file's own name says so
    /// (`Dockerfile.test`, `e2e.yaml`, `compose.example.yaml`, `Dockerfile.dev`); *service*
    /// (deployed configuration) otherwise.
    pub fn role_of_config(&self, file: &Path) -> FileRole {
        if let Some(kustomization) = self.kustomizations_patching(file).first() {
            return FileRole::new(
                Role::Fragment,
                format!(
                    "a patch `{}` lists: judged merged into what it patches, not alone",
                    kustomization.display()
                ),
            );
        }
        self.role_of_config_apart_from_patches(file)
    }

    /// The role of a configuration file by its directories and name alone: a kustomize patch's
    /// merged result is judged in the role its file has.
    pub fn role_of_config_apart_from_patches(&self, file: &Path) -> FileRole {
        self.directory_role_of(file)
            .or_else(|| file_name_role(file))
            .unwrap_or_else(|| FileRole::new(Role::Service, "configuration a deployment reads"))
    }

    /// The kustomizations of the run that list `file` as a patch.
    pub fn kustomizations_patching(&self, file: &Path) -> &[PathBuf] {
        self.kustomize_patches
            .get(&absolute(file))
            .map_or(&[], Vec::as_slice)
    }

    /// The role the directories between the run's path and `file` give it, if any.
    fn directory_role_of(&self, file: &Path) -> Option<FileRole> {
        let abs = absolute(file);
        let root = self
            .roots
            .iter()
            .filter(|r| abs.starts_with(r))
            .max_by_key(|r| r.as_os_str().len());
        let below = root.map_or(file, |r| abs.strip_prefix(r).unwrap_or(&abs));
        let dirs = below.parent().into_iter().flat_map(Path::components);
        for dir in dirs {
            let Some(name) = dir.as_os_str().to_str() else {
                continue;
            };
            if let Some(role) = directory_role(&name.to_ascii_lowercase()) {
                return Some(FileRole::new(role, format!("under a `{name}/` directory")));
            }
        }
        None
    }

    /// The role of a Rust file of the run (its package as [`PackageCache::package_of`] finds
    /// it). Generated files are told apart only once read ([`generated_header`]).
    pub fn role_of(&self, file: &Path, package: Option<&Package>) -> FileRole {
        let role = self.role_by_target(file, package);
        match package {
            Some(pkg) if role.role.is_production() => {
                let abs = absolute(file);
                if let Some(unused) = self.undeclared(pkg, &abs) {
                    return unused;
                }
                self.subcommand_module(pkg, &abs).unwrap_or(role)
            }
            _ => role,
        }
    }

    /// A file under the package's `src/` that is not a crate root and that no module it could
    /// belong to names: its name is not a word of `mod.rs`, `lib.rs`, `main.rs` beside it,
    /// `<dir>.rs` above it, or the roots one level up (a module declared inline there). Any of
    /// those that may declare modules another way (`#[path]`, `include!`) keeps the file in.
    /// Where none of those files exists, the directory is the module to find: `client/tests/x.rs`
    /// is compiled only if something declares `tests` in `client`.
    fn undeclared(&self, pkg: &Package, file: &Path) -> Option<FileRole> {
        let src = crate::engine::normalized(&pkg.root.join("src"));
        let rel = file.strip_prefix(&src).ok()?;
        let stem = file.file_stem()?.to_str()?;
        let is_root = pkg.targets.iter().any(|t| t.root == file)
            || pkg.target_paths.iter().any(|t| t == file);
        if matches!(stem, "lib" | "main")
            || (rel.starts_with("bin") && rel.components().count() == 2)
            || is_root
        {
            return None;
        }
        let mut module = file.to_path_buf();
        loop {
            let (name, owners) = self.module_declared(&module)?;
            match owners {
                Declared::Yes => return None,
                Declared::NotNamed => {
                    let why = if module == file {
                        format!("no module declares it (`{name}` is named in none of the files it could belong to): Cargo never compiles it")
                    } else {
                        format!("no module declares its directory (`{name}` is named in none of the files that could declare it): Cargo never compiles it")
                    };
                    return Some(FileRole::new(Role::Unused, why));
                }
                Declared::NoOwner => {
                    // The directory is a module only if its own parent declares it.
                    let dir = module.parent()?;
                    if dir == src
                        || !dir.starts_with(&src)
                        || pkg
                            .target_paths
                            .iter()
                            .any(|t| t.starts_with(dir) && t != file)
                    {
                        return None;
                    }
                    module = dir.with_extension("rs");
                    if module.is_file() {
                        return None;
                    }
                }
            }
        }
    }

    /// Whether a module file (which need not exist: a directory's `<dir>.rs`) is declared by a
    /// file that could own it.
    fn module_declared(&self, file: &Path) -> Option<(String, Declared)> {
        let (name, mut owners) = crate::project::module_owners(file)?;
        // A module declared inline one level up (`mod sink { mod kafka; }` in `lib.rs`).
        if let Some(up) = owners.last().and_then(|o| o.parent()) {
            let up = up.to_path_buf();
            owners.extend(["mod.rs", "lib.rs", "main.rs"].map(|r| up.join(r)));
        }
        let mut any_owner = false;
        for owner in owners.iter().filter(|o| o.is_file() && o.as_path() != file) {
            any_owner = true;
            match self.modules_declared_by(owner) {
                None => return Some((name.to_string(), Declared::Yes)),
                Some(m) if m.contains(name) => return Some((name.to_string(), Declared::Yes)),
                Some(_) => {}
            }
        }
        let found = if any_owner {
            Declared::NotNamed
        } else {
            Declared::NoOwner
        };
        Some((name.to_string(), found))
    }

    fn modules_declared_by(&self, owner: &Path) -> Option<Arc<HashSet<String>>> {
        if let Some(known) = crate::project::lock(&self.declared_modules).get(owner) {
            return known.clone();
        }
        let found = std::fs::read_to_string(owner)
            .ok()
            .and_then(|text| declared_modules(&text))
            .map(Arc::new);
        crate::project::lock(&self.declared_modules).insert(owner.to_path_buf(), found.clone());
        found
    }

    /// Byte ranges of a serving binary's root file that only one-shot subcommands run, with
    /// why; empty for other files.
    pub fn tool_spans(
        &self,
        file: &Path,
        package: Option<&Package>,
    ) -> Vec<(Range<usize>, String)> {
        let abs = absolute(file);
        let Some(pkg) = package else {
            return Vec::new();
        };
        // Two `[[bin]]`s may share a root file; it is analysed once.
        (pkg.targets.iter())
            .find(|t| t.kind == TargetKind::Bin && t.root == abs)
            .and_then(|t| self.subcommand_code(pkg, t))
            .map(|code| code.spans.clone())
            .unwrap_or_default()
    }

    /// The tool role of a module only one-shot subcommands of a serving binary use.
    fn subcommand_module(&self, pkg: &Package, file: &Path) -> Option<FileRole> {
        pkg.targets
            .iter()
            .filter(|t| t.kind == TargetKind::Bin)
            .filter_map(|t| self.subcommand_code(pkg, t))
            .find_map(|code| {
                code.modules
                    .iter()
                    .find(|(m, _)| file == m || (m.extension().is_none() && file.starts_with(m)))
                    .map(|(_, why)| FileRole::new(Role::Tool, why.clone()))
            })
    }

    /// What only one-shot subcommands of `bin` run, when it is a serving binary that parses a
    /// command line (computed once per binary).
    fn subcommand_code(
        &self,
        pkg: &Package,
        bin: &crate::project::Target,
    ) -> Option<Arc<subcommands::ToolCode>> {
        const CLI_CRATES: &[&str] = &["clap", "structopt", "argh"];
        if !CLI_CRATES.iter().any(|c| pkg.depends_on(c)) {
            return None;
        }
        let mut memo = crate::project::lock(&self.tool_code);
        if let Some(code) = memo.get(&bin.root) {
            return Some(Arc::clone(code));
        }
        let code = if self.binary_role(pkg, bin).role == Role::Service {
            let text = std::fs::read_to_string(&bin.root).unwrap_or_default();
            let deployed = |command: &str| self.deployed_words(pkg).contains(command);
            let files_under = |dir: &Path| {
                let start = self.rust_files.partition_point(|f| f.as_path() < dir);
                self.rust_files[start..]
                    .iter()
                    .take_while(|f| f.starts_with(dir))
                    .cloned()
                    .collect()
            };
            let read = |f: &Path| std::fs::read_to_string(f).ok();
            let cx = subcommands::Context {
                binary: &bin.name,
                deployed: &deployed,
                files_under: &files_under,
                read: &read,
            };
            let code = subcommands::analyse(&bin.root, &text, &cx);
            // Spans live in a per-thread table; none of these is used again.
            proc_macro2::extra::invalidate_current_thread_spans();
            code
        } else {
            subcommands::ToolCode::default()
        };
        let code = Arc::new(code);
        memo.insert(bin.root.clone(), Arc::clone(&code));
        Some(code)
    }

    /// The words (normalized as subcommand names) of what the repository runs: Dockerfile
    /// `CMD`/`ENTRYPOINT` instructions, manifests, the scripts a Dockerfile names, and
    /// Procfiles beside the run's paths and packages. A `HEALTHCHECK` is not among them: Docker bounds it with its own
    /// timeout, and the check is a one-shot program.
    fn deployed_words(&self, pkg: &Package) -> &HashSet<String> {
        self.deployed_words.get_or_init(|| {
            let mut words = HashSet::new();
            let mut add = |text: &str| {
                for w in text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')) {
                    if !w.is_empty() {
                        words.insert(subcommands::normalize_command(w));
                    }
                }
            };
            let read = |kind: FileKind| {
                (self.config_files.iter())
                    .filter(move |(_, k)| *k == kind)
                    .filter_map(|(f, _)| Some((f, std::fs::read_to_string(f).ok()?)))
            };
            let dockerfiles: Vec<String> = read(FileKind::Dockerfile).map(|(_, t)| t).collect();
            for text in &dockerfiles {
                for command in run_instructions(text) {
                    add(&command);
                }
            }
            for (_, text) in read(FileKind::Kubernetes) {
                for command in yaml_commands(&text) {
                    add(command);
                }
            }
            // Scripts an image runs (a Dockerfile names them), not a developer's scripts.
            for (file, text) in read(FileKind::Script) {
                let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if !name.is_empty() && dockerfiles.iter().any(|d| d.contains(name)) {
                    add(&text);
                }
            }
            let all = self.packages.all();
            let procfile_dirs = (self.roots.iter().cloned())
                .chain(all.iter().map(|p| p.root.clone()))
                .chain(std::iter::once(pkg.root.clone()));
            for dir in procfile_dirs {
                if let Ok(text) = std::fs::read_to_string(dir.join("Procfile")) {
                    add(&text);
                }
            }
            words
        })
    }

    /// The role the package's targets give a Rust file.
    fn role_by_target(&self, file: &Path, package: Option<&Package>) -> FileRole {
        let abs = absolute(file);
        if crate::project::declared_test_only(&abs, &|owner| self.packages.test_modules(owner)) {
            return FileRole::new(
                Role::Test,
                "its parent module declares it test-only (`#[cfg(test)] mod …;`), or it is a test-support file",
            );
        }
        let Some(pkg) = package else {
            // No Cargo package compiles it: a directory below the run's path named for tests
            // (`e2e_test/`, `testdata/`) or examples says what it is.
            if let Some(role) = self.directory_role_of(&abs) {
                return FileRole::new(
                    role.role,
                    format!("outside any Cargo package, {}", role.evidence),
                );
            }
            // Only a package inside the run's path speaks for it (a fixture checked on its own
            // is not part of the repository around it).
            let inside_run = |pkg: &Package| self.roots.iter().any(|r| pkg.root.starts_with(r));
            if let Some(unused) = (self.packages.enclosing_package(&abs))
                .filter(|pkg| inside_run(pkg))
                .and_then(|pkg| outside_every_target(&pkg, &abs))
            {
                return unused;
            }
            return outside_packages(&abs);
        };
        if pkg.fuzz {
            return FileRole::new(
                Role::Test,
                format!("package `{}` is a cargo-fuzz package", pkg.name),
            );
        }
        if is_test_word(&pkg.name) {
            return FileRole::new(
                Role::Test,
                format!("package `{}` is named as test code", pkg.name),
            );
        }
        if pkg.name.starts_with("cargo-") || pkg.name == "xtask" || pkg.name.ends_with("-xtask") {
            return FileRole::new(
                Role::Tool,
                format!("package `{}` is a cargo subcommand or xtask", pkg.name),
            );
        }
        if let Some(why) = self.test_support.get(&pkg.root) {
            return FileRole::new(Role::Test, why.clone());
        }
        // A whole package kept under `examples/` or `tests/` (an example service, a test server).
        if let Some(role) = self.directory_role_of(&pkg.root.join("Cargo.toml")) {
            return FileRole::new(
                role.role,
                format!("package `{}` {}", pkg.name, role.evidence),
            );
        }
        let Ok(rel) = abs.strip_prefix(&pkg.root) else {
            return FileRole::new(Role::Library, format!("in package `{}`", pkg.name));
        };
        match rel.components().next().and_then(|c| c.as_os_str().to_str()) {
            Some("tests") => return FileRole::new(Role::Test, "under the package's `tests/`"),
            Some("benches") => return FileRole::new(Role::Test, "under the package's `benches/`"),
            Some("examples") => {
                return FileRole::new(Role::Example, "under the package's `examples/`")
            }
            Some("build.rs") => return FileRole::new(Role::Tool, "the package's build script"),
            _ => {}
        }
        // The target whose root claims the file most closely.
        let claimed = pkg
            .targets
            .iter()
            .filter_map(|t| claim_depth(&pkg.root, &t.root, &abs).map(|d| (d, t)))
            .max_by_key(|(d, _)| *d);
        let Some((_, target)) = claimed else {
            return FileRole::new(
                Role::Library,
                format!("library code of package `{}`", pkg.name),
            );
        };
        match target.kind {
            TargetKind::Test => FileRole::new(Role::Test, format!("test target `{}`", target.name)),
            TargetKind::Bench => {
                FileRole::new(Role::Test, format!("bench target `{}`", target.name))
            }
            TargetKind::Example => {
                FileRole::new(Role::Example, format!("example target `{}`", target.name))
            }
            TargetKind::Bin => self.binary_role(pkg, target),
        }
    }

    fn binary_role(&self, pkg: &Package, bin: &crate::project::Target) -> FileRole {
        let name = &bin.name;
        let extra: Vec<&str> = bin
            .required_features
            .iter()
            .filter(|f| !pkg.default_features.contains(f))
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            return FileRole::new(
                Role::Tool,
                format!(
                    "binary `{name}` needs feature(s) `{}`, not on by default (`required-features`)",
                    extra.join("`, `")
                ),
            );
        }
        let main = pkg.root.join("src").join("main.rs");
        if *name == pkg.name || crate::engine::normalized(&main) == bin.root {
            return FileRole::new(
                Role::Service,
                format!("package `{}`'s main binary", pkg.name),
            );
        }
        if self.deployed_bins.contains(name) {
            return FileRole::new(
                Role::Service,
                format!("binary `{name}`, built by a Dockerfile"),
            );
        }
        if is_test_word(name) {
            return FileRole::new(Role::Test, format!("binary `{name}` is named as test code"));
        }
        if self.serves(&bin.root) {
            return FileRole::new(Role::Service, format!("binary `{name}` starts a server"));
        }
        if pkg
            .targets
            .iter()
            .filter(|t| t.kind == TargetKind::Bin)
            .count()
            == 1
        {
            return FileRole::new(
                Role::Service,
                format!("package `{}`'s only binary", pkg.name),
            );
        }
        FileRole::new(
            Role::Tool,
            format!("binary `{name}`: a second binary of `{}` that no Dockerfile builds and whose main starts no server", pkg.name),
        )
    }

    fn serves(&self, root: &Path) -> bool {
        if let Some(&known) = crate::project::lock(&self.serving).get(root) {
            return known;
        }
        let serves = std::fs::read_to_string(root)
            .map(|text| starts_server(&text))
            .unwrap_or(false);
        crate::project::lock(&self.serving).insert(root.to_path_buf(), serves);
        serves
    }
}

fn absolute(path: &Path) -> PathBuf {
    crate::engine::normalized(&std::path::absolute(path).unwrap_or_else(|_| path.into()))
}

/// A file outside any Cargo package: test code by a `tests`/`benches`/`examples` directory or
/// a `build.rs` name, library code otherwise.
fn outside_packages(file: &Path) -> FileRole {
    let dirs = file.parent().into_iter().flat_map(Path::components);
    for c in dirs {
        match c.as_os_str().to_str() {
            Some("tests" | "benches") => {
                return FileRole::new(Role::Test, "in a `tests`/`benches` directory")
            }
            Some("examples") => return FileRole::new(Role::Example, "in an `examples` directory"),
            _ => {}
        }
    }
    if file.file_name().and_then(|n| n.to_str()) == Some("build.rs") {
        return FileRole::new(Role::Tool, "a build script");
    }
    FileRole::new(Role::Library, "outside any Cargo package")
}

/// How closely a target with root file `root` claims `file`: the length of the claimed path, or
/// `None`. A root claims itself, the directory named after it (`src/bin/admin.rs` →
/// `src/bin/admin/`), and — unless it sits in the package root, `src/` or `src/bin/`, which
/// several targets share — its own directory (`[[test]] path = "src/tests/all.rs"` → `src/tests/`).
fn claim_depth(package_root: &Path, root: &Path, file: &Path) -> Option<usize> {
    let len = |p: &Path| p.as_os_str().len();
    if file == root {
        return Some(len(root) + 1);
    }
    let named_dir = root.with_extension("");
    if file.starts_with(&named_dir) {
        return Some(len(&named_dir));
    }
    let dir = root.parent()?;
    let shared = [
        package_root.to_path_buf(),
        package_root.join("src"),
        package_root.join("src").join("bin"),
    ];
    let shared = shared.iter().any(|s| crate::engine::normalized(s) == dir);
    (!shared && file.starts_with(dir)).then(|| len(dir))
}

/// Libraries only tests use: a package with no binary that some package uses as a
/// dev-dependency or that test packages use, and that no other package depends on; and a
/// package nothing depends on whose every binary is named as test code (a mock server) and built
/// by no Dockerfile.
fn test_support(all: &[Arc<Package>], deployed_bins: &HashSet<String>) -> HashMap<PathBuf, String> {
    let name = |p: &Package| crate::project::normalize_crate(&p.name);
    let mut users: HashMap<String, Vec<&Package>> = HashMap::new();
    let mut dev_users: HashMap<String, Vec<&Package>> = HashMap::new();
    for p in all {
        for d in p.deps.values() {
            users.entry(d.package.clone()).or_default().push(p);
        }
        for d in &p.dev_deps {
            dev_users.entry(d.clone()).or_default().push(p);
        }
    }
    let mut test: HashSet<String> = all
        .iter()
        .filter(|p| is_test_word(&p.name) || p.fuzz)
        .map(|p| name(p))
        .collect();
    let mut out = HashMap::new();
    for p in all {
        let bins: Vec<&str> = (p.targets.iter())
            .filter(|t| t.kind == TargetKind::Bin)
            .map(|t| t.name.as_str())
            .collect();
        let mock_bins = !bins.is_empty()
            && bins
                .iter()
                .all(|b| is_test_word(b) && !deployed_bins.contains(*b));
        if mock_bins && !users.contains_key(&name(p)) && !test.contains(&name(p)) {
            out.insert(
                p.root.clone(),
                format!(
                    "package `{}`: nothing depends on it and its binaries (`{}`) are named as test code",
                    p.name,
                    bins.join("`, `")
                ),
            );
            test.insert(name(p));
        }
    }
    // To a fixed point: support code of support code is support code too.
    loop {
        let mut grew = false;
        for p in all {
            let n = name(p);
            let has_bin = p.targets.iter().any(|t| t.kind == TargetKind::Bin);
            if test.contains(&n) || has_bin {
                continue;
            }
            let normal = users.get(&n).map_or(&[][..], Vec::as_slice);
            let dev = dev_users.get(&n).map_or(&[][..], Vec::as_slice);
            let testers: Vec<&str> = normal
                .iter()
                .filter(|u| test.contains(&name(u)))
                .map(|u| u.name.as_str())
                .collect();
            if (!dev.is_empty() || !testers.is_empty()) && testers.len() == normal.len() {
                let by: Vec<&str> = dev
                    .iter()
                    .map(|u| u.name.as_str())
                    .chain(testers)
                    .take(3)
                    .collect();
                out.insert(
                    p.root.clone(),
                    format!(
                        "package `{}` is used only by tests (a dev-dependency of, or used by test package, `{}`)",
                        p.name,
                        by.join("`, `")
                    ),
                );
                test.insert(n);
                grew = true;
            }
        }
        if !grew {
            return out;
        }
    }
}

/// The words of a file that may name one of its modules: every identifier in it, since a module
/// may be declared by `mod name;`, `mod name {` or a macro given the name
/// (`feature_gated_mod!(name, "feature")`) — a file whose name appears nowhere in its owner is not
/// declared there. `None` when the file may declare modules another way: a `#[path` attribute or
/// `include!`.
fn declared_modules(text: &str) -> Option<HashSet<String>> {
    if text.contains("#[path") || text.contains("include!") {
        return None;
    }
    // Comments name things without declaring them (`/// storage, timeout, permissions`).
    let code = text.lines().map(|l| l.split("//").next().unwrap_or(""));
    Some(
        code.flat_map(|l| l.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// A Rust file of a package outside `src/` and outside the directory of every target root
/// (`[lib] path`, `[[bin]] path`, test and example roots): Cargo never compiles it — a syntax
/// test of a highlighter kept among assets, a snippet for the docs.
fn outside_every_target(pkg: &Package, file: &Path) -> Option<FileRole> {
    let claimed = (pkg.targets.iter().map(|t| t.root.as_path()))
        .chain(pkg.target_paths.iter().map(PathBuf::as_path))
        .filter_map(Path::parent)
        .any(|dir| file.starts_with(dir));
    let rel = file.strip_prefix(&pkg.root).ok()?;
    let standard = matches!(
        rel.components().next().and_then(|c| c.as_os_str().to_str()),
        Some("src" | "tests" | "benches" | "examples" | "build.rs")
    );
    (!claimed && !standard).then(|| {
        FileRole::new(
            Role::Unused,
            format!(
                "outside `src/` and every target's directory of package `{}`: Cargo never compiles it",
                pkg.name
            ),
        )
    })
}

/// Words of an image or Compose file's name that make it a developer's environment.
const DEV_WORDS: &[&str] = &["dev", "devcontainer", "development", "local"];
/// Words of a file name that make it an example.
const EXAMPLE_WORDS: &[&str] = &["example", "examples", "sample", "samples", "quickstart"];

/// The role a configuration file's own name gives it: a test word (`Dockerfile.e2e`,
/// `test-deployment.yaml`), an example word (`compose.example.yaml`), or — for Dockerfiles and
/// Compose files only — a development word (`Dockerfile.dev`, `docker-compose.local.yml`). A
/// manifest named `dev` is a development *cluster*'s deployment, and is not a tool.
fn file_name_role(file: &Path) -> Option<FileRole> {
    // A workflow named `test.yml` is the CI pipeline itself, not test data.
    let in_workflows = file
        .parent()
        .is_some_and(|d| d.ends_with(Path::new(".github").join("workflows")));
    if in_workflows {
        return None;
    }
    let name = file.file_name()?.to_str()?.to_ascii_lowercase();
    let words: Vec<&str> = name
        .split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .collect();
    let said =
        |role: Role, word: &str| Some(FileRole::new(role, format!("its name says `{word}`")));
    if let Some(w) = words
        .iter()
        .find(|w| is_test_word(w) || FIXTURE_DIRS.contains(w))
    {
        return said(Role::Test, w);
    }
    if let Some(w) = words.iter().find(|w| EXAMPLE_WORDS.contains(w)) {
        return said(Role::Example, w);
    }
    let image_or_compose = words
        .iter()
        .any(|w| matches!(*w, "dockerfile" | "containerfile" | "compose"));
    if image_or_compose {
        if let Some(w) = words.iter().find(|w| DEV_WORDS.contains(w)) {
            return said(Role::Tool, w);
        }
    }
    None
}

/// The `CMD` and `ENTRYPOINT` instructions of a Dockerfile, as the Dockerfile front end reads
/// them (continuation lines joined, comments left out; a `HEALTHCHECK … CMD` is a `HEALTHCHECK`).
fn run_instructions(text: &str) -> Vec<String> {
    crate::lang::dockerfile::parse(text)
        .instructions
        .into_iter()
        .filter(|i| matches!(i.keyword.as_str(), "CMD" | "ENTRYPOINT"))
        .map(|i| {
            format!(
                "{} {}",
                i.keyword,
                i.args.text.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect()
}

/// The values of `command:`, `args:` and `entrypoint:` keys in YAML (Kubernetes containers,
/// Compose services), with the list items under them: what a deployment runs, not every word
/// of the file (`version:` is not the `version` subcommand).
fn yaml_commands(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut under: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim_start().trim_start_matches("- ");
        if let Some(key_indent) = under {
            let item = line.trim_start().starts_with('-');
            if (item && indent >= key_indent) || indent > key_indent {
                out.push(line);
                continue;
            }
            under = None;
        }
        let Some((key, value)) = trimmed.split_once(':') else {
            continue;
        };
        if matches!(key.trim(), "command" | "args" | "entrypoint") {
            out.push(value);
            under = Some(indent);
        }
    }
    out
}

/// Binary names a Dockerfile builds or copies: `cargo build --bin x` / `--bin=x`, and the last
/// segment of a `target/…/release/x` or `debug/x` path.
fn built_binaries(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_'))
            .collect()
    };
    for (i, _) in text.match_indices("--bin") {
        let rest = &text[i + "--bin".len()..];
        // `--bin x` or `--bin=x`, not `--binary`.
        let Some(rest) = rest.strip_prefix([' ', '\t', '=']) else {
            continue;
        };
        let name = word(rest.trim_start());
        if !name.is_empty() {
            out.push(name);
        }
    }
    for marker in ["/release/", "/debug/"] {
        for (i, _) in text.match_indices(marker) {
            let name = word(&text[i + marker.len()..]);
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Whether a file's first lines say a generator wrote it: `@generated` (prost-build,
/// tonic-build, Cargo's convention), or "Code generated … DO NOT EDIT" (the Go convention
/// others follow), or "automatically generated" / "auto-generated" with "do not edit".
pub fn generated_header(text: &str) -> bool {
    let head: String = text
        .lines()
        .take(12)
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("//") || l.starts_with("/*") || l.starts_with('*') || l.starts_with("#!")
        })
        .collect::<Vec<_>>()
        .join("\n")
        .to_ascii_lowercase();
    head.contains("@generated")
        || (head.contains("do not edit")
            && (head.contains("code generated")
                || head.contains("automatically generated")
                || head.contains("auto-generated")
                || head.contains("autogenerated")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_words_are_whole_words() {
        for name in [
            "testsuite",
            "test-util",
            "integration-tests",
            "mock_provider",
            "e2e_test",
            "linkerd-policy-test",
            "arroyo-sql-testing",
        ] {
            assert!(is_test_word(name), "{name}");
        }
        for name in [
            "attestation",
            "contest",
            "latest",
            "restate-server",
            "mockingbird",
        ] {
            assert!(!is_test_word(name), "{name}");
        }
    }

    #[test]
    fn generated_headers() {
        assert!(generated_header(
            "// This file is @generated by prost-build.\npub struct A {}"
        ));
        assert!(generated_header(
            "// Code generated by sqlc. DO NOT EDIT.\n"
        ));
        assert!(!generated_header(
            "//! Generated clients are wrapped here.\nfn f() {}"
        ));
        let late = format!("{}// @generated\n", "fn f() {}\n".repeat(20));
        assert!(!generated_header(&late));
    }

    #[test]
    fn commands_a_dockerfile_runs() {
        let text = "FROM x\nHEALTHCHECK --interval=30s \\\n  CMD [\"/app\", \"healthcheck\"]\nENTRYPOINT [\"/app\"]\n# CMD [\"old\"]\nCMD [\"serve\", \\\n  \"--port\", \"80\"]\n";
        assert_eq!(
            run_instructions(text),
            [
                "ENTRYPOINT [\"/app\"]",
                "CMD [\"serve\", \"--port\", \"80\"]"
            ]
        );
    }

    #[test]
    fn commands_a_manifest_runs() {
        let text = "version: '3'\nservices:\n  app:\n    command: [\"app\", \"serve\"]\n  worker:\n    args:\n    - work\n    - --fast\n    healthcheck:\n      test: [\"CMD\", \"app\", \"healthcheck\"]\n";
        let words: Vec<&str> = yaml_commands(text)
            .into_iter()
            .flat_map(|l| l.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| !w.is_empty())
            .collect();
        assert_eq!(words, ["app", "serve", "work", "fast"]);
    }

    #[test]
    fn rust_files_outside_any_package() {
        let packages = PackageCache::default();
        let surface = Surface::build(&packages, &[PathBuf::from("/r")], std::iter::empty());
        let role = |p: &str| surface.role_of(Path::new(p), None).role;
        assert_eq!(role("/r/e2e_test/pubsub/prepare-data.rs"), Role::Test);
        // Directories above the run's path say nothing.
        let above = Surface::build(
            &packages,
            &[PathBuf::from("/tmp/my-test-run/r")],
            std::iter::empty(),
        );
        let inside = above.role_of(Path::new("/tmp/my-test-run/r/src/x.rs"), None);
        assert_eq!(inside.role, Role::Library);
        assert_eq!(role("/r/tests/it.rs"), Role::Test);
        assert_eq!(role("/r/examples/demo.rs"), Role::Example);
        // A file's own name is not a directory.
        assert_eq!(role("/r/assets/syntax_test_rust.rs"), Role::Library);
        assert_eq!(role("/r/build.rs"), Role::Tool);
    }

    #[test]
    fn a_package_whose_binaries_are_mocks() {
        let dir =
            std::env::temp_dir().join(format!("prodlint-surface-mock-{}", std::process::id()));
        let write = |p: &str, t: &str| {
            let path = dir.join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
            std::fs::write(path, t).expect("write")
        };
        write(
            "Cargo.toml",
            "[workspace]\nmembers = [\"embedding\", \"api\"]\n",
        );
        // Nothing depends on `embedding`; its one binary is a mock server.
        write(
            "embedding/Cargo.toml",
            "[package]\nname = \"embedding\"\nversion = \"0.1.0\"\n[[bin]]\nname = \"mocked_service\"\npath = \"src/bin/mocked_service.rs\"\n",
        );
        write("embedding/src/lib.rs", "pub async fn serve() {}\n");
        write("embedding/src/bin/mocked_service.rs", "fn main() {}\n");
        write(
            "api/Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"0.1.0\"\n[[bin]]\nname = \"api\"\npath = \"src/main.rs\"\n[[bin]]\nname = \"fake-upstream\"\npath = \"src/bin/fake_upstream.rs\"\n",
        );
        write("api/src/main.rs", "fn main() {}\n");
        write(
            "api/src/bin/fake_upstream.rs",
            "fn main() { serve(addr) }\n",
        );
        let packages = PackageCache::default();
        // The engine reads every file's package before the surface is built.
        for p in ["embedding/src/lib.rs", "api/src/main.rs"] {
            packages.package_of(&crate::engine::normalized(&dir.join(p)));
        }
        let surface = Surface::build(&packages, std::slice::from_ref(&dir), std::iter::empty());
        let role = |p: &str| {
            let file = crate::engine::normalized(&dir.join(p));
            let pkg = packages.package_of(&file);
            surface.role_of(&file, pkg.as_deref()).role
        };
        assert_eq!(role("embedding/src/lib.rs"), Role::Test);
        assert_eq!(role("embedding/src/bin/mocked_service.rs"), Role::Test);
        // A test-named second binary beside a service: the service stays.
        assert_eq!(role("api/src/bin/fake_upstream.rs"), Role::Test);
        assert_eq!(role("api/src/main.rs"), Role::Service);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rust_files_no_module_declares() {
        let dir =
            std::env::temp_dir().join(format!("prodlint-surface-unused-{}", std::process::id()));
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("sink")).expect("dirs");
        std::fs::create_dir_all(dir.join("assets")).expect("dirs");
        std::fs::create_dir_all(src.join("client/tests")).expect("dirs");
        std::fs::create_dir_all(src.join("client/inline")).expect("dirs");
        let write = |p: &str, t: &str| std::fs::write(dir.join(p), t).expect("write");
        write(
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
        );
        write("src/lib.rs", "pub mod sink;\nmod used;\npub mod client;\n");
        write("src/used.rs", "");
        write("src/stale.rs", "fn broken(");
        write("src/sink/mod.rs", "gated_mod!(kafka, \"kafka\");\n");
        write("src/sink/kafka.rs", "");
        write("src/sink/old.rs", "");
        let packages = PackageCache::default();
        let surface = Surface::build(&packages, std::slice::from_ref(&dir), std::iter::empty());
        let role = |p: &str| {
            let file = crate::engine::normalized(&dir.join(p));
            let pkg = packages.package_of(&file);
            surface.role_of(&file, pkg.as_deref()).role
        };
        assert_eq!(role("src/stale.rs"), Role::Unused);
        assert_eq!(role("src/sink/old.rs"), Role::Unused);
        // A directory no module declares: `tests` is named nowhere in `client.rs` or `lib.rs`,
        // though the file's own name is.
        write("src/client.rs", "pub mod uiaa;\nmod inline { mod auth; }\n");
        write("src/client/uiaa.rs", "");
        write("src/client/tests/uiaa.rs", "fn broken(");
        write("src/client/inline/auth.rs", "");
        assert_eq!(role("src/client/tests/uiaa.rs"), Role::Unused);
        assert_eq!(role("src/client/inline/auth.rs"), Role::Library);
        assert_eq!(role("src/used.rs"), Role::Library);
        // Named by a macro: kept.
        assert_eq!(role("src/sink/kafka.rs"), Role::Library);
        assert_eq!(role("src/sink/mod.rs"), Role::Library);
        assert_eq!(role("src/lib.rs"), Role::Library);
        // Outside `src/` and every target: an asset, a docs snippet.
        write("assets/syntax_test.rs", "fn broken(");
        let asset = crate::engine::normalized(&dir.join("assets/syntax_test.rs"));
        let why = surface.role_of(&asset, packages.package_of(&asset).as_deref());
        assert_eq!(why.role, Role::Unused, "{}", why.evidence);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn binaries_a_dockerfile_builds() {
        let text = "RUN cargo build --release --bin api-server\nCOPY --from=b /app/target/x86_64-unknown-linux-musl/release/worker /usr/local/bin/\nRUN cargo build --bin=migrate --binary-thing";
        assert_eq!(built_binaries(text), ["api-server", "migrate", "worker"]);
    }

    #[test]
    fn configuration_under_test_and_example_directories() {
        let packages = PackageCache::default();
        let root = PathBuf::from("/repo");
        let surface = Surface::build(&packages, &[root], std::iter::empty());
        let role = |p: &str| surface.role_of_config(Path::new(p)).role;
        assert_eq!(role("/repo/deploy/app.yaml"), Role::Service);
        assert_eq!(role("/repo/test/integration/app.yaml"), Role::Test);
        assert_eq!(role("/repo/cli/cmd/testdata/install.yaml"), Role::Test);
        assert_eq!(role("/repo/e2e/Dockerfile"), Role::Test);
        assert_eq!(
            role("/repo/examples/quickstart/compose.yaml"),
            Role::Example
        );
        assert_eq!(role("/repo/contest/app.yaml"), Role::Service);
        assert_eq!(role("/repo/controller/fake/data/pod.yaml"), Role::Test);
        assert_eq!(role("/repo/.github/distroless.Dockerfile"), Role::Service);
        assert_eq!(role("/repo/.devcontainer/Dockerfile"), Role::Tool);
        assert_eq!(role("/repo/tools/load-test/Dockerfile"), Role::Tool);
        // The file's own name.
        assert_eq!(role("/repo/docker/Dockerfile.e2e"), Role::Test);
        assert_eq!(role("/repo/deploy/test-deployment.yaml"), Role::Test);
        assert_eq!(role("/repo/compose.example.yaml"), Role::Example);
        assert_eq!(role("/repo/Dockerfile.dev"), Role::Tool);
        assert_eq!(role("/repo/docker-compose.local.yml"), Role::Tool);
        assert_eq!(role("/repo/k8s/dev/api-dev.yaml"), Role::Service);
        assert_eq!(role("/repo/Dockerfile.latest"), Role::Service);
        assert_eq!(role("/repo/Dockerfile"), Role::Service);
        assert_eq!(
            role("/repo/.github/workflows/test-suite.yml"),
            Role::Service
        );
        // Directories above the path the run was given say nothing.
        let inside = Surface::build(
            &packages,
            &[PathBuf::from("/repo/fixtures/demo")],
            std::iter::empty(),
        );
        let role = inside.role_of_config(Path::new("/repo/fixtures/demo/deploy/app.yaml"));
        assert_eq!(role.role, Role::Service);
    }

    #[test]
    fn claims() {
        let pkg = Path::new("/p");
        let all = Path::new("/p/src/tests/all.rs");
        assert!(claim_depth(pkg, all, Path::new("/p/src/tests/krate/x.rs")).is_some());
        assert!(claim_depth(pkg, all, Path::new("/p/src/other.rs")).is_none());
        let admin = Path::new("/p/src/bin/admin.rs");
        assert!(claim_depth(pkg, admin, Path::new("/p/src/bin/admin/cmd.rs")).is_some());
        assert!(claim_depth(pkg, admin, Path::new("/p/src/bin/other.rs")).is_none());
        let main = Path::new("/p/src/main.rs");
        assert!(claim_depth(pkg, main, Path::new("/p/src/routes.rs")).is_none());
    }
}
