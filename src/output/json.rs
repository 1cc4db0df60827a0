//! The versioned JSON schema (`"version": 1`). Its field names and shapes are a contract: change
//! them only with a new version.

use serde::Serialize;

use crate::diagnostic::Severity;
use crate::engine::Report;

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    rule: &'a str,
    severity: &'a str,
    message: &'a str,
    help: Option<&'a str>,
    path: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: usize,
    column: usize,
    message: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonSummary {
    files_checked: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    suppressed: usize,
}

pub fn render(report: &Report) -> String {
    let diagnostics = report
        .diagnostics
        .iter()
        .filter_map(|d| {
            let src = report.sources.get(d.primary.file)?;
            let (line, column) = src.line_col(d.primary.span.start);
            let (end_line, end_column) = src.line_col(d.primary.span.end);
            let related = d
                .related
                .iter()
                .filter_map(|r| {
                    let rs = report.sources.get(r.file)?;
                    let (line, column) = rs.line_col(r.span.start);
                    Some(JsonRelated {
                        path: &rs.display,
                        line,
                        column,
                        message: r.message.as_deref(),
                    })
                })
                .collect();
            Some(JsonDiagnostic {
                rule: d.rule,
                severity: d.severity.as_str(),
                message: &d.message,
                help: d.help.as_deref(),
                path: &src.display,
                line,
                column,
                end_line,
                end_column,
                related,
            })
        })
        .collect();
    let out = JsonReport {
        version: 1,
        diagnostics,
        summary: JsonSummary {
            files_checked: report.files_checked,
            errors: report.count(Severity::Error),
            warnings: report.count(Severity::Warning),
            infos: report.count(Severity::Info),
            suppressed: report.suppressed,
        },
    };
    let mut text =
        serde_json::to_string_pretty(&out).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
