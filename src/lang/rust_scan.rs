//! A byte-level pass over Rust source that runs before `syn`: it finds function bodies that hold
//! no identifier any enabled rule or fact needs ("idle" bodies), whose insides `RustFile::parse`
//! then cuts out, so `syn` neither lexes nor parses them and the walk has nothing to visit there.
//!
//! The function keeps its name and its braces (`fn f() {}`) — its parameters and return type go
//! too when no attribute, generic parameter or trigger makes them worth reading — and `RustFile`
//! maps every span of the shortened text back to the original file. A body is kept when it
//! contains a wanted identifier anywhere — in nested items, closures and macro arguments too — or when the
//! scanner is unsure (anything it cannot pair up leaves the rest of the file as it is).
//!
//! Rules declare what they need next to their code (`Check::Rust(check, TRIGGERS)`,
//! `Check::RustFacts`); fact extractors declare theirs beside them (`rust::FACT_TRIGGERS`). The
//! fixture harness checks every case with and without cutting and requires identical output.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

/// Sets and maps of short strings hashed with the Fx function (rustc's): every identifier of a
/// body is looked up, and SipHash would cost more than the lookup saves.
type FastSet<T> = HashSet<T, BuildHasherDefault<FxHasher>>;
type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, b: u8) {
        self.add(u64::from(b));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// Item keywords: a body that defines items (a nested function, a `static`, a struct that
/// derives `Debug`) is always kept, so every item a rule reads is there with and without cutting
/// (only imports and constants nothing parsed names are left out, see [`unread_items`]).
/// `const` is left out: a constant in a body is visible only there, and rules look constants up
/// from the body that uses them.
const ITEM_KEYWORDS: &[&str] = &[
    "fn",
    "struct",
    "enum",
    "union",
    "static",
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
/// - `"*timeout"`, `"register_*_vec!"`: any identifier (macro) starting and ending so;
/// - [`LOGS_SECRET`]: a log macro that writes a secret-like value;
/// - [`LOGS_DEBUG`]: a log macro that formats a value with `Debug` — noted, not kept: a body it
///   is the only reason for is cut, and [`Idle::debug_logs`] keeps where its function is and
///   the type names it mentions (a reader that needs one parses that function; see
///   `RustFileFacts::debug_logged`);
/// - `"fs & async"`, `"*timeout & MAX|INFINITY"`: every `&`-part present, each part being one of
///   its `|`-alternatives (identifiers or globs); the `async` of an `async fn` counts as in its
///   body;
/// - `"loop|while(!let)|for(..) { await & Ok|is_ok }"`: every part inside the block of one of
///   the keywords (with a `while`/`for` condition: a superset of the loop body); `(!let)`: not
///   followed by `let`, `(..)`: with `..` before the block;
/// - `"warp:path"`: the trigger only in packages that depend on `warp` (files outside a package
///   take every gated trigger).
#[derive(Debug, Clone)]
pub struct Wanted {
    /// Every identifier that means something to the scan, so a body's identifier costs one
    /// lookup: wanted names and macros, item keywords, log macros, the words of conjunctions.
    words: FastMap<Box<[u8]>, Word>,
    globs: Vec<Glob>,
    /// Globs that are alternatives of a conjunction, with the bit they set.
    conjunction_globs: Vec<(Glob, u128)>,
    conjunctions: Vec<Conjunction>,
    /// How many conjunction words have a bit (at most 128).
    bits: u32,
    /// The bit of `async`, when a conjunction names it (set by an `async fn` header).
    async_bit: u128,
    logs_secret: bool,
    logs_debug: bool,
}

/// What an identifier is to the scan.
#[derive(Debug, Default, Clone, Copy)]
struct Word {
    /// Wanted anywhere.
    name: bool,
    /// Wanted when invoked as a macro.
    as_macro: bool,
    /// An item keyword ([`ITEM_KEYWORDS`]).
    item: bool,
    /// A log macro (`rust_logging::LOG_MACROS`).
    log: bool,
    /// A channel's send method (`rust_service::SEND_METHODS`).
    send: bool,
    /// Its bit among the words of conjunctions, if it is one.
    bit: u128,
}

/// What a body holds that is read on demand when the body is cut (see [`Idle`]).
#[derive(Default)]
struct Notes<'t> {
    /// A log macro formatting with `Debug` ([`LOGS_DEBUG`]).
    debug_log: bool,
    /// Upper-case names followed by `.`: methods called on a static.
    statics: Vec<&'t str>,
    /// Names a send method is called on (`tx.send(..)`, `self.tx.clone().send(..)` → `tx`).
    senders: Vec<&'t str>,
}

#[derive(Debug, Clone)]
struct Glob {
    prefix: Box<[u8]>,
    suffix: Box<[u8]>,
    /// Only when invoked as a macro.
    as_macro: bool,
}

impl Glob {
    /// `prefix*suffix`, `prefix*suffix!` (a macro); `None` without a `*`.
    fn parse(pattern: &str) -> Option<Glob> {
        let (prefix, suffix) = pattern.split_once('*')?;
        let (suffix, as_macro) = match suffix.strip_suffix('!') {
            Some(s) => (s, true),
            None => (suffix, false),
        };
        Some(Glob {
            prefix: prefix.as_bytes().into(),
            suffix: suffix.as_bytes().into(),
            as_macro,
        })
    }

    fn matches(&self, text: &[u8]) -> bool {
        // Every identifier is tried against every glob: the last byte rules out most first.
        text.len() >= self.prefix.len() + self.suffix.len()
            && self.suffix.last().is_none_or(|b| text.last() == Some(b))
            && text.starts_with(&self.prefix)
            && text.ends_with(&self.suffix)
    }
}

/// `a|b & c`: holds when every part has one of its alternatives; a scoped one only inside the
/// block of one of its keywords.
#[derive(Debug, Clone)]
struct Conjunction {
    /// The keywords' bits (`loop|while|for { .. }`); 0 for a conjunction over the whole body.
    scope: u128,
    /// What must stand between a keyword (by its bit) and its block: `while(!let)`, `for(..)`.
    heads: Vec<(u128, Head)>,
    /// Each part's alternatives, as bits.
    parts: Vec<u128>,
}

impl Conjunction {
    fn holds(&self, hits: u128) -> bool {
        self.parts.iter().all(|p| hits & p != 0)
    }

    /// Whether the head `tokens[head]` after the keyword whose bit is `keyword` qualifies.
    fn head_fits(&self, bytes: &[u8], tokens: &[Token], keyword: u128, head: Range<usize>) -> bool {
        (self.heads.iter())
            .filter(|(bit, _)| bit & keyword != 0)
            .all(|(_, h)| h.fits(bytes, &tokens[head.clone()]))
    }
}

/// A condition on the tokens between a scope keyword and its block.
#[derive(Debug, Clone)]
enum Head {
    /// `while(!let)`: they do not start with this identifier.
    NotFirst(Box<[u8]>),
    /// `for(..)`: they hold this punctuation, one character per token.
    Holds(Box<[u8]>),
}

impl Head {
    fn parse(cond: &str) -> Head {
        match cond.strip_prefix('!') {
            Some(word) => Head::NotFirst(word.as_bytes().into()),
            None => Head::Holds(cond.as_bytes().into()),
        }
    }

    fn fits(&self, bytes: &[u8], head: &[Token]) -> bool {
        match self {
            Head::NotFirst(word) => head.first().is_none_or(|t| t.bytes(bytes) != &**word),
            Head::Holds(punct) => head.windows(punct.len().max(1)).any(|w| {
                w.iter()
                    .zip(punct.iter())
                    .all(|(t, &c)| t.is_punct(bytes, c))
            }),
        }
    }
}

/// The trigger for a log macro (`rust_logging::LOG_MACROS`) whose arguments hold a secret-like
/// name (an identifier, or a word of its format string).
pub const LOGS_SECRET: &str = "log!(secret)";

/// A log macro whose arguments format with `Debug` (`?x`, `{:?}`): noted in [`Idle`], not kept.
/// Almost every function body that logs does so with `Debug`, and only logs of a variable whose
/// type derives `Debug` with secret fields matter — a type the function names (its parameter,
/// annotation or constructor: `rust::local_type`). Those few functions are parsed on demand.
pub const LOGS_DEBUG: &str = "log!(?)";

impl Wanted {
    /// The wanted set of a package: `depends_on(krate)` says whether it depends on a crate
    /// (by its name in code, `-` written `_`).
    pub fn new<'a>(
        triggers: impl IntoIterator<Item = &'a str>,
        depends_on: impl Fn(&str) -> bool,
    ) -> Wanted {
        let mut w = Wanted {
            words: FastMap::default(),
            globs: Vec::new(),
            conjunction_globs: Vec::new(),
            conjunctions: Vec::new(),
            bits: 0,
            async_bit: 0,
            logs_secret: false,
            logs_debug: false,
        };
        for k in ITEM_KEYWORDS {
            w.word(k).item = true;
        }
        for m in crate::lang::rust_logging::LOG_MACROS {
            w.word(m).log = true;
        }
        for m in crate::lang::rust_service::SEND_METHODS {
            w.word(m).send = true;
        }
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
        w.async_bit = w.words.get(&b"async"[..]).map_or(0, |a| a.bit);
        w
    }

    fn word(&mut self, text: &str) -> &mut Word {
        self.words.entry(text.as_bytes().into()).or_default()
    }

    fn add(&mut self, t: &str) {
        if t == LOGS_SECRET {
            self.logs_secret = true;
        } else if t == LOGS_DEBUG {
            self.logs_debug = true;
        } else if t.contains('&') || t.contains('{') {
            let (scope, inner) = match t.split_once('{') {
                Some((scope, inner)) => (Some(scope), inner.trim_end().trim_end_matches('}')),
                None => (None, t),
            };
            // `while(!let)`: the keyword, and a condition on what follows it.
            let mut heads = Vec::new();
            let scope = match scope {
                None => Some(0),
                Some(s) => s.split('|').try_fold(0, |mask, alt| {
                    let (word, cond) = match alt.trim().split_once('(') {
                        Some((word, cond)) => (word, Some(cond.trim_end_matches(')'))),
                        None => (alt, None),
                    };
                    let bit = self.alternatives(word)?;
                    if let Some(cond) = cond {
                        heads.push((bit, Head::parse(cond)));
                    }
                    Some(mask | bit)
                }),
            };
            let parts: Option<Vec<u128>> = inner.split('&').map(|p| self.alternatives(p)).collect();
            match (scope, parts) {
                (Some(scope), Some(parts)) => self.conjunctions.push(Conjunction {
                    scope,
                    heads,
                    parts,
                }),
                // More than 128 distinct words: a conjunction that always holds keeps more
                // bodies, never fewer.
                _ => self.conjunctions.push(Conjunction {
                    scope: 0,
                    heads: Vec::new(),
                    parts: Vec::new(),
                }),
            }
        } else if let Some(glob) = Glob::parse(t) {
            self.globs.push(glob);
        } else if let Some(name) = t.strip_suffix('!') {
            self.word(name).as_macro = true;
        } else {
            self.word(t).name = true;
        }
    }

    /// The bits of `a|b|*c`, giving each new word (or glob) one; `None` past 128 of them.
    fn alternatives(&mut self, part: &str) -> Option<u128> {
        let mut mask = 0;
        for a in part.split('|').map(str::trim).filter(|a| !a.is_empty()) {
            if let Some(glob) = Glob::parse(a) {
                let bit = self.next_bit()?;
                self.conjunction_globs.push((glob, bit));
                mask |= bit;
                continue;
            }
            let known = self.word(a).bit;
            let bit = match known {
                0 => {
                    let bit = self.next_bit()?;
                    self.word(a).bit = bit;
                    bit
                }
                bit => bit,
            };
            mask |= bit;
        }
        Some(mask)
    }

    fn next_bit(&mut self) -> Option<u128> {
        let bit = 1u128.checked_shl(self.bits)?;
        self.bits += 1;
        Some(bit)
    }

    /// Adds plain identifiers (a dependency's local name).
    pub fn add_names<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        for n in names {
            self.word(n).name = true;
        }
    }

    pub fn contains(&self, ident: &str) -> bool {
        self.words.get(ident.as_bytes()).is_some_and(|w| w.name)
    }

    /// Whether the tokens of a body (`tokens[body]`) hold something wanted, or a name the file
    /// binds to a wanted path (`bound`); `header` are conjunction bits the function's header
    /// sets (`async`). Fills `notes` on the way (complete only when the answer is no: a body
    /// that is kept is not read to its end).
    fn wants<'t>(
        &self,
        bytes: &'t [u8],
        bound: &FastSet<&[u8]>,
        tokens: &[Token],
        body: Range<usize>,
        header: u128,
        notes: &mut Notes<'t>,
    ) -> bool {
        let logs = self.logs_secret || self.logs_debug;
        let mut hits = header;
        for i in body.clone() {
            let t = &tokens[i];
            if t.kind != Kind::Ident {
                continue;
            }
            let text = t.bytes(bytes);
            let next_is = |c| tokens.get(i + 1).is_some_and(|n| n.is_punct(bytes, c));
            if let Some(w) = self.words.get(text) {
                if w.name || w.item || (w.as_macro && next_is(b'!')) {
                    return true;
                }
                if w.log && logs && next_is(b'!') {
                    let l = what_logs(bytes, tokens, i);
                    notes.debug_log |= self.logs_debug && l.debug;
                    if self.logs_secret && l.secret {
                        return true;
                    }
                }
                if w.send {
                    notes.senders.extend(receiver_before(bytes, tokens, i));
                }
                hits |= w.bit;
            }
            if text.first().is_some_and(u8::is_ascii_uppercase) && next_is(b'.') {
                let name = t.text(bytes);
                if is_upper_case(name) {
                    notes.statics.push(name);
                }
            }
            if !bound.is_empty() && bound.contains(text) {
                return true;
            }
            if self
                .globs
                .iter()
                .any(|g| g.matches(text) && (!g.as_macro || next_is(b'!')))
            {
                return true;
            }
            hits |= self.glob_bits(text);
        }
        if self
            .conjunctions
            .iter()
            .any(|c| c.scope == 0 && c.holds(hits))
        {
            return true;
        }
        let scopes = self
            .conjunctions
            .iter()
            .filter(|c| c.scope & hits != 0)
            .fold(0, |m, c| m | c.scope);
        scopes != 0 && self.holds_in_scope(bytes, tokens, body, scopes)
    }

    /// Whether a scoped conjunction holds inside the block of one of the `scopes` keywords in
    /// `tokens[body]`.
    fn holds_in_scope(
        &self,
        bytes: &[u8],
        tokens: &[Token],
        body: Range<usize>,
        scopes: u128,
    ) -> bool {
        body.clone().any(|k| {
            let t = &tokens[k];
            if t.kind != Kind::Ident {
                return false;
            }
            let bit = self.words.get(t.bytes(bytes)).map_or(0, |w| w.bit);
            if bit & scopes == 0 {
                return false;
            }
            let Some((block, open)) = keyword_block(bytes, tokens, k, body.end) else {
                return false;
            };
            let hits = self.hits(bytes, tokens, block);
            self.conjunctions.iter().any(|c| {
                c.scope & bit != 0 && c.holds(hits) && c.head_fits(bytes, tokens, bit, k + 1..open)
            })
        })
    }

    /// The conjunction bits of the identifiers of `tokens[range]`.
    fn hits(&self, bytes: &[u8], tokens: &[Token], range: Range<usize>) -> u128 {
        let mut hits = 0;
        for t in &tokens[range] {
            if t.kind != Kind::Ident {
                continue;
            }
            let text = t.bytes(bytes);
            hits |= self.words.get(text).map_or(0, |w| w.bit) | self.glob_bits(text);
        }
        hits
    }

    /// The bits of the conjunction globs an identifier matches.
    fn glob_bits(&self, text: &[u8]) -> u128 {
        (self.conjunction_globs.iter())
            .filter(|(g, _)| g.matches(text))
            .fold(0, |m, (_, bit)| m | bit)
    }

    /// The names the file's `use` items bind to paths through a wanted identifier (`use
    /// reqwest::Client;` binds `Client`, `use reqwest::Client as Http;` `Http`), so a body that
    /// names a wanted path by an imported name is kept. `None` when a glob import goes through a
    /// wanted identifier (any name could then be one of its items): keep every body.
    fn bound_in<'t>(&self, bytes: &'t [u8], tokens: &[Token]) -> Option<FastSet<&'t [u8]>> {
        let mut bound = FastSet::default();
        for (i, t) in tokens.iter().enumerate() {
            if starts_use(bytes, tokens, i) {
                let mut segs = Vec::new();
                use_tree(bytes, tokens, i + 1, &mut segs, &mut |path, name, glob| {
                    if path.iter().any(|s| self.contains(s)) {
                        match (glob, name) {
                            (true, _) => return false,
                            (false, Some(n)) => {
                                bound.insert(n.as_bytes());
                            }
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
                        bound.insert(n.bytes(bytes));
                    }
                }
            }
        }
        Some(bound)
    }
}

/// The name a send method at token `at` is called on, as `rust::value_name` takes it:
/// `tx.send`, `self.tx.send`, through `.clone()` and `.as_ref()` (`tx.clone().send`).
fn receiver_before<'t>(bytes: &'t [u8], tokens: &[Token], at: usize) -> Option<&'t str> {
    let mut dot = at
        .checked_sub(1)
        .filter(|&d| tokens[d].is_punct(bytes, b'.'))?;
    loop {
        let before = tokens.get(dot.checked_sub(1)?)?;
        if before.kind == Kind::Ident {
            return Some(before.text(bytes));
        }
        // `.clone()` / `.as_ref()`: the value before them.
        let open = before
            .partner()
            .filter(|_| before.kind == Kind::Close(b')'))?;
        let method = tokens.get(open.checked_sub(1)?)?;
        if !(method.is_ident(bytes, "clone") || method.is_ident(bytes, "as_ref")) {
            return None;
        }
        dot = open
            .checked_sub(2)
            .filter(|&d| tokens[d].is_punct(bytes, b'.'))?;
    }
}

/// The tokens from a loop keyword at `k` to the end of its block: up to the first `{..}`
/// outside brackets, and on through a `{..}` or `else {..}` right after it (a block in the
/// condition: `while { .. } {`, `for x in if a { b } else { c } {`), and where the first `{`
/// is. `None` when a `;` or the end of the enclosing group comes first (`for<'a>` in a type).
fn keyword_block(
    bytes: &[u8],
    tokens: &[Token],
    k: usize,
    end: usize,
) -> Option<(Range<usize>, usize)> {
    let mut j = k + 1;
    let mut first = None;
    let mut last = None;
    while j < end {
        let t = &tokens[j];
        match t.kind {
            Kind::Open(b'{') => {
                let close = t.partner()?;
                first.get_or_insert(j);
                last = Some(close);
                let goes_on = tokens
                    .get(close + 1)
                    .is_some_and(|n| n.kind == Kind::Open(b'{') || n.is_ident(bytes, "else"));
                if !goes_on {
                    break;
                }
                j = close + 1;
            }
            Kind::Open(_) => j = t.partner()? + 1,
            Kind::Semi | Kind::Close(_) => break,
            _ => j += 1,
        }
    }
    Some((k..last? + 1, first?))
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
                let close = t.partner()?;
                let mut j = i + 1;
                while j < close {
                    let end = use_tree(bytes, tokens, j, segs, leaf)?;
                    j = end.max(j + 1);
                    // Up to the next comma of this group.
                    while j < close && !tokens[j].is_punct(bytes, b',') {
                        j = tokens[j].partner().map_or(j, |p| p.max(j)) + 1;
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

/// What the scan found to cut.
#[derive(Debug, Default)]
pub struct Idle {
    /// The insides (between the braces) of function bodies that hold nothing wanted, and of
    /// test code whatever it holds, in order.
    pub ranges: Vec<Range<usize>>,
    /// Those of `ranges` that are test code (never walked).
    pub tests: Vec<Range<usize>>,
    /// Upper-case names a method is called on (`SEEN.lock()`) in the other cut bodies: the
    /// statics whose uses `RustFileFacts::static_uses` reads on demand.
    pub statics: Vec<String>,
    /// Names a channel send is called on (`tx.send(..)`) in the other cut bodies: the senders
    /// `RustFileFacts::sends_to` reads on demand.
    pub senders: Vec<String>,
    /// How deep brackets nest (`RustFile::parse` refuses files past `rust::MAX_NESTING`).
    pub nesting: Nesting,
    /// Doc comments (`///`, `//!`, `/** */`, `/*! */`) outside the cut bodies and signatures:
    /// `syn` turns each into a `#[doc = ".."]` attribute, and nothing reads those.
    pub docs: Vec<Range<usize>>,
    /// The parameters and the return type (with `where`) of functions whose bodies are idle,
    /// when nothing reads them either, in order: `fn name(..) -> T {..}` is parsed as
    /// `fn name() {}`.
    pub signatures: Vec<Range<usize>>,
    /// The functions whose bodies were cut and hold a [`LOGS_DEBUG`] log macro (when that
    /// trigger is wanted), with the type-like names (upper-case first letter) they mention.
    pub debug_logs: Vec<crate::lang::rust_logging::UnreadDebugLogs>,
    /// The insides of enum bodies and of struct field lists nothing reads, in order: no rule
    /// looks into an enum, and a struct's fields are read only for a `Debug` derive with a
    /// secret-like field, an `EncodeLabelSet` derive, or clap's `#[arg(..)]` (see
    /// [`fields_read`]).
    pub types: Vec<Range<usize>>,
    /// `use` items (with their attributes) that bind only names the text left to parse never
    /// mentions, in order (see [`unread_items`]).
    pub uses: Vec<Range<usize>>,
    /// `const` items (with their attributes) whose name the text left to parse never mentions
    /// and that hold nothing wanted, in order (see [`unread_items`]).
    pub consts: Vec<Range<usize>>,
}

/// Whether brackets nest deeper than `rust::MAX_NESTING`, as the scan found them (brackets in
/// literals and comments do not count).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// The text was not scanned to its end (brackets that do not pair up).
    #[default]
    Unknown,
    Within,
    /// Deeper, first at this offset: nothing is cut (the scan's own walks recurse on nesting).
    TooDeep(usize),
}

/// How deep the text's brackets nest (what [`idle_bodies`] reports, without looking for bodies).
pub fn nesting(text: &str) -> Nesting {
    match tokenize(text.as_bytes()) {
        Some((_, _, Some(offset))) => Nesting::TooDeep(offset),
        Some((_, _, None)) => Nesting::Within,
        None => Nesting::Unknown,
    }
}

/// What to cut from the text: the insides of function bodies that hold nothing wanted, the
/// signatures nothing reads, and which cut functions log with `Debug` (see [`Idle`]).
pub fn idle_bodies(text: &str, wanted: &Wanted) -> Idle {
    let bytes = text.as_bytes();
    let Some((tokens, docs, deepest)) = tokenize(bytes) else {
        return Idle::default();
    };
    if let Some(offset) = deepest {
        return Idle {
            nesting: Nesting::TooDeep(offset),
            ..Idle::default()
        };
    }
    let Some(bound) = wanted.bound_in(bytes, &tokens) else {
        return Idle {
            nesting: Nesting::Within,
            ..Idle::default()
        };
    };
    let mut idle = Vec::new();
    let mut tests = Vec::new();
    let mut statics = Vec::new();
    let mut senders = Vec::new();
    let mut signatures = Vec::new();
    let mut debug_logs = Vec::new();
    let mut types = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        // Test code is never walked (`rust::is_test_fn`, `rust::is_test_only`): cut its insides
        // whatever they hold.
        if let Some(test) = test_attribute(bytes, &tokens, i) {
            if let Some((open, close)) = test_item_braces(bytes, &tokens, i, test) {
                let inside = tokens[open].end()..tokens[close].start();
                if !inside.is_empty() {
                    idle.push(inside.clone());
                    tests.push(inside);
                }
                i = close + 1;
                continue;
            }
        }
        // `struct Name<..> where .. {` and `enum Name .. {`; a tuple or unit struct is left alone.
        let is_enum = tokens[i].is_ident(bytes, "enum");
        if (is_enum || tokens[i].is_ident(bytes, "struct"))
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
        {
            if let Some((open, close)) = type_body(&tokens, i + 2) {
                let inside = tokens[open].end()..tokens[close].start();
                if !inside.is_empty() && (is_enum || !fields_read(bytes, &tokens, i, open, close)) {
                    types.push(inside);
                }
                i = close + 1;
                continue;
            }
        }
        // `fn name ... {` — a function with a body; `fn(` is a pointer type.
        if tokens[i].is_ident(bytes, "fn")
            && tokens.get(i + 1).is_some_and(|t| t.kind == Kind::Ident)
        {
            match body_of(bytes, &tokens, i + 2) {
                Some((open, close)) => {
                    let inside = tokens[open].end()..tokens[close].start();
                    let mut notes = Notes::default();
                    let header = match is_async_fn(bytes, &tokens, i) {
                        true => wanted.async_bit,
                        false => 0,
                    };
                    let used =
                        wanted.wants(bytes, &bound, &tokens, open + 1..close, header, &mut notes);
                    if used {
                        // Nested functions are judged on their own.
                        i = open + 1;
                    } else {
                        statics.extend(notes.statics);
                        senders.extend(notes.senders);
                        if notes.debug_log {
                            // The signature too: a parameter's type.
                            let mut types: Vec<String> = tokens[i..close]
                                .iter()
                                .filter(|t| t.kind == Kind::Ident)
                                .map(|t| t.text(bytes))
                                .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
                                .map(String::from)
                                .collect();
                            types.sort_unstable();
                            types.dedup();
                            debug_logs.push(crate::lang::rust_logging::UnreadDebugLogs {
                                function: tokens[i].start()..tokens[close].end(),
                                types,
                            });
                        }
                        // An idle function's signature goes too, when nothing reads it: no
                        // attribute (`#[instrument]`, routes, `#[tokio::main]`) and nothing wanted
                        // in it (`tonic::Request`). `fn name<T: B>(..) -> T where .. {..}`
                        // becomes `fn name<T: B>() {}`.
                        let params = params_open(bytes, &tokens, i + 2);
                        if let Some((p, params_close)) =
                            params.and_then(|p| Some((p, tokens[p].partner()?)))
                        {
                            let read = has_outer_attributes(bytes, &tokens, i)
                                || wanted.wants(
                                    bytes,
                                    &bound,
                                    &tokens,
                                    i + 2..open,
                                    0,
                                    &mut Notes::default(),
                                );
                            if !read {
                                for cut in [
                                    tokens[p].end()..tokens[params_close].start(),
                                    tokens[params_close].end()..tokens[open].start(),
                                ] {
                                    if !cut.is_empty() {
                                        signatures.push(cut);
                                    }
                                }
                            }
                        }
                        if !inside.is_empty() {
                            idle.push(inside);
                        }
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
    let wants_nothing = |tokens_of: Range<usize>| {
        !wanted.wants(bytes, &bound, &tokens, tokens_of, 0, &mut Notes::default())
    };
    let (uses, consts) = unread_items(
        bytes,
        &tokens,
        &[&idle, &signatures, &types],
        &wants_nothing,
    );
    let docs = outside(docs, &[&idle, &signatures, &types, &uses, &consts]);
    let names = |mut v: Vec<&str>| {
        v.sort_unstable();
        v.dedup();
        v.into_iter().map(String::from).collect()
    };
    Idle {
        ranges: idle,
        tests,
        statics: names(statics),
        senders: names(senders),
        signatures,
        nesting: Nesting::Within,
        docs,
        debug_logs,
        types,
        uses,
        consts,
    }
}

/// The `use` items nothing left to parse needs: every name such an item binds is missing from the
/// text outside `cuts` (and from the first segment of every import, which may name another one:
/// `use opentelemetry_sdk::trace as sdktrace; use sdktrace::Sampler;`). Imports serve only to
/// resolve names in parsed code (`rust::Imports`), so cutting these changes no resolution. Kept
/// whatever they bind: `pub use` (a re-export), globs, `as _` and imports the scan cannot read.
/// Each range runs from the item's first attribute to its `;`, so no attribute is left to fall
/// on the next item.
///
/// Likewise the `const` items (`const NAME: T = ..;` where an item may stand, not `const fn` nor
/// a generic `<const N: usize>`) whose name nothing left to parse mentions and whose tokens
/// `wants_nothing` accepts: a constant is read only by name (`RustFile::str_const`,
/// `RustFile::const_expr`) or for what it holds, which the triggers cover as they do for a body.
/// Returns the imports and the constants.
fn unread_items(
    bytes: &[u8],
    tokens: &[Token],
    cuts: &[&[Range<usize>]],
    wants_nothing: &dyn Fn(Range<usize>) -> bool,
) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
    let mut cut: Vec<&Range<usize>> = cuts.iter().flat_map(|c| c.iter()).collect();
    cut.sort_unstable_by_key(|r| r.start);
    let mut mentioned: FastSet<&[u8]> = FastSet::default();
    // Each readable, private import: its range and the names it binds.
    let mut imports: Vec<(Range<usize>, Vec<&[u8]>)> = Vec::new();
    // Each constant that holds nothing wanted: its range and its name.
    let mut consts: Vec<(Range<usize>, &[u8])> = Vec::new();
    let mut k = 0;
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        while cut.get(k).is_some_and(|c| c.end <= t.start()) {
            k += 1;
        }
        if cut.get(k).is_some_and(|c| c.start <= t.start()) {
            i += 1;
            continue;
        }
        if starts_use(bytes, tokens, i) {
            let mut names = Vec::new();
            let mut firsts = Vec::new();
            let mut readable = true;
            let end = use_tree(
                bytes,
                tokens,
                i + 1,
                &mut Vec::new(),
                &mut |path, name, glob| {
                    firsts.extend(path.first().map(|f| f.as_bytes()));
                    match (glob, name) {
                        (false, Some(n)) => names.push(n.as_bytes()),
                        _ => readable = false,
                    }
                    true
                },
            );
            let semi = end.filter(|&e| tokens.get(e).is_some_and(|t| t.kind == Kind::Semi));
            let (start, qualifiers) = item_start(bytes, tokens, i);
            let public = tokens[qualifiers..i]
                .iter()
                .any(|t| t.is_ident(bytes, "pub"));
            if let (Some(semi), true, false) = (semi, readable, public) {
                mentioned.extend(firsts);
                imports.push((tokens[start].start()..tokens[semi].end(), names));
                i = semi + 1;
                continue;
            }
        }
        if let Some((range, semi)) = const_item(bytes, tokens, i) {
            if wants_nothing(i + 1..semi) {
                consts.push((range, tokens[i + 1].bytes(bytes)));
                // Its name is not a mention; what it holds is (a constant may name another).
                i += 2;
                continue;
            }
        }
        if t.kind == Kind::Ident {
            mentioned.insert(t.bytes(bytes));
        }
        i += 1;
    }
    let imports: Vec<Range<usize>> = imports
        .into_iter()
        .filter(|(_, names)| !names.is_empty() && !names.iter().any(|n| mentioned.contains(n)))
        .map(|(range, _)| range)
        .collect();
    cut.extend(&imports);
    cut.sort_unstable_by_key(|r| r.start);
    // A constant around another cut (a nested function's body, another constant) stays: cuts
    // never overlap.
    let overlaps = |r: &Range<usize>| {
        let k = cut.partition_point(|c| c.end <= r.start);
        cut.get(k).is_some_and(|c| c.start < r.end)
    };
    let mut unread: Vec<Range<usize>> = Vec::new();
    for (range, name) in consts {
        let nested = unread.last().is_some_and(|last| last.end > range.start);
        if !mentioned.contains(name) && !overlaps(&range) && !nested {
            unread.push(range);
        }
    }
    (imports, unread)
}

/// The range (from its first attribute) and the `;` token of the `const NAME: T = ..;` item
/// whose keyword is token `at`, when it stands where an item may: first in the text or after a
/// `;`, `{` or `}`.
fn const_item(bytes: &[u8], tokens: &[Token], at: usize) -> Option<(Range<usize>, usize)> {
    let is_const = tokens[at].is_ident(bytes, "const")
        && tokens.get(at + 1).is_some_and(|t| t.kind == Kind::Ident)
        && tokens.get(at + 2).is_some_and(|t| t.is_punct(bytes, b':'))
        && !tokens.get(at + 3).is_some_and(|t| t.is_punct(bytes, b':'));
    if !is_const {
        return None;
    }
    let (start, _) = item_start(bytes, tokens, at);
    let at_item = start.checked_sub(1).is_none_or(|p| {
        matches!(
            tokens[p].kind,
            Kind::Semi | Kind::Open(b'{') | Kind::Close(b'}')
        )
    });
    if !at_item {
        return None;
    }
    let mut j = at + 3;
    loop {
        let t = tokens.get(j)?;
        match t.kind {
            Kind::Semi => return Some((tokens[start].start()..t.end(), j)),
            Kind::Open(_) => j = t.partner()? + 1,
            Kind::Close(_) => return None,
            _ => j += 1,
        }
    }
}

/// Whether token `i` is the `use` of an import (`use a::b`, `use ::a`, `use {a, b}`).
fn starts_use(bytes: &[u8], tokens: &[Token], i: usize) -> bool {
    tokens[i].is_ident(bytes, "use")
        && tokens.get(i + 1).is_some_and(|n| {
            n.kind == Kind::Ident || n.is_punct(bytes, b':') || n.kind == Kind::Open(b'{')
        })
}

/// Where the item whose keyword is token `at` starts: its first outer attribute (`#[..]`), or
/// its qualifiers (`pub(crate) async`), or the keyword; and where its qualifiers start.
fn item_start(bytes: &[u8], tokens: &[Token], at: usize) -> (usize, usize) {
    let qualifiers = qualifiers_start(bytes, tokens, at);
    let mut from = qualifiers;
    while let Some(open) = from
        .checked_sub(1)
        .and_then(|p| tokens.get(p))
        .filter(|t| t.kind == Kind::Close(b']'))
        .and_then(|t| t.partner())
    {
        match open
            .checked_sub(1)
            .filter(|&p| tokens.get(p).is_some_and(|t| t.is_punct(bytes, b'#')))
        {
            Some(p) => from = p,
            None => break,
        }
    }
    (from, qualifiers)
}

/// The ranges of `docs` that lie outside every range of each of `cuts` (each sorted and
/// disjoint).
fn outside(docs: Vec<Range<usize>>, cuts: &[&[Range<usize>]]) -> Vec<Range<usize>> {
    let inside = |cuts: &[Range<usize>], d: &Range<usize>| {
        // The last cut starting at or before the doc comment is the only one that can hold it.
        let k = cuts.partition_point(|c| c.start <= d.start);
        k > 0 && cuts[k - 1].end >= d.end
    };
    docs.into_iter()
        .filter(|d| !cuts.iter().any(|c| inside(c, d)))
        .collect()
}

/// The `(` of a function's parameters, looked for from token `at` (just past the name): there,
/// or past generics `<..>`, whose angle brackets are counted (the `>` of the `->` in an
/// `Fn(..) -> T` bound closes nothing; brackets are stepped over).
fn params_open(bytes: &[u8], tokens: &[Token], at: usize) -> Option<usize> {
    let first = tokens.get(at)?;
    if first.kind == Kind::Open(b'(') {
        return Some(at);
    }
    if !first.is_punct(bytes, b'<') {
        return None;
    }
    let mut depth = 0usize;
    let mut j = at;
    while let Some(t) = tokens.get(j) {
        match t.kind {
            Kind::Open(_) => {
                j = t.partner()? + 1;
                continue;
            }
            Kind::Close(_) | Kind::Semi => return None,
            _ if t.is_punct(bytes, b'<') => depth += 1,
            _ if t.is_punct(bytes, b'>') => {
                let arrow = j
                    .checked_sub(1)
                    .and_then(|p| tokens.get(p))
                    .is_some_and(|p| p.is_punct(bytes, b'-') && p.end() == t.start());
                if !arrow {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        let next = tokens.get(j + 1)?;
                        return (next.kind == Kind::Open(b'(')).then_some(j + 1);
                    }
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The braces of a struct's or enum's body, searched from token `from` (past the name): the
/// first `{`, unless a `(` (a tuple struct) or `;` (a unit struct) comes first. Brackets of the
/// generics are stepped over.
fn type_body(tokens: &[Token], from: usize) -> Option<(usize, usize)> {
    let mut j = from;
    while let Some(t) = tokens.get(j) {
        match t.kind {
            Kind::Open(b'{') => return Some((j, t.partner()?)),
            Kind::Open(b'(') | Kind::Semi | Kind::Close(_) => return None,
            Kind::Open(_) => j = t.partner()? + 1,
            _ => j += 1,
        }
    }
    None
}

/// Whether rules read the fields of the struct whose keyword is token `at` and whose body is
/// tokens `open..=close`: its attributes derive `EncodeLabelSet` (each field is a metric label),
/// or mention `Debug` while a name in the body is secret-like (`secret-logged`), or a field has
/// clap's `#[arg(..)]`/`#[clap(..)]` (`required-config-with-silent-default`).
fn fields_read(bytes: &[u8], tokens: &[Token], at: usize, open: usize, close: usize) -> bool {
    use crate::lang::rust_logging::is_secret_name;
    let attrs = &tokens[item_start(bytes, tokens, at).0..at];
    let body = &tokens[open + 1..close];
    let names = |ts: &[Token], word: &str| ts.iter().any(|t| t.is_ident(bytes, word));
    names(attrs, "EncodeLabelSet")
        || names(body, "arg")
        || names(body, "clap")
        || (names(attrs, "Debug")
            && body
                .iter()
                .any(|t| t.kind == Kind::Ident && is_secret_name(t.text(bytes))))
}

/// What may stand between an item's attributes and its keyword (with `pub(..)` and an
/// `extern "ABI"` string).
const QUALIFIERS: &[&str] = &[
    "pub", "async", "unsafe", "const", "extern", "default", "safe",
];

/// Attributes that say nothing to a rule about a function's parameters: with only these, an
/// idle function's signature is cut as if it had none.
const SILENT_ATTRIBUTES: &[&str] = &[
    "inline",
    "must_use",
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "cold",
    "track_caller",
    "deprecated",
    "doc",
    "cfg",
    "rustfmt",
    "clippy",
];

/// Whether the item whose keyword is token `fn_at` has an outer attribute a rule may read with
/// its signature (`#[instrument]`, routes, `#[tokio::main]`; not [`SILENT_ATTRIBUTES`]):
/// qualifiers (`pub(crate) async unsafe extern "C"`) are stepped over backwards to the `]`s. A
/// `)` there (a macro call before the item) counts too, so its signature is read.
fn has_outer_attributes(bytes: &[u8], tokens: &[Token], fn_at: usize) -> bool {
    let (from, qualifiers) = item_start(bytes, tokens, fn_at);
    // What stops the attributes: a macro call, or a bracket that is not an attribute.
    let before = from.checked_sub(1).and_then(|p| tokens.get(p));
    if before.is_some_and(|t| matches!(t.kind, Kind::Close(b')') | Kind::Close(b']'))) {
        return true;
    }
    // Each `#[name ..]` in turn.
    let mut j = from;
    while j < qualifiers {
        let silent = tokens
            .get(j + 2)
            .is_some_and(|name| SILENT_ATTRIBUTES.iter().any(|a| name.is_ident(bytes, a)));
        if !silent {
            return true;
        }
        j = tokens
            .get(j + 1)
            .and_then(|t| t.partner())
            .map_or(qualifiers, |close| close + 1);
    }
    false
}

/// Whether the function whose `fn` is token `fn_at` is an `async fn`.
fn is_async_fn(bytes: &[u8], tokens: &[Token], fn_at: usize) -> bool {
    let from = qualifiers_start(bytes, tokens, fn_at);
    tokens[from..fn_at]
        .iter()
        .any(|t| t.is_ident(bytes, "async"))
}

/// The first token of the qualifiers before the item keyword at `at` (`pub(crate) async unsafe
/// extern "C"`); `at` itself when there are none.
fn qualifiers_start(bytes: &[u8], tokens: &[Token], at: usize) -> usize {
    let mut j = at;
    while let Some(prev) = j.checked_sub(1).and_then(|p| tokens.get(p).map(|t| (p, t))) {
        let (p, t) = prev;
        let qualifier = QUALIFIERS.iter().any(|q| t.is_ident(bytes, q))
            || (t.kind == Kind::Other && t.bytes(bytes).starts_with(b"\""));
        if qualifier {
            j = p;
            continue;
        }
        // `pub(crate)`: its group, then `pub`.
        let group = (t.kind == Kind::Close(b')'))
            .then(|| t.partner())
            .flatten()
            .filter(|&open| open > 0 && tokens[open - 1].is_ident(bytes, "pub"));
        match group {
            Some(open) => j = open - 1,
            None => break,
        }
    }
    j
}

/// What a test attribute makes of the item it is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TestAttr {
    /// `#[cfg(test)]`, `#[cfg(debug_assertions)]`, `#[cfg(all(test, ..))]`: any item.
    TestOnly,
    /// `#[test]`, `#[tokio::test]`, `#[rstest]`...: a function.
    TestFn,
}

/// When token `i` starts an outer attribute that marks test code: which kind.
fn test_attribute(bytes: &[u8], tokens: &[Token], i: usize) -> Option<TestAttr> {
    if !tokens[i].is_punct(bytes, b'#') {
        return None;
    }
    let open = i + 1;
    let group = tokens.get(open).filter(|t| t.kind == Kind::Open(b'['))?;
    let close = group.partner()?;
    let inner = &tokens[open + 1..close];
    // `cfg(..)`: the group must imply test.
    if inner.first().is_some_and(|t| t.is_ident(bytes, "cfg")) && inner.len() >= 3 {
        let args = open + 2;
        let args_close = tokens
            .get(args)
            .filter(|t| t.kind == Kind::Open(b'('))?
            .partner()?;
        return (args_close + 1 == close && implies_test(bytes, tokens, args + 1, args_close))
            .then_some(TestAttr::TestOnly);
    }
    // A path whose last segment names a test harness, with or without arguments.
    let mut last = None;
    for t in inner {
        match t.kind {
            Kind::Ident => last = Some(t.text(bytes)),
            Kind::Other if t.is_punct(bytes, b':') => {}
            _ => break,
        }
    }
    last.filter(|l| crate::lang::rust::TEST_ATTRIBUTES.contains(l))
        .map(|_| TestAttr::TestFn)
}

/// Whether the cfg predicate `tokens[from..to]` implies test, as `rust::implies_test` reads it:
/// `test`, `debug_assertions`, a test-named feature (`feature = "testsuite"`), `all(..)` with one
/// such predicate, or `any(..)` of only such predicates.
fn implies_test(bytes: &[u8], tokens: &[Token], from: usize, to: usize) -> bool {
    match tokens.get(from..to) {
        Some([one]) => one.is_ident(bytes, "test") || one.is_ident(bytes, "debug_assertions"),
        Some([feature, eq, value])
            if feature.is_ident(bytes, "feature") && eq.is_punct(bytes, b'=') =>
        {
            let text = value.text(bytes);
            text.len() >= 2
                && text.starts_with('"')
                && text.ends_with('"')
                && crate::surface::is_test_word(&text[1..text.len() - 1])
        }
        Some([list, group, ..])
            if (list.is_ident(bytes, "all") || list.is_ident(bytes, "any"))
                && group.kind == Kind::Open(b'(') =>
        {
            let Some(close) = group.partner() else {
                return false;
            };
            if close + 1 != to {
                return false;
            }
            let all = list.is_ident(bytes, "all");
            // Each comma-separated predicate of the list.
            let (mut any_test, mut every_test, mut count) = (false, true, 0);
            let mut start = from + 2;
            let mut j = start;
            while j <= close {
                if j == close || tokens[j].is_punct(bytes, b',') {
                    if start < j {
                        let test = implies_test(bytes, tokens, start, j);
                        any_test |= test;
                        every_test &= test;
                        count += 1;
                    }
                    start = j + 1;
                    j += 1;
                    continue;
                }
                j = tokens[j].partner().filter(|&p| p > j).unwrap_or(j) + 1;
            }
            if all {
                any_test
            } else {
                count > 0 && every_test
            }
        }
        _ => false,
    }
}

/// The braces of the item the test attribute at token `i` is on, when its inside can be cut: a
/// function's body (either kind of attribute), a module's or an `impl`'s items (test-only
/// attributes). Other attributes and visibility in between are skipped.
fn test_item_braces(
    bytes: &[u8],
    tokens: &[Token],
    i: usize,
    test: TestAttr,
) -> Option<(usize, usize)> {
    let mut j = i;
    // Attributes, then qualifiers.
    while tokens.get(j).is_some_and(|t| t.is_punct(bytes, b'#')) {
        j = tokens
            .get(j + 1)
            .filter(|t| t.kind == Kind::Open(b'['))?
            .partner()?
            + 1;
    }
    loop {
        let t = tokens.get(j)?;
        let qualifier = QUALIFIERS.iter().any(|q| t.is_ident(bytes, q));
        if qualifier {
            j += 1;
            // `pub(crate)`, `extern "C"`.
            if let Some(n) = tokens.get(j) {
                if n.kind == Kind::Open(b'(') {
                    j = n.partner()? + 1;
                } else if n.kind == Kind::Other && n.text(bytes).starts_with('"') {
                    j += 1;
                }
            }
            continue;
        }
        break;
    }
    let keyword = tokens.get(j)?;
    if keyword.is_ident(bytes, "fn") && tokens.get(j + 1).is_some_and(|t| t.kind == Kind::Ident) {
        return body_of(bytes, tokens, j + 2);
    }
    if test != TestAttr::TestOnly {
        return None;
    }
    if keyword.is_ident(bytes, "mod") {
        let open = j + 2;
        let t = tokens.get(open).filter(|t| t.kind == Kind::Open(b'{'))?;
        return Some((open, t.partner()?));
    }
    if keyword.is_ident(bytes, "impl") {
        // The first `{` outside brackets: `impl<T> Trait for S<T> where .. {`.
        return body_of(bytes, tokens, j + 1);
    }
    None
}

/// The opening and closing brace tokens of the body of the function whose signature starts at
/// token `from`, or `None` for a declaration without a body (`;`) or anything unexpected.
/// Brackets and generic arguments are followed, so a const-generic block in the signature
/// (`-> ArrayVec<T, { N }>`, `[u8; { N }]`) is not taken for the body.
fn body_of(bytes: &[u8], tokens: &[Token], from: usize) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    let mut angle = 0usize;
    let mut i = from;
    while let Some(t) = tokens.get(i) {
        match t.kind {
            Kind::Open(b'(') | Kind::Open(b'[') => depth += 1,
            Kind::Close(b')') | Kind::Close(b']') => depth = depth.checked_sub(1)?,
            Kind::Open(b'{') if depth == 0 && angle == 0 => return Some((i, t.partner()?)),
            // A const-generic block in the signature: skip it.
            Kind::Open(b'{') => i = t.partner()?,
            Kind::Semi if depth == 0 => return None,
            Kind::Close(_) => return None,
            _ if t.is_punct(bytes, b'<') => angle += 1,
            // Not the `>` of `->`.
            _ if t.is_punct(bytes, b'>') && !(i > 0 && tokens[i - 1].is_punct(bytes, b'-')) => {
                angle = angle.saturating_sub(1)
            }
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

/// 16 bytes: a file's tokens take about twice its size (texts over 4 GiB are not scanned).
#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Kind,
    from: u32,
    to: u32,
    /// For brackets: the index of the matching bracket; `u32::MAX` for none.
    pair: u32,
}

impl Token {
    fn new(kind: Kind, start: usize, end: usize) -> Token {
        Token {
            kind,
            from: start as u32,
            to: end as u32,
            pair: u32::MAX,
        }
    }

    fn start(&self) -> usize {
        self.from as usize
    }

    fn end(&self) -> usize {
        self.to as usize
    }

    fn partner(&self) -> Option<usize> {
        (self.pair != u32::MAX).then_some(self.pair as usize)
    }

    fn bytes<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        bytes.get(self.start()..self.end()).unwrap_or_default()
    }

    fn text<'a>(&self, bytes: &'a [u8]) -> &'a str {
        std::str::from_utf8(self.bytes(bytes)).unwrap_or("")
    }

    fn is_ident(&self, bytes: &[u8], word: &str) -> bool {
        // The length first: most tokens are not the word, and comparing lengths is cheap.
        self.kind == Kind::Ident
            && (self.to - self.from) as usize == word.len()
            && self.bytes(bytes) == word.as_bytes()
    }

    fn is_punct(&self, bytes: &[u8], c: u8) -> bool {
        self.kind == Kind::Other && self.to == self.from + 1 && self.bytes(bytes) == [c]
    }
}

/// What a log macro's arguments hold that `rust_logging::logged_values` can make something of.
#[derive(Default)]
struct Logs {
    /// A secret-like name: an identifier, or a word of a string (`"{db_password}"`).
    secret: bool,
    /// `Debug` formatting: `?x`, or a string with `?` (`{:?}`, `{x:#?}`).
    debug: bool,
}

/// What the log macro `tokens[at]` (followed by `!`) logs.
fn what_logs(bytes: &[u8], tokens: &[Token], at: usize) -> Logs {
    use crate::lang::rust_logging::is_secret_name;
    let mut logs = Logs::default();
    let Some((open, close)) = tokens
        .get(at + 2)
        .filter(|t| matches!(t.kind, Kind::Open(_)))
        .and_then(|t| Some((at + 2, t.partner()?)))
    else {
        return logs;
    };
    for t in &tokens[open + 1..close] {
        match t.kind {
            Kind::Ident => logs.secret |= is_secret_name(t.text(bytes)),
            Kind::Other => {
                let text = t.text(bytes);
                if text == "?" {
                    logs.debug = true;
                } else if text.contains('"') {
                    // A string literal of any kind (`"..."`, `r#"..."#`).
                    logs.debug |= text.contains('?');
                    logs.secret |= text
                        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .any(is_secret_name);
                }
            }
            _ => {}
        }
        if logs.secret && logs.debug {
            break;
        }
    }
    logs
}

/// `SEEN`, `HTTP_CLIENT`: at least two characters, upper-case letters, digits and `_`.
pub fn is_upper_case(s: &str) -> bool {
    s.len() > 1
        && s.bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_continue(b: u8) -> bool {
    IDENT_CONTINUE[usize::from(b)]
}

/// `is_ident_continue` as a table: the lexer asks for every byte of every identifier.
static IDENT_CONTINUE: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80;
        b += 1;
    }
    t
};

/// The tokens of a text, where its doc comments are, and where brackets first nest deeper than
/// `rust::MAX_NESTING` (if they do).
type Lexed = (Vec<Token>, Vec<Range<usize>>, Option<usize>);

/// Splits the text into identifiers, brackets (paired up), `;` and everything else, skipping
/// comments and the insides of literals. `None` when brackets do not pair up or a literal or
/// comment is not closed: nothing is then cut.
fn tokenize(b: &[u8]) -> Option<Lexed> {
    if u32::try_from(b.len()).is_err() {
        return None;
    }
    let mut tokens: Vec<Token> = Vec::with_capacity(b.len() / 6);
    let mut docs = Vec::new();
    let deepest = lex(b, &mut tokens, &mut docs, &mut None)?;
    Some((tokens, docs, deepest))
}

/// The first bracket that does not pair up, as the lexer finds it (brackets in literals and
/// comments do not count), with a message saying which: a closer that does not match the last
/// opener, a closer with nothing open, or an opener never closed. For a syntax error the parser
/// reports only as "cannot parse string into token stream".
pub fn unpaired_bracket(text: &str) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let mut fault = None;
    let mut tokens = Vec::new();
    lex(b, &mut tokens, &mut Vec::new(), &mut fault);
    let line_of = |at: usize| memchr::memchr_iter(b'\n', &b[..at]).count() + 1;
    fault.map(|f| match f {
        Unpaired::Mismatch { close, open_at } => (
            close,
            format!(
                "mismatched delimiter: `{}` here, but the `{}` opened on line {} is still open",
                b[close] as char,
                b[open_at] as char,
                line_of(open_at)
            ),
        ),
        Unpaired::NothingOpen { close } => (
            close,
            format!(
                "unexpected closing delimiter `{}`: nothing is open here",
                b[close] as char
            ),
        ),
        Unpaired::NeverClosed { open_at } => (
            open_at,
            format!("this `{}` is never closed", b[open_at] as char),
        ),
    })
}

/// Where brackets stop pairing up (offsets into the text).
enum Unpaired {
    Mismatch { close: usize, open_at: usize },
    NothingOpen { close: usize },
    NeverClosed { open_at: usize },
}

/// Fills `tokens` and `docs`; returns where brackets first nest too deep, if they do. `None`
/// when the text does not lex; an unpaired bracket is then described in `fault`.
fn lex(
    b: &[u8],
    tokens: &mut Vec<Token>,
    docs: &mut Vec<Range<usize>>,
    fault: &mut Option<Unpaired>,
) -> Option<Option<usize>> {
    let mut deepest = None;
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    let n = b.len();
    let push =
        |tokens: &mut Vec<Token>, kind, start, end| tokens.push(Token::new(kind, start, end));
    while i < n {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                // Indentation comes in runs.
                i += 1;
                while i < n && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                i = memchr(b'\n', &b[i..]).map_or(n, |p| i + p);
                // `///` (not `////`) and `//!`.
                let doc = match (b.get(start + 2), b.get(start + 3)) {
                    (Some(b'/'), Some(b'/')) => false,
                    (Some(b'/' | b'!'), _) => true,
                    _ => false,
                };
                if doc {
                    docs.push(start..i);
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                // `/**` (not `/***` or `/**/`) and `/*!`.
                let doc = match (b.get(i + 2), b.get(i + 3)) {
                    (Some(b'*'), Some(b'*' | b'/')) => false,
                    (Some(b'*' | b'!'), _) => true,
                    _ => false,
                };
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
                if doc {
                    docs.push(start..i);
                }
            }
            b'"' => {
                i = string_end(b, i + 1)?;
                push(tokens, Kind::Other, start, i);
            }
            b'\'' => {
                i = quote_end(b, i);
                push(tokens, Kind::Other, start, i);
            }
            b'(' | b'[' | b'{' => {
                if open.len() == crate::lang::rust::MAX_NESTING && deepest.is_none() {
                    deepest = Some(i);
                }
                open.push(tokens.len());
                push(tokens, Kind::Open(c), start, i + 1);
                i += 1;
            }
            b')' | b']' | b'}' => {
                let want = match c {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                let Some(o) = open.pop() else {
                    *fault = Some(Unpaired::NothingOpen { close: start });
                    return None;
                };
                if tokens[o].kind != Kind::Open(want) {
                    let open_at = tokens[o].start();
                    *fault = Some(Unpaired::Mismatch {
                        close: start,
                        open_at,
                    });
                    return None;
                }
                tokens[o].pair = tokens.len() as u32;
                let mut close = Token::new(Kind::Close(c), start, i + 1);
                close.pair = o as u32;
                tokens.push(close);
                i += 1;
            }
            b';' => {
                push(tokens, Kind::Semi, start, i + 1);
                i += 1;
            }
            _ if is_ident_start(c) => {
                // Prefixed literals: r"..", r#".."#, b"..", br"..", b'x', c"..", cr"..".
                if let Some(end) = prefixed_literal(b, i) {
                    i = end?;
                    push(tokens, Kind::Other, start, i);
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
                push(tokens, Kind::Ident, s, i);
            }
            b'0'..=b'9' => {
                while i < n && (is_ident_continue(b[i])) {
                    i += 1;
                }
                push(tokens, Kind::Other, start, i);
            }
            _ => {
                i += 1;
                push(tokens, Kind::Other, start, i);
            }
        }
    }
    if let Some(&o) = open.last() {
        *fault = Some(Unpaired::NeverClosed {
            open_at: tokens[o].start(),
        });
        return None;
    }
    Some(deepest)
}

use memchr::memchr;

/// The end of a `"`-string whose contents start at `i` (escapes honoured).
fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    while i < b.len() {
        i += memchr::memchr2(b'"', b'\\', &b[i..])?;
        match b[i] {
            b'\\' => i += 2,
            _ => return Some(i + 1),
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
        let closing = b
            .get(j + 1..j + 1 + hashes)
            .is_some_and(|h| h.iter().all(|&x| x == b'#'));
        if b[j] == b'"' && closing {
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
            .ranges
            .into_iter()
            .map(|r| src[r].trim())
            .collect()
    }

    #[test]
    fn finds_bodies_without_a_trigger() {
        let src = "fn a() { let x = 1; }\nfn b() { reqwest::get(u); }\nimpl S { fn c(&self) -> u8 { 2 } }";
        assert_eq!(idle(src, &["reqwest"]), ["let x = 1;", "2"]);
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
    fn cuts_enum_bodies_and_the_struct_fields_nothing_reads() {
        let types = |src: &str| -> Vec<String> {
            let idle = idle_bodies(src, &wanted(&["reqwest"]));
            idle.types
                .iter()
                .map(|r| src[r.clone()].trim().to_string())
                .collect()
        };
        assert_eq!(
            types(
                "pub enum E<T> where T: Copy { A(T), B { x: u8 } }
struct S<'a> { x: &'a str }"
            ),
            ["A(T), B { x: u8 }", "x: &'a str"]
        );
        // Tuple and unit structs, and fields a rule reads, stay.
        assert!(types(
            "struct T(String);
struct U;
struct V<F: Fn(u8)>(F);"
        )
        .is_empty());
        let read = [
            "#[derive(Clone, Debug)]
/// doc
#[serde(default)]
pub(crate) struct C { db_password: String }",
            "#[derive(EncodeLabelSet)] struct L { path: String }",
            "struct A { #[arg(long, env = \"URL\", default_value = \"x\")] url: String }",
        ];
        for src in read {
            assert!(types(src).is_empty(), "{src}");
        }
        // `Debug` without a secret-like name, and a secret-like name without `Debug`.
        assert_eq!(
            types(
                "#[derive(Debug)] struct D { user: String }
struct P { password: String }"
            ),
            ["user: String", "password: String"]
        );
        // The file parses the same, items and all, once cut.
        let src = "/// A.\n#[derive(Debug)]\nenum E {\n    /// a\n    A = 1,\n}\nstruct S { x: u8 }\nfn f() {}";
        let file = crate::lang::rust::RustFile::parse(src, None, false, Some(&wanted(&[])));
        assert_eq!(file.map(|f| f.ast.items.len()).ok(), Some(3));
    }

    #[test]
    fn cuts_the_imports_nothing_parsed_names() {
        let src = "use std::io::Write;\n\
                   use reqwest::Client;\n\
                   use opentelemetry_sdk::trace as sdktrace;\n\
                   use sdktrace::Sampler;\n\
                   pub use x::Reexported;\n\
                   use y::*;\n\
                   use z::Ext as _;\n\
                   #[cfg(feature = \"f\")]\n\
                   use only::InIdle;\n\
                   fn a() { Client::new(Sampler::AlwaysOn) }\n\
                   fn b() { InIdle::x(); }\n";
        let idle = idle_bodies(src, &wanted(&["reqwest"]));
        let cut: Vec<&str> = idle.uses.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(
            cut,
            [
                "use std::io::Write;",
                "#[cfg(feature = \"f\")]\nuse only::InIdle;"
            ]
        );
        // The attribute went with its import: `b` is not compiled out.
        let file =
            crate::lang::rust::RustFile::parse(src, None, false, Some(&wanted(&["reqwest"])));
        let attrs = file.ok().and_then(|f| match f.ast.items.last() {
            Some(syn::Item::Fn(b)) => Some(b.attrs.len()),
            _ => None,
        });
        assert_eq!(attrs, Some(0));
    }

    #[test]
    fn cuts_the_constants_nothing_parsed_names() {
        let src = "const UNUSED: &str = \"x\";\n\
                   #[allow(dead_code)]\n\
                   pub(crate) const TABLE: [u8; 2] = [1, 2];\n\
                   const TIMEOUT: u64 = SECS * 2;\n\
                   const SECS: u64 = 5;\n\
                   const CLIENT: Option<reqwest::Client> = None;\n\
                   const fn f() -> u8 { 1 }\n\
                   const _: () = { const INNER: u8 = 1; };\n\
                   struct S<const N: usize>;\n\
                   impl S<1> { const ASSOC: u8 = 1; }\n\
                   fn a() { reqwest::Client::new().timeout(Duration::from_secs(TIMEOUT)) }\n";
        let idle = idle_bodies(src, &wanted(&["reqwest"]));
        let cut: Vec<&str> = idle.consts.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(
            cut,
            [
                "const UNUSED: &str = \"x\";",
                "#[allow(dead_code)]\npub(crate) const TABLE: [u8; 2] = [1, 2];",
                "const _: () = { const INNER: u8 = 1; };",
                "const ASSOC: u8 = 1;",
            ]
        );
        // What is left parses, items and all.
        let file =
            crate::lang::rust::RustFile::parse(src, None, false, Some(&wanted(&["reqwest"])));
        assert_eq!(file.map(|f| f.ast.items.len()).ok(), Some(7));
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
        assert!(idle("fn a() { b.read_timeout(d) }", &["*timeout"]).is_empty());
        let conj = ["loop|while & await & Ok"];
        assert!(idle("fn a() { loop { if let Ok(x) = f().await {} } }", &conj).is_empty());
        assert_eq!(idle("fn a() { loop { f().await } }", &conj).len(), 1);
        // A glob among the alternatives.
        let conj = ["*timeout & MAX|INFINITY"];
        assert!(idle("fn a() { b.read_timeout(Duration::MAX) }", &conj).is_empty());
        assert_eq!(
            idle("fn a() { b.read_timeout(d); u64::MIN }", &conj).len(),
            1
        );
        assert_eq!(idle("fn a() { b.timeouts(d); u64::MAX }", &conj).len(), 1);
        // The `async` of an `async fn` is in its body; a nested plain `fn` is judged alone.
        let conj = ["fs & async"];
        assert!(idle("pub(crate) async fn a() { fs::read(p) }", &conj).is_empty());
        assert!(idle("fn a() { spawn(async move { fs::read(p) }) }", &conj).is_empty());
        assert_eq!(idle("fn a() { fs::read(p) }", &conj).len(), 1);
        assert_eq!(
            idle("async fn a() { fn b() { fs::read(p) } }", &conj),
            ["fs::read(p)"]
        );
    }

    #[test]
    fn scoped_conjunctions_look_inside_the_keywords_block() {
        let retry = ["loop|while|for { await & Ok|is_ok & break|return }"];
        let kept = [
            "loop { if let Ok(v) = f().await { break v; } }",
            "'a: loop { match f().await { Ok(v) => return Ok(v), Err(_) => {} } }",
            "for _ in 0..3 { if f().await.is_ok() { break; } }",
            "while n < 3 { if f().await.is_ok() { return; } n += 1; }",
            // A block in the condition: the loop's block comes after it.
            "while { n += 1; n < 3 } { if f().await.is_ok() { break } }",
            "select! { _ = t => {}, } loop { if let Ok(_) = f().await { break } }",
        ];
        for body in kept {
            let src = format!("fn a() {{ {body} }}");
            assert!(idle(&src, &retry).is_empty(), "{body}");
        }
        let cut = [
            // Everything there, but not all inside one loop.
            "loop { f().await; break; } Ok(())",
            "for x in xs { g(x) } let v = f().await; if v.is_ok() { return; }",
            "let f: Box<dyn for<'a> Fn(&'a u8)> = h; f().await; Ok(())",
            "loop { f().await; if x.is_ok() { continue } }",
        ];
        for body in cut {
            let src = format!("fn a() {{ {body} }}");
            assert_eq!(idle(&src, &retry).len(), 1, "{body}");
        }
        // Conditions on what comes between the keyword and its block.
        let retry = ["loop|while(!let)|for(..) { await & Ok|is_ok & break|return }"];
        let in_loop = "{ if f().await.is_ok() { break } }";
        let heads = [
            ("while n < 3", true),
            ("while let Some(x) = it.next()", false),
            ("for i in 0..3", true),
            ("for i in 1..=n", true),
            ("for x in xs", false),
            ("for x in xs.iter().map(|x| x..y)", true),
        ];
        for (head, kept) in heads {
            let src = format!("fn a() {{ {head} {in_loop} }}");
            assert_eq!(idle(&src, &retry).is_empty(), kept, "{head}");
        }
        let glob = ["register_*_vec!"];
        assert!(idle("fn a() { register_int_counter_vec!(o, &[\"k\"]) }", &glob).is_empty());
        assert_eq!(
            idle("fn a() { register_int_counter_vec(o) }", &glob).len(),
            1
        );
        let logs = [
            "trace!(\"x {}\", n)",
            "info!(?req)",
            "warn!(\"{:?}\", e)",
            "error!(\"{db_password}\")",
            "debug!(api_key = %k)",
            "tracing::info!(r#\"{:?}\"#, e)",
            "info!(r\"{password}\")",
            "info!(\"{}\", cfg.db.auth_token)",
            "eprintln!(\"{}\", n)",
        ];
        let src: Vec<String> = logs
            .iter()
            .map(|l| format!("fn a(s: &Settings) {{ {l} }}"))
            .collect();
        // Kept for a secret name; cut but noted for Debug formatting.
        let scan = |s: &str| {
            let found = idle_bodies(s, &wanted(&[LOGS_SECRET, LOGS_DEBUG]));
            (found.ranges.len(), !found.debug_logs.is_empty())
        };
        let kept_or_noted: Vec<(usize, bool)> = src.iter().map(|s| scan(s)).collect();
        assert_eq!(
            kept_or_noted,
            [
                (1, false),
                (1, true),
                (1, true),
                (0, false),
                (0, false),
                (1, true),
                (0, false),
                (0, false),
                (1, false)
            ]
        );
        // Noted only when asked for.
        assert!(idle_bodies(&src[1], &wanted(&[LOGS_SECRET]))
            .debug_logs
            .is_empty());
        let src = "fn a(s: &Settings) { let c = Config::load(); info!(?c) }\nfn b() { info!(x = ?Other) }";
        let found = idle_bodies(src, &wanted(&[LOGS_DEBUG]));
        let noted: Vec<(&str, Vec<String>)> = found
            .debug_logs
            .into_iter()
            .map(|d| (&src[d.function], d.types))
            .collect();
        assert_eq!(
            noted,
            [
                (
                    "fn a(s: &Settings) { let c = Config::load(); info!(?c) }",
                    vec!["Config".to_string(), "Settings".to_string()]
                ),
                ("fn b() { info!(x = ?Other) }", vec!["Other".to_string()])
            ]
        );
        let gated = Wanted::new(["warp:path"], |k| k == "axum");
        assert_eq!(idle_bodies("fn a() { path(x) }", &gated).ranges.len(), 1);
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
    fn test_code_is_cut_whatever_it_holds() {
        let src = "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[tokio::test]\n    async fn t() { reqwest::get(u); }\n}\n\
                   #[derive(Debug)]\n#[test]\nfn a() { reqwest::get(u) }\n\
                   #[cfg(all(unix, test))]\npub(crate) async fn b() { reqwest::get(u) }\n\
                   #[cfg(any(test, feature = \"x\"))]\nfn c() { reqwest::get(u) }\n\
                   #[cfg(test)]\nimpl S { fn d() { reqwest::get(u) } }\n\
                   #[serde(rename = \"test\")]\nfn e() { reqwest::get(u) }";
        let got = idle(src, &["reqwest"]);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got[0].starts_with("use super::*;"));
        assert_eq!(
            got[1..],
            [
                "reqwest::get(u)",
                "reqwest::get(u)",
                "fn d() { reqwest::get(u) }"
            ]
        );
    }

    #[test]
    fn doc_comments_outside_cut_code_are_found() {
        let src = "//! crate\n/// a\n//// not doc\n/** b */ /*** not */ /**/ /*! c */\nfn f() {\n/// inside\n}\n";
        let found = idle_bodies(src, &wanted(&[]));
        let docs: Vec<&str> = found.docs.iter().map(|r| &src[r.clone()]).collect();
        assert_eq!(docs, ["//! crate", "/// a", "/** b */", "/*! c */"]);
        // Kept bodies keep theirs found, so they are cut too.
        let kept = idle_bodies("fn f() {\n/// x\nreqwest }", &wanted(&["reqwest"]));
        assert_eq!(kept.docs.len(), 1);
    }

    #[test]
    fn cut_bodies_note_statics_and_senders() {
        let src = "fn a() { SEEN.lock().insert(k); self.events_tx.clone().send(e); }\n\
                   fn b() { tx.as_ref().try_send(e); OTHER.get(); X.get(); (t).send(e); S::new() }\n\
                   fn c() { KEPT.lock(); kept_tx.send(e); reqwest }";
        let found = idle_bodies(src, &wanted(&["reqwest"]));
        assert_eq!(found.statics, ["OTHER", "SEEN"]);
        assert_eq!(found.senders, ["events_tx", "tx"]);
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
    fn multibyte_text_is_cut_on_character_boundaries() {
        let src = "fn a() { \"é\" }\nfn b() { reqwest }";
        for r in idle_bodies(src, &wanted(&["reqwest"])).ranges {
            assert!(src.is_char_boundary(r.start) && src.is_char_boundary(r.end));
        }
    }
}
