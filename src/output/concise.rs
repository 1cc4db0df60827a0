//! `path:line:col: severity[rule] message`, one line per diagnostic (coloured on request), and in the
//! default off a terminal each followed by `  help: …`, so a CI log says how to fix what it reports.

use crate::engine::Report;

pub fn render(report: &Report, color: bool, help: bool) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let Some(src) = report.sources.get(d.primary.file) else {
            continue;
        };
        let (line, col) = src.line_col(d.primary.span.start);
        let severity = d.severity.as_str();
        let (severity, rule) = if color {
            // Red errors, yellow warnings, cyan info; the rule name bold.
            let code = match d.severity {
                crate::diagnostic::Severity::Error => "31",
                crate::diagnostic::Severity::Warning => "33",
                crate::diagnostic::Severity::Info => "36",
            };
            (
                format!("\x1b[1;{code}m{severity}\x1b[0m"),
                format!("\x1b[1m{}\x1b[0m", d.rule),
            )
        } else {
            (severity.to_string(), d.rule.to_string())
        };
        out.push_str(&format!(
            "{}:{line}:{col}: {severity}[{rule}] {}\n",
            src.display, d.message
        ));
        if let (true, Some(h)) = (help, &d.help) {
            out.push_str(&format!("  help: {h}\n"));
        }
    }
    out
}
