//! Syntax helpers several Rust rules share: following a builder through `let` bindings, and
//! recognising values such as `Duration::MAX`, `usize::MAX` or `None`.

use syn::visit::Visit;
use syn::Expr;

pub use crate::lang::rust::{base_local, idents, let_init};
use crate::lang::rust::{local_chains, pat_name, path_segments, Chain, Cx, LocalChain, RustFile};

/// The methods applied to a chain's value later in the same function: `let b = X::builder();
/// b.timeout(t); let r = b.add(s); r.serve(a)` follows `b`, then `r` (two levels).
pub fn later_methods<'a>(cx: &Cx<'a>, chain: &Chain<'_>) -> Vec<&'a syn::ExprMethodCall> {
    let (Some(name), Some(f)) = (cx.let_name(chain.top), cx.current_fn()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut names = vec![name.to_string()];
    let mut depth = 0;
    while let Some(name) = names.pop() {
        for LocalChain { methods, bound } in local_chains(f.block, &name) {
            out.extend(methods);
            if let Some(b) = bound {
                if depth < 4 && b != name {
                    names.push(b);
                }
            }
        }
        depth += 1;
    }
    out
}

/// The path of a path expression, as written.
fn segments(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::Path(p) if p.qself.is_none() => Some(path_segments(&p.path)),
        _ => None,
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Group(g) => strip(&g.expr),
        Expr::Reference(r) => strip(&r.expr),
        _ => e,
    }
}

/// `usize::MAX`, `u64::MAX`, `std::u64::MAX`... (any unsigned or signed integer's `MAX`).
pub fn is_int_max(e: &Expr) -> bool {
    let Some(segs) = segments(strip(e)) else {
        return false;
    };
    let n = segs.len();
    n >= 2
        && segs[n - 1] == "MAX"
        && matches!(
            segs[n - 2].as_str(),
            "usize" | "u64" | "u32" | "u128" | "isize" | "i64" | "i32" | "i128"
        )
}

pub fn is_none(e: &Expr) -> bool {
    segments(strip(e)).is_some_and(|s| s.last().is_some_and(|l| l == "None") && s.len() <= 3)
}

/// `Duration::MAX`, `Duration::from_secs(u64::MAX)`, `Duration::new(u64::MAX, _)`, and the same
/// inside `Some(..)`: a timeout that never fires.
pub fn is_infinite_duration(e: &Expr) -> bool {
    let e = strip(e);
    if let Some(segs) = segments(e) {
        return segs.len() >= 2
            && segs[segs.len() - 1] == "MAX"
            && segs[segs.len() - 2] == "Duration";
    }
    let Expr::Call(call) = e else {
        return false;
    };
    let Some(segs) = segments(&call.func) else {
        return false;
    };
    let last = segs.last().map(String::as_str).unwrap_or("");
    match last {
        "Some" => call.args.first().is_some_and(is_infinite_duration),
        "from_secs" | "from_millis" | "from_micros" | "from_nanos" | "new" | "from_secs_f64"
        | "from_secs_f32" => {
            segs.len() >= 2
                && segs[segs.len() - 2] == "Duration"
                && call
                    .args
                    .first()
                    .is_some_and(|a| is_int_max(a) || is_float_max(a))
        }
        _ => false,
    }
}

fn is_float_max(e: &Expr) -> bool {
    segments(strip(e)).is_some_and(|s| {
        s.len() >= 2
            && matches!(s[s.len() - 1].as_str(), "MAX" | "INFINITY")
            && matches!(s[s.len() - 2].as_str(), "f64" | "f32")
    })
}

/// `Duration::ZERO`, `Duration::from_secs(0)`, `Duration::from_millis(0)`, `Duration::new(0, 0)`.
pub fn is_zero_duration(e: &Expr) -> bool {
    let e = strip(e);
    if let Some(segs) = segments(e) {
        return segs.len() >= 2
            && segs[segs.len() - 1] == "ZERO"
            && segs[segs.len() - 2] == "Duration";
    }
    let Expr::Call(call) = e else {
        return is_zero(e);
    };
    let Some(segs) = segments(&call.func) else {
        return false;
    };
    segs.len() >= 2
        && segs[segs.len() - 2] == "Duration"
        && matches!(
            segs[segs.len() - 1].as_str(),
            "from_secs" | "from_millis" | "from_micros" | "from_nanos" | "new"
        )
        && !call.args.is_empty()
        && call.args.iter().all(is_zero)
}

fn is_zero(e: &Expr) -> bool {
    matches!(strip(e), Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(i), .. }) if i.base10_digits() == "0")
}

/// `axum::serve(listener, app)` (axum 0.7 and later).
pub const AXUM_SERVE: &[&str] = &["axum::serve"];

/// hyper 0.14's `Server` constructors (also re-exported by axum 0.6 as `axum::Server`).
pub const HYPER014_SERVER: &[&str] = &[
    "hyper::Server::bind",
    "hyper::Server::try_bind",
    "hyper::Server::builder",
    "hyper::Server::from_tcp",
    "hyper::server::Server::bind",
    "hyper::server::Server::try_bind",
    "hyper::server::Server::builder",
    "hyper::server::Server::from_tcp",
    "axum::Server::bind",
    "axum::Server::try_bind",
    "axum::Server::builder",
    "axum::Server::from_tcp",
];

/// The tonic server builder: `tonic::transport::Server::builder()` and the chains later applied
/// to it. `serve` is the first `serve*` method found, if any.
pub struct TonicServer<'a> {
    pub builder: &'a syn::ExprCall,
    pub methods: Vec<&'a syn::ExprMethodCall>,
}

const TONIC_BUILDER: &[&str] = &[
    "tonic::transport::Server::builder",
    "tonic::transport::Server::default",
    "tonic::transport::server::Server::builder",
    "tonic::transport::server::Server::default",
];

pub fn tonic_server<'a>(cx: &Cx<'a>, chain: &Chain<'a>) -> Option<TonicServer<'a>> {
    let call = chain.base_call()?;
    cx.call_matches(call, TONIC_BUILDER)?;
    let mut methods: Vec<&'a syn::ExprMethodCall> = chain.methods().collect();
    methods.extend(later_methods(cx, chain));
    Some(TonicServer {
        builder: call,
        methods,
    })
}

impl<'a> TonicServer<'a> {
    pub fn method(&self, names: &[&str]) -> Option<&'a syn::ExprMethodCall> {
        self.methods
            .iter()
            .copied()
            .find(|m| names.iter().any(|n| m.method == n))
    }

    /// The server is started here (not returned or handed elsewhere to be started).
    pub fn serve(&self) -> Option<&'a syn::ExprMethodCall> {
        self.method(&[
            "serve",
            "serve_with_incoming",
            "serve_with_shutdown",
            "serve_with_incoming_shutdown",
        ])
    }
}

/// The last segment of the declared type of the current function's parameter `name`
/// (`Request` for `req: hyper::Request<Incoming>`), and its resolved full paths.
pub fn param_type(cx: &Cx<'_>, name: &str) -> Option<(String, Vec<String>)> {
    let f = cx.current_fn()?;
    f.sig.inputs.iter().find_map(|input| {
        let syn::FnArg::Typed(t) = input else {
            return None;
        };
        if pat_name(&t.pat).as_deref() != Some(name) {
            return None;
        }
        let mut ty = &*t.ty;
        while let syn::Type::Reference(r) = ty {
            ty = &r.elem;
        }
        let syn::Type::Path(p) = ty else {
            return None;
        };
        let last = p.path.segments.last()?.ident.to_string();
        Some((last, cx.resolve(&p.path).to_vec()))
    })
}

/// Whether an expression mentions a (lower-case) identifier anywhere: calls, paths, method names.
pub fn mentions(e: &Expr, ident: &str) -> bool {
    idents(e).iter().any(|i| i == ident)
}

/// `&mut x`, `x.into_future()`, `(x)`: the expression underneath.
pub fn unwrap_future(e: &Expr) -> &Expr {
    match e {
        Expr::Reference(r) => unwrap_future(&r.expr),
        Expr::Paren(p) => unwrap_future(&p.expr),
        Expr::MethodCall(m) if m.method == "into_future" || m.method == "fuse" => {
            unwrap_future(&m.receiver)
        }
        _ => e,
    }
}

/// Whether the current function serves only on a Unix socket or the loopback interface
/// (`UnixListener`, `Ipv4Addr::LOCALHOST`, `[127, 0, 0, 1]`, or a string literal that is a
/// loopback address — `"127.0.0.1:9090"`, `"localhost"`, `"[::1]:8080"`): nothing outside the
/// machine reaches such a server — a local daemon's IPC, a sidecar's admin port, a CLI's
/// callback listener. A loopback URL in a message or a client's endpoint
/// (`"http://localhost:4317"`) is not a bind address and does not count.
pub fn local_only(cx: &Cx<'_>) -> bool {
    let Some(f) = cx.current_fn() else {
        return false;
    };
    let body = cx.file.slice(cx.file.block_range(f.block));
    let squeezed = squeezed(body);
    [
        "UnixListener",
        "[127,0,0,1]",
        "LOCALHOST",
        "Ipv6Addr::LOCALHOST",
    ]
    .iter()
    .any(|needle| squeezed.contains(needle))
        || string_literals(body).any(is_loopback_address)
}

/// `127.0.0.1`, `localhost`, `::1`, `[::1]`, each with an optional `:port`.
fn is_loopback_address(text: &str) -> bool {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, port)) => (host, port.strip_prefix(':').unwrap_or(port)),
            None => return false,
        }
    } else if text == "::1" {
        (text, "")
    } else {
        text.split_once(':').unwrap_or((text, ""))
    };
    // A port may be a format placeholder: `format!("127.0.0.1:{port}")`.
    let placeholder = port.starts_with('{') && port.ends_with('}');
    matches!(host, "127.0.0.1" | "localhost" | "::1")
        && (placeholder || port.bytes().all(|b| b.is_ascii_digit()))
}

/// The contents of the plain string literals in a piece of Rust text (escapes left as written).
fn string_literals(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find('"')? + 1;
        let bytes = rest.as_bytes();
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        let literal = rest.get(start..end.min(rest.len()))?;
        rest = rest.get(end + 1..).unwrap_or("");
        Some(literal)
    })
}

/// Server frameworks: a package using one of them serves requests on its async runtime.
const SERVER_CRATES: &[&str] = &[
    "axum",
    "actix_web",
    "tonic",
    "warp",
    "hyper",
    "poem",
    "rocket",
    "salvo",
    "tide",
    "tower_http",
];

/// Whether the file belongs to a service: its package depends on a server framework and is not
/// named like a command-line tool. Outside a known package, assume it is.
pub fn is_service(file: &RustFile) -> bool {
    match &file.package {
        Some(p) => SERVER_CRATES.iter().any(|c| p.depends_on(c)) && !is_cli_name(&p.name),
        None => true,
    }
}

/// Whether the file's package is named like a command-line tool.
pub fn is_cli(file: &RustFile) -> bool {
    file.package.as_ref().is_some_and(|p| is_cli_name(&p.name))
}

/// `restate-cli`, `svix_cli`, `restatectl`: command-line tools, even when they embed a server.
fn is_cli_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "cli" || name.ends_with("-cli") || name.ends_with("_cli") || name.ends_with("ctl")
}

/// The body of a function or method named `name` defined anywhere in the file (outside test
/// code is not checked: the caller already is production code). A body the run left unparsed
/// (`rust_scan`) is parsed from the text here; its spans are then not the file's, so callers
/// read its shape, not its positions.
pub fn fn_in_file<'f>(file: &'f RustFile, name: &str) -> Option<FnBody<'f>> {
    struct Find<'f, 'n> {
        name: &'n str,
        found: Option<&'f syn::Block>,
    }
    impl<'f> Visit<'f> for Find<'f, '_> {
        fn visit_item_fn(&mut self, f: &'f syn::ItemFn) {
            if self.found.is_none() && f.sig.ident == self.name {
                self.found = Some(&f.block);
            }
        }
        fn visit_impl_item_fn(&mut self, f: &'f syn::ImplItemFn) {
            if self.found.is_none() && f.sig.ident == self.name {
                self.found = Some(&f.block);
            }
        }
    }
    let mut f = Find { name, found: None };
    f.visit_file(&file.ast);
    let block = f.found?;
    if !file.is_idle(block) {
        return Some(FnBody::Parsed(block));
    }
    let text = file.text.get(file.block_range(block))?;
    syn::parse_str::<syn::Block>(text)
        .ok()
        .map(|b| FnBody::Reread(Box::new(b)))
}

/// A function body from the file's tree, or parsed from its text ([`fn_in_file`]).
pub enum FnBody<'f> {
    Parsed(&'f syn::Block),
    Reread(Box<syn::Block>),
}

impl std::ops::Deref for FnBody<'_> {
    type Target = syn::Block;
    fn deref(&self) -> &syn::Block {
        match self {
            FnBody::Parsed(b) => b,
            FnBody::Reread(b) => b,
        }
    }
}

/// The value of a string literal, also behind `&`.
pub fn str_value(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        Expr::Reference(r) => str_value(&r.expr),
        _ => None,
    }
}

/// Text with all whitespace removed, so a search for `[127,0,0,1]` or `Cache<(),` does not depend
/// on formatting.
pub fn squeezed(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The current function's body, [`squeezed`].
pub fn fn_text_squeezed(cx: &Cx<'_>) -> Option<String> {
    let f = cx.current_fn()?;
    Some(squeezed(cx.file.slice(cx.file.block_range(f.block))))
}

/// Whether the current function's text contains any of `words`.
pub fn mentions_in_fn(cx: &Cx<'_>, words: &[&str]) -> bool {
    let Some(f) = cx.current_fn() else {
        return false;
    };
    let body = cx.file.slice(cx.file.block_range(f.block));
    words.iter().any(|w| body.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_bind_addresses_not_urls() {
        for local in [
            "127.0.0.1:9090",
            "localhost",
            "localhost:3000",
            "[::1]:8080",
            "::1",
        ] {
            assert!(is_loopback_address(local), "{local}");
        }
        for other in [
            "http://localhost:4317",
            "0.0.0.0:8080",
            "localhost.example.com",
            "127.0.0.1.nip.io:80",
        ] {
            assert!(!is_loopback_address(other), "{other}");
        }
        let text = r#"bind("0.0.0.0:80"); warn!("export to \"x\" http://localhost:4317 failed");"#;
        let literals: Vec<&str> = string_literals(text).collect();
        assert_eq!(
            literals,
            [
                "0.0.0.0:80",
                r#"export to \"x\" http://localhost:4317 failed"#
            ]
        );
    }
}
