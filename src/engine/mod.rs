//! discover → per file in parallel (read, parse once, run that kind's checks, export facts) →
//! project checks on the facts → severities from config → suppressions → sorted report.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cache::{self, Cache, CachedFinding, FileKey};
use crate::config::Config;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::discover::{self, Input};
use crate::lang::shell::Located;
use crate::lang::{dockerfile, kubernetes, kustomize, rust, rust_scan, script, workflow};
use crate::project::{PackageCache, Project, RustFileFacts};
use crate::rules::{self, engine_rules, Check, Ctx, Finding, K8sCondition, RuleInfo};
use crate::source::{FileId, FileKind, SourceDb, SourceFile, Text};
use crate::suppress::{self, Scope, Suppressions};
use crate::surface::{self, FileRole, Role, Surface};

mod rust_file;
mod settle;

use rust_file::{
    keep_reported_suppressions, rust_place, without_reading, RustCheck, RustOutcome, RustPlace,
    Triggers,
};
use settle::{apply_k8s_conditions, drop_findings_remedied_elsewhere, prefer_cross_file_findings};

/// Name of the diagnostic for a rule that panicked; not a configurable rule.
pub const INTERNAL_ERROR: &str = "internal-error";

/// Standard input to check instead of (or besides) files.
pub struct StdinInput {
    /// Decides the kind and the path shown (`--stdin-filename`).
    pub name: String,
    pub text: String,
}

pub struct Options {
    pub paths: Vec<PathBuf>,
    pub stdin: Option<StdinInput>,
    pub config: Config,
    /// Worker threads; `None` uses every core.
    pub threads: Option<usize>,
    /// Report on these files only (changed files, or the files pre-commit passes).
    pub focus: Option<Focus>,
    /// Apply `[files] exclude` to files named explicitly, too.
    pub force_exclude: bool,
    pub cache: CacheSetting,
    /// Also describe the service map (`--explain-services`).
    pub explain_services: bool,
    /// Also describe each Rust file's role on the production surface (`--explain-surface`).
    pub explain_surface: bool,
    /// Parse every Rust function body, also those no enabled rule or fact needs
    /// (`--parse-every-body`; the fixture tests compare both ways).
    pub parse_every_body: bool,
}

/// Where per-file results are kept between runs (see [`crate::cache`]).
pub enum CacheSetting {
    Off,
    /// The user's cache directory.
    Default,
    Dir(PathBuf),
}

/// The files a run reports on, when that is not everything under its paths. The paths are still
/// walked for the files cross-file rules join a focused file with: the other Rust files of its
/// package, every Kubernetes file when a manifest is focused (services, disruption budgets and
/// autoscalers may live anywhere) together with the Dockerfiles and Rust code the service map
/// joins it with, and the scripts and manifests when a Dockerfile is focused (its entrypoint
/// script; whether anything deploys it). Nothing else is read.
pub struct Focus {
    pub files: Vec<PathBuf>,
}

/// An absolute path without `.` components, for comparing paths that were written differently.
pub fn normalized(path: &Path) -> PathBuf {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            // Lexically: `crates/a/../b` is `crates/b` (paths in manifests are written this way).
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Narrows the inputs to the focused files and the context they need; returns which inputs are
/// focused.
fn narrow_to_focus(
    inputs: &mut Vec<Input>,
    focus: &Focus,
    packages: &PackageCache,
    config: &Config,
    force_exclude: bool,
) -> Vec<bool> {
    let focused: std::collections::HashSet<PathBuf> =
        focus.files.iter().map(|f| normalized(f)).collect();
    // A focused file the walk skipped (excluded, ignored, under `target/`) is still checked when
    // it was named, unless --force-exclude says otherwise.
    let excluded = config.exclusion();
    let present: std::collections::HashSet<PathBuf> =
        inputs.iter().map(|i| normalized(&i.path)).collect();
    for file in &focus.files {
        let Some(kind) = discover::classify(file) else {
            continue;
        };
        if present.contains(&normalized(file))
            || !file.is_file()
            || (force_exclude && excluded(file, false))
        {
            continue;
        }
        inputs.push(Input {
            path: file.clone(),
            display: discover::display_path(file),
            kind,
        });
    }
    let package_root = |i: &Input| packages.package_of(&i.path).map(|p| p.root.clone());
    let is_focused: Vec<bool> = inputs
        .iter()
        .map(|i| focused.contains(&normalized(&i.path)))
        .collect();
    let focused_inputs = || {
        inputs
            .iter()
            .zip(&is_focused)
            .filter(|(_, f)| **f)
            .map(|(i, _)| i)
    };
    let rust_packages: std::collections::HashSet<PathBuf> = focused_inputs()
        .filter(|i| i.kind == FileKind::Rust)
        .filter_map(package_root)
        .collect();
    let manifests = focused_inputs().any(|i| i.kind == FileKind::Kubernetes);
    let dockerfiles = focused_inputs().any(|i| i.kind == FileKind::Dockerfile);
    let (kept, flags) = std::mem::take(inputs)
        .into_iter()
        .zip(is_focused)
        .filter(|(input, focused)| {
            *focused
                || match input.kind {
                    // A manifest is joined through the service map with the Dockerfiles and the
                    // code of its containers.
                    FileKind::Rust => {
                        manifests
                            || (!rust_packages.is_empty()
                                && package_root(input).is_some_and(|r| rust_packages.contains(&r)))
                    }
                    // A Dockerfile is joined with the manifests that deploy its image.
                    FileKind::Kubernetes => manifests || dockerfiles,
                    FileKind::Dockerfile => manifests,
                    // A Dockerfile's entrypoint script is joined with it.
                    FileKind::Script => dockerfiles,
                    FileKind::Workflow => false,
                }
        })
        .unzip();
    *inputs = kept;
    flags
}

pub struct Report {
    pub sources: SourceDb,
    pub diagnostics: Vec<Diagnostic>,
    pub files_checked: usize,
    pub suppressed: usize,
    /// Findings hidden because a baseline lists them.
    pub baselined: usize,
    /// With a focus, the paths (as shown) of the files reported on; `None` when every file is.
    pub focused_paths: Option<std::collections::HashSet<String>>,
    /// Files not read because they are over `[files] max-size`, as notes for the user.
    pub skipped: Vec<String>,
    /// Paths that could not be read; they make the run exit with code 2.
    pub io_errors: Vec<String>,
    pub elapsed: Duration,
    /// The service map (`--explain-services`) or the production surface (`--explain-surface`)
    /// as printed instead of findings, when asked for.
    pub explanation: Option<String>,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    pub fn has_internal_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.rule == INTERNAL_ERROR)
    }
}

type FileResult = Result<Option<Outcome>, String>;

/// Rendered Helm output names each document's template in a `# Source: chart/templates/x.yaml`
/// comment. Read from standard input (`helm template … | prodlint check -`), which has no file of
/// its own, a finding in such a document is shown under the template's path — with the line and
/// column of the rendered text, since the template's own lines are not known. A committed
/// rendered file is a file: its findings keep its path and line, and the message names the
/// template.
fn name_helm_templates(
    diagnostics: &mut [Diagnostic],
    sources: &mut SourceDb,
    stdin: Option<&Path>,
) {
    let mut regions: HashMap<FileId, Vec<(Range<usize>, String)>> = HashMap::new();
    let mut aliases: HashMap<(FileId, String), FileId> = HashMap::new();
    for d in diagnostics.iter_mut() {
        let file = d.primary.file;
        let Some(src) = sources.get(file) else {
            continue;
        };
        if src.kind != FileKind::Kubernetes {
            continue;
        }
        let text = src.shared_text();
        let list = regions.entry(file).or_insert_with(|| helm_sources(&text));
        let template = |at: usize| {
            list.iter()
                .find(|(r, _)| r.contains(&at))
                .map(|(_, t)| t.clone())
        };
        let Some(name) = template(d.primary.span.start) else {
            continue;
        };
        let from_stdin = stdin.is_some_and(|p| sources.get(file).is_some_and(|s| s.path == p));
        if !from_stdin {
            d.message = format!("{} (in the document rendered from `{name}`)", d.message);
            continue;
        }
        let alias = *aliases.entry((file, name.clone())).or_insert_with(|| {
            let alias = sources.get(file).map(|s| s.alias(name.clone()));
            alias.map_or(file, |a| sources.add(a))
        });
        d.primary.file = alias;
        for label in &mut d.related {
            if label.file == file && template(label.span.start).as_deref() == Some(name.as_str()) {
                label.file = alias;
            }
        }
    }
}

/// A chart's templates are skipped together: one `helm-template-skipped` notice per chart (the
/// nearest directory above with a `Chart.yaml`) instead of one per template, with every other
/// skipped template named as a related location, so nothing is skipped silently and a vendored
/// chart does not fill the report. Templates outside any chart keep a notice each.
fn one_skip_notice_per_chart(diagnostics: &mut Vec<Diagnostic>, sources: &SourceDb) {
    let rule = engine_rules::HELM_TEMPLATE_SKIPPED.name;
    let mut chart_of_dir: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut chart_of = |file: &Path| -> Option<PathBuf> {
        let dir = file.parent()?.to_path_buf();
        chart_of_dir
            .entry(dir)
            .or_insert_with(|| chart_root(file))
            .clone()
    };
    let mut groups: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, d) in diagnostics.iter().enumerate() {
        if d.rule != rule {
            continue;
        }
        let Some(chart) = sources.get(d.primary.file).and_then(|s| chart_of(&s.path)) else {
            continue;
        };
        groups.entry(chart).or_default().push(i);
    }
    let mut drop: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for (chart, mut members) in groups {
        if members.len() < 2 {
            continue;
        }
        let display = |i: usize| {
            sources
                .get(diagnostics[i].primary.file)
                .map(|s| s.display.clone())
                .unwrap_or_default()
        };
        members.sort_by_key(|&i| display(i));
        let first = members[0];
        // Jinja-templated charts (`*.j2.yaml`) are rendered before Helm sees them.
        let jinja = |i: &usize| diagnostics[*i].message.contains("Jinja");
        let syntax = match (members.iter().all(jinja), members.iter().any(jinja)) {
            (true, _) => "Jinja",
            (false, true) => "Helm and Jinja",
            (false, false) => "Helm",
        };
        let others: Vec<Label> = members[1..]
            .iter()
            .map(|&i| Label {
                message: Some(format!(
                    "{} template syntax here too: not checked",
                    if jinja(&i) { "Jinja" } else { "Helm" }
                )),
                ..diagnostics[i].primary.clone()
            })
            .collect();
        let name = chart
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("chart")
            .to_string();
        let d = &mut diagnostics[first];
        d.message = format!(
            "the {} templates of chart `{name}` contain {syntax} template syntax and were not checked",
            members.len()
        );
        d.help = Some(format!(
            "render the chart and check the output: `helm template {} | prodlint check - --stdin-filename rendered.yaml`",
            chart.display()
        ));
        d.related.extend(others);
        drop.extend(members[1..].iter().copied());
    }
    if !drop.is_empty() {
        let mut i = 0;
        diagnostics.retain(|_| {
            i += 1;
            !drop.contains(&(i - 1))
        });
    }
}

/// The regions of a text that follow a `# Source: <template>` comment, up to the next one.
fn helm_sources(text: &str) -> Vec<(Range<usize>, String)> {
    let mut marks = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(path) = line.trim().strip_prefix("# Source:") {
            let path = path.trim();
            if !path.is_empty() {
                marks.push((offset, path.to_string()));
            }
        }
        offset += line.len();
    }
    let mut out = Vec::new();
    for (i, (start, path)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(text.len(), |(next, _)| *next);
        out.push((*start..end, path.clone()));
    }
    out
}

/// What one file contributes.
struct Outcome {
    source: SourceFile,
    /// Rules enabled for this file, with their severity.
    levels: Vec<(&'static str, Severity)>,
    findings: Vec<Finding>,
    internal: Vec<(String, Range<usize>)>,
    suppressions: Suppressions,
    rust_facts: Option<RustOutcome>,
    k8s_facts: Option<kubernetes::K8sFacts>,
    image: Option<crate::lang::dockerfile_facts::ImageFacts>,
    script_end: Option<script::ScriptEnd>,
}

/// `f(index, item)` of every item, on `threads` worker threads with the large stack (syn and serde
/// recurse; a deep but accepted input stays safe), in the items' order. If a worker cannot be
/// started the others take its share; if none can, this thread does the work.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let work = || loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(item) = items.get(i) else { break };
        let r = f(i, item);
        done.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
    };
    let started = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, items.len().max(1)))
            .filter_map(|_| {
                std::thread::Builder::new()
                    .stack_size(WORKER_STACK)
                    .spawn_scoped(scope, || {
                        ON_WORKER.with(|w| w.set(true));
                        work()
                    })
                    .ok()
            })
            .collect();
        let started = !workers.is_empty();
        // Joined one by one, each worker has fully exited (its thread-local destructors have
        // run) when this returns; the scope alone only waits for the closures. A panic cannot
        // reach here: every check runs guarded.
        for worker in workers {
            let _ = worker.join();
        }
        started
    });
    if !started {
        work();
    }
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Stack size of the threads that parse Rust (syn recurses once per nesting level).
pub const WORKER_STACK: usize = 64 << 20;

thread_local! {
    /// Set on the worker threads of [`in_parallel`], whose stack is [`WORKER_STACK`].
    static ON_WORKER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is a worker with the large stack, where Rust can be parsed without
/// starting a thread for it.
pub fn on_worker_stack() -> bool {
    ON_WORKER.with(|w| w.get())
}

/// The whole check of one text, as `prodlint check - --stdin-filename NAME` runs it, with one
/// worker thread.
pub fn check_text(name: &str, text: &str, config: Config) -> Report {
    check(Options {
        paths: Vec::new(),
        stdin: Some(StdinInput {
            name: name.into(),
            text: text.into(),
        }),
        config,
        threads: Some(1),
        focus: None,
        force_exclude: false,
        cache: CacheSetting::Off,
        explain_services: false,
        explain_surface: false,
        parse_every_body: false,
    })
}

/// The whole run, as a pipeline: discover → production surface → per file, in parallel: read,
/// parse, check, export facts (`FileStage`, the Rust part in `rust_file`) → project facts
/// (`gather`) → cross-file checks (`run_project_checks`) → settle conditions (`settle`) →
/// severities → suppressions → report.
pub fn check(options: Options) -> Report {
    let start = Instant::now();
    let config = &options.config;
    // Opened first: its pack is read while the tree is walked.
    let cache = match options.cache {
        // Entries are not keyed by it: a diagnostic run does not share them.
        _ if options.parse_every_body => None,
        CacheSetting::Off => None,
        CacheSetting::Default => Cache::open(None, &config.options_text()),
        CacheSetting::Dir(dir) => Cache::open(Some(dir), &config.options_text()),
    };
    // Discover the files (and the build descriptions the service map reads).
    let discover::Discovered {
        mut inputs,
        errors: mut io_errors,
        build_files,
    } = discover::discover(&options.paths, config, options.force_exclude);
    let packages = PackageCache::default();
    let focused = options
        .focus
        .as_ref()
        .map(|focus| narrow_to_focus(&mut inputs, focus, &packages, config, options.force_exclude));
    // Standard input is one more input, read already.
    let mut stdin_text = None;
    let stdin_path = options.stdin.as_ref().map(|s| PathBuf::from(&s.name));
    // `--force-exclude` holds for the name standard input is checked under, as for a named file.
    let stdin = (options.stdin)
        .filter(|s| !(options.force_exclude && config.exclusion()(Path::new(&s.name), false)));
    if let Some(stdin) = stdin {
        match discover::classify(Path::new(&stdin.name)) {
            Some(kind) => {
                inputs.push(Input {
                    path: PathBuf::from(&stdin.name),
                    display: discover::display_path(Path::new(&stdin.name)),
                    kind,
                });
                stdin_text = Some((inputs.len() - 1, stdin.text));
            }
            None => io_errors.push(format!(
                "cannot tell what kind of file `{}` is: use a name like `Dockerfile`, `x.yaml` or `x.rs` with --stdin-filename",
                stdin.name
            )),
        }
    }

    // The production surface: each Rust file's role, from the packages' targets, the workspace
    // graph and the Dockerfiles of the run (see `src/surface.rs`).
    let surface = Surface::build(
        &packages,
        &options.paths,
        inputs.iter().map(|i| (i.path.as_path(), i.kind)),
    );

    let surface_explained = options
        .explain_surface
        .then(|| explain_surface(&inputs, &packages, &surface));

    // Read, parse and check each file, in parallel.
    let stage = FileStage {
        config,
        packages: &packages,
        surface: &surface,
        cache: cache.as_ref(),
        triggers: (!options.parse_every_body).then(Triggers::new),
        stdin: stdin_text,
        notes: Mutex::new(Vec::new()),
        focused: focused.as_deref(),
    };
    let threads = options
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, inputs.len().max(1));
    let results = in_parallel(&inputs, threads, |i, input| stage.check(i, input));
    if let Some(c) = &cache {
        c.finish();
    }

    // Project facts: every file's source, findings and facts, in input order.
    let Gathered {
        mut sources,
        mut per_file,
        mut findings,
        mut internal,
        mut project,
        reported,
    } = gather(results, focused.as_deref(), &mut io_errors);
    project.packages = packages.all();
    project.services = crate::services::build(&project, config, &build_files);
    project.services.tagged_by_kustomization = (inputs.iter())
        .filter(|i| kustomize::is_kustomization(&i.path))
        .flat_map(|i| kustomize::tagged_images(&i.path))
        .collect();
    let explained = options
        .explain_services
        .then(|| crate::services::explain(&project, &project.services, &sources))
        .or(surface_explained);

    // Cross-file checks: once, over the facts; their findings are filtered per file below.
    let (cross_file, panics) = run_project_checks(&project, config, threads);
    findings.extend(cross_file);
    if !sources.is_empty() {
        internal.extend(panics);
    }

    // Settle what findings depended on, now that every file has been read.
    drop_findings_remedied_elsewhere(&mut findings, &project);
    apply_k8s_conditions(&mut findings, &project);

    // Severities from the config, then suppressions.
    let mut diagnostics = settle::with_severities(findings, &per_file);
    prefer_cross_file_findings(&mut diagnostics);
    let suppressed = apply_suppressions(&mut diagnostics, &mut per_file, &sources);
    diagnostics.retain(|d| reported.get(d.primary.file).copied().unwrap_or(true));

    for (file, message, span) in internal {
        diagnostics.push(Diagnostic {
            rule: INTERNAL_ERROR,
            severity: Severity::Error,
            message,
            primary: Label { file, span, message: None },
            related: Vec::new(),
            help: Some("this is a bug in prodlint; other results are complete. Please report it with the file that triggers it".into()),
        });
    }

    let files_checked = reported.iter().filter(|r| **r).count();
    let focused_paths = options.focus.as_ref().map(|focus| {
        focus
            .files
            .iter()
            .map(|f| discover::display_path(f))
            .collect()
    });
    name_helm_templates(&mut diagnostics, &mut sources, stdin_path.as_deref());
    one_skip_notice_per_chart(&mut diagnostics, &sources);

    for d in &mut diagnostics {
        if let Some(src) = sources.get(d.primary.file) {
            d.primary.span = src.clamp(d.primary.span.clone());
        }
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            let src = sources.get(d.primary.file);
            (
                src.map(|s| s.display.clone()).unwrap_or_default(),
                d.primary.span.start,
                d.rule,
            )
        };
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
    diagnostics.dedup();

    // A nested config that cannot be read fails the run (its files were checked with defaults).
    io_errors.extend((config.nested_errors().iter()).map(|e| format!("invalid config: {e}")));

    // Freeing the facts of thousands of files is a noticeable part of a warm run, and nothing
    // waits for it: a thread of its own does it (the process may exit first).
    // (Should no thread start, the value is freed right here.)
    let _ = std::thread::Builder::new().spawn(move || drop(project));
    Report {
        files_checked,
        sources,
        diagnostics,
        suppressed,
        baselined: 0,
        skipped: {
            let mut s = stage.notes.into_inner().unwrap_or_else(|e| e.into_inner());
            s.sort();
            s
        },
        focused_paths,
        io_errors,
        elapsed: start.elapsed(),
        explanation: explained,
    }
}

/// What checking one file needs from the run.
struct FileStage<'r> {
    config: &'r Config,
    packages: &'r PackageCache,
    surface: &'r Surface<'r>,
    cache: Option<&'r Cache>,
    /// Which function bodies are worth parsing (`None`: all, `--parse-every-body`).
    triggers: Option<Triggers>,
    /// Standard input's text and the index of its input.
    stdin: Option<(usize, String)>,
    /// What the report says about files read in part or not at all (too large, binary, not
    /// UTF-8).
    notes: Mutex<Vec<String>>,
    /// With named files, which inputs were named (the others are context): notes are about
    /// what the user asked for.
    focused: Option<&'r [bool]>,
}

impl FileStage<'_> {
    /// The cache, for a file checked under `config`: its entries are grouped by the run config's
    /// rule options, so a file whose nested config sets other options is neither read from it
    /// nor stored in it.
    fn cache_for(&self, config: &Config) -> Option<&Cache> {
        let same = std::ptr::eq(config, self.config)
            || config.options_text() == self.config.options_text();
        self.cache.filter(|_| same)
    }

    /// Reads, parses and checks input `i` — or takes its results from the cache by its metadata,
    /// without reading it.
    fn check(&self, i: usize, input: &Input) -> FileResult {
        let stdin = match &self.stdin {
            Some((idx, text)) if *idx == i => Some(text.clone()),
            _ => None,
        };
        // Each file is checked under the nearest config above it (with nested configs on).
        let config = self.config.for_file(&input.path);
        let cache = self.cache_for(&config);
        let mut levels = levels_of(input, &config);
        // A kustomize patch is checked merged into what it patches, under the role the file
        // would have if it were not a patch.
        let patched_by = match input.kind {
            FileKind::Kubernetes => self.surface.kustomizations_patching(&input.path),
            _ => &[],
        };
        if input.kind != FileKind::Rust {
            let role = match patched_by {
                [] => self.surface.role_of_config(&input.path),
                _ => self.surface.role_of_config_apart_from_patches(&input.path),
            };
            keep_rules_for_role(&mut levels, role.role);
        }
        let place = (input.kind == FileKind::Rust).then(|| {
            let on_disk = stdin.is_none();
            rust_place(
                input,
                &mut levels,
                self.packages,
                self.surface,
                cache,
                on_disk,
                config.max_file_size,
            )
        });
        let mut place = place;
        if let Some(outcome) = (place.as_mut())
            .zip(cache)
            .and_then(|(place, c)| without_reading(input, place, &mut levels, c))
        {
            return Ok(Some(outcome));
        }
        let read = match stdin {
            Some(text) => Read::Text(text, 0),
            None => read_text(&input.path, config.max_file_size)?,
        };
        // A `.json` file is a manifest only if it says so; other JSON (data, lockfiles) that
        // cannot be read is not worth a note.
        let json = input.path.extension().is_some_and(|e| e == "json");
        let note = |note: String| {
            if self
                .focused
                .is_some_and(|f| !f.get(i).copied().unwrap_or(false))
            {
                return;
            }
            if json && !json_head_names_a_kind(&input.path) {
                return;
            }
            self.notes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(note)
        };
        match read {
            Read::Text(text, invalid) => {
                if invalid > 0 {
                    note(format!(
                        "`{}` is not valid UTF-8: read with {invalid} invalid byte sequence{} replaced",
                        input.display,
                        if invalid == 1 { "" } else { "s" }
                    ));
                }
                Ok(self.process(input, text, levels, place, patched_by, &config))
            }
            Read::Binary => {
                note(format!(
                    "skipped `{}`: binary (a NUL byte in its first 8 KiB)",
                    input.display
                ));
                Ok(None)
            }
            Read::TooLarge(size) => {
                note(format!(
                    "skipped `{}`: {} is over the {} limit (`[files] max-size` in prodlint.toml)",
                    input.display,
                    human_size(size),
                    human_size(config.max_file_size)
                ));
                Ok(None)
            }
        }
    }
}

/// A file's enabled rules with their severity, and its suppressions.
type FileSettings = (Vec<(&'static str, Severity)>, Suppressions);

/// What the per-file phase leaves, indexed by source file.
struct Gathered {
    sources: SourceDb,
    per_file: Vec<FileSettings>,
    findings: Vec<Finding>,
    internal: Vec<(FileId, String, Range<usize>)>,
    project: Project,
    /// Whether findings in the file are reported (everything, without a focus).
    reported: Vec<bool>,
}

/// The projects of a run, numbered: a file belongs to the nearest directory above it that is a
/// git work tree or holds a prodlint config (all files with neither share one). Kubernetes
/// objects join (Service to workload, autoscaler to target) only within one project, so running
/// on the parent of two repositories gives each the findings it gives alone.
#[derive(Default)]
struct ProjectScopes {
    by_dir: HashMap<PathBuf, u32>,
    by_root: HashMap<PathBuf, u32>,
}

impl ProjectScopes {
    fn of(&mut self, file: &Path) -> u32 {
        let dir = absolute_dir(file);
        if let Some(&known) = self.by_dir.get(&dir) {
            return known;
        }
        let root = dir
            .ancestors()
            .find(|d| {
                [".git", "prodlint.toml", ".prodlint.toml"]
                    .iter()
                    .any(|marker| d.join(marker).exists())
            })
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let next = u32::try_from(self.by_root.len()).unwrap_or(u32::MAX);
        let scope = *self.by_root.entry(root).or_insert(next);
        self.by_dir.insert(dir, scope);
        scope
    }
}

fn absolute_dir(file: &Path) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new(""));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

/// Takes each file's outcome in input order: its source into the database, its findings with
/// their file set, its facts into the project.
fn gather(
    results: Vec<FileResult>,
    focused: Option<&[bool]>,
    io_errors: &mut Vec<String>,
) -> Gathered {
    let mut sources = SourceDb::default();
    let mut per_file: Vec<FileSettings> = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut internal: Vec<(FileId, String, Range<usize>)> = Vec::new();
    let mut project = Project::default();
    let mut reported: Vec<bool> = Vec::new();
    let mut scopes = ProjectScopes::default();
    for (i, result) in results.into_iter().enumerate() {
        let outcome = match result {
            Ok(Some(o)) => o,
            Ok(None) => continue,
            Err(e) => {
                io_errors.push(e);
                continue;
            }
        };
        let path = outcome.source.path.clone();
        let text = outcome.source.text_handle();
        let id = sources.add(outcome.source);
        reported.push(focused.is_none_or(|f| f.get(i).copied().unwrap_or(true)));
        // A manifest's objects join only within its project.
        let scope = outcome.k8s_facts.is_some().then(|| scopes.of(&path));
        // A per-file check sees only its own file: its labels are all in it.
        findings.extend(outcome.findings.into_iter().map(|mut f| {
            f.file = id;
            for label in &mut f.related {
                label.file = id;
            }
            if let (Some(scope), Some(condition)) = (scope, &mut f.k8s) {
                condition.set_scope(scope);
            }
            f
        }));
        internal.extend(outcome.internal.into_iter().map(|(m, s)| (id, m, s)));
        if let (Some(mut facts), Some(scope)) = (outcome.k8s_facts, scope) {
            for c in &mut facts.containers {
                c.file = id;
            }
            facts.set_scope(scope);
            project.k8s.extend(facts);
        }
        if let Some(image) = outcome.image {
            project.dockerfile_scopes.push(scopes.of(&path));
            project.dockerfiles.push((id, normalized(&path), image));
        }
        if let Some(end) = outcome.script_end {
            project.scripts.push((id, normalized(&path), end));
        }
        if let Some(rust) = outcome.rust_facts {
            project.rust.push(RustFileFacts {
                file: id,
                package: rust.package,
                facts: rust.facts,
                text,
                is_test: rust.is_test,
                every_body: std::sync::OnceLock::new(),
            });
        }
        per_file.push((outcome.levels, outcome.suppressions));
    }

    Gathered {
        sources,
        per_file,
        findings,
        internal,
        project,
        reported,
    }
}

/// Runs every cross-file rule once over the project's facts. They run side by side (some read
/// unparsed bodies on demand); their results are taken in registry order. Returns the findings
/// and the panics, as internal errors.
#[allow(clippy::type_complexity)]
fn run_project_checks(
    project: &Project,
    config: &Config,
    threads: usize,
) -> (Vec<Finding>, Vec<(FileId, String, Range<usize>)>) {
    // They run side by side (some read unparsed bodies on demand), and their results are taken
    // in registry order.
    let project_checks: Vec<(&RuleInfo, rules::ProjectCheck)> = rules::registry()
        .iter()
        .flat_map(|info| {
            info.rule.checks.iter().filter_map(move |c| match c {
                Check::Project(f) => Some((info, *f)),
                _ => None,
            })
        })
        .collect();
    let run = |_, (info, f): &(&RuleInfo, rules::ProjectCheck)| {
        let mut out = Vec::new();
        let panicked = guarded(|| {
            f(
                project,
                &mut Ctx::new(info.name(), 0, &mut out, config.options(info.name())),
            )
        });
        (out, panicked)
    };
    let mut findings = Vec::new();
    let mut panics = Vec::new();
    for ((info, _), (out, panicked)) in
        project_checks
            .iter()
            .zip(in_parallel(&project_checks, threads, run))
    {
        findings.extend(out);
        if let Some(msg) = panicked {
            panics.push((0, format!("rule `{}` panicked: {msg}", info.name()), 0..0));
        }
    }
    (findings, panics)
}

/// `--explain-surface`: every file's role and the evidence, then how many files each role has.
fn explain_surface(inputs: &[Input], packages: &PackageCache, surface: &Surface) -> String {
    let mut out = String::new();
    let mut counts: BTreeMap<Role, usize> = BTreeMap::new();
    for input in inputs {
        if input.kind != FileKind::Rust {
            let role = surface.role_of_config(&input.path);
            *counts.entry(role.role).or_default() += 1;
            out.push_str(&format!(
                "{}: {} — {}\n",
                input.display,
                role.role.as_str(),
                role.evidence
            ));
            continue;
        }
        let package = packages.package_of(&input.path);
        let mut role = surface.role_of(&input.path, package.as_deref());
        let text = std::fs::read_to_string(&input.path).unwrap_or_default();
        if surface::generated_header(&text) {
            role = FileRole {
                role: Role::Generated,
                evidence: "its header says it is generated".into(),
            };
        }
        *counts.entry(role.role).or_default() += 1;
        out.push_str(&format!(
            "{}: {} — {}\n",
            input.display,
            role.role.as_str(),
            role.evidence
        ));
        let line = |at: usize| text.get(..at).map_or(0, |t| t.matches('\n').count()) + 1;
        for (span, why) in surface.tool_spans(&input.path, package.as_deref()) {
            out.push_str(&format!(
                "  lines {}-{}: tool — {why}\n",
                line(span.start),
                line(span.end)
            ));
        }
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|(role, n)| format!("{n} {}", role.as_str()))
        .collect();
    out.push_str(&format!(
        "{} files: {}\nServing rules judge service and library files only; `prodlint rule <name>` lists a rule's roles.\n",
        counts.values().sum::<usize>(),
        if summary.is_empty() { "none".to_string() } else { summary.join(", ") }
    ));
    out
}

/// How a file's content was read.
enum Read {
    /// The text ([`crate::source::decode`]) and how many invalid UTF-8 sequences it replaced.
    Text(String, usize),
    /// Binary (a NUL in the first 8 KiB): skipped with a note.
    Binary,
    /// Over `[files] max-size`: skipped with a note, with its size.
    TooLarge(u64),
}

/// Whether template text uses Helm's objects (`.Values`, `.Release`, `.Chart`) or `include`.
fn helm_words(text: &str) -> bool {
    [".Values", ".Release", ".Chart", "include \""]
        .iter()
        .any(|w| text.contains(w))
}

/// The Helm chart a file lies in: the nearest directory above it that holds `Chart.yaml`
/// (looked for along the path as written; make it absolute to look above the working directory).
fn chart_root(file: &Path) -> Option<PathBuf> {
    file.parent()?
        .ancestors()
        .find(|d| d.join("Chart.yaml").is_file())
        .map(Path::to_path_buf)
}

/// Whether a JSON file's first 64 KiB name `"apiVersion"` and `"kind"` (a manifest's keys).
fn json_head_names_a_kind(path: &Path) -> bool {
    use std::io::Read as _;
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut head));
    let head = String::from_utf8_lossy(&head);
    read.is_ok() && head.contains("\"apiVersion\"") && head.contains("\"kind\"")
}

/// Reads a file, never more than `max` bytes of it.
fn read_text(path: &Path, max: u64) -> Result<Read, String> {
    use std::io::Read as _;
    let error = |e: std::io::Error| format!("cannot read `{}`: {e}", path.display());
    let file = std::fs::File::open(path).map_err(error)?;
    let len = file.metadata().map_err(error)?.len();
    if len > max {
        return Ok(Read::TooLarge(len));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // The file may grow between the size check and the read.
    let read = file
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(error)?;
    if read as u64 > max {
        return Ok(Read::TooLarge(read as u64));
    }
    if bytes.iter().take(8192).any(|&b| b == 0) {
        return Ok(Read::Binary);
    }
    let (text, invalid) = crate::source::decode(bytes);
    Ok(Read::Text(text, invalid))
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / (1u64 << 10) as f64),
        b => format!("{b} bytes"),
    }
}

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Routes panic messages inside guarded sections to the `internal-error` diagnostic instead of
/// stderr. Call once at program start.
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if GUARDED.with(Cell::get) {
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let payload = info
                .payload()
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{payload}{location}")));
        } else {
            default(info);
        }
    }));
}

/// Runs `f`, turning a panic into its message.
fn guarded(f: impl FnOnce()) -> Option<String> {
    let was = GUARDED.with(|g| g.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(was));
    match result {
        Ok(()) => None,
        Err(payload) => Some(
            LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_else(|| {
                    payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic".into())
                }),
        ),
    }
}

/// The rules enabled for a file, with their severity.
fn levels_of(input: &Input, config: &Config) -> Vec<(&'static str, Severity)> {
    rules::registry()
        .iter()
        .filter(|r| r.applies_to(input.kind) || r.meta.group == "meta")
        .filter_map(|r| config.level(r, &input.path).map(|l| (r.name(), l)))
        .collect()
}

/// Leaves the rules that apply to a Rust file of this role (rules without `roles` apply to all).
fn keep_rules_for_role(levels: &mut Vec<(&'static str, Severity)>, role: Role) {
    levels.retain(|(name, _)| rules::find(name).is_none_or(|r| r.applies_to_role(role)));
}

impl FileStage<'_> {
    /// Parses one file once and runs every enabled check of its kind. `place` is there for a Rust
    /// file; `patched_by` names the kustomizations that apply a manifest as a patch.
    fn process(
        &self,
        input: &Input,
        text: String,
        mut levels: Vec<(&'static str, Severity)>,
        mut place: Option<RustPlace>,
        patched_by: &[PathBuf],
        config: &Config,
    ) -> Option<Outcome> {
        let (cache, triggers) = (self.cache_for(config), self.triggers.as_ref());
        if let Some(place) = place.as_mut() {
            if surface::generated_header(&text) {
                place.generated(&mut levels);
            }
        }
        let source = SourceFile::new(input.path.clone(), input.display.clone(), input.kind, text);
        let mut findings = Vec::new();
        let mut internal = Vec::new();
        let mut suppressions = suppress::scan(&source);
        let mut rust_facts = None;
        let mut k8s_facts = None;
        let mut image = None;
        let mut script_end = None;
        let run = |info: &RuleInfo,
                   findings: &mut Vec<Finding>,
                   internal: &mut Vec<(String, Range<usize>)>,
                   f: &dyn Fn(&mut Ctx)| {
            if !levels.iter().any(|(r, _)| *r == info.name()) {
                return;
            }
            let mut out = Vec::new();
            let panicked = guarded(|| {
                f(&mut Ctx::new(
                    info.name(),
                    0,
                    &mut out,
                    config.options(info.name()),
                ))
            });
            findings.extend(out);
            if let Some(msg) = panicked {
                internal.push((
                    format!("rule `{}` panicked on this file: {msg}", info.name()),
                    0..0,
                ));
            }
        };
        // Shell checks run on every script of the file, whatever holds it.
        let run_shell = |findings: &mut Vec<Finding>,
                         internal: &mut Vec<(String, Range<usize>)>,
                         scripts: &[&Located]| {
            for info in rules::registry() {
                for check in info.rule.checks {
                    if let Check::Shell(f) = check {
                        run(info, findings, internal, &|cx| {
                            for s in scripts {
                                f(&s.script, &|span| s.source_span(span), cx);
                            }
                        });
                    }
                }
            }
        };
        let parse_error = |findings: &mut Vec<Finding>, message: String, span: Range<usize>| {
            findings.push(parse_error_finding(message, span));
        };
        let text = source.text();

        match input.kind {
            FileKind::Rust => match &place {
                Some(place) => {
                    let rust = RustCheck {
                        input,
                        text,
                        levels: &levels,
                        place,
                        config,
                    };
                    let (file_findings, file_internal, facts) =
                        rust.outcome(cache, triggers, &suppressions);
                    findings.extend(file_findings);
                    internal.extend(file_internal);
                    rust_facts = facts;
                }
                None => internal.push(("a Rust file was checked without its package".into(), 0..0)),
            },
            FileKind::Dockerfile => match guarded_value(|| dockerfile::parse(text)) {
                Ok(mut file) => {
                    file.path = input.path.clone();
                    image = guarded_value(|| file.image_facts()).ok();
                    for e in file.errors.iter().take(20) {
                        parse_error(&mut findings, e.message.clone(), e.span.clone());
                    }
                    for info in rules::registry() {
                        for check in info.rule.checks {
                            if let Check::Dockerfile(f) = check {
                                run(info, &mut findings, &mut internal, &|cx| f(&file, cx));
                            }
                        }
                    }
                    let runs = file.run_scripts();
                    let scripts: Vec<&Located> = runs.iter().map(|r| &r.located).collect();
                    run_shell(&mut findings, &mut internal, &scripts);
                }
                Err(msg) => internal.push((format!("the Dockerfile parser panicked: {msg}"), 0..0)),
            },
            FileKind::Workflow => match guarded_value(|| workflow::parse(text)) {
                Ok(wf) => {
                    for (message, span) in wf.errors.iter().take(20) {
                        parse_error(&mut findings, message.clone(), span.clone());
                    }
                    for info in rules::registry() {
                        for check in info.rule.checks {
                            if let Check::Workflow(f) = check {
                                run(info, &mut findings, &mut internal, &|cx| f(&wf, cx));
                            }
                        }
                    }
                    let scripts: Vec<&Located> = wf.runs.iter().collect();
                    run_shell(&mut findings, &mut internal, &scripts);
                }
                Err(msg) => internal.push((format!("the workflow parser panicked: {msg}"), 0..0)),
            },
            FileKind::Script => {
                let flavor = script::flavor(&input.path);
                match guarded_value(|| script::parse(flavor, text)) {
                    Ok(scripts) => {
                        script_end = guarded_value(|| script::script_end(flavor, &scripts))
                            .ok()
                            .flatten();
                        for info in rules::registry() {
                            for check in info.rule.checks {
                                if let Check::Script(f) = check {
                                    run(info, &mut findings, &mut internal, &|cx| f(&scripts, cx));
                                }
                            }
                        }
                        let located: Vec<&Located> = scripts.iter().collect();
                        run_shell(&mut findings, &mut internal, &located);
                    }
                    Err(msg) => internal.push((format!("the script parser panicked: {msg}"), 0..0)),
                }
            }
            FileKind::Kubernetes => {
                if !kubernetes::may_be_kubernetes(text) {
                    return None;
                }
                let file = match guarded_value(|| kubernetes::parse(text)) {
                    Ok(f) => f,
                    Err(msg) => {
                        internal.push((format!("the YAML parser panicked: {msg}"), 0..0));
                        return Some(Outcome {
                            source,
                            levels,
                            findings,
                            internal,
                            suppressions,
                            rust_facts,
                            k8s_facts: None,
                            image: None,
                            script_end: None,
                        });
                    }
                };
                if !file.is_kubernetes {
                    return None;
                }
                if let Some(at) = file.helm {
                    // `{%` opens a Jinja statement; `{{` is Helm's syntax inside a chart (or with
                    // Helm's objects), and otherwise a placeholder some script fills in (`{{HF_TOKEN}}`).
                    // A Jinja file says so by its `.j2` name, or by a `{%` statement.
                    let jinja = text.get(at..).is_some_and(|t| t.starts_with("{%"))
                        || input
                            .path
                            .file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.ends_with(".j2") || n.contains(".j2."));
                    let helm = !jinja
                        && (chart_root(&std::path::absolute(&input.path).unwrap_or_default())
                            .is_some()
                            || helm_words(text));
                    let what = if jinja {
                        "Jinja template syntax"
                    } else if helm {
                        "Helm template syntax"
                    } else {
                        "template placeholders (`{{ }}`)"
                    };
                    let message = if file.helm_partial {
                        format!("this document contains {what} and was not checked; the file's other documents were")
                    } else {
                        format!("this file contains {what} and was not checked")
                    };
                    let render = if helm {
                        "helm template <chart>"
                    } else {
                        "<render>"
                    };
                    findings.push(Finding {
                    rule: engine_rules::HELM_TEMPLATE_SKIPPED.name,
                    file: 0,
                    span: at..at + 2,
                    message,
                    help: Some(format!(
                        "render it and check the output: `{render} | prodlint check - --stdin-filename {}`",
                        input.display
                    )),
                    related: Vec::new(),
                    unless_package: Vec::new(),
                    at_most: None,
                    k8s: None,
                });
                }
                // A patch is a fragment: only its syntax is its own; what it must hold to be a
                // valid object is judged on the merged result.
                let own_errors = match patched_by {
                    [] => &file.errors[..],
                    _ => &file.errors[..file.syntax_errors],
                };
                for (message, span) in own_errors {
                    parse_error(&mut findings, message.clone(), span.clone());
                }
                if !patched_by.is_empty() {
                    // Its objects are not the cluster's: the base's are, and they are in the facts.
                    k8s_facts = Some(kubernetes::K8sFacts::default());
                    let overlays = guarded_value(|| {
                        kustomize::overlays_of(&input.path, &file.docs, patched_by)
                    });
                    match overlays {
                        Ok(overlays) => {
                            for overlay in &overlays {
                                let checks = |file: &kubernetes::K8sFile,
                                          findings: &mut Vec<Finding>,
                                          internal: &mut Vec<(String, Range<usize>)>| {
                                for obj in file.objects() {
                                    for info in rules::registry() {
                                        for check in info.rule.checks {
                                            if let Check::Kubernetes(f) = check {
                                                run(info, findings, internal, &|cx| f(&obj, cx));
                                            }
                                        }
                                    }
                                }
                            };
                                findings.extend(overlay_findings(&input.path, overlay, checks));
                            }
                        }
                        Err(msg) => internal.push((
                            format!("merging this kustomize patch panicked: {msg}"),
                            0..0,
                        )),
                    }
                } else {
                    k8s_facts = Some(file.facts());
                }
                for obj in file.objects().filter(|_| patched_by.is_empty()) {
                    let region = obj.node.span.clone();
                    for (rule, span) in obj.ignore_annotations(text) {
                        if rules::find(&rule).is_none() && !rules::is_group(&rule) {
                            suppressions.invalid.push((
                                span,
                                format!("unknown rule or group `{rule}` in suppression"),
                            ));
                        } else {
                            suppressions.entries.push(suppress::Entry {
                                rule,
                                span,
                                scope: Scope::Region(region.clone()),
                            });
                        }
                    }
                    for info in rules::registry() {
                        for check in info.rule.checks {
                            if let Check::Kubernetes(f) = check {
                                run(info, &mut findings, &mut internal, &|cx| f(&obj, cx));
                            }
                        }
                    }
                }
            }
        }
        keep_reported_suppressions(&mut suppressions, &levels);
        // Rust texts are most of a run's memory, and few are needed again (a finding to show, a join
        // that looks into one): they are read again then.
        let source = match &place {
            Some(place) if place.on_disk => source.released(),
            _ => source,
        };
        Some(Outcome {
            source,
            levels,
            findings,
            internal,
            suppressions,
            rust_facts,
            k8s_facts,
            image,
            script_end,
        })
    }
}

/// What the rules find in a kustomize overlay's merged object that they do not find in the base
/// object alone (the base is checked as its own file): each finding once, at the patch,
/// naming the overlay. The merged object's schema errors are parse errors there too, unless the
/// base has them; a rule the object's `prodlint.dev/ignore` annotation names is left out.
fn overlay_findings(
    patch: &Path,
    overlay: &kustomize::Overlay,
    checks: impl Fn(&kubernetes::K8sFile, &mut Vec<Finding>, &mut Vec<(String, Range<usize>)>),
) -> Vec<Finding> {
    let base = kubernetes::from_documents(vec![overlay.base.clone()]);
    let merged = kubernetes::from_documents(vec![overlay.merged.clone()]);
    let mut in_base = Vec::new();
    checks(&base, &mut in_base, &mut Vec::new());
    let mut found = Vec::new();
    // A rule that panics on the merged object panicked on the base as well, where it is reported.
    checks(&merged, &mut found, &mut Vec::new());
    let base_errors: Vec<&String> = base.errors.iter().map(|(m, _)| m).collect();
    for (message, span) in &merged.errors {
        if !base_errors.contains(&message) {
            found.push(parse_error_finding(message.clone(), span.clone()));
        }
    }
    let ignored: Vec<String> = merged
        .objects()
        .flat_map(|o| o.ignore_annotations(""))
        .map(|(rule, _)| rule)
        .collect();
    let is_ignored = |rule: &str| {
        ignored.iter().any(|name| {
            name == rule || rules::find(rule).is_some_and(|info| info.meta.group == *name)
        })
    };
    // Paths as written from the patch's directory, as a kustomization writes them.
    let here = patch.parent().unwrap_or(Path::new(""));
    let kustomization = kustomize::relative(here, &overlay.kustomization);
    let base_file = kustomize::relative(here, &overlay.base_file);
    found
        .into_iter()
        .filter(|f| {
            !is_ignored(f.rule)
                && !in_base
                    .iter()
                    .any(|b| b.rule == f.rule && b.message == f.message)
        })
        .map(|mut f| {
            // The overlay's replica count stands in for the base's.
            if let Some(K8sCondition::ServedAndNotAutoscaled(w)) = &f.k8s {
                let own = merged.objects().find_map(|o| o.replicas()).flatten();
                f.k8s = Some(K8sCondition::OverlayServedAndNotAutoscaled(
                    w.clone(),
                    own.unwrap_or(1),
                ));
            }
            f.message = format!(
                "{} (where `{kustomization}` merges this patch into `{base_file}`)",
                f.message
            );
            f
        })
        .collect()
}

/// A `parse-error` finding in the file being checked.
fn parse_error_finding(message: String, span: Range<usize>) -> Finding {
    Finding {
        rule: engine_rules::PARSE_ERROR.name,
        file: 0,
        span,
        message,
        help: None,
        related: Vec::new(),
        unless_package: Vec::new(),
        at_most: None,
        k8s: None,
    }
}

fn guarded_value<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    let mut out = None;
    match guarded(|| out = Some(f())) {
        None => out.ok_or_else(|| "no result".to_string()),
        Some(msg) => Err(msg),
    }
}

/// Drops suppressed diagnostics; adds `unused-suppression` and `invalid-suppression` ones.
/// Returns how many were suppressed.
fn apply_suppressions(
    diagnostics: &mut Vec<Diagnostic>,
    per_file: &mut [(Vec<(&'static str, Severity)>, Suppressions)],
    sources: &SourceDb,
) -> usize {
    let group_of = |rule: &str| rules::find(rule).map(|r| r.meta.group.as_str());
    let mut used: Vec<Vec<bool>> = per_file
        .iter()
        .map(|(_, s)| vec![false; s.entries.len()])
        .collect();
    let before = diagnostics.len();
    diagnostics.retain(|d| {
        let file = d.primary.file;
        let (Some((_, sups)), Some(src)) = (per_file.get(file), sources.get(file)) else {
            return true;
        };
        let line = src.line_of(d.primary.span.start);
        let mut hit = false;
        for (i, e) in sups.entries.iter().enumerate() {
            let names_rule = e.rule == d.rule || Some(e.rule.as_str()) == group_of(d.rule);
            let in_scope = match &e.scope {
                Scope::File => true,
                Scope::Lines(a, b) => (*a..=*b).contains(&line),
                Scope::Region(r) => r.contains(&d.primary.span.start),
            };
            if names_rule && in_scope {
                used[file][i] = true;
                hit = true;
            }
        }
        !hit
    });
    let suppressed = before - diagnostics.len();

    for (file, (levels, sups)) in per_file.iter().enumerate() {
        let level_of = |name: &str| levels.iter().find(|(r, _)| *r == name).map(|(_, l)| *l);
        if let Some(level) = level_of(engine_rules::UNUSED_SUPPRESSION.name) {
            for (i, e) in sups.entries.iter().enumerate() {
                let enabled_here = levels
                    .iter()
                    .any(|(r, _)| *r == e.rule || group_of(r) == Some(e.rule.as_str()));
                if used[file][i] || !enabled_here {
                    continue;
                }
                diagnostics.push(Diagnostic {
                    rule: engine_rules::UNUSED_SUPPRESSION.name,
                    severity: level,
                    message: format!("suppression of `{}` matches no finding", e.rule),
                    primary: Label {
                        file,
                        span: e.span.clone(),
                        message: None,
                    },
                    related: Vec::new(),
                    help: Some("remove it, so it cannot hide a future finding".into()),
                });
            }
        }
        if let Some(level) = level_of(engine_rules::INVALID_SUPPRESSION.name) {
            for (span, message) in &sups.invalid {
                diagnostics.push(Diagnostic {
                    rule: engine_rules::INVALID_SUPPRESSION.name,
                    severity: level,
                    message: message.clone(),
                    primary: Label { file, span: span.clone(), message: None },
                    related: Vec::new(),
                    help: Some("write `prodlint: ignore[rule-name] reason`; `prodlint rules` lists the names".into()),
                });
            }
        }
    }
    suppressed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_rule_becomes_a_message_and_the_thread_goes_on() {
        install_panic_hook();
        let msg = guarded(|| panic!("boom in rule")).expect("caught");
        assert!(msg.contains("boom in rule"), "{msg}");
        assert!(msg.contains("engine/mod.rs"), "the location is kept: {msg}");
        assert_eq!(guarded(|| {}), None);
        assert_eq!(guarded_value(|| 7), Ok(7));
    }
}
