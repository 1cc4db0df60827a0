//! Command line: `prodlint [check] [PATHS]`, `prodlint rules`, `prodlint rule <name>`.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::config::{self, CliSelection, Config};
use crate::diagnostic::Severity;
use crate::engine::{self, normalized, CacheSetting, Focus, Options, StdinInput};
use crate::git;
use crate::output::{self, Format, Style};
use crate::rules;

/// Exit codes.
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

#[derive(Parser)]
#[command(
    name = "prodlint",
    version,
    about = "Finds what takes services down in production: in Rust source, Dockerfiles, Kubernetes manifests, CI workflows and scripts",
    after_help = "`check` is the default command: `prodlint .` is `prodlint check .`.\nExit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage, config or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files and directories (the default command).
    Check(Box<CheckArgs>),
    /// List the rules: kinds, group, default level and the level under the config in effect.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
        /// Show the levels under this config file instead of the one found from here.
        #[arg(long, conflicts_with = "no_config")]
        config: Option<PathBuf>,
        /// Show the defaults only.
        #[arg(long)]
        no_config: bool,
    },
    /// Print a rule's documentation.
    Rule { name: String },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files and directories to check (`-` reads standard input).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format [default: full on a terminal, concise otherwise].
    #[arg(long, value_enum)]
    format: Option<OutputFormat>,
    /// Exit with 1 when a finding has at least this severity [default: `fail-on` in the config, or warning].
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Only these rules or groups (comma separated).
    #[arg(long, value_delimiter = ',')]
    select: Option<Vec<String>>,
    /// Never these rules or groups (comma separated).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Use this config file instead of looking for prodlint.toml.
    #[arg(long, conflicts_with = "no_config")]
    config: Option<PathBuf>,
    /// Do not read any config file.
    #[arg(long)]
    no_config: bool,
    /// Also run preview rules: those whose measured precision is still below the bar for a
    /// default run (`prodlint rules` marks them; docs/precision.md has their figures).
    #[arg(long, overrides_with = "no_preview")]
    preview: bool,
    /// Run no preview rule, even when the config sets `preview = true`.
    #[arg(long, overrides_with = "preview")]
    no_preview: bool,
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Print only diagnostics, no summary line.
    #[arg(long, short)]
    quiet: bool,
    /// The file name standard input stands for; it decides the input kind.
    #[arg(long)]
    stdin_filename: Option<String>,
    /// Write the report to this file; the summary line still goes to the terminal.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Print how many times each rule fired, most frequent first, instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Report only findings not listed in this baseline file (overrides `baseline` in the config).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record every current finding in this baseline file and exit successfully.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["baseline", "changed_since"])]
    write_baseline: Option<PathBuf>,
    /// Report only on files changed since the merge base of this git ref and HEAD, including
    /// uncommitted and untracked files; the files cross-file rules need are still read.
    #[arg(long, value_name = "REF")]
    changed_since: Option<String>,
    /// Apply `[files] exclude` to files named on the command line too (for pre-commit).
    #[arg(long)]
    force_exclude: bool,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Keep per-file results here [default: the user's cache directory, or `$PRODLINT_CACHE_DIR`].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Check every file from scratch and keep nothing for the next run.
    #[arg(long)]
    no_cache: bool,
    /// Print which Dockerfile and source each Kubernetes container (and Compose build) was mapped
    /// to, and why, instead of findings. Cross-file rules use this map.
    #[arg(long, conflicts_with_all = ["write_baseline", "output", "explain_surface"])]
    explain_services: bool,
    /// Print each file's role on the production surface (service, library, tool, test, example,
    /// generated) and the evidence for it, instead of findings. Serving rules judge service and
    /// library code only.
    #[arg(long, conflicts_with_all = ["write_baseline", "output"])]
    explain_surface: bool,
    /// Print the settings each named path is checked under — which config file, what it
    /// extends, each value and the file that set it, the rules that run on it — instead of
    /// findings.
    #[arg(long, conflicts_with_all = ["write_baseline", "output", "explain_surface", "explain_services"])]
    show_settings: bool,
    /// Parse every Rust function body, also those that hold nothing an enabled rule reads
    /// (slower; for telling whether a missing finding comes from that shortcut).
    #[arg(long, hide = true)]
    parse_every_body: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Full,
    Concise,
    Json,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
    /// JUnit XML.
    Junit,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
}

#[derive(Clone, Copy, ValueEnum)]
enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Clone, Copy, ValueEnum, PartialEq)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    Table,
    Json,
    Markdown,
}

/// Runs the CLI; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> i32 {
    let mut args: Vec<OsString> = args.into_iter().collect();
    if let Some((typed, command)) = mistyped_command(&args) {
        eprintln!(
            "error: `{typed}` is neither a command nor a path; did you mean `prodlint {command}`?"
        );
        return EXIT_ERROR;
    }
    insert_default_command(&mut args);
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Check(args) => run_check(*args),
        Command::Rules {
            format,
            config,
            no_config,
        } => {
            let config = match load_config(config, no_config, Path::new(".")) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: invalid config: {e}");
                    return EXIT_ERROR;
                }
            };
            print!("{}", rules_listing(format, &config));
            EXIT_OK
        }
        Command::Rule { name } => match rules::find(&name) {
            Some(info) => {
                print!("{}", rule_doc(info));
                EXIT_OK
            }
            None if rules::is_group(&name) => {
                let members: Vec<&str> = (rules::registry().iter())
                    .filter(|r| r.meta.group == name)
                    .map(|r| r.name())
                    .collect();
                eprintln!(
                    "error: `{name}` is a group, not a rule; its rules: {} (`prodlint rule <name>` shows one)",
                    members.join(", ")
                );
                EXIT_ERROR
            }
            None => {
                eprintln!(
                    "error: no rule named `{name}`{} (`prodlint rules` lists them)",
                    rules::suggestion(&name)
                );
                EXIT_ERROR
            }
        },
    }
}

/// `check` is the default command: `prodlint src/` means `prodlint check src/`.
fn insert_default_command(args: &mut Vec<OsString>) {
    const TOP_LEVEL: &[&str] = &[
        "check",
        "rules",
        "rule",
        "help",
        "-h",
        "--help",
        "-V",
        "--version",
    ];
    let first = args.get(1).and_then(|a| a.to_str());
    if !first.is_some_and(|f| TOP_LEVEL.contains(&f)) {
        args.insert(1.min(args.len()), "check".into());
    }
}

/// A first argument that is no command and no existing path but is close to a command
/// (`prodlint chek .`): a typo, not a path to check.
fn mistyped_command(args: &[OsString]) -> Option<(String, &'static str)> {
    let first = args.get(1)?.to_str()?;
    if first.starts_with('-') || first == "-" || std::path::Path::new(first).exists() {
        return None;
    }
    let command = crate::rules::closest(first, ["check", "rules", "rule", "help"])?;
    (command != first).then(|| (first.to_string(), command))
}

fn run_check(args: CheckArgs) -> i32 {
    let stdout = std::io::stdout();
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    };
    let format = match args.format {
        Some(OutputFormat::Full) => Format::Full,
        Some(OutputFormat::Concise) => Format::Concise,
        Some(OutputFormat::Json) => Format::Json,
        Some(OutputFormat::Github) => Format::Github,
        Some(OutputFormat::Gitlab) => Format::Gitlab,
        Some(OutputFormat::Junit) => Format::Junit,
        Some(OutputFormat::Sarif) => Format::Sarif,
        None if stdout.is_terminal() && args.output.is_none() => Format::Full,
        None => Format::ConciseWithHelp,
    };
    for list in args.select.iter().chain(std::iter::once(&args.ignore)) {
        if let Err(e) = config::validate_selectors(list) {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    }

    let reads_stdin = args.paths.iter().any(|p| p.as_os_str() == "-");
    let paths: Vec<PathBuf> = args
        .paths
        .iter()
        .filter(|p| p.as_os_str() != "-")
        .cloned()
        .collect();
    let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    let mut config = match load_config(args.config.clone(), args.no_config, &start) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: invalid config: {e}");
            return EXIT_ERROR;
        }
    };
    config.cli = CliSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
        preview: match (args.preview, args.no_preview) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
    };
    // Each file is checked under the nearest config above it, unless one is named or none wanted.
    if args.config.is_none() && !args.no_config {
        config = config.with_nested_configs();
    }
    if args.show_settings {
        let shown: Vec<PathBuf> = if paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            paths.clone()
        };
        for path in &shown {
            print!("{}", show_settings(&config, path));
        }
        let errors = config.nested_errors();
        for e in &errors {
            eprintln!("error: invalid config: {e}");
        }
        return if errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        };
    }
    for name in config.preview_rules_named() {
        eprintln!(
            "warning: `{name}` is a preview rule and does not run without `--preview` (or `preview = true` in the config); `prodlint rule {name}` says why"
        );
    }

    if args.stdin_filename.is_some() && !reads_stdin {
        eprintln!("error: --stdin-filename names what standard input holds, but no `-` path asks to read it: write `prodlint check - --stdin-filename NAME`");
        return EXIT_ERROR;
    }
    let stdin = if reads_stdin {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            eprintln!("error: cannot read standard input: {e}");
            return EXIT_ERROR;
        }
        let Some(name) = args.stdin_filename.clone() else {
            eprintln!("error: reading standard input needs --stdin-filename NAME (for example `rendered.yaml`) to know what kind of file it is");
            return EXIT_ERROR;
        };
        Some(StdinInput { name, text })
    } else {
        None
    };

    let (paths, focus) = match focus(&args, paths, reads_stdin, &config) {
        Ok(narrowed) => narrowed,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_ERROR;
        }
    };
    let baseline = args.baseline.clone().or_else(|| config.baseline.clone());
    let report_fail_on = config.fail_on;
    let mut report = engine::check(Options {
        paths,
        stdin,
        config,
        threads: args.threads.map(usize::from),
        focus,
        force_exclude: args.force_exclude,
        cache: match (&args.cache_dir, args.no_cache) {
            (_, true) => CacheSetting::Off,
            (Some(dir), false) => CacheSetting::Dir(dir.clone()),
            (None, false) => CacheSetting::Default,
        },
        explain_services: args.explain_services,
        explain_surface: args.explain_surface,
        parse_every_body: args.parse_every_body,
    });
    if let Some(text) = &report.explanation {
        print!("{text}");
        for e in &report.io_errors {
            eprintln!("error: {e}");
        }
        return if report.io_errors.is_empty() {
            EXIT_OK
        } else {
            EXIT_ERROR
        };
    }

    if let Some(path) = &args.write_baseline {
        return match baseline::write(&report, path) {
            Ok(n) => {
                if !args.quiet {
                    println!("Wrote {n} finding(s) to the baseline `{}`", path.display());
                }
                if report.io_errors.is_empty() {
                    EXIT_OK
                } else {
                    EXIT_ERROR
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        };
    }
    let mut stale = 0;
    if let Some(path) = &baseline {
        match baseline::apply(&mut report, path) {
            Ok(applied) => {
                report.baselined = applied.matched;
                stale = applied.stale;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_ERROR;
            }
        }
    }

    let style = Style {
        color: color && args.output.is_none(),
        width: 100,
    };
    let rendered = if args.statistics {
        output::statistics(&report, format == Format::Json)
    } else {
        output::render(&report, format, style)
    };
    let mut out = stdout.lock();
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, rendered.as_bytes()) {
                eprintln!(
                    "error: cannot write the report to `{}`: {e}",
                    path.display()
                );
                return EXIT_ERROR;
            }
        }
        None => {
            let _ = out.write_all(rendered.as_bytes());
        }
    }
    let structured_on_stdout = format.is_structured()
        && args.output.is_none()
        && (!args.statistics || format == Format::Json);
    if !structured_on_stdout && !args.quiet {
        let _ = writeln!(out, "{}", output::summary_line(&report));
    }
    let _ = out.flush();
    if stale > 0 && !args.quiet {
        eprintln!(
            "note: {stale} baseline entr{} no longer match any finding (fixed or changed); refresh it with `--write-baseline`",
            if stale == 1 { "y" } else { "ies" }
        );
    }
    if !args.quiet {
        for note in &report.skipped {
            eprintln!("note: {note}");
        }
        // Nothing is skipped silently: a named file of no kind prodlint reads, and a run that
        // found nothing to check at all, are said (the exit code stays 0, as ruff's does).
        let named_unread: Vec<&PathBuf> = (args.paths.iter())
            .filter(|p| p.as_os_str() != "-" && p.is_file())
            .filter(|p| crate::discover::classify(p).is_none())
            .collect();
        for p in &named_unread {
            eprintln!(
                "warning: `{}` is not a kind of file prodlint checks (Dockerfiles, Kubernetes YAML or JSON, GitHub workflows and actions, shell scripts and Makefiles, Rust); it was not checked",
                p.display()
            );
        }
        if report.files_checked == 0 && report.io_errors.is_empty() && named_unread.is_empty() {
            eprintln!("warning: no file prodlint checks was found in the paths given (Dockerfiles, Kubernetes YAML or JSON, GitHub workflows and actions, shell scripts and Makefiles, Rust)");
        }
    }
    for e in &report.io_errors {
        eprintln!("error: {e}");
    }

    let threshold = match args.fail_on {
        Some(FailOn::Error) => Severity::Error,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Info) => Severity::Info,
        None => report_fail_on.unwrap_or(Severity::Warning),
    };
    let code = if !report.io_errors.is_empty() || report.has_internal_errors() {
        EXIT_ERROR
    } else if report.diagnostics.iter().any(|d| d.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    // The process exits next; freeing every file's text would only delay it.
    let _ = std::thread::Builder::new().spawn(move || drop(report));
    code
}

/// What a run reports on. With `--changed-since`, the changed files under the paths; when every
/// path is a file (what pre-commit passes), those files. Either way the walk then covers the
/// project around them (the config's directory, else the git work tree, else the file's
/// directory), so cross-file rules see the same package and manifests as a full run.
fn focus(
    args: &CheckArgs,
    paths: Vec<PathBuf>,
    reads_stdin: bool,
    config: &Config,
) -> Result<(Vec<PathBuf>, Option<Focus>), String> {
    if let Some(reference) = &args.changed_since {
        if reads_stdin {
            return Err("--changed-since cannot be combined with standard input (`-`)".into());
        }
        let mut files = Vec::new();
        let mut changed_in: Vec<(PathBuf, Vec<PathBuf>)> = Vec::new();
        for root in &paths {
            let is_file = root.is_file();
            let dir = match root.parent() {
                Some(parent) if is_file => parent.to_path_buf(),
                _ => root.clone(),
            };
            let dir = if dir.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                dir
            };
            let (top, prefix) = git::location(&dir)?;
            let known = changed_in.iter().position(|(t, _)| *t == top);
            let index = match known {
                Some(i) => i,
                None => {
                    changed_in.push((top.clone(), git::changed_files(&top, reference)?));
                    changed_in.len() - 1
                }
            };
            let changed = changed_in.get(index).map_or(&[][..], |(_, c)| c.as_slice());
            // Paths are kept in the form the user wrote, so they compare with the walk's.
            for rel in changed {
                if let Ok(rest) = rel.strip_prefix(&prefix) {
                    let file = dir.join(rest);
                    if !is_file || normalized(&file) == normalized(root) {
                        files.push(file);
                    }
                }
            }
        }
        let walk = paths
            .iter()
            .map(|p| {
                if p.is_file() {
                    project_root(p, config)
                } else {
                    p.clone()
                }
            })
            .collect();
        return Ok((walk, Some(Focus { files })));
    }
    if paths.is_empty() || !paths.iter().all(|p| p.is_file()) {
        return Ok((paths, None));
    }
    let mut roots: Vec<PathBuf> = Vec::new();
    for file in &paths {
        let root = project_root(file, config);
        if !roots.iter().any(|r| root.starts_with(r)) {
            roots.retain(|r| !r.starts_with(&root));
            roots.push(root);
        }
    }
    Ok((roots, Some(Focus { files: paths })))
}

/// The directory whose files a focused file is checked together with.
fn project_root(file: &Path, config: &Config) -> PathBuf {
    let file = normalized(file);
    if config.path.is_some() && file.starts_with(&config.root) {
        return config.root.clone();
    }
    let dir = file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map_or(dir.clone(), Path::to_path_buf)
}

/// The config file given, the one found from `start`, or none.
fn load_config(
    given: Option<PathBuf>,
    no_config: bool,
    start: &Path,
) -> Result<Config, config::ConfigError> {
    let discovered = given.is_none();
    let path = if no_config {
        None
    } else {
        given.or_else(|| config::discover(start))
    };
    // Both names in one directory: one would be silently unused (`--config` chooses itself).
    let found = path
        .as_deref()
        .filter(|p| discovered && p.file_name().is_some_and(|n| n == "prodlint.toml"));
    if let Some(found) = found {
        let hidden = found.with_file_name(".prodlint.toml");
        if hidden.is_file() {
            return Err(config::ConfigError {
                path: found.to_path_buf(),
                line: 1,
                column: 1,
                message: format!(
                    "both `{}` and `{}` exist; prodlint reads one config per directory: merge them into one and remove the other",
                    found.display(),
                    hidden.display()
                ),
            });
        }
    }
    path.map_or_else(|| Ok(Config::default()), |p| Config::load(&p))
}

/// What `--show-settings` prints for a path: the config it is checked under, where each value
/// comes from, and the rules that run on it (for a directory, on a file directly in it).
fn show_settings(run: &Config, path: &Path) -> String {
    use std::fmt::Write as _;
    let probe = if path.is_dir() {
        path.join("prodlint-settings-probe")
    } else {
        path.to_path_buf()
    };
    let config = run.for_file(&probe);
    let shown = |p: &Path| crate::discover::display_path(p);
    let mut out = String::new();
    let _ = writeln!(out, "Settings for `{}`", shown(path));
    match &config.path {
        Some(file) => {
            let _ = writeln!(out, "  config file: {}", shown(file));
        }
        None => {
            let _ = writeln!(out, "  config file: none (defaults)");
        }
    }
    for base in &config.extends {
        let _ = writeln!(out, "  extends: {}", shown(base));
    }
    let from = |key: &str| match config.origin(key) {
        Some(file) => shown(file),
        None => "default".to_string(),
    };
    let cli = |set: bool, key: &str| {
        if set {
            "command line".to_string()
        } else {
            from(key)
        }
    };
    let mut line = |setting: String, origin: String| {
        let _ = writeln!(out, "  {setting:<44} # {origin}");
    };
    line(
        format!("preview = {}", config.preview()),
        cli(config.cli.preview.is_some(), "preview"),
    );
    let select = config
        .cli
        .select
        .clone()
        .or_else(|| config.selected().cloned());
    line(
        format!(
            "select = {}",
            select.map_or("(all default rules)".to_string(), |s| format!("{s:?}"))
        ),
        cli(config.cli.select.is_some(), "select"),
    );
    let ignore: Vec<&String> = config.ignored().iter().chain(&config.cli.ignore).collect();
    line(
        format!("ignore = {ignore:?}"),
        cli(!config.cli.ignore.is_empty(), "ignore"),
    );
    line(
        format!(
            "fail-on = {}",
            run.fail_on.map_or("warning", |s| s.as_str())
        ),
        format!("{} (the run's config decides)", from_run(run, "fail-on")),
    );
    line(
        format!(
            "baseline = {}",
            run.baseline.as_deref().map_or("none".to_string(), &shown)
        ),
        format!("{} (the run's config decides)", from_run(run, "baseline")),
    );
    line(
        format!("[files] max-size = {} bytes", config.max_file_size),
        from("files.max-size"),
    );
    for file in config.exclude_files() {
        line(
            "[files] exclude (patterns relative to this file)".to_string(),
            shown(file),
        );
    }
    for (rule, table) in config.options_text() {
        line(
            format!("[rule-options.{rule}] {table}"),
            from(&format!("rule-options.{rule}")),
        );
    }
    let kind = crate::discover::classify(&probe).filter(|_| !path.is_dir());
    let rules: Vec<&rules::RuleInfo> = rules::registry()
        .iter()
        .filter(|r| kind.is_none_or(|k| r.applies_to(k)))
        .collect();
    let enabled: Vec<(&rules::RuleInfo, Severity)> = rules
        .iter()
        .filter_map(|r| config.level(r, &probe).map(|l| (*r, l)))
        .collect();
    let what = match kind {
        Some(k) => format!("a {} file", k.name()),
        None => "files of every kind".to_string(),
    };
    let _ = writeln!(out, "  rules that run on {what} here ({}):", enabled.len());
    for (rule, level) in enabled {
        let why = match config.level_origin(rule, &probe) {
            Some((entry, file)) => format!("{entry} in {}", shown(&file)),
            None if config.cli.select.is_some() => "--select".to_string(),
            None => "default".to_string(),
        };
        let _ = writeln!(out, "    {:<44} {:<8} # {why}", rule.name(), level.as_str());
    }
    out
}

/// Where the run's config sets a run-level value (one not read per file).
fn from_run(run: &Config, key: &str) -> String {
    run.origin(key)
        .map_or("default".to_string(), crate::discover::display_path)
}

/// A rule's level for a file at the config's root (where no path-specific override applies
/// unless it matches everything).
fn level_at_root(rule: &rules::RuleInfo, config: &Config) -> Option<Severity> {
    config.level(rule, &config.root.join("prodlint"))
}

/// A rule's level under a config at the config's root (`off` when disabled), with `*` when an
/// `[[overrides]]` entry changes it for some paths.
fn configured_level(rule: &rules::RuleInfo, config: &Config) -> String {
    let level = level_at_root(rule, config).map_or("off", Severity::as_str);
    if config.overridden(rule) {
        format!("{level}*")
    } else {
        level.to_string()
    }
}

/// `prodlint rules --format markdown` is `docs/rules.md`; it shows the defaults whatever the config.
pub fn rules_listing(format: RulesFormat, config: &Config) -> String {
    let reg = rules::registry();
    let default_level = |r: &rules::RuleInfo| {
        if r.meta.default {
            r.meta.level.to_string()
        } else {
            "off".to_string()
        }
    };
    match format {
        RulesFormat::Table => {
            let rows: Vec<[String; 7]> = reg
                .iter()
                .map(|r| {
                    [
                        r.name().to_string(),
                        r.meta.kinds.join(","),
                        r.meta.group.to_string(),
                        r.meta.status.as_str().to_string(),
                        default_level(r),
                        configured_level(r, config),
                        r.meta.summary.to_string(),
                    ]
                })
                .collect();
            let header = [
                "RULE", "KINDS", "GROUP", "STATUS", "DEFAULT", "CONFIG", "SUMMARY",
            ]
            .map(String::from);
            let mut widths = [0usize; 6];
            for row in std::iter::once(&header).chain(&rows) {
                for (w, cell) in widths.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let mut out = match &config.path {
                Some(p) => format!("CONFIG is the level under {}\n", p.display()),
                None => "No config file found: CONFIG is the default\n".to_string(),
            };
            for row in std::iter::once(&header).chain(&rows) {
                let mut line = String::new();
                for (w, cell) in widths.iter().zip(row) {
                    line.push_str(&format!("{cell:w$}  "));
                }
                line.push_str(&row[6]);
                out.push_str(line.trim_end());
                out.push('\n');
            }
            if rows.iter().any(|r| r[5].ends_with('*')) {
                out.push_str("* [[overrides]] change this rule for some paths\n");
            }
            if !config.preview() && rows.iter().any(|r| r[3] == "preview") {
                out.push_str(
                    "preview rules run only with --preview (or `preview = true` in the config)\n",
                );
            }
            out
        }
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = reg
                .iter()
                .map(|r| {
                    let under_config = level_at_root(r, config);
                    serde_json::json!({
                        "name": r.name(),
                        "kinds": r.meta.kinds,
                        "group": r.meta.group,
                        "level": r.meta.level,
                        "default": r.meta.default,
                        "status": r.meta.status.as_str(),
                        "enabled": under_config.is_some(),
                        "configured_level": under_config.map(Severity::as_str),
                        "overridden_for_some_paths": config.overridden(r),
                        "summary": r.meta.summary,
                    })
                })
                .collect();
            format!(
                "{}\n",
                serde_json::to_string_pretty(&list).unwrap_or_default()
            )
        }
        RulesFormat::Markdown => {
            let mut out = String::from(
                "# Rules\n\nGenerated by `prodlint rules --format markdown`; do not edit by hand.\n\nPreview rules run only with `--preview` (or `preview = true` in the config): their measured\nprecision is below the 90 % a default run asks for ([precision.md](precision.md)).\n\n| rule | kinds | group | status | level | default | summary |\n|---|---|---|---|---|---|---|\n",
            );
            for r in reg {
                out.push_str(&format!(
                    "| [`{name}`](../rules/{name}.md) | {} | {} | {} | {} | {} | {} |\n",
                    r.meta.kinds.join(", "),
                    r.meta.group,
                    r.meta.status.as_str(),
                    r.meta.level,
                    if r.meta.default { "on" } else { "off" },
                    r.meta.summary.replace('|', "\\|"),
                    name = r.name(),
                ));
            }
            out
        }
    }
}

fn rule_doc(info: &rules::RuleInfo) -> String {
    format!(
        "# {}\n\nkinds: {} · group: {} · default level: {} · {}\n\n{}\n{}",
        info.name(),
        info.meta.kinds.join(", "),
        info.meta.group,
        info.meta.level,
        match (info.is_preview(), info.meta.default) {
            (true, _) => "preview: runs only with --preview",
            (false, true) => "enabled by default",
            (false, false) => "off by default",
        },
        info.meta.summary,
        info.body
    )
}
