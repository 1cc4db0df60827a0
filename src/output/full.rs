//! The default terminal format: miette's graphical report with the source snippet.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceCode};

use super::Style;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::engine::Report;
use crate::source::SourceDb;

pub fn render(report: &Report, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    for d in &report.diagnostics {
        let Some(adapter) = Adapter::new(d, &d.primary, &report.sources) else {
            continue;
        };
        if handler.render_report(&mut out, &adapter).is_err() {
            out.push_str(&format!("{}: {}\n", d.rule, d.message));
        }
        out.push('\n');
    }
    out
}

/// One diagnostic seen through miette's `Diagnostic` trait. Related labels in other files become
/// related reports, because a miette report shows one source.
struct Adapter<'a> {
    diagnostic: &'a Diagnostic,
    title: String,
    source: NamedSource<Arc<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Adapter<'a>>,
    is_related: bool,
}

impl<'a> Adapter<'a> {
    fn new(d: &'a Diagnostic, primary: &Label, db: &SourceDb) -> Option<Adapter<'a>> {
        let src = db.get(primary.file)?;
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            primary.message.clone(),
            (primary.span.start, primary.span.len()),
        )];
        let top = primary == &d.primary;
        let mut related = Vec::new();
        for r in &d.related {
            // A related report is built with its label as the primary one: not again.
            if r == primary {
                continue;
            }
            if r.file == primary.file {
                labels.push(LabeledSpan::new_with_span(
                    r.message.clone(),
                    (r.span.start, r.span.len()),
                ));
            } else if !top {
                // Only the top-level report makes reports for other files; a related one
                // making them too would recurse back into the primary's file.
                continue;
            } else if d
                .related
                .iter()
                .take_while(|x| *x != r)
                .any(|x| x.file == r.file)
            {
                // An earlier label of this file already made its report, which shows all of them.
                continue;
            } else if let Some(mut adapter) = Adapter::new(d, r, db) {
                adapter.is_related = true;
                adapter.title = r.message.clone().unwrap_or_else(|| "related".into());
                related.push(adapter);
            }
        }
        Some(Adapter {
            diagnostic: d,
            title: d.message.clone(),
            source: NamedSource::new(src.display.clone(), src.shared_text()),
            labels,
            related,
            is_related: false,
        })
    }
}

impl fmt::Debug for Adapter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl fmt::Display for Adapter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.title)
    }
}

impl std::error::Error for Adapter<'_> {}

impl miette::Diagnostic for Adapter<'_> {
    fn code<'s>(&'s self) -> Option<Box<dyn fmt::Display + 's>> {
        if self.is_related {
            return None;
        }
        let d = self.diagnostic;
        Some(Box::new(format!("{}[{}]", d.severity.as_str(), d.rule)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        if self.is_related {
            return Some(miette::Severity::Advice);
        }
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'s>(&'s self) -> Option<Box<dyn fmt::Display + 's>> {
        if self.is_related {
            return None;
        }
        self.diagnostic
            .help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'s>(&'s self) -> Option<Box<dyn Iterator<Item = &'s dyn miette::Diagnostic> + 's>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|r| r as &dyn miette::Diagnostic),
        ))
    }
}
