//! A stable identity for a finding that survives unrelated edits: the rule, the path, the flagged
//! text with its whitespace removed, and how many identical findings precede it in the file — not
//! the line number, so lines inserted above do not change it.

use std::collections::HashMap;

use crate::engine::Report;

/// FNV-1a, 64 bits: small, dependency-free and the same on every platform and Rust version.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // Separates parts so ("ab", "c") and ("a", "bc") differ.
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The fingerprint of every diagnostic of a report, in order.
pub fn all(report: &Report) -> Vec<String> {
    all_with_paths(report, |src| src.display.clone())
}

/// [`all`], with each file named as `path_of` says (a baseline names files relative to its own
/// directory, so its fingerprints do not depend on the working directory).
pub fn all_with_paths(
    report: &Report,
    path_of: impl Fn(&crate::source::SourceFile) -> String,
) -> Vec<String> {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    report
        .diagnostics
        .iter()
        .map(|d| {
            let (path, code) = match report.sources.get(d.primary.file) {
                Some(src) => {
                    let span = src.clamp(d.primary.span.clone());
                    let code: String = src.text()[span].split_whitespace().collect();
                    (path_of(src), code)
                }
                None => (String::new(), String::new()),
            };
            let base = fnv1a(&[d.rule.as_bytes(), path.as_bytes(), code.as_bytes()]);
            let nth = seen.entry(base).or_insert(0);
            let fp = fnv1a(&[&base.to_le_bytes(), &nth.to_le_bytes()]);
            *nth += 1;
            format!("{fp:016x}")
        })
        .collect()
}
