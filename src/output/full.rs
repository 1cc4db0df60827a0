//! The default terminal format: each finding's header, then the source lines it points at,
//! rustc-style. Findings whose primary location is on the same line of the same file share one
//! snippet: their headers come first, then the lines once, then each one's help.
//!
//! ```text
//! warning[missing-liveness-probe]: container `a` has no liveness probe
//! info[missing-memory-limit]: container `a` has no memory limit
//!  --> deploy/a.yaml:8:9
//!    |
//!  7 |       containers:
//!  8 |       - name: a
//!    |         ^^^^^^^
//!  9 |         image: nginx:1.27
//!    |
//!    = help[missing-liveness-probe]: add a `livenessProbe` that ...
//!    = help[missing-memory-limit]: set `resources.limits.memory` ...
//! ```

use std::fmt::Write as _;
use std::ops::Range;

use super::Style;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::engine::Report;
use crate::source::SourceFile;

pub fn render(report: &Report, style: Style) -> String {
    let paint = Paint { on: style.color };
    let mut out = String::new();
    let shown: Vec<&Diagnostic> = (report.diagnostics.iter())
        .filter(|d| report.sources.get(d.primary.file).is_some())
        .collect();
    // Diagnostics come sorted by file and position: one group per run of the same line.
    let mut start = 0;
    while start < shown.len() {
        let first = shown[start];
        let Some(src) = report.sources.get(first.primary.file) else {
            start += 1;
            continue;
        };
        let line = src.line_of(first.primary.span.start);
        let len = shown[start..]
            .iter()
            .take_while(|d| {
                d.primary.file == first.primary.file && src.line_of(d.primary.span.start) == line
            })
            .count()
            .max(1);
        render_group(&mut out, &shown[start..start + len], report, src, paint);
        start += len;
    }
    out
}

/// Findings on one line of one file: headers, the snippet once, helps, and related locations in
/// other files.
fn render_group(
    out: &mut String,
    group: &[&Diagnostic],
    report: &Report,
    src: &SourceFile,
    paint: Paint,
) {
    for d in group {
        let _ = writeln!(
            out,
            "{}: {}",
            paint.code(d.severity, &format!("{}[{}]", d.severity.as_str(), d.rule)),
            d.message
        );
    }
    let first = group[0];
    let (line, col) = src.line_col(first.primary.span.start);
    let _ = writeln!(
        out,
        "{}{} {}:{line}:{col}",
        " ".repeat(gutter_width(src, group)),
        paint.blue("-->"),
        src.display
    );
    // The primary spans, once each; labelled with their rule when the group's spans and rules
    // differ (otherwise the headers, in order, say which is which).
    let mut marks: Vec<Mark> = Vec::new();
    let distinct = group.iter().any(|d| d.primary.span != first.primary.span);
    let one_rule = group.iter().all(|d| d.rule == first.rule);
    for d in group {
        let label = (distinct && !one_rule).then(|| d.rule.to_string());
        let mark = Mark {
            span: d.primary.span.clone(),
            primary: Some(d.severity),
            label: d.primary.message.clone().or(label),
        };
        if !marks
            .iter()
            .any(|m| m.span == mark.span && m.label == mark.label)
        {
            marks.push(mark);
        }
    }
    for d in group {
        for r in d.related.iter().filter(|r| r.file == first.primary.file) {
            marks.push(Mark {
                span: r.span.clone(),
                primary: None,
                label: r.message.clone(),
            });
        }
    }
    snippet(out, src, &marks, gutter_width(src, group), paint);
    let width = gutter_width(src, group);
    let mut helped: Vec<(&str, &str)> = Vec::new();
    for d in group {
        if let Some(help) = &d.help {
            if helped.contains(&(d.rule, help.as_str())) {
                continue;
            }
            helped.push((d.rule, help.as_str()));
            let tag = if !one_rule {
                format!("help[{}]", d.rule)
            } else {
                "help".to_string()
            };
            let _ = writeln!(
                out,
                "{} {} {}: {help}",
                " ".repeat(width),
                paint.blue("="),
                paint.bold(&tag)
            );
        }
    }
    // Related locations in other files: one snippet per file, after the finding's help.
    for d in group {
        let mut files: Vec<usize> = Vec::new();
        for r in d.related.iter().filter(|r| r.file != d.primary.file) {
            if !files.contains(&r.file) {
                files.push(r.file);
            }
        }
        for file in files {
            let Some(other) = report.sources.get(file) else {
                continue;
            };
            let labels: Vec<&Label> = d.related.iter().filter(|r| r.file == file).collect();
            let note = labels
                .iter()
                .find_map(|l| l.message.clone())
                .unwrap_or_else(|| "related".to_string());
            let width = labels
                .iter()
                .map(|l| digits(other.line_of(l.span.start) + 2))
                .max()
                .unwrap_or(1);
            let _ = writeln!(
                out,
                "{} {} {}: {note}",
                " ".repeat(width),
                paint.blue("="),
                paint.bold("note")
            );
            let (line, col) = other.line_col(labels[0].span.start);
            let _ = writeln!(
                out,
                "{}{} {}:{line}:{col}",
                " ".repeat(width),
                paint.blue("-->"),
                other.display
            );
            let marks: Vec<Mark> = labels
                .iter()
                .map(|l| Mark {
                    span: l.span.clone(),
                    primary: None,
                    label: l.message.clone().filter(|m| *m != note),
                })
                .collect();
            snippet(out, other, &marks, width, paint);
        }
    }
    out.push('\n');
}

/// One row under a source line: underlines (column, width, painted text) and the label that
/// ends it.
type UnderlineRow<'a> = (Vec<(usize, usize, String)>, Option<&'a str>);

/// A span to underline: `^` in the severity's colour for a primary location, `-` for a related one.
struct Mark {
    span: Range<usize>,
    primary: Option<Severity>,
    label: Option<String>,
}

/// The lines the marks are on, one line of context around them, the underlines below each line.
fn snippet(out: &mut String, src: &SourceFile, marks: &[Mark], width: usize, paint: Paint) {
    let last_line = src.line_count().max(1);
    let mut lines: Vec<usize> = Vec::new();
    for m in marks {
        let line = src.line_of(m.span.start);
        for l in line.saturating_sub(1).max(1)..=(line + 1).min(last_line) {
            lines.push(l);
        }
    }
    lines.sort_unstable();
    lines.dedup();
    let bar = paint.blue("|");
    let _ = writeln!(out, "{} {bar}", " ".repeat(width));
    let mut previous: Option<usize> = None;
    for &line in &lines {
        if previous.is_some_and(|p| line > p + 1) {
            let _ = writeln!(out, "{}", paint.blue("..."));
        }
        previous = Some(line);
        let range = src.line_range(line);
        let text = src.text().get(range.clone()).unwrap_or("");
        let text = text.trim_end_matches(['\n', '\r']);
        let number = paint.blue(&format!("{line:>width$}"));
        if text.trim().is_empty() {
            let _ = writeln!(out, "{number} {bar}");
        } else {
            let _ = writeln!(out, "{number} {bar} {}", text.replace('\t', " "));
        }
        // Underlines without a label share a row where they do not overlap; a labelled one
        // ends its own row with the label.
        let mut rows: Vec<UnderlineRow> = Vec::new();
        for m in marks.iter().filter(|m| src.line_of(m.span.start) == line) {
            let start = m.span.start.clamp(range.start, range.start + text.len());
            let end = m.span.end.clamp(start, range.start + text.len());
            let column = text
                .get(..start - range.start)
                .map_or(0, |t| t.chars().count());
            let length = text
                .get(start - range.start..end - range.start)
                .map_or(1, |t| t.chars().count())
                .max(1);
            let underline = match m.primary {
                Some(severity) => paint.code(severity, &"^".repeat(length)),
                None => paint.blue(&"-".repeat(length)),
            };
            let free = |row: &UnderlineRow| {
                row.1.is_none()
                    && (row.0.iter()).all(|(c, len, _)| column > c + len || column + length < *c)
            };
            match rows.iter_mut().find(|r| m.label.is_none() && free(r)) {
                Some(row) => row.0.push((column, length, underline)),
                None => rows.push((vec![(column, length, underline)], m.label.as_deref())),
            }
        }
        for (mut segments, label) in rows {
            segments.sort_by_key(|(c, _, _)| *c);
            let mut row = String::new();
            let mut at = 0;
            for (column, length, underline) in segments {
                row.push_str(&" ".repeat(column.saturating_sub(at)));
                at = column + length;
                row.push_str(&underline);
            }
            let label = label.map_or(String::new(), |l| format!(" {l}"));
            let _ = writeln!(out, "{} {bar} {row}{label}", " ".repeat(width));
        }
    }
    let _ = writeln!(out, "{} {bar}", " ".repeat(width));
}

/// Wide enough for the largest line number the group's snippet shows.
fn gutter_width(src: &SourceFile, group: &[&Diagnostic]) -> usize {
    let lines = group.iter().flat_map(|d| {
        std::iter::once(&d.primary)
            .chain(d.related.iter())
            .filter(|l| l.file == d.primary.file)
            .map(|l| src.line_of(l.span.start) + 1)
    });
    digits(lines.max().unwrap_or(1))
}

fn digits(n: usize) -> usize {
    n.to_string().len()
}

/// ANSI colours when asked for: red errors, yellow warnings, cyan info, blue gutters.
#[derive(Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn code(self, severity: Severity, text: &str) -> String {
        let code = match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.wrap(code, text)
    }

    fn blue(self, text: &str) -> String {
        self.wrap("1;34", text)
    }

    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
}
