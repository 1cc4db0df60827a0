//! Rust front end: `syn` parse with byte spans, `use`-import resolution, test-code exclusion, and a
//! walker that hands rules whole method chains (`Client::builder().timeout(t).build()`).
//!
//! `proc_macro2::Span`s are only valid on the thread that parsed the file, so a `RustFile` is
//! parsed, checked and dropped on one thread; rules turn spans into byte ranges at once.

use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;
use std::sync::Arc;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Token};

use crate::lang::rust_scan::{Nesting, Wanted};
use crate::project::{normalize_crate, Package, RustFacts};

/// Bracket nesting beyond this is refused before parsing: `syn` is recursive and real code never
/// nests this deep.
pub const MAX_NESTING: usize = 256;

pub struct RustFile {
    pub ast: syn::File,
    /// Bytes removed before parsing (a byte-order mark), added back to every span.
    base: usize,
    pub package: Option<Arc<Package>>,
    /// The file's text, for rules that look at source a macro hides (`format!("127.0.0.1:{p}")`).
    pub text: Box<str>,
    /// Where text was cut out before parsing, as (offset in the parsed text, bytes cut up to and
    /// including this cut): spans are mapped back through them.
    cuts: Vec<(usize, usize)>,
    /// Where each line of the parsed text starts, when that text is ASCII: a span's line and
    /// column are then its offset, without proc-macro2's character-to-byte map (which costs a
    /// search and an insertion per offset).
    ascii_lines: Option<Vec<usize>>,
    /// Under `tests/`, `benches/`, `examples/`, or `build.rs`.
    pub is_test_file: bool,
    /// The insides of function bodies that were cut out, not parsed (see `rust_scan`).
    pub idle: Vec<Range<usize>>,
    /// Those of them that are test code, which is never walked.
    pub idle_tests: Vec<Range<usize>>,
    /// What the other cut bodies call methods on: statics and channel senders (`rust_scan::Idle`).
    pub idle_statics: Vec<String>,
    pub idle_senders: Vec<String>,
    /// Those of them that hold a log macro formatting with `Debug` (`rust_scan::LOGS_DEBUG`).
    pub debug_logs: Vec<crate::lang::rust_logging::UnreadDebugLogs>,
    /// `const NAME: &str = "..";` anywhere in the file, gathered on first use.
    str_consts: std::sync::OnceLock<HashMap<String, String>>,
}

#[derive(Debug)]
pub struct RustParseError {
    pub message: String,
    pub span: Range<usize>,
}

impl RustFile {
    /// Parses the file; with `wanted`, the insides of function bodies that hold nothing it names
    /// are cut out first and not parsed (`rust_scan`).
    pub fn parse(
        text: &str,
        package: Option<Arc<Package>>,
        is_test_file: bool,
        wanted: Option<&Wanted>,
    ) -> Result<RustFile, RustParseError> {
        let base = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let body = &text[base..];
        // Brackets in literals and comments do not nest; when the scan cannot pair them up,
        // every bracket counts.
        let idle = wanted.map(|w| crate::lang::rust_scan::idle_bodies(body, w));
        let nesting = match &idle {
            Some(i) => i.nesting,
            None => crate::lang::rust_scan::nesting(body),
        };
        let deep = match nesting {
            Nesting::Within => None,
            Nesting::TooDeep(offset) => Some(offset),
            Nesting::Unknown => too_deep(body),
        };
        if let Some(offset) = deep {
            return Err(RustParseError {
                message: format!("brackets nest deeper than {MAX_NESTING} levels; not parsed"),
                span: base + offset..base + offset + 1,
            });
        }
        // Blank out a shebang line instead of cutting it, so offsets stay the same.
        let owned;
        let body = if body.starts_with("#!") && !body[2..].trim_start().starts_with('[') {
            let end = body.find('\n').unwrap_or(body.len());
            owned = format!("{}{}", " ".repeat(end), &body[end..]);
            owned.as_str()
        } else {
            body
        };
        let idle = idle.unwrap_or_default();
        let mut cut_ranges: Vec<Range<usize>> = idle
            .ranges
            .iter()
            .chain(&idle.signatures)
            .chain(&idle.docs)
            .chain(&idle.types)
            .chain(&idle.uses)
            .chain(&idle.consts)
            .cloned()
            .collect();
        cut_ranges.sort_unstable_by_key(|r| r.start);
        let (cut, cuts) = cut_out(body, &cut_ranges);
        let body = cut.as_deref().unwrap_or(body);
        let after_base = |ranges: &[Range<usize>]| -> Vec<Range<usize>> {
            ranges
                .iter()
                .map(|r| base + r.start..base + r.end)
                .collect()
        };
        let mut file = RustFile {
            ast: syn::File {
                shebang: None,
                attrs: Vec::new(),
                items: Vec::new(),
            },
            base,
            cuts,
            ascii_lines: body.is_ascii().then(|| {
                std::iter::once(0)
                    .chain(memchr::memchr_iter(b'\n', body.as_bytes()).map(|i| i + 1))
                    .collect()
            }),
            package,
            text: text.into(),
            is_test_file,
            idle: after_base(&idle.ranges),
            idle_tests: after_base(&idle.tests),
            idle_statics: idle.statics,
            idle_senders: idle.senders,
            debug_logs: idle
                .debug_logs
                .into_iter()
                .map(|mut d| {
                    d.function = base + d.function.start..base + d.function.end;
                    d
                })
                .collect(),
            str_consts: std::sync::OnceLock::new(),
        };
        match syn::parse_str::<syn::File>(body) {
            Ok(ast) => {
                file.ast = ast;
                Ok(file)
            }
            Err(e) => {
                // The lexer's own message ("cannot parse string into token stream") says nothing
                // of where; an unbalanced delimiter is the usual cause, so find it.
                let unbalanced = e
                    .to_string()
                    .contains("token stream")
                    .then(|| crate::lang::rust_scan::unpaired_bracket(body))
                    .flatten();
                Err(match unbalanced {
                    Some((at, message)) => RustParseError {
                        message,
                        span: base + at..base + at + 1,
                    },
                    None => RustParseError {
                        message: e.to_string(),
                        span: file.span(e.span()),
                    },
                })
            }
        }
    }

    /// Whether the block's inside was cut out instead of parsed.
    pub fn is_idle(&self, block: &syn::Block) -> bool {
        let r = self.block_range(block);
        self.idle.iter().any(|i| i.start == r.start + 1)
    }

    /// The value of a string constant defined anywhere in the file (`LABEL_USER` →
    /// `"user_id"`), for code that names a literal through a constant.
    pub fn str_const(&self, name: &str) -> Option<&str> {
        self.str_consts
            .get_or_init(|| {
                struct Consts(HashMap<String, String>);
                impl<'ast> Visit<'ast> for Consts {
                    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
                        if let Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) = &*c.expr
                        {
                            self.0.insert(c.ident.to_string(), s.value());
                        }
                    }
                }
                let mut consts = Consts(HashMap::new());
                consts.visit_file(&self.ast);
                consts.0
            })
            .get(name)
            .map(String::as_str)
    }

    /// The value of a `const` item of the file (at any module depth, or in an `impl`), for code
    /// that names a number or a `Duration` through a constant.
    pub fn const_expr(&self, name: &str) -> Option<&Expr> {
        fn find<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a Expr> {
            items.iter().find_map(|item| match item {
                syn::Item::Const(c) if c.ident == name => Some(&*c.expr),
                syn::Item::Mod(m) => m.content.as_ref().and_then(|(_, items)| find(items, name)),
                syn::Item::Impl(i) => i.items.iter().find_map(|ii| match ii {
                    syn::ImplItem::Const(c) if c.ident == name => Some(&c.expr),
                    _ => None,
                }),
                _ => None,
            })
        }
        find(&self.ast.items, name)
    }

    pub fn span(&self, span: Span) -> Range<usize> {
        let offset = |at: proc_macro2::LineColumn| {
            let line_start = self.ascii_lines.as_ref()?.get(at.line.checked_sub(1)?)?;
            Some(line_start + at.column)
        };
        let r = match (offset(span.start()), offset(span.end())) {
            (Some(start), Some(end)) => start..end,
            _ => span.byte_range(),
        };
        // An offset at a cut is a start after it (the `}` that closes the cut body) or an end
        // before it (the `{` that opens it).
        let removed = |x: usize, is_end: bool| {
            let k = self
                .cuts
                .partition_point(|&(at, _)| if is_end { at < x } else { at <= x });
            k.checked_sub(1).map_or(0, |k| self.cuts[k].1)
        };
        let start = r.start + removed(r.start, false);
        let end = (r.end + removed(r.end, true)).max(start);
        self.base + start..self.base + end
    }

    /// From the start of `a` to the end of `b`.
    pub fn join(&self, a: Span, b: Span) -> Range<usize> {
        let start = self.span(a).start;
        let end = self.span(b).end.max(start);
        start..end
    }

    /// The source text of a byte range (empty when out of range).
    pub fn slice(&self, range: Range<usize>) -> &str {
        self.text.get(range).unwrap_or("")
    }

    /// The byte range of a block, braces included.
    pub fn block_range(&self, block: &syn::Block) -> Range<usize> {
        self.span(block.brace_token.span.join())
    }

    /// Whether the enclosing package depends on `krate` (underscored name). Outside a known package
    /// every crate is assumed possible; import resolution still has to match.
    pub fn uses_crate(&self, krate: &str) -> bool {
        self.package.as_ref().is_none_or(|p| p.depends_on(krate))
    }
}

/// The text without the given ranges, and the cuts as `RustFile::cuts` records them; `None`
/// when there is nothing to cut.
fn cut_out(text: &str, ranges: &[Range<usize>]) -> (Option<String>, Vec<(usize, usize)>) {
    if ranges.is_empty() {
        return (None, Vec::new());
    }
    let removed: usize = ranges.iter().map(|r| r.len()).sum();
    let mut out = String::with_capacity(text.len() - removed);
    let mut cuts = Vec::with_capacity(ranges.len());
    let mut from = 0;
    let mut total = 0;
    for r in ranges {
        // Ranges are sorted, disjoint and on character boundaries (`rust_scan`).
        out.push_str(text.get(from..r.start).unwrap_or(""));
        total += r.len();
        cuts.push((out.len(), total));
        from = r.end;
    }
    out.push_str(text.get(from..).unwrap_or(""));
    (Some(out), cuts)
}

fn too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, b) in text.bytes().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

// ---- spans of common nodes ----

/// Where an expression starts, for the node kinds rules point at.
pub fn expr_start(e: &Expr) -> Option<Span> {
    match e {
        Expr::Path(p) => path_start(&p.path),
        Expr::Call(c) => expr_start(&c.func),
        Expr::MethodCall(m) => expr_start(&m.receiver),
        Expr::Await(a) => expr_start(&a.base),
        Expr::Try(t) => expr_start(&t.expr),
        Expr::Field(f) => expr_start(&f.base),
        Expr::Paren(p) => Some(p.paren_token.span.open()),
        Expr::Macro(m) => path_start(&m.mac.path),
        Expr::Lit(l) => Some(l.lit.span()),
        Expr::Reference(r) => Some(r.and_token.span),
        _ => None,
    }
}

pub fn path_start(p: &syn::Path) -> Option<Span> {
    match &p.leading_colon {
        Some(c) => Some(c.spans[0]),
        None => p.segments.first().map(|s| s.ident.span()),
    }
}

/// `reqwest::get(url)`: from the callee to the closing parenthesis.
pub fn call_span(file: &RustFile, call: &syn::ExprCall) -> Range<usize> {
    let close = call.paren_token.span.close();
    match expr_start(&call.func) {
        Some(start) => file.join(start, close),
        None => file.span(call.paren_token.span.join()),
    }
}

/// `.timeout(None)`: from the dot to the closing parenthesis.
pub fn method_span(file: &RustFile, m: &syn::ExprMethodCall) -> Range<usize> {
    file.join(m.dot_token.spans[0], m.paren_token.span.close())
}

/// A macro invocation from its path to its closing delimiter.
pub fn macro_span(file: &RustFile, mac: &syn::Macro) -> Range<usize> {
    let start = path_start(&mac.path).unwrap_or_else(|| mac.bang_token.span);
    file.join(start, mac.delimiter.span().close())
}

/// The last segment of a local variable's declared type: a parameter (`cfg: &Settings`), a typed
/// `let` (`let cfg: Settings = ..`) or a `let` built from the type (`Settings::load()`,
/// `Settings { .. }`).
pub fn local_type(cx: &Cx<'_>, name: &str) -> Option<String> {
    let f = cx.current_fn()?;
    let last_of = |ty: &syn::Type| -> Option<String> {
        let mut ty = ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        match ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        }
    };
    for input in &f.sig.inputs {
        if let syn::FnArg::Typed(t) = input {
            if pat_name(&t.pat).as_deref() == Some(name) {
                return last_of(&t.ty);
            }
        }
    }
    struct Find<'n> {
        name: &'n str,
        ty: Option<String>,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            if pat_name(&l.pat).as_deref() == Some(self.name) {
                let declared = match &l.pat {
                    syn::Pat::Type(t) => match &*t.ty {
                        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                        _ => None,
                    },
                    _ => None,
                };
                let built = l.init.as_ref().and_then(|i| {
                    let mut e = &*i.expr;
                    while let Expr::Try(t) = e {
                        e = &t.expr;
                    }
                    match e {
                        Expr::Struct(s) => s.path.segments.last().map(|s| s.ident.to_string()),
                        Expr::Call(c) => match &*c.func {
                            Expr::Path(p) if p.path.segments.len() >= 2 => {
                                let n = p.path.segments.len();
                                Some(p.path.segments[n - 2].ident.to_string())
                            }
                            _ => None,
                        },
                        _ => None,
                    }
                });
                self.ty = declared
                    .or(built)
                    .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()));
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut find = Find { name, ty: None };
    find.visit_block(f.block);
    find.ty
}

pub fn path_segments(p: &syn::Path) -> Vec<String> {
    p.segments.iter().map(|s| s.ident.to_string()).collect()
}

// ---- imports ----

#[derive(Debug, Default)]
pub struct Imports {
    /// Name in scope → full path.
    names: HashMap<String, Vec<String>>,
    /// `use a::b::*` prefixes.
    globs: Vec<Vec<String>>,
}

impl Imports {
    fn from_items<'a>(items: impl Iterator<Item = &'a syn::Item>) -> Imports {
        let mut imports = Imports::default();
        for item in items {
            match item {
                syn::Item::Use(u) if !is_test_only(&u.attrs) => {
                    imports.add_tree(&mut Vec::new(), &u.tree)
                }
                syn::Item::ExternCrate(e) => {
                    let target = e.ident.to_string();
                    let name = e
                        .rename
                        .as_ref()
                        .map_or(target.clone(), |(_, r)| r.to_string());
                    imports.names.insert(name, vec![target]);
                }
                _ => {}
            }
        }
        imports.expand_chained();
        imports
    }

    /// `use opentelemetry_sdk::trace as sdktrace; use sdktrace::SdkTracerProvider;`: an import whose
    /// first segment is another import of the same scope is spelled out (a few rounds, for chains).
    fn expand_chained(&mut self) {
        for _ in 0..3 {
            let mut changed = false;
            let snapshot = self.names.clone();
            for full in self.names.values_mut() {
                let Some(first) = full.first() else { continue };
                if matches!(first.as_str(), "crate" | "self" | "super") {
                    continue;
                }
                // `use tokio; use tokio::spawn;` names the crate itself: nothing to expand.
                let Some(base) = snapshot.get(first).filter(|b| b.first() != Some(first)) else {
                    continue;
                };
                let mut expanded = base.clone();
                expanded.extend_from_slice(&full[1..]);
                *full = expanded;
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }

    fn add_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        self.names.insert(last.clone(), prefix.clone());
                    }
                } else {
                    let mut full = prefix.clone();
                    full.push(name.clone());
                    self.names.insert(name, full);
                }
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.clone();
                let ident = r.ident.to_string();
                if ident != "self" {
                    full.push(ident);
                }
                self.names.insert(r.rename.to_string(), full);
            }
            syn::UseTree::Glob(_) => self.globs.push(prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.add_tree(prefix, t);
                }
            }
        }
    }
}

fn items_of_block(block: &syn::Block) -> impl Iterator<Item = &syn::Item> {
    block.stmts.iter().filter_map(|s| match s {
        syn::Stmt::Item(i) => Some(i),
        _ => None,
    })
}

// ---- test code ----

/// The last path segment of attributes that make a function a test (`#[tokio::test]`); the body
/// scanner (`rust_scan`) reads the same list.
pub const TEST_ATTRIBUTES: &[&str] = &[
    "test",
    "rstest",
    "test_case",
    "bench",
    "quickcheck",
    "proptest",
];

/// `#[test]`, `#[tokio::test]`, `#[rstest]`... on a function.
fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| TEST_ATTRIBUTES.iter().any(|t| s.ident == t))
    }) || is_test_only(attrs)
}

/// `#[cfg(test)]`, `#[cfg(debug_assertions)]` or `#[cfg(all(test, ..))]`: compiled only for tests
/// or debug builds, never into a release build.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| implies_test(&m))
    })
}

/// `test`, `debug_assertions`, a test-named feature (`feature = "testsuite"`,
/// `surface::is_test_word`), `all(..)` with one of them, or `any(..)` of only them.
fn implies_test(meta: &syn::Meta) -> bool {
    let items = |l: &syn::MetaList| {
        l.parse_args_with(Punctuated::<syn::Meta, Token![,]>::parse_terminated)
            .ok()
    };
    match meta {
        syn::Meta::Path(p) => p.is_ident("test") || p.is_ident("debug_assertions"),
        syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => matches!(
            &nv.value,
            syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })
                if crate::surface::is_test_word(&s.value())
        ),
        syn::Meta::List(l) if l.path.is_ident("all") => {
            items(l).is_some_and(|items| items.iter().any(implies_test))
        }
        syn::Meta::List(l) if l.path.is_ident("any") => {
            items(l).is_some_and(|items| !items.is_empty() && items.iter().all(implies_test))
        }
        _ => false,
    }
}

/// The outer attributes of an expression statement's expression.
fn expr_attrs(e: &Expr) -> &[syn::Attribute] {
    match e {
        Expr::Call(x) => &x.attrs,
        Expr::MethodCall(x) => &x.attrs,
        Expr::Await(x) => &x.attrs,
        Expr::Block(x) => &x.attrs,
        Expr::Macro(x) => &x.attrs,
        Expr::Assign(x) => &x.attrs,
        Expr::If(x) => &x.attrs,
        Expr::Try(x) => &x.attrs,
        _ => &[],
    }
}

fn cfg_texts(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg"))
        .filter_map(|a| match &a.meta {
            syn::Meta::List(l) => Some(l.tokens.to_string()),
            _ => None,
        })
        .collect()
}

// ---- chains ----

/// A method-call chain: a base expression and what is applied to it, innermost first.
pub struct Chain<'a> {
    pub top: &'a Expr,
    pub base: &'a Expr,
    pub links: Vec<Link<'a>>,
}

pub enum Link<'a> {
    Method(&'a syn::ExprMethodCall),
    Await,
    Try,
    Field,
}

impl<'a> Chain<'a> {
    pub fn of(top: &'a Expr) -> Chain<'a> {
        let mut links = Vec::new();
        let mut cur = top;
        loop {
            cur = match cur {
                Expr::MethodCall(m) => {
                    links.push(Link::Method(m));
                    &m.receiver
                }
                Expr::Await(a) => {
                    links.push(Link::Await);
                    &a.base
                }
                Expr::Try(t) => {
                    links.push(Link::Try);
                    &t.expr
                }
                Expr::Field(f) => {
                    links.push(Link::Field);
                    &f.base
                }
                Expr::Paren(p) => &p.expr,
                _ => break,
            };
        }
        links.reverse();
        Chain {
            top,
            base: cur,
            links,
        }
    }

    pub fn methods(&self) -> impl Iterator<Item = &'a syn::ExprMethodCall> + '_ {
        self.links.iter().filter_map(|l| match l {
            Link::Method(m) => Some(*m),
            _ => None,
        })
    }

    pub fn method(&self, name: &str) -> Option<&'a syn::ExprMethodCall> {
        self.methods().find(|m| m.method == name)
    }

    pub fn has_method(&self, name: &str) -> bool {
        self.method(name).is_some()
    }

    pub fn base_call(&self) -> Option<&'a syn::ExprCall> {
        match self.base {
            Expr::Call(c) => Some(c),
            _ => None,
        }
    }
}

/// A chain applied to a local variable, and the variable its value is bound to, if any
/// (`let router = builder.add_service(s);`).
pub struct LocalChain<'a> {
    pub methods: Vec<&'a syn::ExprMethodCall>,
    pub bound: Option<String>,
}

/// Every chain in `block` whose base is the local variable `name`.
pub fn local_chains<'a>(block: &'a syn::Block, name: &str) -> Vec<LocalChain<'a>> {
    struct Finder<'a, 'n> {
        name: &'n str,
        found: Vec<LocalChain<'a>>,
    }
    impl<'a> Finder<'a, '_> {
        /// Records `e` if it is a chain on the variable, then walks the chain's parts.
        fn chain(&mut self, e: &'a Expr, bound: Option<String>) {
            let chain = Chain::of(e);
            let on_name = matches!(chain.base, Expr::Path(p) if p.path.is_ident(self.name));
            if on_name && !chain.links.is_empty() {
                self.found.push(LocalChain {
                    methods: chain.methods().collect(),
                    bound,
                });
            }
            for m in chain.methods() {
                for arg in &m.args {
                    self.visit_expr(arg);
                }
            }
            syn::visit::visit_expr(self, chain.base);
        }
    }
    impl<'a> Visit<'a> for Finder<'a, '_> {
        fn visit_local(&mut self, l: &'a syn::Local) {
            match (&l.init, pat_name(&l.pat)) {
                (Some(init), Some(bound))
                    if matches!(&*init.expr, Expr::MethodCall(_) | Expr::Await(_)) =>
                {
                    self.chain(&init.expr, Some(bound));
                    if let Some((_, diverge)) = &init.diverge {
                        self.visit_expr(diverge);
                    }
                }
                _ => syn::visit::visit_local(self, l),
            }
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if matches!(e, Expr::MethodCall(_) | Expr::Await(_)) {
                self.chain(e, None);
            } else {
                syn::visit::visit_expr(self, e);
            }
        }
    }
    let mut finder = Finder {
        name,
        found: Vec::new(),
    };
    finder.visit_block(block);
    finder.found
}

/// Method names of every method chain in `block` whose base is the local variable `name`.
pub fn chains_on_local(block: &syn::Block, name: &str) -> Vec<Vec<String>> {
    local_chains(block, name)
        .into_iter()
        .filter(|c| !c.methods.is_empty())
        .map(|c| c.methods.iter().map(|m| m.method.to_string()).collect())
        .collect()
}

/// The variable a `let` pattern binds: `x`, `mut x`, `x: T`.
/// The local variable a chain starts from (`req` in `req.into_body().collect()`).
pub fn base_local(chain: &Chain<'_>) -> Option<String> {
    match chain.base {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

/// The initialiser of the last `let name = <expr>;` in `block` (at any depth).
pub fn let_init<'a>(block: &'a syn::Block, name: &str) -> Option<&'a Expr> {
    struct Find<'a, 'n> {
        name: &'n str,
        found: Option<&'a Expr>,
    }
    impl<'a> Visit<'a> for Find<'a, '_> {
        fn visit_local(&mut self, l: &'a syn::Local) {
            if let (Some(init), Some(n)) = (&l.init, pat_name(&l.pat)) {
                if n == self.name {
                    self.found = Some(&init.expr);
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut f = Find { name, found: None };
    f.visit_block(block);
    f.found
}

/// Every identifier in an expression, lower-cased.
pub fn idents(e: &Expr) -> Vec<String> {
    struct All(Vec<String>);
    impl<'ast> Visit<'ast> for All {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.push(i.to_string().to_ascii_lowercase());
        }
    }
    let mut all = All(Vec::new());
    all.visit_expr(e);
    all.0
}

pub fn pat_name(p: &syn::Pat) -> Option<String> {
    match p {
        syn::Pat::Ident(i) => Some(i.ident.to_string()),
        syn::Pat::Type(t) => pat_name(&t.pat),
        _ => None,
    }
}

// ---- the walker ----

#[derive(Clone)]
pub struct FnCtx<'a> {
    pub name: String,
    pub is_async: bool,
    pub sig: &'a syn::Signature,
    pub block: &'a syn::Block,
}

/// What encloses the code being visited, innermost last.
#[derive(Clone, Debug)]
enum Frame {
    Fn {
        is_async: bool,
    },
    AsyncBlock,
    /// A closure; `callee` names what it is handed to (`spawn_blocking`, `get_or_init`), the last
    /// path segment of a called function or the method name.
    Closure {
        is_async: bool,
        callee: Option<String>,
    },
    Loop(LoopSource),
}

/// What a loop iterates over, as far as its header (or, for `loop`, its top-level statements)
/// shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopSource {
    /// Awaits messages from a channel, stream or consumer: `while let Some(m) = rx.recv().await`,
    /// `loop { let m = consumer.recv().await?; .. }`, `for m in rx`.
    Messages,
    /// Accepts connections: `loop { let (s, _) = listener.accept().await?; .. }`.
    Connections,
    Other,
}

/// Methods that, awaited, yield the next message of a channel, stream or consumer.
const MESSAGE_METHODS: &[&str] = &[
    "recv",
    "recv_many",
    "next",
    "try_next",
    "next_message",
    "message",
    "messages",
    "poll",
    "receive",
    "receive_message",
    "fetch",
    "pop",
    "consume",
];

impl LoopSource {
    /// Classifies a loop from the expressions that feed it.
    fn of<'e>(feeds: impl IntoIterator<Item = &'e Expr>) -> LoopSource {
        struct Awaits(Option<LoopSource>);
        impl<'ast> Visit<'ast> for Awaits {
            fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
                let mut base = &*a.base;
                while let Expr::Try(t) = base {
                    base = &t.expr;
                }
                if let Expr::MethodCall(m) = base {
                    if m.method == "accept" {
                        self.0 = Some(LoopSource::Connections);
                    } else if self.0.is_none()
                        && MESSAGE_METHODS.iter().any(|n| m.method == n)
                        && !is_clock(&m.receiver)
                        && !is_stop_signal(&m.receiver)
                    {
                        self.0 = Some(LoopSource::Messages);
                    }
                }
                syn::visit::visit_expr_await(self, a);
            }
            // Nested loops, closures and async blocks feed something else.
            fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
            fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
            fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
        }
        let mut a = Awaits(None);
        for e in feeds {
            a.visit_expr(e);
        }
        a.0.unwrap_or(LoopSource::Other)
    }

    /// The expressions a `loop` body awaits at its top level (statements, `let`s, `select!`
    /// futures), which is where a consumer loop receives.
    fn of_loop_body(body: &syn::Block) -> LoopSource {
        let mut exprs: Vec<&Expr> = Vec::new();
        let mut selected: Vec<Expr> = Vec::new();
        for stmt in &body.stmts {
            match stmt {
                syn::Stmt::Local(l) => {
                    if let Some(init) = &l.init {
                        exprs.push(&init.expr);
                    }
                }
                syn::Stmt::Expr(e, _) => match e {
                    Expr::Match(m) => exprs.push(&m.expr),
                    Expr::If(i) => exprs.push(&i.cond),
                    Expr::Macro(m) => selected.extend(select_futures(&m.mac)),
                    other => exprs.push(other),
                },
                syn::Stmt::Macro(m) => selected.extend(select_futures(&m.mac)),
                syn::Stmt::Item(_) => {}
            }
        }
        match LoopSource::of(exprs) {
            // `select!` awaits its branch futures itself: `m = rx.recv() => ..`.
            // An accept branch makes it an accept loop, whatever else it waits for (a shutdown
            // `recv()` beside `accept()` is not a message stream); a receive on a shutdown or
            // cancellation signal feeds no work.
            LoopSource::Other => {
                let sources: Vec<LoopSource> = selected
                    .iter()
                    .filter_map(|e| {
                        let mut e = e;
                        while let Expr::MethodCall(m) = e {
                            if m.method == "accept" {
                                return Some(LoopSource::Connections);
                            }
                            if MESSAGE_METHODS.iter().any(|n| m.method == n)
                                && !is_stop_signal(&m.receiver)
                            {
                                return Some(LoopSource::Messages);
                            }
                            e = &m.receiver;
                        }
                        None
                    })
                    .collect();
                if sources.contains(&LoopSource::Connections) {
                    LoopSource::Connections
                } else if sources.contains(&LoopSource::Messages) {
                    LoopSource::Messages
                } else {
                    LoopSource::Other
                }
            }
            found => found,
        }
    }
}

/// The name a value goes by: the last segment of a path (`rx`, `Self::TX`) or a named field
/// (`self.events_tx` → `events_tx`).
pub fn value_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => Some(n.to_string()),
            syn::Member::Unnamed(_) => None,
        },
        _ => None,
    }
}

/// `ticker.next()`, `interval.tick()`, `timer.next()`: a clock, not a source of messages.
fn is_clock(receiver: &Expr) -> bool {
    value_name(receiver).is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        n.contains("tick") || n.contains("interval") || n.contains("timer")
    })
}

/// `shutdown_rx.recv()`, `stop.recv()`, `cancel.next()`: a signal to stop, not work to do.
fn is_stop_signal(receiver: &Expr) -> bool {
    value_name(receiver).is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        [
            "shutdown", "stop", "cancel", "term", "signal", "quit", "exit", "close", "kill",
            "drain",
        ]
        .iter()
        .any(|w| n.contains(w))
    })
}

/// The branch futures of a `select!` invocation (empty for any other macro).
fn select_futures(mac: &syn::Macro) -> Vec<Expr> {
    if mac.path.segments.last().is_none_or(|s| s.ident != "select") {
        return Vec::new();
    }
    match parse_select.parse2(mac.tokens.clone()) {
        Ok((all, futures)) => all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| futures.contains(i))
            .map(|(_, e)| e)
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// Functions and methods that run a (non-async) closure on a thread where blocking is allowed.
const BLOCKING_OFFLOAD: &[&str] = &[
    "spawn_blocking",
    "block_in_place",
    "spawn",
    "spawn_fifo",
    "scope",
    "in_place_scope",
    "join",
    "block",
    "rayon",
];

/// One branch of a `select!`: `pattern = future => handler`.
pub struct SelectBranch<'e> {
    pub future: &'e Expr,
}

/// What a rule sees at each callback: import resolution and the enclosing function.
pub struct Cx<'w> {
    pub file: &'w RustFile,
    scopes: &'w [Rc<Imports>],
    fns: &'w [FnCtx<'w>],
    cfgs: &'w [String],
    lets: &'w [(*const Expr, String)],
    frames: &'w [Frame],
    /// Paths resolved during this callback: every rule and fact extractor is called with the
    /// same `Cx` for a node, and most of them resolve the same callee.
    resolved: std::cell::RefCell<Vec<Resolved>>,
}

/// A path (by address: the tree outlives the callback) and what it resolves to.
type Resolved = (*const syn::Path, Rc<[String]>);

impl<'w> Cx<'w> {
    /// Full paths a path may refer to (`Client::new` → `reqwest::Client::new` after
    /// `use reqwest::Client`), with crate renames undone and `-` spelled `_`.
    pub fn resolve(&self, path: &syn::Path) -> Rc<[String]> {
        let key: *const syn::Path = path;
        if let Some((_, hit)) = self.resolved.borrow().iter().find(|(k, _)| *k == key) {
            return Rc::clone(hit);
        }
        let segs = path_segments(path);
        let paths: Rc<[String]> = self.resolve_segments(&segs).into();
        self.resolved.borrow_mut().push((key, Rc::clone(&paths)));
        paths
    }

    pub fn resolve_segments(&self, segs: &[String]) -> Vec<String> {
        resolve_in(self.file, self.scopes, segs)
    }

    /// Resolved paths of a call's callee, when it is a plain path.
    pub fn call_paths(&self, call: &syn::ExprCall) -> Rc<[String]> {
        match &*call.func {
            Expr::Path(p) if p.qself.is_none() => self.resolve(&p.path),
            _ => Rc::new([]),
        }
    }

    /// Whether a call's callee resolves to one of `targets`; returns the first match.
    pub fn call_matches<'t>(&self, call: &syn::ExprCall, targets: &[&'t str]) -> Option<&'t str> {
        let paths = self.call_paths(call);
        targets
            .iter()
            .copied()
            .find(|t| paths.iter().any(|p| p == t))
    }

    /// Whether a call's callee resolves to a path under one of `prefixes` (`std::fs` matches
    /// `std::fs::read`).
    pub fn call_under(&self, call: &syn::ExprCall, prefixes: &[&str]) -> bool {
        self.call_paths(call).iter().any(|p| {
            prefixes.iter().any(|pre| {
                p.strip_prefix(pre)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
            })
        })
    }

    pub fn current_fn(&self) -> Option<&FnCtx<'w>> {
        self.fns.last()
    }

    /// Whether code sits under a `#[cfg(..)]` whose text contains `needle`.
    pub fn under_cfg(&self, needle: &str) -> bool {
        self.cfgs.iter().any(|c| c.contains(needle))
    }

    /// The variable an expression is bound to by `let name = <expr>;`.
    pub fn let_name(&self, e: &Expr) -> Option<&str> {
        self.lets
            .iter()
            .rev()
            .find(|(p, _)| std::ptr::eq(*p, e))
            .map(|(_, n)| n.as_str())
    }

    /// Whether an expression is the value its function returns (tail expression or `return`).
    pub fn is_returned(&self, e: &Expr) -> bool {
        let Some(f) = self.current_fn() else {
            return false;
        };
        match f.block.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => std::ptr::eq(tail, e),
            _ => false,
        }
    }

    /// Whether the code runs on an async executor thread: inside an `async fn`, async block or
    /// async closure, and not inside a closure handed to `spawn_blocking`, `block_in_place`,
    /// `std::thread::spawn`, rayon or actix `web::block`, nor in a nested plain `fn`.
    pub fn in_async(&self) -> bool {
        for frame in self.frames.iter().rev() {
            match frame {
                Frame::Fn { is_async } => return *is_async,
                Frame::AsyncBlock => return true,
                Frame::Closure { is_async: true, .. } => return true,
                Frame::Closure {
                    callee: Some(c), ..
                } if BLOCKING_OFFLOAD.contains(&c.as_str()) => return false,
                _ => {}
            }
        }
        false
    }

    /// Whether the code is inside a loop body of the current function.
    pub fn in_loop(&self) -> bool {
        for frame in self.frames.iter().rev() {
            match frame {
                Frame::Fn { .. } => return false,
                Frame::Loop(_) => return true,
                _ => {}
            }
        }
        false
    }

    /// What the innermost loop of the current function reads, if the code is inside one. Closures
    /// and async blocks between the code and the loop do not count: code in a task spawned from a
    /// loop runs once per task, not per iteration.
    pub fn loop_source(&self) -> Option<LoopSource> {
        match self.frames.last() {
            Some(Frame::Loop(source)) => Some(*source),
            _ => None,
        }
    }

    /// Whether the code is inside a closure handed to one of `callees` (innermost function only).
    pub fn in_closure_for(&self, callees: &[&str]) -> bool {
        for frame in self.frames.iter().rev() {
            match frame {
                Frame::Fn { .. } => return false,
                Frame::Closure {
                    callee: Some(c), ..
                } if callees.contains(&c.as_str()) => return true,
                _ => {}
            }
        }
        false
    }
}

fn resolve_in(file: &RustFile, scopes: &[Rc<Imports>], segs: &[String]) -> Vec<String> {
    let Some(first) = segs.first() else {
        return Vec::new();
    };
    if matches!(first.as_str(), "crate" | "self" | "super" | "Self") {
        return vec![segs.join("::")];
    }
    // Each candidate is written straight into its string: this runs for every path of every
    // file, so intermediate vectors of segments would dominate its cost.
    let package = file.package.as_deref();
    let spell = |prefix: &[String], rest: &[String]| {
        let mut out = String::with_capacity(48);
        let mut parts = prefix.iter().chain(rest);
        if let Some(head) = parts.next() {
            let local = if head.contains('-') {
                std::borrow::Cow::Owned(normalize_crate(head))
            } else {
                std::borrow::Cow::Borrowed(head.as_str())
            };
            out.push_str(package.and_then(|p| p.crate_of(&local)).unwrap_or(&local));
        }
        for part in parts {
            out.push_str("::");
            out.push_str(part);
        }
        out
    };
    if let Some(full) = scopes.iter().rev().find_map(|s| s.names.get(first)) {
        return vec![spell(full, &segs[1..])];
    }
    let mut candidates = vec![spell(&[], segs)];
    for scope in scopes.iter().rev() {
        for glob in &scope.globs {
            if glob
                .first()
                .is_some_and(|g| !matches!(g.as_str(), "crate" | "self" | "super"))
            {
                candidates.push(spell(glob, segs));
            }
        }
    }
    candidates
}

/// Callbacks a rule implements; every one has a default that does nothing.
pub trait RustVisitor {
    /// Every maximal method chain, and every call.
    fn chain(&mut self, _cx: &Cx<'_>, _chain: &Chain<'_>) {}
    /// Every path expression (`SIGTERM`, `SignalKind::terminate`).
    fn path_expr(&mut self, _cx: &Cx<'_>, _path: &syn::ExprPath) {}
    /// A macro whose body is not a list of expressions: its raw tokens.
    fn macro_tokens(&mut self, _cx: &Cx<'_>, _mac: &syn::Macro) {}
    /// A `select!` whose body parsed: its branches' futures (then each expression is walked).
    fn select(&mut self, _cx: &Cx<'_>, _mac: &syn::Macro, _branches: &[SelectBranch<'_>]) {}
    /// Every macro invocation, before its body is walked (`sqlx::query!`, `warp::path!`).
    fn macro_call(&mut self, _cx: &Cx<'_>, _mac: &syn::Macro) {}
    /// A function or method with a body, before its body is walked.
    fn function(&mut self, _cx: &Cx<'_>, _attrs: &[syn::Attribute], _f: &FnCtx<'_>) {}
    /// A `loop`, `while` or `for`, before its body is walked.
    fn looped(&mut self, _cx: &Cx<'_>, _l: Loop<'_>) {}
    /// A struct definition (production code only).
    fn structure(&mut self, _cx: &Cx<'_>, _s: &syn::ItemStruct) {}
    /// A `static` item.
    fn item_static(&mut self, _cx: &Cx<'_>, _s: &syn::ItemStatic) {}
}

/// A loop expression of any kind.
#[derive(Clone, Copy)]
pub enum Loop<'a> {
    Loop(&'a syn::ExprLoop),
    While(&'a syn::ExprWhile),
    For(&'a syn::ExprForLoop),
}

impl<'a> Loop<'a> {
    pub fn body(&self) -> &'a syn::Block {
        match self {
            Loop::Loop(l) => &l.body,
            Loop::While(l) => &l.body,
            Loop::For(l) => &l.body,
        }
    }

    /// The `loop` / `while` / `for` keyword (or the label before it).
    pub fn keyword(&self) -> Span {
        match self {
            Loop::Loop(l) => l.loop_token.span,
            Loop::While(l) => l.while_token.span,
            Loop::For(l) => l.for_token.span,
        }
    }
}

/// `rx`, `receiver`, `rx.iter()`, `self.rx.iter()`: what a blocking `for` over a channel looks like.
fn receiver_like(e: &Expr) -> bool {
    let e = match e {
        Expr::MethodCall(m) if m.method == "iter" || m.method == "into_iter" => &*m.receiver,
        other => other,
    };
    value_name(e).is_some_and(|n| n == "rx" || n.ends_with("_rx") || n.contains("receiver"))
}

/// Walks the production code of a file (test code skipped) and calls the visitor.
pub fn walk(file: &RustFile, visitor: &mut dyn RustVisitor) {
    if file.is_test_file {
        return;
    }
    let mut w = Walker {
        file,
        visitor,
        scopes: vec![Rc::new(Imports::from_items(file.ast.items.iter()))],
        fns: Vec::new(),
        cfgs: Vec::new(),
        lets: Vec::new(),
        frames: Vec::new(),
    };
    for item in &file.ast.items {
        w.visit_item(item);
    }
}

struct Walker<'a, 'v> {
    file: &'a RustFile,
    visitor: &'v mut dyn RustVisitor,
    scopes: Vec<Rc<Imports>>,
    fns: Vec<FnCtx<'a>>,
    cfgs: Vec<String>,
    lets: Vec<(*const Expr, String)>,
    frames: Vec<Frame>,
}

impl<'a> Walker<'a, '_> {
    /// Calls the visitor with a view of the walker's state.
    fn notify(&mut self, f: impl FnOnce(&mut dyn RustVisitor, &Cx<'_>)) {
        let cx = Cx {
            file: self.file,
            scopes: &self.scopes,
            fns: &self.fns,
            cfgs: &self.cfgs,
            lets: &self.lets,
            frames: &self.frames,
            resolved: Default::default(),
        };
        f(&mut *self.visitor, &cx);
    }

    fn in_frame(&mut self, frame: Frame, f: impl FnOnce(&mut Self)) {
        self.frames.push(frame);
        f(self);
        self.frames.pop();
    }

    /// Runs `f` with the item's `cfg`s pushed, unless the item is test-only.
    fn with_attrs(&mut self, attrs: &[syn::Attribute], f: impl FnOnce(&mut Self)) {
        if is_test_only(attrs) {
            return;
        }
        let cfgs = cfg_texts(attrs);
        let n = cfgs.len();
        self.cfgs.extend(cfgs);
        f(self);
        self.cfgs.truncate(self.cfgs.len() - n);
    }

    fn walk_fn(
        &mut self,
        attrs: &'a [syn::Attribute],
        sig: &'a syn::Signature,
        block: &'a syn::Block,
    ) {
        if is_test_fn(attrs) {
            return;
        }
        self.with_attrs(attrs, |w| {
            let is_async = sig.asyncness.is_some();
            w.fns.push(FnCtx {
                name: sig.ident.to_string(),
                is_async,
                sig,
                block,
            });
            w.frames.push(Frame::Fn { is_async });
            if let Some(f) = w.fns.last().cloned() {
                w.notify(|v, cx| v.function(cx, attrs, &f));
            }
            w.visit_block(block);
            w.frames.pop();
            w.fns.pop();
        });
    }

    /// Walks expressions parsed out of a macro body; they live shorter than the file's tree.
    fn walk_macro_exprs(&mut self, exprs: &[Expr], select: Option<(&syn::Macro, &[usize])>) {
        let mut sub = Walker {
            file: self.file,
            visitor: &mut *self.visitor,
            scopes: self.scopes.clone(),
            fns: self.fns.clone(),
            cfgs: self.cfgs.clone(),
            lets: Vec::new(),
            frames: self.frames.clone(),
        };
        if let Some((mac, futures)) = select {
            let branches: Vec<SelectBranch<'_>> = futures
                .iter()
                .filter_map(|&i| exprs.get(i))
                .map(|future| SelectBranch { future })
                .collect();
            sub.notify(|v, cx| v.select(cx, mac, &branches));
        }
        for e in exprs {
            sub.visit_expr(e);
        }
    }

    /// Visits a call or method argument; a closure argument remembers what it is handed to.
    fn visit_arg(&mut self, arg: &'a Expr, callee: &str) {
        match arg {
            Expr::Closure(c) => self.walk_closure(c, Some(callee.to_string())),
            _ => self.visit_expr(arg),
        }
    }

    fn walk_closure(&mut self, c: &'a syn::ExprClosure, callee: Option<String>) {
        let frame = Frame::Closure {
            is_async: c.asyncness.is_some(),
            callee,
        };
        self.in_frame(frame, |w| syn::visit::visit_expr_closure(w, c));
    }

    /// The last segment a call's callee resolves to (`spawn_blocking` for `task::spawn_blocking`).
    fn callee_name(&self, call: &syn::ExprCall) -> Option<String> {
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        let segs = path_segments(&p.path);
        let resolved = resolve_in(self.file, &self.scopes, &segs);
        let full = resolved.first()?;
        full.rsplit("::").next().map(str::to_string)
    }
}

impl<'a> Visit<'a> for Walker<'a, '_> {
    fn visit_item_mod(&mut self, m: &'a syn::ItemMod) {
        self.with_attrs(&m.attrs, |w| {
            if let Some((_, items)) = &m.content {
                // A module does not see its parent's imports.
                let saved = std::mem::replace(
                    &mut w.scopes,
                    vec![Rc::new(Imports::from_items(items.iter()))],
                );
                for item in items {
                    w.visit_item(item);
                }
                w.scopes = saved;
            }
        });
    }

    fn visit_item_fn(&mut self, f: &'a syn::ItemFn) {
        self.walk_fn(&f.attrs, &f.sig, &f.block);
    }

    fn visit_impl_item_fn(&mut self, f: &'a syn::ImplItemFn) {
        self.walk_fn(&f.attrs, &f.sig, &f.block);
    }

    fn visit_trait_item_fn(&mut self, f: &'a syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.walk_fn(&f.attrs, &f.sig, block);
        }
    }

    fn visit_item_impl(&mut self, i: &'a syn::ItemImpl) {
        self.with_attrs(&i.attrs, |w| syn::visit::visit_item_impl(w, i));
    }

    fn visit_item_trait(&mut self, i: &'a syn::ItemTrait) {
        self.with_attrs(&i.attrs, |w| syn::visit::visit_item_trait(w, i));
    }

    fn visit_item_static(&mut self, i: &'a syn::ItemStatic) {
        self.with_attrs(&i.attrs, |w| {
            w.notify(|v, cx| v.item_static(cx, i));
            syn::visit::visit_item_static(w, i)
        });
    }

    fn visit_item_const(&mut self, i: &'a syn::ItemConst) {
        self.with_attrs(&i.attrs, |w| syn::visit::visit_item_const(w, i));
    }

    fn visit_block(&mut self, b: &'a syn::Block) {
        let imports = Imports::from_items(items_of_block(b));
        let pushed = !imports.names.is_empty() || !imports.globs.is_empty();
        if pushed {
            self.scopes.push(Rc::new(imports));
        }
        let lets = self.lets.len();
        syn::visit::visit_block(self, b);
        self.lets.truncate(lets);
        if pushed {
            self.scopes.pop();
        }
    }

    /// A statement compiled only for tests (`#[cfg(test)] spawn_mock();`) is not walked.
    fn visit_stmt(&mut self, s: &'a syn::Stmt) {
        let attrs: &[syn::Attribute] = match s {
            syn::Stmt::Expr(e, _) => expr_attrs(e),
            syn::Stmt::Macro(m) => &m.attrs,
            syn::Stmt::Local(_) | syn::Stmt::Item(_) => &[],
        };
        if !is_test_only(attrs) {
            syn::visit::visit_stmt(self, s);
        }
    }

    fn visit_local(&mut self, l: &'a syn::Local) {
        self.with_attrs(&l.attrs, |w| {
            if let (Some(init), Some(name)) = (&l.init, pat_name(&l.pat)) {
                w.lets.push((&*init.expr as *const Expr, name));
            }
            syn::visit::visit_local(w, l);
        });
    }

    fn visit_expr(&mut self, e: &'a Expr) {
        let chain = Chain::of(e);
        let is_chain = chain.base_call().is_some()
            || chain
                .links
                .iter()
                .any(|l| matches!(l, Link::Method(_) | Link::Await));
        if !is_chain {
            syn::visit::visit_expr(self, e);
            return;
        }
        self.notify(|v, cx| v.chain(cx, &chain));
        let parallel = chain.methods().any(|m| {
            let name = m.method.to_string();
            name.starts_with("par_") || name.starts_with("into_par_")
        });
        for m in chain.methods() {
            let callee = if parallel {
                "rayon".to_string()
            } else {
                m.method.to_string()
            };
            for arg in &m.args {
                self.visit_arg(arg, &callee);
            }
        }
        syn::visit::visit_expr(self, chain.base);
    }

    fn visit_expr_call(&mut self, call: &'a syn::ExprCall) {
        self.visit_expr(&call.func);
        let callee = self.callee_name(call).unwrap_or_default();
        for arg in &call.args {
            self.visit_arg(arg, &callee);
        }
    }

    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        self.walk_closure(c, None);
    }

    fn visit_expr_async(&mut self, a: &'a syn::ExprAsync) {
        self.in_frame(Frame::AsyncBlock, |w| syn::visit::visit_expr_async(w, a));
    }

    fn visit_expr_loop(&mut self, l: &'a syn::ExprLoop) {
        self.notify(|v, cx| v.looped(cx, Loop::Loop(l)));
        let source = LoopSource::of_loop_body(&l.body);
        self.in_frame(Frame::Loop(source), |w| w.visit_block(&l.body));
    }

    fn visit_expr_while(&mut self, l: &'a syn::ExprWhile) {
        self.notify(|v, cx| v.looped(cx, Loop::While(l)));
        self.visit_expr(&l.cond);
        let source = LoopSource::of([&*l.cond]);
        self.in_frame(Frame::Loop(source), |w| w.visit_block(&l.body));
    }

    fn visit_expr_for_loop(&mut self, l: &'a syn::ExprForLoop) {
        self.notify(|v, cx| v.looped(cx, Loop::For(l)));
        self.visit_expr(&l.expr);
        // `for m in rx` / `for m in rx.iter()` over a std or crossbeam receiver.
        let source = match LoopSource::of([&*l.expr]) {
            LoopSource::Other if receiver_like(&l.expr) => LoopSource::Messages,
            other => other,
        };
        self.in_frame(Frame::Loop(source), |w| w.visit_block(&l.body));
    }

    fn visit_item_struct(&mut self, i: &'a syn::ItemStruct) {
        self.with_attrs(&i.attrs, |w| w.notify(|v, cx| v.structure(cx, i)));
    }

    fn visit_item(&mut self, i: &'a syn::Item) {
        // A nested item is not inside the enclosing function's loops, closures or async blocks.
        if self.frames.is_empty() {
            syn::visit::visit_item(self, i);
        } else {
            let saved = std::mem::take(&mut self.frames);
            syn::visit::visit_item(self, i);
            self.frames = saved;
        }
    }

    fn visit_expr_path(&mut self, p: &'a syn::ExprPath) {
        self.notify(|v, cx| v.path_expr(cx, p));
    }

    fn visit_macro(&mut self, mac: &'a syn::Macro) {
        self.notify(|v, cx| v.macro_call(cx, mac));
        let is_select = mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "select");
        let is_lazy_static = mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "lazy_static");
        if is_select {
            if let Ok((exprs, futures)) = parse_select.parse2(mac.tokens.clone()) {
                self.walk_macro_exprs(&exprs, Some((mac, &futures)));
                return;
            }
        } else if is_lazy_static {
            if let Ok(exprs) = parse_lazy_static.parse2(mac.tokens.clone()) {
                self.walk_macro_exprs(&exprs, None);
                return;
            }
        } else if let Ok(p) =
            Punctuated::<Expr, Token![,]>::parse_terminated.parse2(mac.tokens.clone())
        {
            let exprs: Vec<Expr> = p.into_iter().collect();
            self.walk_macro_exprs(&exprs, None);
            return;
        }
        self.notify(|v, cx| v.macro_tokens(cx, mac));
    }
}

/// `tokio::select!` / `futures::select!` bodies: `pat = future [, if cond] => handler,` and `else =>`.
/// Returns every expression and the indices of the branch futures among them.
fn parse_select(input: ParseStream) -> syn::Result<(Vec<Expr>, Vec<usize>)> {
    let mut exprs = Vec::new();
    let mut futures = Vec::new();
    if input.peek(syn::Ident)
        && input
            .fork()
            .parse::<syn::Ident>()
            .is_ok_and(|i| i == "biased")
    {
        input.parse::<syn::Ident>()?;
        input.parse::<Token![;]>()?;
    }
    while !input.is_empty() {
        let keyword_branch = input.peek(Token![else])
            || input.peek(Token![default])
            || input
                .fork()
                .parse::<syn::Ident>()
                .is_ok_and(|i| i == "complete");
        if keyword_branch {
            input.parse::<proc_macro2::TokenTree>()?;
        } else {
            syn::Pat::parse_single(input)?;
            input.parse::<Token![=]>()?;
            futures.push(exprs.len());
            exprs.push(input.parse()?);
            if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                exprs.push(input.parse()?);
            }
        }
        input.parse::<Token![=>]>()?;
        if input.peek(syn::token::Brace) {
            exprs.push(Expr::Block(input.parse()?));
        } else {
            exprs.push(input.parse()?);
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
    }
    Ok((exprs, futures))
}

/// `lazy_static!` bodies: `[#[attr]] [pub] static ref NAME: Type = init;` items; returns the
/// initialisers.
fn parse_lazy_static(input: ParseStream) -> syn::Result<Vec<Expr>> {
    let mut inits = Vec::new();
    while !input.is_empty() {
        syn::Attribute::parse_outer(input)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<Token![static]>()?;
        input.parse::<Token![ref]>()?;
        input.parse::<syn::Ident>()?;
        input.parse::<Token![:]>()?;
        input.parse::<syn::Type>()?;
        input.parse::<Token![=]>()?;
        inits.push(input.parse()?);
        input.parse::<Token![;]>()?;
    }
    Ok(inits)
}

/// Paths in a token stream (`a::b::c`), with the span of their last segment, for macros whose
/// bodies do not parse as expressions.
pub fn token_paths(tokens: TokenStream) -> Vec<(Vec<String>, Span)> {
    let mut out = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut last_span = None;
    let mut colons = 0;
    let flush =
        |current: &mut Vec<String>, last: Option<Span>, out: &mut Vec<(Vec<String>, Span)>| {
            if let (false, Some(s)) = (current.is_empty(), last) {
                out.push((std::mem::take(current), s));
            }
            current.clear();
        };
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => {
                if colons != 2 {
                    flush(&mut current, last_span, &mut out);
                }
                colons = 0;
                current.push(i.to_string());
                last_span = Some(i.span());
            }
            TokenTree::Punct(p) if p.as_char() == ':' => colons += 1,
            TokenTree::Group(g) => {
                flush(&mut current, last_span, &mut out);
                colons = 0;
                out.extend(token_paths(g.stream()));
            }
            _ => {
                flush(&mut current, last_span, &mut out);
                colons = 0;
            }
        }
    }
    flush(&mut current, last_span, &mut out);
    out
}

// ---- facts for cross-file rules ----

/// Extracts the facts cross-file rules join (see [`RustFacts`]) with a walk of its own, for
/// tests; the engine shares one walk between [`FactsVisitor`] and the rules instead.
#[cfg(test)]
pub fn facts(file: &RustFile) -> RustFacts {
    let mut f = FactsVisitor::new(file);
    walk(file, &mut f);
    f.finish()
}

/// The facts of a file with every function body parsed, for lookups inside bodies a run left
/// unparsed (`RustFileFacts::service_in`). Runs on its own thread with the workers' large stack
/// (syn recurses); `None` if the file does not parse or the extraction panics.
pub fn facts_of_every_body(
    text: &str,
    package: Option<Arc<Package>>,
    is_test: bool,
) -> Option<RustFacts> {
    facts_of_each(&[text], package, is_test).pop().flatten()
}

/// [`facts_of_every_body`] of each text, on one thread with the large stack. It forgets the
/// thread's spans afterwards: no parsed file may be alive on the calling thread.
pub fn facts_of_each(
    texts: &[&str],
    package: Option<Arc<Package>>,
    is_test: bool,
) -> Vec<Option<RustFacts>> {
    if texts.is_empty() {
        return Vec::new();
    }
    let one = |text: &str| {
        let facts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let file = RustFile::parse(text, package.clone(), is_test, None).ok()?;
            let mut facts = FactsVisitor::new(&file);
            walk(&file, &mut facts);
            Some(facts.finish())
        }));
        proc_macro2::extra::invalidate_current_thread_spans();
        facts.ok().flatten()
    };
    // A project check already runs on a worker with the large stack: starting a thread per
    // file there cost more than the parse (each also strands its allocator pages).
    if crate::engine::on_worker_stack() {
        return texts.iter().map(|t| one(t)).collect();
    }
    let all = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(crate::engine::WORKER_STACK)
            .spawn_scoped(scope, || texts.iter().map(|t| one(t)).collect::<Vec<_>>())
            .ok()?
            .join()
            .ok()
    });
    all.unwrap_or_else(|| texts.iter().map(|_| None).collect())
}

/// What the signal facts need parsed: `ctrl_c()`, SIGTERM handling, actix servers and their
/// signal switch.
const SIGNAL_TRIGGERS: &[&str] = &[
    "ctrl_c",
    "terminate",
    "SIGTERM",
    "ctrlc:set_handler",
    "ctrlc:try_set_handler",
    "actix_web:HttpServer",
    "disable_signals",
];

/// The triggers of every fact extractor: facts are gathered whatever rules are enabled, so
/// these always apply (`rules::RustTriggers`).
pub const FACT_TRIGGERS: &[&[&str]] = &[
    SIGNAL_TRIGGERS,
    crate::lang::rust_service::TRIGGERS,
    crate::lang::rust_runtime::TRIGGERS,
    crate::lang::rust_logging::TRIGGERS,
];

/// Gathers a file's [`RustFacts`] during a walk.
pub struct FactsVisitor<'f> {
    file: &'f RustFile,
    facts: RustFacts,
    /// Service facts are gathered in the same walk.
    service: crate::lang::rust_service::Extract<'f>,
    runtime: crate::lang::rust_runtime::Extract<'f>,
}

impl<'f> FactsVisitor<'f> {
    pub fn new(file: &'f RustFile) -> Self {
        FactsVisitor {
            file,
            facts: RustFacts::default(),
            service: crate::lang::rust_service::Extract::new(file),
            runtime: crate::lang::rust_runtime::Extract::new(file),
        }
    }

    pub fn finish(mut self) -> RustFacts {
        // Test code is not walked whether cut or not: a lookup never needs it read again.
        self.facts.idle_bodies = (self.file.idle.iter())
            .filter(|r| !self.file.idle_tests.contains(r))
            .cloned()
            .collect();
        self.facts.logging.unread = self.file.debug_logs.clone();
        self.facts.unread_statics = self.file.idle_statics.clone();
        self.facts.unread_senders = self.file.idle_senders.clone();
        self.facts.service = self.service.finish();
        self.facts.runtime = self.runtime.finish();
        self.facts
    }
}

impl FactsVisitor<'_> {
    fn path(&mut self, resolved: &[String]) {
        self.facts.references.extend(resolved.iter().cloned());
        for p in resolved {
            if p.ends_with("SignalKind::terminate") || p.ends_with("::SIGTERM") || p == "SIGTERM" {
                self.facts.handles_sigterm = true;
            }
        }
    }
}
impl RustVisitor for FactsVisitor<'_> {
    fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        self.service.chain(cx, chain);
        self.runtime.chain(cx, chain);
        for m in chain.methods() {
            self.facts.methods.insert(m.method.to_string());
        }
        if let Some(call) = chain.base_call() {
            let paths = cx.call_paths(call);
            self.path(&paths);
            for p in paths.iter() {
                for m in chain.methods() {
                    self.facts.references.insert(format!("{p}.{}", m.method));
                }
            }
            for p in paths.iter() {
                match p.as_str() {
                    "tokio::signal::ctrl_c" => {
                        self.facts.ctrl_c_calls.push(call_span(self.file, call))
                    }
                    "actix_web::HttpServer::new" => self.facts.starts_actix_server = true,
                    "ctrlc::set_handler" | "ctrlc::try_set_handler" => {
                        let termination = self
                            .file
                            .package
                            .as_ref()
                            .and_then(|p| p.dependency("ctrlc"))
                            .is_some_and(|d| d.features.iter().any(|f| f == "termination"));
                        if termination {
                            self.facts.handles_sigterm = true;
                        }
                    }
                    _ => {}
                }
            }
        }
        if chain.has_method("disable_signals") {
            self.facts.disables_actix_signals = true;
        }
    }

    fn path_expr(&mut self, cx: &Cx<'_>, path: &syn::ExprPath) {
        let resolved = cx.resolve(&path.path);
        self.path(&resolved);
    }

    /// Types in signatures count as references too (`upgrade: WebSocketUpgrade`).
    fn function(&mut self, cx: &Cx<'_>, attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        self.service.function(cx, attrs, f);
        self.runtime.function(attrs);
        struct Types(Vec<Vec<String>>);
        impl<'ast> Visit<'ast> for Types {
            fn visit_type_path(&mut self, t: &'ast syn::TypePath) {
                if t.qself.is_none() {
                    self.0.push(path_segments(&t.path));
                }
                syn::visit::visit_type_path(self, t);
            }
        }
        let mut types = Types(Vec::new());
        types.visit_signature(f.sig);
        for segs in types.0 {
            let resolved = cx.resolve_segments(&segs);
            self.path(&resolved);
        }
    }

    fn select(&mut self, cx: &Cx<'_>, mac: &syn::Macro, branches: &[SelectBranch<'_>]) {
        self.runtime.select(cx, mac, branches);
    }

    fn macro_tokens(&mut self, cx: &Cx<'_>, mac: &syn::Macro) {
        for (segs, _) in token_paths(mac.tokens.clone()) {
            let resolved = cx.resolve_segments(&segs);
            self.path(&resolved);
        }
    }

    fn macro_call(&mut self, cx: &Cx<'_>, mac: &syn::Macro) {
        self.service.macro_call(cx, mac);
        if crate::lang::rust_logging::is_log_macro(&mac.path) {
            for v in crate::lang::rust_logging::logged_values(mac.tokens.clone()) {
                let Some(var) = v.var.filter(|_| v.debug) else {
                    continue;
                };
                if let Some(ty) = local_type(cx, &var) {
                    self.facts
                        .logging
                        .debug_logged
                        .push(crate::lang::rust_logging::DebugLogged {
                            span: macro_span(self.file, mac),
                            var,
                            ty,
                        });
                }
            }
        }
    }

    fn item_static(&mut self, cx: &Cx<'_>, s: &syn::ItemStatic) {
        self.service.item_static(cx, s);
        self.runtime.item_static(s);
    }

    fn structure(&mut self, _cx: &Cx<'_>, s: &syn::ItemStruct) {
        let fields = crate::lang::rust_logging::leaky_fields(s);
        if !fields.is_empty() {
            self.facts
                .logging
                .leaky_structs
                .push((s.ident.to_string(), fields));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Calls(Vec<String>);
    impl RustVisitor for Calls {
        fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
            if let Some(call) = chain.base_call() {
                let mut text = cx.call_paths(call).join("|");
                for m in chain.methods() {
                    text.push('.');
                    text.push_str(&m.method.to_string());
                }
                self.0.push(text);
            }
        }
    }

    fn calls(src: &str) -> Vec<String> {
        let file = RustFile::parse(src, None, false, None).unwrap();
        let mut v = Calls(Vec::new());
        walk(&file, &mut v);
        v.0
    }

    #[test]
    fn unbalanced_delimiters_are_located() {
        let unbalanced_delimiter = crate::lang::rust_scan::unpaired_bracket;
        let (at, why) = unbalanced_delimiter("fn main( {\n}\n").expect("found");
        assert_eq!((at, why.as_str()), (7, "this `(` is never closed"));
        let text = "fn f() {\n    let s = \"(\"; let c = '{'; // )\n    g(1;\n}\n";
        let (at, why) = unbalanced_delimiter(text).expect("found");
        assert_eq!(&text[at..at + 1], "}");
        assert!(why.contains("the `(` opened on line 3"), "{why}");
        assert_eq!(
            unbalanced_delimiter("fn f<'a>(x: &'a str) -> char { r#\")\"#; '}' }"),
            None
        );
    }

    #[test]
    fn resolves_renamed_and_grouped_imports() {
        let c = calls(
            "use reqwest::{Client as Http, get};\nfn f() { Http::builder().timeout(t).build(); get(u); }",
        );
        assert_eq!(
            c,
            ["reqwest::Client::builder.timeout.build", "reqwest::get"]
        );
    }

    #[test]
    fn imports_through_other_imports_are_spelled_out() {
        let c = calls(
            "use opentelemetry_sdk::trace as sdktrace;\nuse sdktrace::SdkTracerProvider;\nfn f() { SdkTracerProvider::builder(); }",
        );
        assert_eq!(c, ["opentelemetry_sdk::trace::SdkTracerProvider::builder"]);
    }

    #[test]
    fn function_local_imports_are_scoped() {
        let c = calls("fn a() { use reqwest::Client; Client::new(); }\nfn b() { Client::new(); }");
        assert_eq!(c, ["reqwest::Client::new", "Client::new"]);
    }

    #[test]
    fn modules_do_not_inherit_imports() {
        let c = calls("use reqwest::Client;\nmod m { fn f() { Client::new(); } }");
        assert_eq!(c, ["Client::new"]);
    }

    #[test]
    fn test_code_is_skipped() {
        let c = calls(
            "#[cfg(test)] mod t { fn f() { a(); } }\n#[tokio::test] async fn g() { b(); }\n#[cfg(all(test, unix))] fn h() { c(); }\n#[cfg(not(test))] fn i() { d(); }\n#[cfg(debug_assertions)] fn j() { e(); }",
        );
        assert_eq!(c, ["d"]);
    }

    #[test]
    fn select_and_expression_macros_are_walked() {
        let c = calls(
            "use tokio::signal;\nasync fn f() { tokio::select! { _ = signal::ctrl_c() => {}, r = x.recv(), if ok => { y(); } }\n println!(\"{}\", z()); }",
        );
        assert_eq!(c, ["tokio::signal::ctrl_c", "y", "z"]);
    }

    #[test]
    fn shebang_and_bom_keep_offsets() {
        let src = "\u{feff}#!/usr/bin/env run\nfn f() { go(); }";
        let file = RustFile::parse(src, None, false, None).unwrap();
        struct S(Vec<Range<usize>>);
        impl RustVisitor for S {
            fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
                if let Some(c) = chain.base_call() {
                    self.0.push(call_span(cx.file, c));
                }
            }
        }
        let mut s = S(Vec::new());
        walk(&file, &mut s);
        assert_eq!(&src[s.0[0].clone()], "go()");
    }

    /// `name:async?:loop?` for every call, to check the walker's frames.
    fn contexts(src: &str) -> Vec<String> {
        struct C(Vec<String>);
        impl RustVisitor for C {
            fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
                if let Some(call) = chain.base_call() {
                    let name = cx.call_paths(call).join("|");
                    self.0
                        .push(format!("{name}:{}:{}", cx.in_async(), cx.in_loop()));
                }
            }
        }
        let file = RustFile::parse(src, None, false, None).unwrap();
        let mut c = C(Vec::new());
        walk(&file, &mut c);
        c.0
    }

    #[test]
    fn async_context_is_reset_by_blocking_offloads_and_nested_fns() {
        let c = contexts(
            "async fn a() { x(); tokio::task::spawn_blocking(|| y()); std::thread::spawn(move || z()); let f = || w(); fn inner() { v(); } }\nfn b() { let t = async { u(); }; }",
        );
        assert_eq!(
            c,
            [
                "x:true:false",
                "tokio::task::spawn_blocking:true:false",
                "y:false:false",
                "std::thread::spawn:true:false",
                "z:false:false",
                "w:true:false",
                "v:false:false",
                "u:true:false",
            ]
        );
    }

    #[test]
    fn loops_end_at_function_boundaries() {
        let c = contexts(
            "fn a() { for i in it() { b(); } loop { fn c() { d(); } } while e() { f(); } }",
        );
        assert_eq!(
            c,
            [
                "it:false:false",
                "b:false:true",
                "d:false:false",
                "e:false:false",
                "f:false:true"
            ]
        );
    }

    #[test]
    fn lazy_static_initialisers_are_walked() {
        let c = calls("use moka::future::Cache;\nlazy_static::lazy_static! {\n    pub static ref TOKENS: Cache<String, i64> = Cache::builder().build();\n    static ref N: u8 = 1;\n}");
        assert_eq!(c, ["moka::future::Cache::builder.build"]);
    }

    #[test]
    fn loops_know_what_they_read() {
        struct L(Vec<String>);
        impl RustVisitor for L {
            fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
                if let Some(call) = chain.base_call() {
                    let name = cx.call_paths(call).join("|");
                    self.0.push(format!("{name}:{:?}", cx.loop_source()));
                }
            }
        }
        let src = "async fn a() {
            while let Some(m) = rx.recv().await { h(); }
            loop { let (s, _) = l.accept().await?; h(); }
            loop { tokio::select! { m = c.next() => { h(); } } }
            for i in 0..3 { h(); }
            for m in rx { h(); }
            while let Some(m) = rx.recv().await { tokio::spawn(async move { h(); }); }
        }";
        let file = RustFile::parse(src, None, false, None).unwrap();
        let mut l = L(Vec::new());
        walk(&file, &mut l);
        let h: Vec<&String> = l.0.iter().filter(|s| s.starts_with("h:")).collect();
        assert_eq!(
            h,
            [
                "h:Some(Messages)",
                "h:Some(Connections)",
                "h:Some(Messages)",
                "h:Some(Other)",
                "h:Some(Messages)",
                "h:None"
            ]
        );
    }

    #[test]
    fn select_branches_are_reported_with_their_futures() {
        struct S(Vec<usize>);
        impl RustVisitor for S {
            fn select(&mut self, _cx: &Cx<'_>, _mac: &syn::Macro, b: &[SelectBranch<'_>]) {
                self.0.push(b.len());
            }
        }
        let file = RustFile::parse(
            "async fn f() { tokio::select! { biased; a = x() => {}, _ = y(), if ok => z(), else => {} } }",
            None,
            false,
            None,
        )
        .unwrap();
        let mut s = S(Vec::new());
        walk(&file, &mut s);
        assert_eq!(s.0, [2]);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = format!("fn f() {{ {} }}", "(".repeat(10_000));
        assert!(RustFile::parse(&src, None, false, None).is_err());
    }

    #[test]
    fn token_paths_find_paths_in_unparsed_macros() {
        let tokens: TokenStream =
            "target: \"x\", a = tokio::signal::unix::SignalKind::terminate(), %b"
                .parse()
                .unwrap();
        let paths: Vec<String> = token_paths(tokens)
            .into_iter()
            .map(|(p, _)| p.join("::"))
            .collect();
        assert!(
            paths.contains(&"tokio::signal::unix::SignalKind::terminate".to_string()),
            "{paths:?}"
        );
    }

    #[test]
    fn spans_map_back_through_cut_bodies() {
        let src = "fn a() { let x = \"é\"; x }\nfn b() { reqwest::get(u) }\nfn c() {}\n";
        let wanted = Wanted::new(["reqwest"], |_| true);
        let file = RustFile::parse(src, None, false, Some(&wanted)).unwrap();
        assert_eq!(file.idle.len(), 1);
        let syn::Item::Fn(a) = &file.ast.items[0] else {
            panic!("not a function")
        };
        let syn::Item::Fn(b) = &file.ast.items[1] else {
            panic!("not a function")
        };
        assert!(a.block.stmts.is_empty() && file.is_idle(&a.block));
        // The cut body's braces, and everything after the cut, are where they are in the text.
        assert_eq!(
            file.slice(file.block_range(&a.block)),
            "{ let x = \"é\"; x }"
        );
        assert_eq!(
            file.slice(file.block_range(&b.block)),
            "{ reqwest::get(u) }"
        );
        let open = file.span(a.block.brace_token.span.open());
        assert_eq!(file.slice(open), "{");
        assert!(!file.is_idle(&b.block));
        // A parse error after a cut points into the original text.
        let broken = "fn a(n: u8) -> u8 { 1 }\nstatic C: u8 = ;";
        let e = RustFile::parse(broken, None, false, Some(&wanted))
            .err()
            .unwrap();
        assert_eq!(&broken[e.span.start..], ";");
    }

    #[test]
    fn nesting_is_refused_past_the_limit_but_not_inside_literals() {
        let wanted = Wanted::new(["reqwest"], |_| true);
        let deep = format!("fn f() {{ {}{} }}", "(".repeat(300), ")".repeat(300));
        let in_string = format!("fn f() {{ \"{}\" }}", "(".repeat(300));
        // The body's brace is the first level: the 256th parenthesis goes past the limit.
        let limit = "fn f() { ".len() + MAX_NESTING - 1;
        for w in [Some(&wanted), None] {
            let err = RustFile::parse(&deep, None, false, w).err();
            assert_eq!(err.map(|e| e.span.start), Some(limit), "{}", w.is_some());
            assert!(RustFile::parse(&in_string, None, false, w).is_ok());
        }
        // Brackets that do not pair up: every one counts.
        let open = format!("fn f() {{ \"{}\"", "(".repeat(300));
        let err = RustFile::parse(&open, None, false, Some(&wanted)).err();
        assert!(err.is_some_and(|e| e.message.contains("nest deeper")));
    }

    #[test]
    fn idle_signatures_are_cut_unless_read() {
        let src = "/// Doc.\npub(crate) async fn a(s: &str, n: u8) -> Result<u8, E> where E: Debug { 1 }\n\
                   #[instrument]\nfn b(password: &str) { 2 }\n\
                   fn c<T>(t: T) -> T { t }\n\
                   fn d(c: reqwest::Client) { 3 }\n\
                   fn e<F: Fn(u8) -> Vec<u8>, const N: usize>(f: F) -> [u8; N] { 4 }\n\
                   #[inline]\n#[allow(unused)]\nfn f(x: u8) { 5 }\n\
                   #[inline]\n#[tracing::instrument]\nfn g(x: u8) { 6 }\n";
        let wanted = Wanted::new(["reqwest"], |_| true);
        let file = RustFile::parse(src, None, false, Some(&wanted)).unwrap();
        let sigs: Vec<String> = file
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                syn::Item::Fn(f) => Some(f),
                _ => None,
            })
            .map(|f| {
                let name = file.slice(file.span(f.sig.ident.span()));
                format!(
                    "{name}:{}:{}",
                    f.sig.inputs.len(),
                    f.sig.asyncness.is_some()
                )
            })
            .collect();
        // `a`, `c`, `e` and `f` lost their parameters (generics and `async` stay); attributes
        // other than lint and inlining ones, and wanted types, keep them.
        assert_eq!(
            sigs,
            [
                "a:0:true",
                "b:1:false",
                "c:0:false",
                "d:1:false",
                "e:0:false",
                "f:0:false",
                "g:1:false"
            ]
        );
        let syn::Item::Fn(a) = &file.ast.items[0] else {
            panic!("not a function")
        };
        assert_eq!(file.slice(file.block_range(&a.block)), "{ 1 }");
        assert_eq!(file.idle.len(), 7);
    }
}
