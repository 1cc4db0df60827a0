//! Inline suppressions: `# prodlint: ignore[rule-a, rule-b] reason` (`//` in Rust) for the same or
//! the next line, `prodlint: ignore-file[rule]` for a whole file, and Kubernetes annotations.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::rules;
use crate::source::{FileKind, SourceFile};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Scope {
    /// Diagnostics starting on these 1-based lines (inclusive).
    Lines(usize, usize),
    File,
    /// Diagnostics starting inside this byte range (a Kubernetes object).
    Region(Range<usize>),
}

/// One rule (or group) named in one suppression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    /// Where the name is written, for `unused-suppression`.
    pub span: Range<usize>,
    pub scope: Scope,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Suppressions {
    pub entries: Vec<Entry>,
    /// Malformed suppressions and unknown names: (span, message).
    pub invalid: Vec<(Range<usize>, String)>,
}

const MARKER: &str = "prodlint:";

pub fn scan(file: &SourceFile) -> Suppressions {
    let mut out = Suppressions::default();
    if !file.text().contains(MARKER) {
        return out;
    }
    for line_no in 1..=file.line_count() {
        let range = file.line_range(line_no);
        let line = &file.text()[range.clone()];
        if !line.contains(MARKER) {
            continue;
        }
        let Some(comment_at) = comment_start(line, file.kind) else {
            continue;
        };
        let own_line = line[..comment_at].trim().is_empty();
        let body_at = comment_at
            + line[comment_at..]
                .find(|c: char| !matches!(c, '/' | '#' | '!'))
                .unwrap_or(0);
        let body = &line[body_at..];
        let trimmed = body.trim_start();
        let Some(directive) = trimmed.strip_prefix(MARKER) else {
            continue;
        };
        let directive_at = range.start + body_at + (body.len() - trimmed.len()) + MARKER.len();
        let lines = if own_line {
            Scope::Lines(line_no, line_no + 1)
        } else {
            Scope::Lines(line_no, line_no)
        };
        parse_directive(directive, directive_at, lines, &mut out);
    }
    out
}

fn parse_directive(text: &str, offset: usize, lines: Scope, out: &mut Suppressions) {
    let lead = text.len() - text.trim_start().len();
    let t = text.trim_start();
    let (scope, rest, kw_len) = if let Some(r) = t.strip_prefix("ignore-file") {
        (Scope::File, r, "ignore-file".len())
    } else if let Some(r) = t.strip_prefix("ignore") {
        (lines, r, "ignore".len())
    } else {
        // Only what is written as a directive (`word[...]`) is a suppression gone wrong; prose
        // that starts with `prodlint:` (a doc comment) is not a suppression at all.
        let word_len = t
            .find(|c: char| c.is_whitespace() || c == '[')
            .unwrap_or(t.len());
        if !t[word_len..].starts_with('[') {
            return;
        }
        let span = offset + lead..offset + lead + word_len;
        out.invalid.push((
            span,
            "expected `ignore[rule, …]` or `ignore-file[rule, …]` after `prodlint:`".into(),
        ));
        return;
    };
    let list_at = offset + lead + kw_len;
    let (Some(inner), Some(close)) = (rest.strip_prefix('['), rest.find(']')) else {
        out.invalid.push((
            offset + lead..list_at,
            "name the rules to ignore in brackets: `ignore[rule-a, rule-b]`".into(),
        ));
        return;
    };
    let inner = &inner[..close - 1];
    let mut pos = list_at + 1;
    let mut any = false;
    for part in inner.split(',') {
        let name = part.trim();
        let start = pos + (part.len() - part.trim_start().len());
        pos += part.len() + 1;
        if name.is_empty() {
            continue;
        }
        any = true;
        let span = start..start + name.len();
        if rules::find(name).is_none() && !rules::is_group(name) {
            out.invalid.push((
                span,
                format!(
                    "unknown rule or group `{name}` in suppression{}",
                    rules::suggestion(name)
                ),
            ));
            continue;
        }
        out.entries.push(Entry {
            rule: name.to_string(),
            span,
            scope: scope.clone(),
        });
    }
    if !any {
        out.invalid.push((
            list_at..list_at + close + 1,
            "empty rule list in suppression".into(),
        ));
    }
}

/// Byte offset of the comment in a line, if it has one.
fn comment_start(line: &str, kind: FileKind) -> Option<usize> {
    match kind {
        // Dockerfile comments only start a line; `#` elsewhere is part of the instruction.
        FileKind::Dockerfile => line
            .trim_start()
            .starts_with('#')
            .then(|| line.len() - line.trim_start().len()),
        FileKind::Kubernetes | FileKind::Workflow | FileKind::Script => {
            let mut quote = None;
            let mut prev_space = true;
            for (i, c) in line.char_indices() {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None if c == '#' && prev_space => return Some(i),
                    None => {}
                }
                prev_space = c.is_whitespace();
            }
            None
        }
        FileKind::Rust => {
            let bytes = line.as_bytes();
            let mut in_str = false;
            let mut i = 0;
            while i < bytes.len() {
                match bytes[i] {
                    b'\\' if in_str => i += 1,
                    b'"' => in_str = !in_str,
                    b'\''
                        if !in_str
                            && bytes.get(i + 1) == Some(&b'"')
                            && bytes.get(i + 2) == Some(&b'\'') =>
                    {
                        i += 2
                    }
                    b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => return Some(i),
                    _ => {}
                }
                i += 1;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(kind: FileKind, text: &str) -> Suppressions {
        scan(&SourceFile::new("f".into(), "f".into(), kind, text.into()))
    }

    #[test]
    fn own_line_and_trailing() {
        let text = "a: 1\n# prodlint: ignore[missing-memory-limit, health] reason here\nb: 2 # prodlint: ignore[image-tag-not-pinned]\n";
        let s = scan_text(FileKind::Kubernetes, text);
        assert!(s.invalid.is_empty(), "{:?}", s.invalid);
        assert_eq!(s.entries.len(), 3);
        assert_eq!(s.entries[0].scope, Scope::Lines(2, 3));
        assert_eq!(&text[s.entries[1].span.clone()], "health");
        assert_eq!(s.entries[2].scope, Scope::Lines(3, 3));
    }

    #[test]
    fn rust_comments_not_strings() {
        let text = "let s = \"// prodlint: ignore[x]\";\nlet c = Client::new(); // prodlint: ignore-file[http-client-without-timeout]\n";
        let s = scan_text(FileKind::Rust, text);
        assert_eq!(s.entries.len(), 1);
        assert_eq!(s.entries[0].scope, Scope::File);
    }

    #[test]
    fn invalid_forms() {
        let s = scan_text(FileKind::Dockerfile, "# prodlint: ignore[nope]\n# prodlint: ignore\n# prodlint: disable[x]\n# prodlint: ignore[]\n");
        assert_eq!(s.entries.len(), 0);
        assert_eq!(s.invalid.len(), 4, "{:?}", s.invalid);
    }

    #[test]
    fn prose_after_the_marker_is_not_a_suppression() {
        let s = scan_text(
            FileKind::Rust,
            "//! prodlint: a production-readiness linter for service repositories.\n// prodlint: see docs\n",
        );
        assert_eq!(
            (s.entries.len(), s.invalid.len()),
            (0, 0),
            "{:?}",
            s.invalid
        );
    }

    #[test]
    fn dockerfile_hash_mid_line_is_not_a_comment() {
        let s = scan_text(
            FileKind::Dockerfile,
            "RUN echo # prodlint: ignore[image-runs-as-root]\n",
        );
        assert!(s.entries.is_empty());
    }
}
