//! Text assembled from pieces of a source file — a Dockerfile instruction without its line
//! continuations, a YAML block scalar without its indentation, Makefile recipe lines — with the way
//! back from an offset in the text to an offset in the file.

use std::ops::Range;

/// Text assembled from several source pieces, with the way back to source offsets.
#[derive(Debug, Clone, Default)]
pub struct Logical {
    pub text: String,
    /// (offset in `text`, offset in the source) for the start of each copied piece.
    pieces: Vec<(usize, usize)>,
}

impl Logical {
    /// Text with no source behind it, such as the instruction inside `ONBUILD`: its offsets are
    /// its own.
    pub fn from_text(text: &str) -> Logical {
        let mut logical = Logical::default();
        logical.push(0, text);
        logical
    }

    /// Appends `piece`, which stands at `source_offset` in the source.
    pub fn push(&mut self, source_offset: usize, piece: &str) {
        if piece.is_empty() {
            return;
        }
        self.pieces.push((self.text.len(), source_offset));
        self.text.push_str(piece);
    }

    /// Source offset of a logical offset; `end` picks the piece that ends there rather than the
    /// one that starts there.
    fn source_offset(&self, logical: usize, end: bool) -> usize {
        let idx = self
            .pieces
            .partition_point(|&(l, _)| if end { l < logical } else { l <= logical });
        match idx.checked_sub(1).and_then(|i| self.pieces.get(i)) {
            Some(&(l, s)) => s + (logical - l),
            None => self.pieces.first().map_or(0, |&(_, s)| s),
        }
    }

    pub fn source_span(&self, logical: Range<usize>) -> Range<usize> {
        let start = self.source_offset(logical.start, false);
        let end = self.source_offset(logical.end, true).max(start);
        start..end
    }

    /// Whitespace-separated words, honouring single and double quotes (quotes are kept in the
    /// word text; spans are logical offsets).
    pub fn words(&self) -> Vec<(String, Range<usize>)> {
        let mut words = Vec::new();
        let mut start = None;
        let mut quote = None;
        for (i, c) in self.text.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c.is_whitespace() => {
                    if let Some(s) = start.take() {
                        words.push((self.text[s..i].to_string(), s..i));
                    }
                }
                None => {
                    if start.is_none() {
                        start = Some(i);
                    }
                    if c == '"' || c == '\'' {
                        quote = Some(c);
                    }
                }
            }
        }
        if let Some(s) = start {
            words.push((self.text[s..].to_string(), s..self.text.len()));
        }
        words
    }

    /// The JSON array of an exec-form `CMD`/`ENTRYPOINT`/`RUN`, if the arguments are one.
    pub fn exec_form(&self) -> Option<Vec<String>> {
        let trimmed = self.text.trim();
        if !trimmed.starts_with('[') {
            return None;
        }
        serde_json::from_str(trimmed).ok()
    }
}
