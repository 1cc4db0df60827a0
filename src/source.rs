//! Source files and the one conversion from byte offsets to line/column.

use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Index of a file in a [`SourceDb`].
pub type FileId = usize;

/// The input kinds prodlint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Rust,
    Dockerfile,
    Kubernetes,
    /// GitHub Actions workflows (`.github/workflows/*.yml`).
    Workflow,
    /// Shell scripts, Makefiles and justfiles.
    Script,
}

impl FileKind {
    pub fn name(self) -> &'static str {
        match self {
            FileKind::Rust => "rust",
            FileKind::Dockerfile => "dockerfile",
            FileKind::Kubernetes => "kubernetes",
            FileKind::Workflow => "workflow",
            FileKind::Script => "script",
        }
    }
}

/// A file's text: kept from when the file was checked, or read on first use (a finding to show, a
/// join that looks into the text) — for a Rust file, whose text is let go once it is checked or
/// which the cache answered for without reading it.
#[derive(Debug)]
pub struct Text {
    path: PathBuf,
    text: OnceLock<Arc<String>>,
}

impl Text {
    pub fn loaded(path: PathBuf, text: String) -> Text {
        Text {
            path,
            text: OnceLock::from(Arc::new(text)),
        }
    }

    /// Text to be read from `path` when first needed.
    pub fn unread(path: PathBuf) -> Text {
        Text {
            path,
            text: OnceLock::new(),
        }
    }

    /// The text, read now if it was not. A file changed while prodlint ran shows its new text
    /// (spans are clamped to it, so nothing breaks; a rerun puts them right); one that has become
    /// unreadable reads as empty.
    pub fn shared(&self) -> &Arc<String> {
        self.text.get_or_init(|| {
            let bytes = std::fs::read(&self.path).unwrap_or_default();
            Arc::new(decode(bytes).0)
        })
    }

    pub fn as_str(&self) -> &str {
        self.shared()
    }
}

/// The text prodlint checks for a file's bytes, and how many invalid UTF-8 sequences were
/// replaced (with U+FFFD). A UTF-8 byte-order mark is dropped: no editor counts it as a column,
/// so every column after it would be off by one. Every reader of a file's text goes through here,
/// so spans computed on a first read still fit a later one.
pub fn decode(bytes: Vec<u8>) -> (String, usize) {
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    match String::from_utf8(bytes) {
        Ok(text) => (text, 0),
        Err(e) => {
            let bytes = e.into_bytes();
            let invalid = bytes
                .utf8_chunks()
                .filter(|c| !c.invalid().is_empty())
                .count();
            (String::from_utf8_lossy(&bytes).into_owned(), invalid)
        }
    }
}

/// One checked file: its text and where each line starts.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as found on disk (or the `--stdin-filename`).
    pub path: PathBuf,
    /// The path shown to users: relative to the working directory when under it, `/` separated.
    pub display: String,
    pub kind: FileKind,
    /// Shared with the facts of the file and with renderers, so none of them copies it.
    source_text: Arc<Text>,
    /// Built on first use: most files of a run have no finding and never need it.
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: PathBuf, display: String, kind: FileKind, text: String) -> Self {
        let source_text = Arc::new(Text::loaded(path.clone(), text));
        SourceFile::with_text(path, display, kind, source_text)
    }

    pub fn with_text(path: PathBuf, display: String, kind: FileKind, text: Arc<Text>) -> Self {
        SourceFile {
            path,
            display,
            kind,
            source_text: text,
            line_starts: OnceLock::new(),
        }
    }

    /// The file's text (read now if the cache answered for the file without reading it).
    pub fn text(&self) -> &str {
        self.source_text.as_str()
    }

    /// The text, for a value that outlives the borrow (a renderer's source).
    pub fn shared_text(&self) -> Arc<String> {
        Arc::clone(self.source_text.shared())
    }

    /// The text itself, read or not, to share with the file's facts.
    pub fn text_handle(&self) -> Arc<Text> {
        Arc::clone(&self.source_text)
    }

    /// The same file with its text let go, to be read again from its path when needed.
    pub fn released(self) -> SourceFile {
        let text = Arc::new(Text::unread(self.path.clone()));
        SourceFile::with_text(self.path, self.display, self.kind, text)
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            let mut starts = vec![0];
            starts.extend(
                self.text()
                    .bytes()
                    .enumerate()
                    .filter(|&(_, b)| b == b'\n')
                    .map(|(i, _)| i + 1),
            );
            starts
        })
    }

    /// The same text shown under another name (a Helm template inside rendered output): lines and
    /// columns stay those of this file.
    pub fn alias(&self, display: String) -> SourceFile {
        SourceFile {
            path: self.path.clone(),
            display,
            kind: self.kind,
            source_text: Arc::clone(&self.source_text),
            line_starts: self.line_starts.clone(),
        }
    }

    /// 1-based line and 1-based character column of a byte offset (clamped to the text).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.floor_char_boundary(offset.min(self.text().len()));
        let line = match self.line_starts().binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts()[line];
        let column = self.text()[start..offset].chars().count() + 1;
        (line + 1, column)
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.line_col(offset).0
    }

    /// Byte range of a 1-based line, without its line terminator.
    pub fn line_range(&self, line: usize) -> Range<usize> {
        let Some(&start) = self.line_starts().get(line.wrapping_sub(1)) else {
            return self.text().len()..self.text().len();
        };
        let end = self
            .line_starts()
            .get(line)
            .map(|&next| next - 1)
            .unwrap_or(self.text().len());
        let end = if end > start && self.text().as_bytes().get(end - 1) == Some(&b'\r') {
            end - 1
        } else {
            end
        };
        start..end.max(start)
    }

    pub fn line_count(&self) -> usize {
        self.line_starts().len()
    }

    /// Clamp a span to the text and to character boundaries so it can always be sliced.
    pub fn clamp(&self, span: Range<usize>) -> Range<usize> {
        let start = self.floor_char_boundary(span.start.min(self.text().len()));
        let end = self
            .floor_char_boundary(span.end.min(self.text().len()))
            .max(start);
        start..end
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while offset > 0 && !self.text().is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// All files of a run, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct SourceDb {
    files: Vec<SourceFile>,
}

impl SourceDb {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new("f".into(), "f".into(), FileKind::Kubernetes, text.into())
    }

    #[test]
    fn line_col_counts_characters() {
        let f = file("ab\nçé: x\n");
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        // `:` follows two 2-byte characters: byte 7, character column 3.
        assert_eq!(f.line_col(7), (2, 3));
        assert_eq!(f.line_col(100), (3, 1));
    }

    #[test]
    fn line_range_strips_crlf() {
        let f = file("a\r\nbc\r\n");
        assert_eq!(&f.text()[f.line_range(1)], "a");
        assert_eq!(&f.text()[f.line_range(2)], "bc");
        assert_eq!(f.line_range(9), 7..7);
    }
}
