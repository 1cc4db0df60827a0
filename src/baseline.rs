//! Baselines: today's findings recorded in a file, so adopting prodlint on an existing repository
//! reports only what is new. A finding is matched by rule, path and the fingerprint of its flagged
//! text (see `output::fingerprint`), never by line number, so edits elsewhere in a file do not
//! bring old findings back. Paths are stored relative to the directory that holds the baseline
//! file (normally the project root, beside `prodlint.toml`), so a baseline matches whichever
//! directory prodlint runs from.

use std::collections::HashMap;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::engine::Report;
use crate::output::fingerprint;

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Hash)]
struct Entry {
    rule: String,
    path: String,
    fingerprint: String,
}

/// What applying a baseline did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Applied {
    /// Findings hidden because the baseline lists them.
    pub matched: usize,
    /// Baseline entries that matched nothing: fixed, or changed beyond recognition.
    pub stale: usize,
}

/// A path as the baseline at `baseline` stores it: relative to the directory that holds the
/// baseline file (normally the project root), `/`-separated, so the baseline matches from any
/// working directory.
fn stored_path(path: &Path, baseline: &Path) -> String {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let file = absolute(path);
    let base = absolute(baseline.parent().unwrap_or(Path::new(".")));
    let base = if base.as_os_str().is_empty() {
        absolute(Path::new("."))
    } else {
        base
    };
    // Up from the baseline's directory to the common ancestor, then down to the file.
    let file_parts: Vec<Component> = normalize(&file);
    let base_parts: Vec<Component> = normalize(&base);
    let common = file_parts
        .iter()
        .zip(&base_parts)
        .take_while(|(a, b)| a == b)
        .count();
    let ups = std::iter::repeat_n("..".to_string(), base_parts.len() - common);
    let downs = file_parts[common..]
        .iter()
        .map(|c| c.as_os_str().to_string_lossy().into_owned());
    ups.chain(downs).collect::<Vec<_>>().join("/")
}

/// A path's components with `.` dropped and `..` applied.
fn normalize(path: &Path) -> Vec<Component<'_>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn entries(report: &Report, baseline: &Path) -> Vec<Entry> {
    report
        .diagnostics
        .iter()
        .zip(fingerprint::all_with_paths(report, |src| {
            stored_path(&src.path, baseline)
        }))
        .map(|(d, fingerprint)| Entry {
            rule: d.rule.to_string(),
            path: report
                .sources
                .get(d.primary.file)
                .map(|s| stored_path(&s.path, baseline))
                .unwrap_or_default(),
            fingerprint,
        })
        .collect()
}

/// Writes every finding of the report to `path`; returns how many.
pub fn write(report: &Report, path: &Path) -> Result<usize, String> {
    let findings = entries(report, path);
    let n = findings.len();
    let file = BaselineFile {
        version: 1,
        findings,
    };
    let mut text = serde_json::to_string_pretty(&file)
        .map_err(|e| format!("cannot encode the baseline: {e}"))?;
    text.push('\n');
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write the baseline `{}`: {e}", path.display()))?;
    Ok(n)
}

/// Drops the findings the baseline at `path` lists.
pub fn apply(report: &mut Report, path: &Path) -> Result<Applied, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the baseline `{}`: {e}", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|e| {
        format!(
            "`{}` is not a prodlint baseline ({e}); write one with `--write-baseline`",
            path.display()
        )
    })?;
    if file.version != 1 {
        return Err(format!(
            "`{}` is a version {} baseline; this prodlint reads version 1",
            path.display(),
            file.version
        ));
    }
    let mut remaining: HashMap<Entry, usize> = HashMap::new();
    for e in file.findings {
        *remaining.entry(e).or_default() += 1;
    }
    let keys = entries(report, path);
    let mut keep = Vec::with_capacity(keys.len());
    let mut matched = 0;
    for key in &keys {
        match remaining.get_mut(key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                matched += 1;
                keep.push(false);
            }
            _ => keep.push(true),
        }
    }
    let mut i = 0;
    report.diagnostics.retain(|_| {
        let k = keep.get(i).copied().unwrap_or(true);
        i += 1;
        k
    });
    // Entries for files this run did not report on (--changed-since, named files) are not stale.
    let focused: Option<std::collections::HashSet<String>> =
        report.focused_paths.as_ref().map(|paths| {
            paths
                .iter()
                .map(|shown| stored_path(Path::new(shown), path))
                .collect()
        });
    let stale = remaining
        .iter()
        .filter(|(e, _)| focused.as_ref().is_none_or(|paths| paths.contains(&e.path)))
        .map(|(_, n)| n)
        .sum();
    Ok(Applied { matched, stale })
}
