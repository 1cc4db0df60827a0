//! `path:line:col: severity[rule] message`, one line per diagnostic.

use crate::engine::Report;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let Some(src) = report.sources.get(d.primary.file) else {
            continue;
        };
        let (line, col) = src.line_col(d.primary.span.start);
        out.push_str(&format!(
            "{}:{line}:{col}: {}[{}] {}\n",
            src.display,
            d.severity.as_str(),
            d.rule,
            d.message
        ));
    }
    out
}
