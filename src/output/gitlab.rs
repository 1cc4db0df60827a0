//! GitLab Code Quality report: a JSON array of issues with a fingerprint that identifies each one
//! across pipelines, so merge requests show which findings are new.

use serde::Serialize;

use crate::diagnostic::Severity;
use crate::engine::Report;
use crate::output::fingerprint;

#[derive(Serialize)]
struct Issue<'a> {
    description: String,
    check_name: &'a str,
    fingerprint: String,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

pub fn render(report: &Report) -> String {
    let issues: Vec<Issue> = report
        .diagnostics
        .iter()
        .zip(fingerprint::all(report))
        .filter_map(|(d, fingerprint)| {
            let src = report.sources.get(d.primary.file)?;
            let (begin, _) = src.line_col(d.primary.span.start);
            Some(Issue {
                description: format!("{}: {}", d.rule, d.message),
                check_name: d.rule,
                fingerprint,
                severity: match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                    Severity::Info => "info",
                },
                location: Location {
                    path: &src.display,
                    lines: Lines { begin },
                },
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    out.push('\n');
    out
}
