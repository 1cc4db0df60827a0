//! Output formats. Each reads the plain [`Diagnostic`](crate::diagnostic::Diagnostic) model; adding
//! a format (SARIF, GitHub annotations, GitLab) is one more file here and one more enum variant.

pub mod concise;
pub mod full;
pub mod json;

use crate::engine::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Full,
    Concise,
    Json,
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
        Format::Concise => concise::render(report),
        Format::Json => json::render(report),
    }
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
