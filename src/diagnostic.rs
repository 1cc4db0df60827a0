//! The diagnostic model: plain data that every output format reads.

use std::ops::Range;

use crate::source::FileId;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

/// A byte range in one file, with an optional message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: FileId,
    pub span: Range<usize>,
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Rule name, kebab-case; the only identifier users see.
    pub rule: &'static str,
    pub severity: Severity,
    /// Names this instance; lowercase, no trailing period.
    pub message: String,
    pub primary: Label,
    /// Locations in this or other files that explain the finding.
    pub related: Vec<Label>,
    /// How to fix it.
    pub help: Option<String>,
}
