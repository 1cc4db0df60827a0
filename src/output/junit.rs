//! JUnit XML: one test case per finding, failed, so CI systems that read test reports list them.

use crate::engine::Report;

pub fn render(report: &Report) -> String {
    let n = report.diagnostics.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"prodlint\" tests=\"{n}\" failures=\"{n}\">\n  <testsuite name=\"prodlint\" tests=\"{n}\" failures=\"{n}\">\n"
    ));
    for d in &report.diagnostics {
        let Some(src) = report.sources.get(d.primary.file) else {
            continue;
        };
        let (line, col) = src.line_col(d.primary.span.start);
        let mut text = format!("{}:{line}:{col}: {}", src.display, d.message);
        if let Some(help) = &d.help {
            text.push_str("\nhelp: ");
            text.push_str(help);
        }
        out.push_str(&format!(
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{line}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            xml(&format!("{} at {}:{line}:{col}", d.rule, src.display)),
            xml(&src.display),
            xml(&src.display),
            xml(d.severity.as_str()),
            xml(&d.message),
            xml(&text),
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Text and attribute escaping; control characters XML 1.0 cannot hold are dropped.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_is_escaped() {
        assert_eq!(super::xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
    }
}
