//! Output formats. Each reads the plain [`Diagnostic`](crate::diagnostic::Diagnostic) model; adding
//! a format (SARIF, GitHub annotations, GitLab) is one more file here and one more enum variant.

pub mod concise;
pub mod fingerprint;
pub mod full;
pub mod github;
pub mod gitlab;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::engine::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Full,
    Concise,
    Json,
    Github,
    Gitlab,
    Junit,
    Sarif,
    /// The default off a terminal (a CI log, a pipe): concise lines, each followed by its help,
    /// so the log says how to fix what it reports.
    ConciseWithHelp,
}

impl Format {
    /// Machine-readable formats: the summary line would corrupt them.
    pub fn is_structured(self) -> bool {
        matches!(
            self,
            Format::Json | Format::Gitlab | Format::Junit | Format::Sarif
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
    pub width: usize,
}

/// Renders the diagnostics of a report (not the summary line).
pub fn render(report: &Report, format: Format, style: Style) -> String {
    match format {
        Format::Full => full::render(report, style),
        Format::Concise => concise::render(report, style.color, false),
        Format::ConciseWithHelp => concise::render(report, style.color, true),
        Format::Json => json::render(report),
        Format::Github => github::render(report),
        Format::Gitlab => gitlab::render(report),
        Format::Junit => junit::render(report),
        Format::Sarif => sarif::render(report),
    }
}

/// Findings per rule, most first: a table, or with `json` an array of `{"rule", "count",
/// "summary"}` (as ruff's `--statistics --output-format json`).
pub fn statistics(report: &Report, json: bool) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for d in &report.diagnostics {
        *counts.entry(d.rule).or_default() += 1;
    }
    let mut rows: Vec<(&str, usize)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if json {
        let entries: Vec<serde_json::Value> = rows
            .iter()
            .map(|(rule, n)| {
                let summary = crate::rules::find(rule).map_or("", |r| r.meta.summary.as_str());
                serde_json::json!({ "rule": rule, "count": n, "summary": summary })
            })
            .collect();
        return serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n";
    }
    let name_width = rows.iter().map(|(r, _)| r.len()).max().unwrap_or(0);
    let count_width = rows
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (rule, n) in rows {
        let summary = crate::rules::find(rule).map_or("", |r| r.meta.summary.as_str());
        out.push_str(&format!(
            "{n:>count_width$}  {rule:<name_width$}  {summary}\n"
        ));
    }
    out
}

/// `Found 3 problems (1 error, 2 warnings) in 12 files; 1 suppressed [0.04s]`
pub fn summary_line(report: &Report) -> String {
    use crate::diagnostic::Severity;
    let files = plural(report.files_checked, "file");
    let mut line = if report.diagnostics.is_empty() {
        format!("No problems found in {files}")
    } else {
        let mut parts = Vec::new();
        for (sev, name) in [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Info, "info"),
        ] {
            let n = report.count(sev);
            if n > 0 {
                parts.push(if name == "info" {
                    format!("{n} info")
                } else {
                    plural(n, name)
                });
            }
        }
        format!(
            "Found {} ({}) in {files}",
            plural(report.diagnostics.len(), "problem"),
            parts.join(", ")
        )
    };
    if report.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", report.suppressed));
    }
    if report.baselined > 0 {
        line.push_str(&format!("; {} in the baseline", report.baselined));
    }
    line.push_str(&format!(" [{:.2}s]", report.elapsed.as_secs_f64()));
    line
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
