//! Command line: `prodlint [check] [PATHS]`, `prodlint rules`, `prodlint rule <name>`.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::config::{self, CliSelection, Config};
use crate::diagnostic::Severity;
use crate::engine::{self, Options, StdinInput};
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
    about = "Finds what takes services down in production: in Rust source, Dockerfiles and Kubernetes manifests",
    after_help = "`check` is the default command: `prodlint .` is `prodlint check .`.\nExit codes: 0 no findings at or above --fail-on, 1 findings, 2 usage, config or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check files and directories (the default command).
    Check(CheckArgs),
    /// List the rules.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
        format: RulesFormat,
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
    /// Exit with 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    fail_on: FailOn,
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
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
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
        Command::Check(args) => run_check(args),
        Command::Rules { format } => {
            print!("{}", rules_listing(format));
            EXIT_OK
        }
        Command::Rule { name } => match rules::find(&name) {
            Some(info) => {
                print!("{}", rule_doc(info));
                EXIT_OK
            }
            None => {
                eprintln!("error: no rule named `{name}`; `prodlint rules` lists them");
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
        None => Format::Concise,
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
    let config_path = if args.no_config {
        None
    } else if let Some(p) = &args.config {
        Some(p.clone())
    } else {
        let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        config::discover(&start)
    };
    let mut config = match config_path {
        Some(p) => match Config::load(&p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: invalid config: {e}");
                return EXIT_ERROR;
            }
        },
        None => Config::default(),
    };
    config.cli = CliSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };

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

    let baseline = args.baseline.clone().or_else(|| config.baseline.clone());
    let mut report = engine::check(Options {
        paths,
        stdin,
        config,
        threads: None,
    });

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
        output::statistics(&report)
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
    let structured_on_stdout = format.is_structured() && args.output.is_none() && !args.statistics;
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
    for e in &report.io_errors {
        eprintln!("error: {e}");
    }

    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    if !report.io_errors.is_empty() || report.has_internal_errors() {
        EXIT_ERROR
    } else if report.diagnostics.iter().any(|d| d.severity >= threshold) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// `prodlint rules --format markdown` is `docs/rules.md`.
pub fn rules_listing(format: RulesFormat) -> String {
    let reg = rules::registry();
    match format {
        RulesFormat::Table => {
            let width = reg.iter().map(|r| r.name().len()).max().unwrap_or(0);
            let mut out = String::new();
            for r in reg {
                let enabled = if r.meta.default {
                    ""
                } else {
                    " (off by default)"
                };
                out.push_str(&format!(
                    "{:width$}  {:13} {:7}  {}{enabled}\n",
                    r.name(),
                    r.meta.group,
                    r.meta.level,
                    r.meta.summary,
                ));
            }
            out
        }
        RulesFormat::Json => {
            let list: Vec<serde_json::Value> = reg
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "name": r.name(),
                        "kinds": r.meta.kinds,
                        "group": r.meta.group,
                        "level": r.meta.level,
                        "default": r.meta.default,
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
                "# Rules\n\nGenerated by `prodlint rules --format markdown`; do not edit by hand.\n\n| rule | kinds | group | level | default | summary |\n|---|---|---|---|---|---|\n",
            );
            for r in reg {
                out.push_str(&format!(
                    "| [`{name}`](../rules/{name}.md) | {} | {} | {} | {} | {} |\n",
                    r.meta.kinds.join(", "),
                    r.meta.group,
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
        if info.meta.default {
            "enabled by default"
        } else {
            "off by default"
        },
        info.meta.summary,
        info.body
    )
}
