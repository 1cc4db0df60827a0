//! A span-preserving YAML tree built from `saphyr-parser` events, and a serde `Deserializer` over it.
//!
//! One parse gives both views the Kubernetes front end needs: typed objects (through serde, so
//! `k8s-openapi` types deserialize straight from the tree) and the exact byte range of every key and
//! value, so findings point at the offending key instead of the document start.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use saphyr_parser::{Event, Parser, ScalarStyle};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

/// Nesting deeper than this is rejected: real manifests stay far below it, and it bounds recursion.
const MAX_DEPTH: usize = 200;
/// Alias expansion budget (nodes), so a "billion laughs" document cannot exhaust memory.
const MAX_ALIAS_NODES: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Byte range of the node's text (for a block collection: first to last child).
    pub span: Range<usize>,
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar { text: String, plain: bool },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub root: Node,
    /// Byte range from the document's first to its last character.
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub offset: usize,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The documents of a YAML stream. On a syntax error, the documents completed before it are
/// returned together with the error.
pub struct Stream {
    pub documents: Vec<Document>,
    pub error: Option<YamlError>,
}

/// Parses like [`parse_stream`], and also accepts what kubectl's YAML reader accepts and YAML 1.2
/// rejects: a flow collection whose closing `]` or `}` stands on a line of its own at its key's
/// indentation (`command: [` … `]`). The closer is moved to the end of the line before — swapped
/// with the line break and indentation in front of it, so the text keeps its length and every
/// other offset stays right — and the text parsed again (a bounded number of times). A line
/// before that holds a `#` is left alone: the closer would land in a comment.
pub fn parse_stream_lenient(text: &str) -> Stream {
    let mut text = std::borrow::Cow::Borrowed(text);
    for _ in 0..64 {
        let stream = parse_stream(&text);
        let Some(e) = &stream.error else {
            return stream;
        };
        let Some(fixed) = move_closer_up(&text, e.offset) else {
            return stream;
        };
        text = std::borrow::Cow::Owned(fixed);
    }
    parse_stream(&text)
}

/// The byte ranges of a stream's documents as its text divides them: each `---` line starts a
/// new one. Read without a parser, so a document that does not parse does not hide the others.
pub fn document_ranges(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let marker = line
            .strip_prefix("---")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n', '#']));
        if marker && at > 0 {
            starts.push(at);
        }
        at += line.len();
    }
    let ends = starts.iter().skip(1).copied().chain([text.len()]);
    starts.iter().zip(ends).map(|(&s, e)| s..e).collect()
}

/// Parses one document range of `text` (see [`document_ranges`]) leniently, with every span and
/// error offset relative to the whole text.
pub fn parse_document_at(text: &str, range: Range<usize>) -> Stream {
    let Some(part) = text.get(range.clone()) else {
        return Stream {
            documents: Vec::new(),
            error: None,
        };
    };
    let mut stream = parse_stream_lenient(part);
    for doc in &mut stream.documents {
        doc.span = doc.span.start + range.start..doc.span.end + range.start;
        shift(&mut doc.root, range.start);
    }
    if let Some(e) = &mut stream.error {
        e.offset += range.start;
    }
    stream
}

fn shift(node: &mut Node, by: usize) {
    node.span = node.span.start + by..node.span.end + by;
    match &mut node.kind {
        NodeKind::Scalar { .. } => {}
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        NodeKind::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            shift(k, by);
            shift(v, by);
        }),
    }
}

/// The text with the flow closer that starts the line at `offset` moved to the end of the line
/// before, or `None` when that line does not start with one.
fn move_closer_up(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let line_start = text.get(..offset)?.rfind('\n').map(|i| i + 1)?;
    let line = &text[line_start..];
    let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
    let closer = line[indent..]
        .chars()
        .next()
        .filter(|c| matches!(c, ']' | '}'))?;
    let break_at = line_start - 1;
    let before = &text[..break_at];
    let previous = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    if previous.contains('#') || previous.trim().is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(before);
    out.push(closer);
    out.push_str(&text[break_at..line_start + indent]);
    out.push_str(&text[line_start + indent + closer.len_utf8()..]);
    Some(out)
}

pub fn parse_stream(text: &str) -> Stream {
    let mut builder = Builder {
        offsets: CharToByte::new(text),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: MAX_ALIAS_NODES,
        documents: Vec::new(),
        doc_start: 0,
        root: None,
    };
    let mut error = None;
    for item in Parser::new_from_str(text) {
        let result = match item {
            Ok((event, span)) => {
                let start = builder.offsets.byte(span.start.index());
                let end = builder.offsets.byte(span.end.index());
                builder.event(event, start..end.max(start))
            }
            Err(e) => Err(YamlError {
                message: e.info().to_string(),
                offset: builder.offsets.byte(e.marker().index()),
            }),
        };
        if let Err(e) = result {
            error = Some(e);
            break;
        }
    }
    Stream {
        documents: builder.documents,
        error,
    }
}

/// Converts saphyr's character indexes to byte offsets, walking from the last position asked.
struct CharToByte<'a> {
    /// The whole input, also used to tighten spans.
    text: &'a str,
    ascii: bool,
    char_pos: usize,
    byte_pos: usize,
}

impl<'a> CharToByte<'a> {
    fn new(text: &'a str) -> Self {
        CharToByte {
            text,
            ascii: text.is_ascii(),
            char_pos: 0,
            byte_pos: 0,
        }
    }

    fn byte(&mut self, char_index: usize) -> usize {
        if self.ascii {
            return char_index.min(self.text.len());
        }
        if char_index < self.char_pos {
            self.char_pos = 0;
            self.byte_pos = 0;
        }
        let mut chars = self.text[self.byte_pos..].chars();
        while self.char_pos < char_index {
            match chars.next() {
                Some(c) => {
                    self.byte_pos += c.len_utf8();
                    self.char_pos += 1;
                }
                None => break,
            }
        }
        self.byte_pos
    }
}

enum Frame {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

struct Builder<'a> {
    offsets: CharToByte<'a>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    alias_budget: usize,
    documents: Vec<Document>,
    doc_start: usize,
    root: Option<Node>,
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Range<usize>) -> Result<(), YamlError> {
        match event {
            Event::DocumentStart(_) => {
                self.doc_start = span.start;
                self.root = None;
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                if let Some(root) = self.root.take() {
                    let end = root.span.end.max(self.doc_start);
                    self.documents.push(Document {
                        span: self.doc_start.min(root.span.start)..end,
                        root,
                    });
                }
            }
            Event::Scalar(value, style, anchor, _tag) => {
                let span = tighten_scalar(self.offsets.text, span, style);
                let node = Node {
                    span,
                    kind: NodeKind::Scalar {
                        text: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                    },
                };
                self.finish(node, anchor)?;
            }
            Event::Alias(id) => {
                let Some((node, count)) = self.anchors.get(&id) else {
                    return Err(YamlError {
                        message: "alias refers to an unknown anchor".into(),
                        offset: span.start,
                    });
                };
                if *count > self.alias_budget {
                    return Err(YamlError {
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} nodes; refusing to expand further"
                        ),
                        offset: span.start,
                    });
                }
                self.alias_budget -= count;
                // The alias's own position is where the value is used; its children keep the
                // anchor's spans.
                let mut node = node.clone();
                node.span = tighten_scalar(self.offsets.text, span, ScalarStyle::Plain);
                self.finish(node, 0)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.push(
                    Frame::Seq {
                        start: span.start,
                        anchor,
                        items: Vec::new(),
                    },
                    span.start,
                )?;
            }
            Event::MappingStart(anchor, _) => {
                self.push(
                    Frame::Map {
                        start: span.start,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    },
                    span.start,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node_and_anchor = match self.stack.pop() {
                    Some(Frame::Seq {
                        start,
                        anchor,
                        items,
                    }) => {
                        let end = items.last().map_or(span.end, |n| n.span.end).max(start);
                        let end = if is_flow_close(&span) {
                            flow_end(self.offsets.text, start).unwrap_or(span.end)
                        } else {
                            end
                        };
                        (
                            Node {
                                span: start..end,
                                kind: NodeKind::Seq(items),
                            },
                            anchor,
                        )
                    }
                    Some(Frame::Map {
                        start,
                        anchor,
                        entries,
                        ..
                    }) => {
                        let entries = apply_merge_keys(entries);
                        let end = entries
                            .last()
                            .map_or(span.end, |(_, v)| v.span.end)
                            .max(start);
                        let end = if is_flow_close(&span) {
                            flow_end(self.offsets.text, start).unwrap_or(span.end)
                        } else {
                            end
                        };
                        (
                            Node {
                                span: start..end,
                                kind: NodeKind::Map(entries),
                            },
                            anchor,
                        )
                    }
                    None => return Ok(()),
                };
                self.finish(node_and_anchor.0, node_and_anchor.1)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn push(&mut self, frame: Frame, offset: usize) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                message: format!("nesting is deeper than {MAX_DEPTH} levels"),
                offset,
            });
        }
        self.stack.push(frame);
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), YamlError> {
        if anchor != 0 {
            let count = count_nodes(&node);
            self.anchors.insert(anchor, (node.clone(), count));
        }
        match self.stack.last_mut() {
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => self.root = Some(node),
        }
        Ok(())
    }
}

/// saphyr's scalar spans run up to the next token, over trailing spaces and comments: cut them
/// back to the scalar's own characters.
fn tighten_scalar(text: &str, span: Range<usize>, style: ScalarStyle) -> Range<usize> {
    let Some(mut raw) = text.get(span.clone()) else {
        return span;
    };
    let mut span = span;
    // `&anchor` and `!tag` properties come before the value.
    while raw.starts_with('&') || raw.starts_with('!') {
        let Some(ws) = raw.find(char::is_whitespace) else {
            break;
        };
        let skip = ws + (raw[ws..].len() - raw[ws..].trim_start().len());
        raw = &raw[skip..];
        span.start += skip;
    }
    let len = match style {
        ScalarStyle::DoubleQuoted => {
            let mut escaped = false;
            raw.char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let close = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    close
                })
                .map(|(i, _)| i + 1)
        }
        ScalarStyle::SingleQuoted => {
            let bytes = raw.as_bytes();
            let mut i = 1;
            let mut found = None;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    found = Some(i + 1);
                    break;
                }
                i += 1;
            }
            found
        }
        ScalarStyle::Plain => {
            let cut = raw
                .char_indices()
                .find(|&(i, c)| c == '#' && i > 0 && raw[..i].ends_with(char::is_whitespace))
                .map_or(raw.len(), |(i, _)| i);
            Some(raw[..cut].trim_end().len())
        }
        _ => Some(raw.trim_end().len()),
    };
    match len {
        Some(l) => span.start..span.start + l,
        None => span,
    }
}

/// The end of a flow collection starting at `start`: after its matching bracket.
fn flow_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(b'"') if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b'#' if i > 0 && bytes[i - 1].is_ascii_whitespace() => {
                    // A comment inside a multi-line flow collection: skip to the line end.
                    while i < bytes.len() && bytes[i] != b'\n' {
                        i += 1;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// A flow collection's end event spans its closing bracket; a block collection's is empty.
fn is_flow_close(span: &Range<usize>) -> bool {
    span.end > span.start
}

fn count_nodes(node: &Node) -> usize {
    match &node.kind {
        NodeKind::Scalar { .. } => 1,
        NodeKind::Seq(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        NodeKind::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count_nodes(k) + count_nodes(v))
                .sum::<usize>()
        }
    }
}

/// YAML 1.1 merge keys (`<<: *base`), which Kubernetes' YAML decoder honours: keys already present win.
fn apply_merge_keys(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge =
        |k: &Node| matches!(&k.kind, NodeKind::Scalar { text, plain: true } if text == "<<");
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let mut own = Vec::new();
    let mut merged = Vec::new();
    for (k, v) in entries {
        if is_merge(&k) {
            match v.kind {
                NodeKind::Map(m) => merged.extend(m),
                NodeKind::Seq(items) => {
                    for item in items {
                        if let NodeKind::Map(m) = item.kind {
                            merged.extend(m);
                        }
                    }
                }
                NodeKind::Scalar { .. } => {}
            }
        } else {
            own.push((k, v));
        }
    }
    for (k, v) in merged {
        let key = k.as_str();
        if key.is_some() && !own.iter().any(|(o, _)| o.as_str() == key) {
            own.push((k, v));
        }
    }
    own
}

impl Node {
    /// The text of a scalar node.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { text, plain: true } if is_null_text(text))
    }

    /// The key node and value node of a mapping entry.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    pub fn index(&self, i: usize) -> Option<&Node> {
        match &self.kind {
            NodeKind::Seq(items) => items.get(i),
            _ => None,
        }
    }
}

fn is_null_text(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(text: &str) -> Option<bool> {
    // Kubernetes decodes YAML 1.1, where yes/no/on/off are booleans too.
    match text {
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits = digits.replace('_', "");
    let value = if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i128::from_str_radix(oct, 8).ok()?
    } else if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -value } else { value })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let looks_numeric = text
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
        && text.bytes().any(|b| b.is_ascii_digit());
    if looks_numeric {
        text.parse().ok()
    } else {
        None
    }
}

// ---- serde ----

/// A deserialization error, located at the innermost node that caused it.
#[derive(Debug, Clone)]
pub struct DeError {
    pub message: String,
    pub span: Option<Range<usize>>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            span: None,
        }
    }
}

impl DeError {
    fn at(mut self, span: &Range<usize>) -> Self {
        if self.span.is_none() {
            self.span = Some(span.clone());
        }
        self
    }
}

/// Deserialize any `T` from a node.
pub fn from_node<T: de::DeserializeOwned>(node: &Node) -> Result<T, DeError> {
    T::deserialize(NodeDe(node))
}

/// Deserialize `T` from a node, leaving out values of the wrong type: a value that does not
/// deserialize is removed (with its key, or as a sequence item; where its removal leaves a
/// required field missing, the enclosing value goes too) and the rest is tried again. Returns
/// the value, if what remains deserializes, and the first error, which names the bad value.
/// Bounded: after [`MAX_RECOVERIES`] removals the object is given up.
pub fn from_node_recovering<T: de::DeserializeOwned>(node: &Node) -> (Option<T>, Option<DeError>) {
    let first = match from_node(node) {
        Ok(v) => return (Some(v), None),
        Err(e) => e,
    };
    let mut current = node.clone();
    let mut error = first.clone();
    for _ in 0..MAX_RECOVERIES {
        let Some(span) = error.span.clone() else {
            break;
        };
        if span == current.span || !remove_node(&mut current, &span) {
            break;
        }
        match from_node(&current) {
            Ok(v) => return (Some(v), Some(first)),
            Err(e) => error = e,
        }
    }
    (None, Some(first))
}

/// How many bad values one object may hold before it is given up.
const MAX_RECOVERIES: usize = 8;

/// Removes the node at `span` below `node`: its map entry (key and value) or its sequence item.
/// A node that ends up holding the span without being a direct child (a missing field reported
/// at its map) goes as a whole.
fn remove_node(node: &mut Node, span: &Range<usize>) -> bool {
    match &mut node.kind {
        NodeKind::Scalar { .. } => false,
        NodeKind::Seq(items) => {
            if let Some(i) = items.iter().position(|n| n.span == *span) {
                items.remove(i);
                return true;
            }
            items.iter_mut().any(|n| remove_node(n, span))
        }
        NodeKind::Map(entries) => {
            if let Some(i) = (entries.iter()).position(|(k, v)| v.span == *span || k.span == *span)
            {
                entries.remove(i);
                return true;
            }
            entries.iter_mut().any(|(_, v)| remove_node(v, span))
        }
    }
}

#[derive(Clone, Copy)]
pub struct NodeDe<'a>(pub &'a Node);

impl NodeDe<'_> {
    fn scalar(&self) -> Option<(&str, bool)> {
        match &self.0.kind {
            NodeKind::Scalar { text, plain } => Some((text, *plain)),
            _ => None,
        }
    }
}

macro_rules! forward_to_any {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            self.deserialize_any(visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = &self.0.span;
        let result = match &self.0.kind {
            NodeKind::Scalar { text, plain: true } => {
                if is_null_text(text) {
                    visitor.visit_unit()
                } else if let Some(b) = parse_bool(text) {
                    visitor.visit_bool(b)
                } else if let Some(i) = parse_int(text) {
                    if let Ok(i) = i64::try_from(i) {
                        visitor.visit_i64(i)
                    } else if let Ok(u) = u64::try_from(i) {
                        visitor.visit_u64(u)
                    } else {
                        visitor.visit_str(text)
                    }
                } else if let Some(f) = parse_float(text) {
                    visitor.visit_f64(f)
                } else {
                    visitor.visit_str(text)
                }
            }
            NodeKind::Scalar { text, plain: false } => visitor.visit_str(text),
            NodeKind::Seq(items) => visitor.visit_seq(SeqAccess {
                items: items.iter(),
            }),
            NodeKind::Map(entries) => visitor.visit_map(MapAccess {
                entries: entries.iter(),
                value: None,
            }),
        };
        result.map_err(|e| e.at(span))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self).map_err(|e| e.at(&self.0.span))
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        // Like Kubernetes' decoder, a plain scalar such as `512` or `1.0` is accepted where a
        // string is expected (`memory: 512`, label values).
        match self.scalar() {
            Some((text, plain)) if !(plain && is_null_text(text)) => visitor
                .visit_str(text)
                .map_err(|e: DeError| e.at(&self.0.span)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.scalar().and_then(|(t, _)| parse_bool(t)) {
            Some(b) => visitor
                .visit_bool(b)
                .map_err(|e: DeError| e.at(&self.0.span)),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            // `containers:` with no value decodes as an empty list in Kubernetes.
            return visitor
                .visit_seq(SeqAccess { items: [].iter() })
                .map_err(|e| e.at(&self.0.span));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            return visitor
                .visit_map(MapAccess {
                    entries: [].iter(),
                    value: None,
                })
                .map_err(|e| e.at(&self.0.span));
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let span = &self.0.span;
        match &self.0.kind {
            NodeKind::Scalar { text, .. } => visitor
                .visit_enum(text.as_str().into_deserializer())
                .map_err(|e: DeError| e.at(span)),
            NodeKind::Map(entries) if entries.len() == 1 => visitor
                .visit_enum(EnumAccess(&entries[0].0, &entries[0].1))
                .map_err(|e| e.at(span)),
            _ => Err(<DeError as de::Error>::custom("expected an enum variant").at(span)),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    forward_to_any! {
        deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_i128
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_u128
        deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf
        deserialize_unit
    }
}

struct SeqAccess<'a> {
    items: std::slice::Iter<'a, Node>,
}

impl<'de> de::SeqAccess<'de> for SeqAccess<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.items.next() {
            Some(node) => seed.deserialize(NodeDe(node)).map(Some),
            None => Ok(None),
        }
    }
}

struct MapAccess<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> de::MapAccess<'de> for MapAccess<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.entries.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(NodeDe(k)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(v) => seed.deserialize(NodeDe(v)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

struct EnumAccess<'a>(&'a Node, &'a Node);

impl<'de, 'a> de::EnumAccess<'de> for EnumAccess<'a> {
    type Error = DeError;
    type Variant = NodeDe<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, NodeDe<'a>), DeError> {
        let variant = seed.deserialize(NodeDe(self.0))?;
        Ok((variant, NodeDe(self.1)))
    }
}

impl<'de> de::VariantAccess<'de> for NodeDe<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Document> {
        let stream = parse_stream(text);
        assert!(stream.error.is_none(), "{:?}", stream.error);
        stream.documents
    }

    fn slice<'a>(text: &'a str, span: &Range<usize>) -> &'a str {
        &text[span.clone()]
    }

    #[test]
    fn documents_divided_by_their_markers() {
        let text = "a: 1\n---\nb: [\n--- # c\nc: 3\n---x: 4\n";
        let ranges = document_ranges(text);
        let parts: Vec<&str> = ranges.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(parts, ["a: 1\n", "---\nb: [\n", "--- # c\nc: 3\n---x: 4\n"]);
        // The broken middle document does not hide the last; spans are the whole text's.
        let last = parse_document_at(text, ranges[2].clone());
        assert!(parse_document_at(text, ranges[1].clone()).error.is_some());
        let c = last.documents[0].root.get("c").expect("c");
        assert_eq!(&text[c.span.clone()], "3");
    }

    #[test]
    fn flow_collections_closed_at_key_indentation_parse_as_kubectl_reads_them() {
        let text = "spec:\n  command: [\n    \"run\",\n    \"--port=80\"\n  ]\n  args: {\n    a: b\n  }\n  image: app:1.0\n";
        assert!(parse_stream(text).error.is_some(), "YAML 1.2 rejects it");
        let stream = parse_stream_lenient(text);
        assert!(stream.error.is_none(), "{:?}", stream.error);
        let spec = stream.documents[0].root.get("spec").expect("spec");
        // Offsets still point into the original text.
        let image = spec.get("image").expect("image");
        assert_eq!(slice(text, &image.span), "app:1.0");
        let command = spec.get("command").expect("command");
        assert_eq!(command.index(1).and_then(Node::as_str), Some("--port=80"));
        // A closer after a comment line is not moved into the comment.
        let commented = "command: [\n  \"run\" # the server\n]\n";
        assert!(parse_stream_lenient(commented).error.is_some());
    }

    #[test]
    fn spans_of_keys_and_values() {
        let text = "a: 1\nb:\n  c: \"x y\"\n  d: [1, 2]\n";
        let d = docs(text);
        let root = &d[0].root;
        let (k, v) = root.entry("a").unwrap();
        assert_eq!(slice(text, &k.span), "a");
        assert_eq!(slice(text, &v.span), "1");
        let b = root.get("b").unwrap();
        let (_, c) = b.entry("c").unwrap();
        assert_eq!(slice(text, &c.span), "\"x y\"");
        let dv = b.get("d").unwrap();
        assert_eq!(slice(text, &dv.span), "[1, 2]");
        assert_eq!(slice(text, &b.span), "c: \"x y\"\n  d: [1, 2]");
    }

    #[test]
    fn spans_exclude_trailing_comments() {
        let text = "a: plain value # c\nb: \"q \\\" x\" # c\nc: 'it''s' # c\nd: [1, [2]] # c\ne: {x: 1} # c\nf: *a\n";
        let text = text.replace("*a", "x");
        let d = docs(&text);
        let root = &d[0].root;
        let get = |k: &str| slice(&text, &root.get(k).unwrap().span).to_string();
        assert_eq!(get("a"), "plain value");
        assert_eq!(get("b"), "\"q \\\" x\"");
        assert_eq!(get("c"), "'it''s'");
        assert_eq!(get("d"), "[1, [2]]");
        assert_eq!(get("e"), "{x: 1}");
    }

    #[test]
    fn multi_document_offsets_and_unicode() {
        let text = "# é comment\nx: ä\n---\ny: z\n";
        let d = docs(text);
        assert_eq!(d.len(), 2);
        let (k, v) = d[1].root.entry("y").unwrap();
        assert_eq!(slice(text, &k.span), "y");
        assert_eq!(slice(text, &v.span), "z");
        assert_eq!(slice(text, &d[0].root.get("x").unwrap().span), "ä");
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let text = "base: &b {cpu: 1, memory: 2}\nx:\n  <<: *b\n  memory: 3\ny: *b\n";
        let d = docs(text);
        let x = d[0].root.get("x").unwrap();
        assert_eq!(x.get("memory").and_then(Node::as_str), Some("3"));
        assert_eq!(x.get("cpu").and_then(Node::as_str), Some("1"));
        assert!(x.get("<<").is_none());
        assert_eq!(
            d[0].root
                .get("y")
                .unwrap()
                .get("cpu")
                .and_then(Node::as_str),
            Some("1")
        );
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let stream = parse_stream(&text);
        assert!(stream.error.unwrap().message.contains("aliases expand"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        let stream = parse_stream(&text);
        assert!(stream.error.is_some());
    }

    #[test]
    fn syntax_error_keeps_earlier_documents() {
        let text = "a: 1\n---\nb: [1, 2\n";
        let stream = parse_stream(text);
        assert_eq!(stream.documents.len(), 1);
        assert!(stream.error.is_some());
    }

    #[test]
    fn deserialize_lenient_scalars() {
        #[derive(serde::Deserialize, Debug)]
        struct T {
            s: String,
            n: Option<i64>,
            b: bool,
            list: Vec<String>,
            m: std::collections::BTreeMap<String, String>,
        }
        let d = docs("s: 512\nn: 7\nb: yes\nlist:\nm: {v: 1.0}\n");
        let t: T = from_node(&d[0].root).unwrap();
        assert_eq!(t.s, "512");
        assert_eq!(t.n, Some(7));
        assert!(t.b);
        assert!(t.list.is_empty());
        assert_eq!(t.m["v"], "1.0");
    }

    #[test]
    fn deserialize_error_is_located() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct T {
            n: i32,
        }
        let text = "n: [1]\n";
        let d = docs(text);
        let err = from_node::<T>(&d[0].root).unwrap_err();
        assert_eq!(slice(text, &err.span.unwrap()), "[1]");
    }
}
