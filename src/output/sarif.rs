//! SARIF 2.1.0, for GitHub code scanning and other SARIF consumers: one run, the rules with their
//! documentation, and every finding with its region (1-based lines, columns in Unicode code points,
//! end column exclusive) and related locations. Paths are relative URIs against `%SRCROOT%`.

use serde_json::{json, Value};

use crate::diagnostic::{Label, Severity};
use crate::engine::Report;
use crate::output::fingerprint;
use crate::rules;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A relative path as a URI reference: every byte outside the unreserved set and `/` is
/// percent-encoded.
/// The "What it does" section of a rule's documentation, without its heading.
fn what_it_does(body: &str) -> Option<&str> {
    let start = body.find("## What it does")? + "## What it does".len();
    let rest = &body[start..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    Some(rest[..end].trim()).filter(|t| !t.is_empty())
}

fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(report: &Report, label: &Label) -> Option<Value> {
    let src = report.sources.get(label.file)?;
    let span = src.clamp(label.span.clone());
    let (start_line, start_column) = src.line_col(span.start);
    let (end_line, end_column) = src.line_col(span.end);
    Some(json!({
        "physicalLocation": {
            "artifactLocation": { "uri": uri(&src.display), "uriBaseId": "%SRCROOT%" },
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            }
        }
    }))
}

pub fn render(report: &Report) -> String {
    let registry = rules::registry();
    let rule_entries: Vec<Value> = registry
        .iter()
        .map(|r| {
            json!({
                "id": r.name(),
                "shortDescription": { "text": r.meta.summary },
                "fullDescription": { "text": what_it_does(r.body).unwrap_or(&r.meta.summary) },
                "help": { "text": r.body.trim(), "markdown": r.body.trim() },
                "defaultConfiguration": {
                    "level": level(r.level),
                    "enabled": r.meta.default && !r.is_preview(),
                },
                "properties": { "tags": [r.meta.group], "status": r.meta.status.as_str() },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .zip(fingerprint::all(report))
        .filter_map(|(d, fp)| {
            let primary = location(report, &d.primary)?;
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let related: Vec<Value> = d
                .related
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let mut loc = location(report, r)?;
                    loc["id"] = json!(i);
                    if let Some(m) = &r.message {
                        loc["message"] = json!({ "text": m });
                    }
                    Some(loc)
                })
                .collect();
            let mut result = json!({
                "ruleId": d.rule,
                "level": level(d.severity),
                "message": { "text": message },
                "locations": [primary],
                "partialFingerprints": { "prodlint/v1": fp },
            });
            if let Some(index) = registry.iter().position(|r| r.name() == d.rule) {
                result["ruleIndex"] = json!(index);
            }
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            Some(result)
        })
        .collect();
    let sarif = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "prodlint",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rule_entries,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&sarif).unwrap_or_else(|_| "{}".into());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn full_description_is_what_the_rule_does() {
        let body = "## What it does\nFlags X.\n\nAlso Y.\n\n## Why is this bad?\nZ.\n";
        assert_eq!(super::what_it_does(body), Some("Flags X.\n\nAlso Y."));
        assert_eq!(super::what_it_does("## Example\n"), None);
    }

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(
            super::uri("deploy/my app,v1.yaml"),
            "deploy/my%20app%2Cv1.yaml"
        );
        assert_eq!(super::uri("src/é.rs"), "src/%C3%A9.rs");
    }
}
