//! Shared by the targets: one whole check of one input, as `prodlint check -` runs it.

use prodlint::config::Config;
use prodlint::engine::{check_text, INTERNAL_ERROR};

/// `name` should not lead to a real directory: the Rust front end looks for the enclosing
/// `Cargo.toml` on disk, and parsing fuzz/Cargo.lock on every input would make fuzzing slow.
///
/// Parses `text` as the kind `name` stands for and runs every rule, cross-file ones included.
/// libfuzzer-sys aborts on any panic, even one the engine would catch and report, so a crash is
/// a panic somewhere in parsing or a rule; an `internal-error` diagnostic is treated the same.
pub fn check_one(name: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let report = check_text(name, text, Config::default());
    if let Some(d) = report.diagnostics.iter().find(|d| d.rule == INTERNAL_ERROR) {
        panic!("internal error: {}", d.message);
    }
}
