//! A byte-level pass over Rust source that runs before `syn`: it finds function bodies that hold
//! no identifier any enabled rule or fact needs ("idle" bodies) and blanks them, so `syn` lexes
//! whitespace instead of parsing and the walk has nothing to visit there.
//!
//! Blanking keeps every byte offset (each byte of the body's inside becomes a space, line breaks
//! stay), so spans from the parse of the blanked text are spans in the original file, and the
//! function's own span, signature and braces are unchanged. A body is kept when it contains a
//! wanted identifier anywhere — in nested items, closures and macro arguments too — or when the
//! scanner is unsure (anything it cannot pair up leaves the rest of the file as it is).
//!
//! Rules declare the identifiers they need next to their code (`Rule::triggers`); fact
//! extractors declare theirs beside them (`rust::FACT_TRIGGERS` and friends). The test suite
//! checks every fixture with and without blanking and requires identical findings.

use std::collections::HashSet;
use std::ops::Range;

/// Item keywords: a body that defines items (a nested function, a `static`, a struct that
/// derives `Debug`, a `const` a rule reads by name) is always kept, so the file's items are the
/// same with and without blanking.
const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "static",
    "const",
    "impl",
    "trait",
    "mod",
    "macro_rules",
];

/// What makes a body worth parsing, written as rules and fact extractors declare it:
/// - `"reqwest"`: the identifier anywhere in the body (a crate, a type, a method, a field);
///   for a path, any one segment will do, because imports are followed (a `use` whose path
///   holds a wanted identifier makes the names it binds wanted in that file);
/// - `"info!"`: the identifier invoked as a macro;
/// - [`STATIC_USE`]: an upper-case identifier followed by `.` (a method called on a static);
/// - `"*timeout"`: any identifier ending so;
/// - `"loop|while|for & await & Ok|is_ok"`: every `&`-part present, each part being one of its
///   `|`-alternatives (plain identifiers);
/// - `"warp:path"`: the trigger only in packages that depend on `warp` (files outside a package
///   take every gated trigger).
#[derive(Debug, Default, Clone)]
pub struct Wanted {
    names: HashSet<Box<str>>,
    macros: HashSet<Box<str>>,
    suffixes: Vec<Box<str>>,
    all_of: Vec<Vec<Vec<Box<str>>>>,
    static_use: bool,
}

/// The trigger for a method called on an upper-case static (`SEEN.lock().insert(..)`).
pub const STATIC_USE: &str = "UPPER_CASE.";

impl Wanted {
    /// The wanted set of a package: `depends_on(krate)` says whether it depends on a crate
    /// (by its name in code, `-` written `_`).
    pub fn new<'a>(
        triggers: impl IntoIterator<Item = &'a str>,
        depends_on: impl Fn(&str) -> bool,
    ) -> Wanted {
        let mut w = Wanted::default();
        for t in triggers {
            match t.split_once(':') {
                Some((krate, rest)) if !rest.starts_with(':') && !krate.is_empty() => {
                    if depends_on(krate) {
                        w.add(rest);
                    }
                }
                _ => w.add(t),
            }
        }
        w
    }

    fn add(&mut self, t: &str) {
        if t == STATIC_USE {
            self.static_use = true;
        } else if t.contains('&') {
            let parts = t
                .split('&')
                .map(|part| part.split('|').map(|a| a.trim().into()).collect())
                .collect();
            self.all_of.push(parts);
        } else if let Some(suffix) = t.strip_prefix('*') {
            self.suffixes.push(suffix.into());
        } else if let Some(name) = t.strip_suffix('!') {
            self.macros.insert(name.into());
        } else {
            self.names.insert(t.into());
        }
    }

    /// Adds plain identifiers (a dependency's local name).
    pub fn add_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.names.extend(names.into_iter().map(Box::from));
    }

    pub fn contains(&self, ident: &str) -> bool {
        self.names.contains(ident)
    }

    /// Whether a body's tokens hold something wanted.
    fn wants(&self, bytes: &[u8], body: &[Token]) -> bool {
        let simple = body.iter().enumerate().any(|(i, t)| {
            if t.kind != Kind::Ident {
                return false;
            }
            let text = t.text(bytes);
            let next_is = |c| body.get(i + 1).is_some_and(|n| n.is_punct(bytes, c));
            self.names.contains(text)
                || ITEM_KEYWORDS.contains(&text)
                || (!self.macros.is_empty() && self.macros.contains(text) && next_is(b'!'))
                || (self.static_use && is_upper_case(text) && next_is(b'.'))
                || self.suffixes.iter().any(|s| text.ends_with(&**s))
        });
        simple
            || self.all_of.iter().any(|parts| {
                parts.iter().all(|alternatives| {
                    body.iter().any(|t| {
                        t.kind == Kind::Ident && alternatives.iter().any(|a| **a == *t.text(bytes))
                    })
                })
            })
    }

    /// This set plus the names the file's `use` items bind to paths through a wanted identifier
    /// (`use reqwest::Client;` makes `Client` wanted, `use reqwest::Client as Http;` `Http`), so
    /// a body that names a wanted path by an imported name is kept. `None` when a glob import
    /// goes through a wanted identifier (any name could then be one of its items): keep every
    /// body.
    fn for_file(&self, bytes: &[u8], tokens: &[Token]) -> Option<std::borrow::Cow<'_, Wanted>> {
        let mut bound = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            let is_use = t.is_ident(bytes, "use")
                && tokens.get(i + 1).is_some_and(|n| {
                    n.kind == Kind::Ident || n.is_punct(bytes, b':') || n.kind == Kind::Open(b'{')
                });
            if is_use {
                let mut segs = Vec::new();
                use_tree(bytes, tokens, i + 1, &mut segs, &mut |path, name, glob| {
                    if path.iter().any(|s| self.contains(s)) {
                        match (glob, name) {
                            (true, _) => return false,
                            (false, Some(n)) => bound.push(n),
                            (false, None) => {}
                        }
                    }
                    true
                })?;
            }
            // `extern crate reqwest as http;`
            if t.is_ident(bytes, "crate")
                && tokens
                    .get(i.wrapping_sub(1))
                    .is_some_and(|p| p.is_ident(bytes, "extern"))
            {
                if let (Some(k), Some(a), Some(n)) =
                    (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
                {
                    if a.is_ident(bytes, "as") && self.contains(k.text(bytes)) {
                        bound.push(n.text(bytes));
                    }
                }
            }
        }
        bound.retain(|n| !self.contains(n));
        if bound.is_empty() {
            return Some(std::borrow::Cow::Borrowed(self));
        }
        let mut own = self.clone();
        own.names.extend(bound.into_iter().map(Box::from));
        Some(std::borrow::Cow::Owned(own))
    }
}

/// Called with an import's path, the name it binds and whether it is a glob; `false` stops.
type UseLeaf<'a, 'f> = dyn FnMut(&[&'a str], Option<&'a str>, bool) -> bool + 'f;

/// Walks the use tree starting at token `i` (after `use`, or inside a `{..}` group), calling
/// `leaf(path, bound name, is glob)` for each import; `leaf` returning false stops the walk with
/// `None`. Returns the index after the tree.
fn use_tree<'a>(
    bytes: &'a [u8],
    tokens: &[Token],
    mut i: usize,
    segs: &mut Vec<&'a str>,
    leaf: &mut UseLeaf<'a, '_>,
) -> Option<usize> {
    let depth = segs.len();
    let mut result = None;
    while let Some(t) = tokens.get(i) {
        match t.kind {
            Kind::Ident => {
                segs.push(t.text(bytes));
                i += 1;
                if tokens.get(i).is_some_and(|n| n.is_ident(bytes, "as")) {
                    let alias = tokens.get(i + 1).filter(|n| n.kind == Kind::Ident);
                    let name = alias.map(|a| a.text(bytes)).filter(|a| *a != "_");
                    if !leaf(segs, name, false) {
                        break;
                    }
                    result = Some(i + 2);
                    break;
                }
                if tokens.get(i).is_some_and(|n| n.is_punct(bytes, b':')) {
                    i += 2;
                    continue;
                }
                // `a::b::self` binds `b`.
                let name = match segs.as_slice() {
                    [.., prev, "self"] => Some(*prev),
                    [.., last] => Some(*last),
                    [] => None,
                };
                if !leaf(segs, name, false) {
                    break;
                }
                result = Some(i);
                break;
            }
            Kind::Open(b'{') => {
                let close = t.partner?;
                let mut j = i + 1;
                while j < close {
                    let end = use_tree(bytes, tokens, j, segs, leaf)?;
                    j = end.max(j + 1);
                    // Up to the next comma of this group.
                    while j < close && !tokens[j].is_punct(bytes, b',') {
                        j = tokens[j].partner.map_or(j, |p| p.max(j)) + 1;
                    }
                    j += 1;
                }
                result = Some(close + 1);
                break;
            }
            _ if t.is_punct(bytes, b'*') => {
                if !leaf(segs, None, true) {
                    break;
                }
                result = Some(i + 1);
                break;
            }
            // A leading `::`.
            _ if t.is_punct(bytes, b':') => i += 1,
            _ => {
                result = Some(i);
                break;
            }
        }
    }
    segs.truncate(depth);
    result
}

/// The text with idle function bodies blanked, and their ranges; `None` when there are none.
pub fn blank_idle_bodies(text: &str, wanted: &Wanted) -> Option<(String, Vec<Range<usize>>)> {
    let bodies = idle_bodies(text, wanted);
    if bodies.is_empty() {
        return None;
    }
    let mut bytes = text.as_bytes().to_vec();
    for r in &bodies {
        for b in &mut bytes[r.clone()] {
            if *b != b'\n' && *b != b'\r' {
                *b = b' ';
            }
        }
    }
    // Only ASCII bytes were written, over whole characters (a body's inside starts after `{`
    // and ends before `}`), so the text stays UTF-8.
    String::from_utf8(bytes).ok().map(|s| (s, bodies))
}

/// The insides (between the braces) of function bodies that hold no wanted identifier.
pub fn idle_bodies(text: &str, wanted: &Wanted) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let Some(tokens) = tokenize(bytes) else {
        return Vec::new();
    };
    let Some(wanted) = wanted.for_file(bytes, &tokens) else {
        return Vec::new();
    };
    let mut idle = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // `fn name ... {` — a function with a body; `fn(` is a pointer type.
        if tokens[i].is_ident(bytes, "fn")
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
        {
            match body_of(&tokens, i + 2) {
                Some((open, close)) => {
                    let inside = tokens[open].end..tokens[close].start;
                    let used = wanted.wants(bytes, &tokens[open + 1..close]);
                    if used {
                        // Nested functions are judged on their own.
                        i = open + 1;
                    } else {
                        idle.push(inside);
                        i = close + 1;
                    }
                    continue;
                }
                None => {
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    idle
}

/// The opening and closing brace tokens of the body of the function whose signature starts at
/// token `from`, or `None` for a declaration without a body (`;`) or anything unexpected.
fn body_of(tokens: &[Token], from: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut i = from;
    while let Some(t) = tokens.get(i) {
        match t.kind {
            Kind::Open(b'(') | Kind::Open(b'[') => depth += 1,
            Kind::Close(b')') | Kind::Close(b']') => depth = depth.checked_sub(1)?,
            Kind::Open(b'{') if depth == 0 => return Some((i, t.partner?)),
            // A const-generic block in the signature: skip it.
            Kind::Open(b'{') => i = t.partner?,
            Kind::Semi if depth == 0 => return None,
            Kind::Close(_) => return None,
            _ => {}
        }
        i += 1;
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ident,
    Open(u8),
    Close(u8),
    Semi,
    /// Any other punctuation, literal or lifetime.
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
    /// For brackets: the index of the matching bracket.
    partner: Option<usize>,
}

impl Token {
    fn text<'a>(&self, bytes: &'a [u8]) -> &'a str {
        std::str::from_utf8(&bytes[self.start..self.end]).unwrap_or("")
    }

    fn is_ident(&self, bytes: &[u8], word: &str) -> bool {
        self.kind == Kind::Ident && &bytes[self.start..self.end] == word.as_bytes()
    }

    fn is_punct(&self, bytes: &[u8], c: u8) -> bool {
        self.kind == Kind::Other && self.end == self.start + 1 && bytes[self.start] == c
    }
}

/// `SEEN`, `HTTP_CLIENT`: at least two characters, upper-case letters, digits and `_`.
fn is_upper_case(s: &str) -> bool {
    s.len() > 1
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Splits the text into identifiers, brackets (paired up), `;` and everything else, skipping
/// comments and the insides of literals. `None` when brackets do not pair up or a literal or
/// comment is not closed: the caller then blanks nothing.
fn tokenize(b: &[u8]) -> Option<Vec<Token>> {
    let mut tokens: Vec<Token> = Vec::with_capacity(b.len() / 4);
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    let n = b.len();
    let push = |tokens: &mut Vec<Token>, kind, start, end| {
        tokens.push(Token {
            kind,
            start,
            end,
            partner: None,
        })
    };
    while i < n {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr(b'\n', &b[i..]).map_or(n, |p| i + p);
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 1;
                i += 2;
                while depth > 0 {
                    match (b.get(i), b.get(i + 1)) {
                        (Some(b'/'), Some(b'*')) => {
                            depth += 1;
                            i += 2;
                        }
                        (Some(b'*'), Some(b'/')) => {
                            depth -= 1;
                            i += 2;
                        }
                        (Some(_), _) => i += 1,
                        (None, _) => return None,
                    }
                }
            }
            b'"' => {
                i = string_end(b, i + 1)?;
                push(&mut tokens, Kind::Other, start, i);
            }
            b'\'' => {
                i = quote_end(b, i);
                push(&mut tokens, Kind::Other, start, i);
            }
            b'(' | b'[' | b'{' => {
                open.push(tokens.len());
                push(&mut tokens, Kind::Open(c), start, i + 1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                let o = open.pop()?;
                if tokens[o].kind != Kind::Open(want) {
                    return None;
                }
                tokens[o].partner = Some(tokens.len());
                tokens.push(Token {
                    kind: Kind::Close(c),
                    start,
                    end: i + 1,
                    partner: Some(o),
                });
                i += 1;
            }
            b';' => {
                push(&mut tokens, Kind::Semi, start, i + 1);
                i += 1;
            }
            _ if is_ident_start(c) => {
                // Prefixed literals: r"..", r#".."#, b"..", br"..", b'x', c"..", cr"..".
                if let Some(end) = prefixed_literal(b, i) {
                    i = end?;
                    push(&mut tokens, Kind::Other, start, i);
                    continue;
                }
                // Raw identifiers: r#type is the identifier `type`.
                let mut s = i;
                if c == b'r'
                    && b.get(i + 1) == Some(&b'#')
                    && b.get(i + 2).is_some_and(|&x| is_ident_start(x))
                {
                    s = i + 2;
                }
                i = s;
                while i < n && is_ident_continue(b[i]) {
                    i += 1;
                }
                push(&mut tokens, Kind::Ident, s, i);
            }
            b'0'..=b'9' => {
                while i < n && (is_ident_continue(b[i])) {
                    i += 1;
                }
                push(&mut tokens, Kind::Other, start, i);
            }
            _ => {
                i += 1;
                push(&mut tokens, Kind::Other, start, i);
            }
        }
    }
    if !open.is_empty() {
        return None;
    }
    Some(tokens)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&x| x == needle)
}

/// The end of a `"`-string whose contents start at `i` (escapes honoured).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The end of a raw string whose `r` is at `i`: `r#*"…"#*`.
fn raw_string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    let mut hashes = 0;
    while b.get(j) == Some(&b'#') {
        hashes += 1;
        j += 1;
    }
    if b.get(j) != Some(&b'"') {
        return None;
    }
    j += 1;
    while j < b.len() {
        if b[j] == b'"'
            && b[j + 1..]
                .iter()
                .take(hashes)
                .filter(|&&x| x == b'#')
                .count()
                == hashes
            && b.len() >= j + 1 + hashes
        {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    None
}

/// A char literal (`'x'`, `'\n'`, `'\u{1F600}'`, `'é'`) or a lifetime/label (`'a`, `'static`):
/// the end of whichever starts at `i`.
fn quote_end(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(b'\\') => {
            // An escaped char: up to the closing quote, which is near.
            let mut j = i + 2;
            while j < b.len() && j < i + 16 {
                if b[j] == b'\'' && j > i + 2 {
                    return j + 1;
                }
                j += 1;
            }
            i + 2
        }
        Some(_) => {
            // One character (possibly multi-byte) then a quote: a char literal.
            let mut j = i + 2;
            while j < b.len() && (b[j] & 0xC0) == 0x80 {
                j += 1;
            }
            if b.get(j) == Some(&b'\'') {
                return j + 1;
            }
            // A lifetime or label: the identifier after the quote.
            let mut j = i + 1;
            while j < b.len() && is_ident_continue(b[j]) {
                j += 1;
            }
            j.max(i + 1)
        }
        None => i + 1,
    }
}

/// When a literal with a prefix starts at `i` (`r"`, `r#"`, `b"`, `br"`, `b'`, `c"`, `cr"`):
/// `Some(end)` with `end` `None` when it is not closed. `None` when no such literal starts here.
fn prefixed_literal(b: &[u8], i: usize) -> Option<Option<usize>> {
    let at = |k: usize| b.get(i + k).copied();
    match (at(0)?, at(1), at(2)) {
        (b'r', Some(b'"'), _) | (b'r', Some(b'#'), Some(b'"' | b'#')) => Some(raw_string_end(b, i)),
        (b'b' | b'c', Some(b'r'), Some(b'"' | b'#')) => Some(raw_string_end(b, i + 1)),
        (b'b' | b'c', Some(b'"'), _) => Some(string_end(b, i + 2)),
        (b'b', Some(b'\''), _) => Some(Some(quote_end(b, i + 1))),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wanted(triggers: &[&str]) -> Wanted {
        Wanted::new(triggers.iter().copied(), |_| true)
    }

    /// The text of each idle body.
    fn idle<'t>(src: &'t str, triggers: &[&str]) -> Vec<&'t str> {
        idle_bodies(src, &wanted(triggers))
            .into_iter()
            .map(|r| src[r].trim())
            .collect()
    }

    #[test]
    fn blanks_bodies_without_a_trigger() {
        let src = "fn a() { let x = 1; }\nfn b() { reqwest::get(u); }\nimpl S { fn c(&self) -> u8 { 2 } }";
        assert_eq!(idle(src, &["reqwest"]), ["let x = 1;", "2"]);
        let (text, ranges) = blank_idle_bodies(src, &wanted(&["reqwest"])).unwrap();
        assert_eq!(text.len(), src.len());
        assert_eq!(ranges.len(), 2);
        let blank = " ".repeat(" let x = 1; ".len());
        assert!(text.starts_with(&format!("fn a() {{{blank}}}\nfn b() {{ reqwest")));
        assert!(syn::parse_file(&text).is_ok());
    }

    #[test]
    fn follows_imports_to_wanted_paths() {
        let src = "use reqwest::{Client as Http, header};\nfn a() { Http::new() }\nfn b() { header::X }\nfn c() { Client::new() }";
        // `Http` and `header` are bound through `reqwest`; `Client` is not bound in this file.
        assert_eq!(idle(src, &["reqwest"]), ["Client::new()"]);
        let glob = "use reqwest::*;\nfn a() { get(u) }";
        assert!(idle(glob, &["reqwest"]).is_empty());
        let krate = "extern crate reqwest as http;\nfn a() { http::get(u) }";
        assert!(idle(krate, &["reqwest"]).is_empty());
    }

    #[test]
    fn keeps_bodies_that_define_items() {
        let src = "fn a() { static X: u8 = 1; }\nfn b() { fn inner() { 1 } inner() }";
        // `b` is kept for its nested function, whose own body is idle.
        assert_eq!(idle(src, &[]), ["1"]);
    }

    #[test]
    fn trigger_kinds() {
        assert!(idle("fn a() { info!(\"x\") }", &["info!"]).is_empty());
        assert_eq!(
            idle("fn a() { let info = 1; }", &["info!"]),
            ["let info = 1;"]
        );
        assert!(idle("fn a() { SEEN.lock() }", &[STATIC_USE]).is_empty());
        assert_eq!(idle("fn a() { SEEN::x() }", &[STATIC_USE]).len(), 1);
        assert!(idle("fn a() { b.read_timeout(d) }", &["*timeout"]).is_empty());
        let conj = ["loop|while & await & Ok"];
        assert!(idle("fn a() { loop { if let Ok(x) = f().await {} } }", &conj).is_empty());
        assert_eq!(idle("fn a() { loop { f().await } }", &conj).len(), 1);
        let gated = Wanted::new(["warp:path"], |k| k == "axum");
        assert_eq!(idle_bodies("fn a() { path(x) }", &gated).len(), 1);
    }

    #[test]
    fn lexes_literals_comments_and_lifetimes() {
        let src = r##"fn a<'x>(s: &'x str) -> char { let _ = "}{"; let _ = r#"}"#; /* } /* { */ */ '}' }
fn b() { let c = '\''; let l: &'static str = "x"; // }
 b'}' }
fn c() -> u8 { reqwest }"##;
        let got = idle(src, &["reqwest"]);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[1].ends_with("b'}'"));
    }

    #[test]
    fn declarations_and_pointer_types_have_no_body() {
        let src = "trait T { fn a(&self); fn b() { 1 } }\nstruct S { f: fn(u8) -> u8 }\nextern \"C\" { fn c(); }";
        assert_eq!(idle(src, &[]), ["1"]);
    }

    #[test]
    fn unbalanced_text_is_left_alone() {
        assert!(idle("fn a() { 1 ", &[]).is_empty());
        assert!(idle("fn a() { \"open }", &[]).is_empty());
        assert!(idle("fn a() { ) }", &[]).is_empty());
    }

    #[test]
    fn multibyte_text_keeps_offsets() {
        let src = "fn a() { \"é\" }\nfn b() { reqwest }";
        let (text, _) = blank_idle_bodies(src, &wanted(&["reqwest"])).unwrap();
        assert_eq!(text.len(), src.len());
        assert_eq!(text.find("reqwest"), src.find("reqwest"));
    }
}
