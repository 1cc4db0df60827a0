//! GitHub Actions workflow commands: `::warning file=..,line=..::message`, shown as annotations on
//! the pull request. Every value is escaped as the Actions runner expects, so no path or message can
//! end a command early or start another one.

use crate::diagnostic::Severity;
use crate::engine::Report;

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for d in &report.diagnostics {
        let Some(src) = report.sources.get(d.primary.file) else {
            continue;
        };
        let (line, col) = src.line_col(d.primary.span.start);
        let (end_line, end_col) = src.line_col(d.primary.span.end);
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}\n",
            property(&src.display),
            property(&format!("prodlint {}", d.rule)),
            data(&message),
        ));
    }
    out
}

/// A command's message: `%`, carriage returns and newlines encoded.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A command property value: as [`data`], plus `:` and `,`, which separate properties.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_can_break_out_of_a_command() {
        assert_eq!(property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
        assert_eq!(data("50% done\r\n::error::x"), "50%25 done%0D%0A::error::x");
        // After escaping, a value holds no newline, so `::` inside it cannot start a command.
        assert!(!data("x\n::error file=y::z").contains('\n'));
    }
}
