//! What a Rust file tells about the service it belongs to: the HTTP routes it registers (axum,
//! actix-web, warp), its functions and which of them handle requests, the calls that reach a
//! database, cache or another service, and where HTTP clients are created. Plain data, so
//! cross-file rules join them across a package without syntax trees.

use std::ops::Range;

use syn::parse::{ParseStream, Parser};
use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{
    base_local, call_span, expr_start, method_span, path_segments, Chain, Cx, FnCtx, Link,
    RustFile, RustVisitor,
};

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ServiceFacts {
    pub routes: Vec<Route>,
    pub fns: Vec<FnFact>,
    pub dependency_calls: Vec<DependencyCall>,
    /// Plain function calls (`check_db(..)`, `Self::ping(..)`) and `self.x(..)` method calls, by
    /// name, with where they are: to follow a handler one call deep.
    pub call_sites: Vec<(String, usize)>,
    pub client_creations: Vec<ClientCreation>,
    /// Unbounded channel constructors.
    pub channels: Vec<ChannelSite>,
    /// `x.send(..)`-style calls, by the last name of the receiver (`tx`, `self.events_tx`).
    pub sends: Vec<ChannelSend>,
    /// `static` maps (`static SEEN: LazyLock<Mutex<HashMap<..>>>`, `lazy_static!`): name and span.
    pub static_maps: Vec<(String, Range<usize>)>,
    /// Methods called on an upper-case static by name (`SEEN.lock().insert(..)` → `SEEN`, the
    /// methods, where), in the bodies that were parsed: see `RustFileFacts::service_in`.
    pub static_uses: Vec<StaticUse>,
    /// axum `.nest(prefix, router)` calls.
    pub nests: Vec<Nest>,
}

/// Where a route or a nest is registered: the function, and the local the router is bound to.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RouteScope {
    pub in_fn: Option<String>,
    /// `let api = Router::new().route(..)` → `api`; `api = api.route(..)` → `api`.
    pub bound: Option<String>,
}

/// `.nest("/api", router)`: the routes of `router` are served under `/api`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Nest {
    pub prefix: String,
    /// The prefix literal.
    pub prefix_span: Range<usize>,
    pub target: NestTarget,
    /// Where the `.nest` call is (its own router may be nested in turn).
    pub scope: RouteScope,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum NestTarget {
    /// A router returned by a function: `nest("/api", api::routes(state))`.
    Fn(String),
    /// A router in a local: `nest("/api", api)`.
    Local(String),
    /// A router built in place: the byte range of the argument.
    Inline(Range<usize>),
    /// An actix `web::scope(..)` chain: its byte range. What the chain registers inside itself
    /// is under the prefix; it may register nothing there (only handlers by name).
    Scope(Range<usize>),
    /// Anything else (a prefix that is not a literal, a field, a macro).
    Unknown,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct StaticUse {
    pub name: String,
    pub methods: Vec<String>,
    pub span: Range<usize>,
}

/// Map types whose entries stay until removed.
const MAP_TYPES: &[&str] = &[
    "HashMap",
    "DashMap",
    "BTreeMap",
    "IndexMap",
    "HashSet",
    "DashSet",
    "BTreeSet",
    "FxHashMap",
    "AHashMap",
];

/// Whether a type (as tokens) is or wraps a map: `LazyLock<Mutex<HashMap<K, V>>>`.
pub fn is_map_type(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => MAP_TYPES.iter().any(|m| i == m),
        proc_macro2::TokenTree::Group(g) => is_map_type(g.stream()),
        _ => false,
    })
}

/// `let (tx, rx) = mpsc::unbounded_channel();`
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChannelSite {
    pub span: Range<usize>,
    /// The constructor, for messages (`tokio::sync::mpsc::unbounded_channel`).
    pub what: String,
    /// The sender's variable, when the pair is bound by a tuple `let`.
    pub sender: Option<String>,
    /// Struct fields the sender is stored in within the same function (`AppState { events_tx: tx }`).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChannelSend {
    pub name: String,
    /// The send call (`send(..)`).
    pub span: Range<usize>,
    /// Inside a loop that receives messages (`while let Some(m) = rx.recv().await { tx.send(..) }`).
    pub in_consumer_loop: bool,
}

/// `.route("/healthz", get(health))`, `#[get("/healthz")]`, `warp::path!("healthz")`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Route {
    pub path: String,
    /// The path literal, or the route attribute.
    pub span: Range<usize>,
    pub handlers: Vec<Handler>,
    pub scope: RouteScope,
    /// Registered only in a development build or environment (`if env == Env::Development`,
    /// `if cfg!(debug_assertions)`, under `#[cfg(debug_assertions)]`): not served in production.
    pub development_only: bool,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Handler {
    /// A function, by its last path segment.
    Named(String),
    /// A closure written in place: the byte range of its body.
    Inline(Range<usize>),
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FnFact {
    pub name: String,
    pub is_async: bool,
    /// The body, braces included.
    pub body: Range<usize>,
    /// Known to handle requests by its shape: a tonic `Request<_>` parameter, or an actix/rocket
    /// route attribute.
    pub is_handler: bool,
}

/// A call that reaches a database, a cache or another service.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DependencyCall {
    pub span: Range<usize>,
    /// `sqlx::query`, `.fetch_one(..)`, `an HTTP request`...
    pub what: String,
}

/// `reqwest::Client::new()`, `Client::builder()…build()`, `reqwest::get(..)`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ClientCreation {
    pub span: Range<usize>,
    pub what: String,
    /// Used to send a request in the same function: a client per call of that function.
    pub sends: bool,
    /// Created and used to send a request in the same loop iteration.
    pub sends_in_loop: bool,
}

/// Function bodies the service facts need parsed (`RustTriggers`): routes and nests (axum,
/// aide, actix scopes and resources, warp), `merge`, reqwest clients, unbounded channels.
/// Dependency calls and call sites are only looked up inside given handler and helper bodies,
/// sends only to the senders of unbounded channels, and methods called on statics only for
/// statics that hold a map, so they are read from the text on demand instead
/// (`RustFileFacts::service_in`, `sends_to`, `static_uses`).
pub const TRIGGERS: &[&str] = &[
    "route",
    "api_route",
    "api_route_with",
    "route_with",
    "nest",
    "nest_service",
    "merge",
    "actix_web:scope",
    "actix_web:resource",
    "actix_web:service",
    "actix_web:configure",
    "warp:path",
    "warp:path!",
    "reqwest:reqwest",
    "reqwest:Client",
    "reqwest:ClientBuilder",
    // A tonic handler's `Request<_>` parameter (`FnFact::is_handler`): keeps the signature.
    "tonic:Request",
    "unbounded_channel",
    "unbounded",
    // `std::sync::mpsc::channel`: by its module, as `channel` alone is every bounded one too.
    "mpsc",
];

/// `.route(path, ..)`, and aide's documented-route variants.
const ROUTE_METHODS: &[&str] = &["route", "api_route", "api_route_with", "route_with"];

/// `get`, and aide's `get_with(handler, docs)`.
fn is_verb(name: &str) -> bool {
    let stem = name.strip_suffix("_with").unwrap_or(name);
    HTTP_VERBS.contains(&stem)
}

const HTTP_VERBS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "any", "trace",
];
/// Crates whose calls reach a database or cache.
const DATA_CRATES: &[&str] = &[
    "sqlx",
    "diesel",
    "diesel_async",
    "sea_orm",
    "redis",
    "tokio_postgres",
    "postgres",
    "mongodb",
    "deadpool_postgres",
    "deadpool_redis",
    "bb8",
    "scylla",
    "elasticsearch",
];
/// Methods that only database and cache clients have.
const DATA_METHODS: &[&str] = &[
    "fetch_one",
    "fetch_all",
    "fetch_optional",
    "acquire",
    "get_connection",
    "get_async_connection",
    "get_multiplexed_async_connection",
    "get_multiplexed_tokio_connection",
    "query_one",
    "query_opt",
    "simple_query",
    "batch_execute",
];
/// diesel-style methods that take the connection: data access when an argument is named like one
/// (`.load(&mut conn)`, not `.load(Ordering::Relaxed)`).
const CONN_ARG_METHODS: &[&str] = &["load", "get_result", "get_results", "execute", "first"];
/// Generic names that count only when awaited on something named like a database handle.
const AWAITED_DATA_METHODS: &[&str] = &["execute", "ping", "query", "get", "begin", "exists"];
const DATA_RECEIVER_WORDS: &[&str] = &[
    "pool", "db", "database", "conn", "redis", "cache", "pg", "postgres", "mysql", "sql", "store",
];
const REQUEST_METHODS: &[&str] = &["get", "post", "put", "delete", "patch", "head", "request"];
/// Closures handed to these run once, not per request: `OnceLock::get_or_init(|| ..)`,
/// `LazyLock::new(|| ..)`.
const ONCE: &[&str] = &[
    "get_or_init",
    "get_or_try_init",
    "get_or_insert_with",
    "call_once",
    "call_once_force",
    "new",
    "force",
];

/// The visitor that gathers [`ServiceFacts`]; `rust::FactsVisitor` drives it in the walk the
/// engine shares between the facts and the rules, so a file is walked once.
pub struct Extract<'f> {
    file: &'f RustFile,
    facts: ServiceFacts,
    /// The scope of the chain being read.
    scope: RouteScope,
    /// The chain being read sits under `#[cfg(debug_assertions)]`.
    under_debug_cfg: bool,
    /// Byte ranges of the file's `if` branches taken only in development (see
    /// [`development_branches`]), gathered function by function.
    development: Vec<Range<usize>>,
}

impl<'f> Extract<'f> {
    pub fn new(file: &'f RustFile) -> Self {
        Extract {
            file,
            facts: ServiceFacts::default(),
            scope: RouteScope::default(),
            under_debug_cfg: false,
            development: Vec::new(),
        }
    }

    pub fn finish(self) -> ServiceFacts {
        self.facts
    }
}

/// What a `.service(..)`/`.configure(..)` of an actix scope registers, when it is not written
/// in place: a route-attribute handler or a configuration function (`health`, `api::config`), a
/// function building a scope or resource (`v1()`); `None` for `web::scope(..)`/`web::resource(..)`
/// written in place, whose routes lie inside the scope's own range.
fn scope_member(arg: &Expr) -> Option<NestTarget> {
    let chain = Chain::of(arg);
    let name = match chain.base {
        Expr::Path(p) if chain.links.is_empty() => p.path.segments.last()?.ident.to_string(),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => {
                let last = p.path.segments.last()?.ident.to_string();
                if matches!(last.as_str(), "scope" | "resource") {
                    return None;
                }
                last
            }
            _ => return Some(NestTarget::Unknown),
        },
        _ => return Some(NestTarget::Unknown),
    };
    Some(NestTarget::Fn(name))
}

fn str_lit(e: &Expr) -> Option<(String, proc_macro2::Span)> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some((s.value(), s.span())),
        Expr::Reference(r) => str_lit(&r.expr),
        _ => None,
    }
}

fn chain_names(chain: &Chain<'_>) -> Vec<String> {
    chain.methods().map(|m| m.method.to_string()).collect()
}

impl Extract<'_> {
    fn handler_of(&self, e: &Expr) -> Option<Handler> {
        match e {
            Expr::Path(p) => p
                .path
                .segments
                .last()
                .map(|s| Handler::Named(s.ident.to_string())),
            Expr::Closure(c) => Some(Handler::Inline(self.expr_range(&c.body))),
            Expr::Reference(r) => self.handler_of(&r.expr),
            _ => None,
        }
    }

    /// Byte range of an expression, from its first to its last token, as far as spans allow.
    fn expr_range(&self, e: &Expr) -> Range<usize> {
        struct Bounds {
            spans: Vec<proc_macro2::Span>,
        }
        impl<'ast> Visit<'ast> for Bounds {
            fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
                self.spans.push(i.span());
            }
            fn visit_lit(&mut self, l: &'ast syn::Lit) {
                self.spans.push(l.span());
            }
            fn visit_block(&mut self, b: &'ast syn::Block) {
                self.spans.push(b.brace_token.span.open());
                self.spans.push(b.brace_token.span.close());
                syn::visit::visit_block(self, b);
            }
        }
        let mut b = Bounds { spans: Vec::new() };
        b.visit_expr(e);
        let ranges: Vec<Range<usize>> = b.spans.iter().map(|s| self.file.span(*s)).collect();
        let start = ranges.iter().map(|r| r.start).min().unwrap_or(0);
        let end = ranges.iter().map(|r| r.end).max().unwrap_or(start);
        start..end
    }

    /// Handlers in the second argument of `.route(path, ..)`: `get(h)`, `get(h).post(h2)`,
    /// `web::get().to(h)`, `on(filter, h)`.
    fn handlers_in(&self, e: &Expr) -> Vec<Handler> {
        let mut out = Vec::new();
        let chain = Chain::of(e);
        if let Some(call) = chain.base_call() {
            if let Expr::Path(p) = &*call.func {
                let last = p.path.segments.last().map(|s| s.ident.to_string());
                let arg = match last.as_deref() {
                    Some("on" | "on_with") => call.args.iter().nth(1),
                    Some(v) if is_verb(v) || v.ends_with("_service") => call.args.first(),
                    _ => None,
                };
                if let Some(h) = arg.and_then(|a| self.handler_of(a)) {
                    out.push(h);
                }
            }
        } else if let Some(h) = self.handler_of(chain.base) {
            out.push(h);
        }
        for m in chain.methods() {
            let name = m.method.to_string();
            if name == "to" || is_verb(&name) {
                if let Some(h) = m.args.first().and_then(|a| self.handler_of(a)) {
                    out.push(h);
                }
            } else if name == "route" {
                for a in &m.args {
                    out.extend(self.handlers_in(a));
                }
            }
        }
        out
    }

    fn route(&mut self, path: String, span: Range<usize>, handlers: Vec<Handler>) {
        if !handlers.is_empty() {
            let development_only =
                self.under_debug_cfg || self.development.iter().any(|r| r.contains(&span.start));
            self.facts.routes.push(Route {
                path,
                span,
                handlers,
                scope: self.scope.clone(),
                development_only,
            });
        }
    }

    fn routes_in_chain(&mut self, chain: &Chain<'_>) {
        // axum and actix: `.route("/p", get(h))`.
        for m in chain.methods() {
            if !ROUTE_METHODS.iter().any(|r| m.method == r) || m.args.len() < 2 {
                continue;
            }
            let Some((path, span)) = m.args.first().and_then(str_lit) else {
                continue;
            };
            let handlers = m
                .args
                .iter()
                .nth(1)
                .map(|a| self.handlers_in(a))
                .unwrap_or_default();
            self.route(path, self.file.span(span), handlers);
        }
        // actix `web::resource("/p").route(..)` / `.to(h)`; warp `warp::path("p").and_then(h)`.
        let base_path = match chain.base {
            Expr::Call(call) => {
                let last = match &*call.func {
                    Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                match last.as_deref() {
                    Some("resource" | "path") => call.args.first().and_then(str_lit),
                    _ => None,
                }
            }
            Expr::Macro(m)
                if m.mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "path") =>
            {
                warp_path(&m.mac)
            }
            _ => None,
        };
        if let Some((path, span)) = base_path {
            let mut handlers = Vec::new();
            for m in chain.methods() {
                let name = m.method.to_string();
                if matches!(name.as_str(), "to" | "and_then" | "map" | "then") {
                    if let Some(h) = m.args.first().and_then(|a| self.handler_of(a)) {
                        handlers.push(h);
                    }
                } else if name == "route" {
                    for a in &m.args {
                        handlers.extend(self.handlers_in(a));
                    }
                }
            }
            let path = if path.starts_with('/') {
                path
            } else {
                format!("/{path}")
            };
            self.route(path, self.file.span(span), handlers);
        }
    }

    /// actix-web `web::scope("/p")` chains: what they register (`.route(..)`, `.service(..)`
    /// in the chain, `.service(handler)` of a route-attribute function, `.configure(f)`) is served
    /// under the prefix.
    fn actix_scope(&mut self, chain: &Chain<'_>) {
        let Expr::Call(call) = chain.base else { return };
        let Expr::Path(f) = &*call.func else { return };
        if f.path.segments.last().is_none_or(|s| s.ident != "scope") {
            return;
        }
        let (Some(start), Some(last)) = (expr_start(chain.base), chain.methods().last()) else {
            return;
        };
        let span = call_span(self.file, call);
        let literal = call.args.first().and_then(str_lit);
        let prefix = literal.as_ref().map(|(p, _)| p.clone());
        let prefix_span = literal.map_or(0..0, |(_, s)| self.file.span(s));
        let push = |target: NestTarget, facts: &mut ServiceFacts| {
            facts.nests.push(Nest {
                prefix: prefix.clone().unwrap_or_default(),
                prefix_span: prefix_span.clone(),
                target: if prefix.is_some() {
                    target
                } else {
                    NestTarget::Unknown
                },
                scope: self.scope.clone(),
                span: span.clone(),
            });
        };
        let whole = self.file.join(start, last.paren_token.span.close());
        push(NestTarget::Scope(whole), &mut self.facts);
        for m in chain.methods() {
            if !matches!(m.method.to_string().as_str(), "service" | "configure") {
                continue;
            }
            if let Some(target) = m.args.first().and_then(scope_member) {
                push(target, &mut self.facts);
            }
        }
    }

    /// axum `.nest("/p", router)`.
    fn nests_in_chain(&mut self, chain: &Chain<'_>) {
        for m in chain.methods().filter(|m| m.method == "nest") {
            let [prefix, router] = [m.args.first(), m.args.iter().nth(1)];
            let (Some(prefix), Some(router)) = (prefix, router) else {
                continue;
            };
            let literal = str_lit(prefix);
            let target = match literal {
                Some(_) => self.nest_target(router, m.paren_token.span.close()),
                None => NestTarget::Unknown,
            };
            self.facts.nests.push(Nest {
                prefix_span: literal.as_ref().map_or(0..0, |(_, s)| self.file.span(*s)),
                prefix: literal.map(|(p, _)| p).unwrap_or_default(),
                target,
                scope: self.scope.clone(),
                span: method_span(self.file, m),
            });
        }
    }

    fn nest_target(&self, router: &Expr, close: proc_macro2::Span) -> NestTarget {
        let chain = Chain::of(router);
        match chain.base {
            Expr::Path(p) => match p.path.get_ident() {
                Some(local) => NestTarget::Local(local.to_string()),
                None => NestTarget::Unknown,
            },
            Expr::Call(call) => {
                let Expr::Path(f) = &*call.func else {
                    return NestTarget::Unknown;
                };
                let segs = path_segments(&f.path);
                let in_place = segs.iter().any(|s| s == "Router")
                    || matches!(segs.last().map(String::as_str), Some("new" | "default"));
                match (in_place, segs.last(), expr_start(router)) {
                    (true, _, Some(start)) => NestTarget::Inline(self.file.join(start, close)),
                    (false, Some(name), _) => NestTarget::Fn(name.clone()),
                    _ => NestTarget::Unknown,
                }
            }
            _ => NestTarget::Unknown,
        }
    }

    fn dependencies(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        if let Some(call) = chain.base_call() {
            let paths = cx.call_paths(call);
            if let Some(p) = paths
                .iter()
                .find(|p| DATA_CRATES.iter().any(|c| p.starts_with(&format!("{c}::"))))
            {
                self.facts.dependency_calls.push(DependencyCall {
                    span: call_span(self.file, call),
                    what: format!("`{p}`"),
                });
                return;
            }
            if paths.iter().any(|p| p == "reqwest::get") {
                self.facts.dependency_calls.push(DependencyCall {
                    span: call_span(self.file, call),
                    what: "an HTTP request (`reqwest::get`)".to_string(),
                });
                return;
            }
        }
        let names = chain_names(chain);
        let awaited = chain.links.iter().any(|l| matches!(l, Link::Await));
        for m in chain.methods() {
            let name = m.method.to_string();
            let receiver_words = receiver_text(&m.receiver);
            let data_receiver = DATA_RECEIVER_WORDS
                .iter()
                .any(|w| receiver_words.iter().any(|r| r.contains(w)));
            let conn_arg = CONN_ARG_METHODS.contains(&name.as_str())
                && m.args.iter().any(|a| {
                    receiver_text(a)
                        .iter()
                        .any(|i| DATA_RECEIVER_WORDS.iter().any(|w| i.contains(w)))
                });
            let is_data = DATA_METHODS.contains(&name.as_str())
                || conn_arg
                || (awaited && data_receiver && AWAITED_DATA_METHODS.contains(&name.as_str()));
            if is_data {
                let on = match receiver_words.last() {
                    Some(r) => format!("{r}."),
                    None => String::new(),
                };
                self.facts.dependency_calls.push(DependencyCall {
                    span: method_span(self.file, m),
                    what: format!("`{on}{name}(..)`"),
                });
                return;
            }
        }
        let sends = awaited
            && names.iter().any(|n| n == "send")
            && names.iter().any(|n| REQUEST_METHODS.contains(&n.as_str()));
        if sends {
            if let Some(send) = chain.method("send") {
                self.facts.dependency_calls.push(DependencyCall {
                    span: method_span(self.file, send),
                    what: "an HTTP request (`.send()`)".to_string(),
                });
            }
        }
    }

    fn client_creation(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        if cx.in_closure_for(ONCE) {
            return;
        }
        let Some(call) = chain.base_call() else {
            return;
        };
        let names = chain_names(chain);
        let what = if cx
            .call_matches(call, &["reqwest::Client::new", "reqwest::Client::default"])
            .is_some()
        {
            "reqwest::Client::new()"
        } else if cx
            .call_matches(
                call,
                &[
                    "reqwest::Client::builder",
                    "reqwest::ClientBuilder::new",
                    "reqwest::ClientBuilder::default",
                ],
            )
            .is_some()
            && names.iter().any(|n| n == "build")
        {
            "reqwest::Client::builder()…build()"
        } else if cx.call_matches(call, &["reqwest::get"]).is_some() {
            "reqwest::get(..)"
        } else {
            return;
        };
        let sends_here = what == "reqwest::get(..)"
            || names.iter().any(|n| REQUEST_METHODS.contains(&n.as_str()));
        let sends_later = || match (cx.let_name(chain.top), cx.current_fn()) {
            (Some(name), Some(f)) => crate::lang::rust::chains_on_local(f.block, name)
                .iter()
                .flatten()
                .any(|n| REQUEST_METHODS.contains(&n.as_str())),
            _ => false,
        };
        let sends = sends_here || sends_later();
        self.facts.client_creations.push(ClientCreation {
            span: call_span(self.file, call),
            what: what.to_string(),
            sends,
            sends_in_loop: sends && cx.in_loop(),
        });
    }
}

/// Lower-cased identifiers of a method's receiver (`state.db_pool` → `state`, `db_pool`).
fn receiver_text(e: &Expr) -> Vec<String> {
    struct All(Vec<String>);
    impl<'ast> Visit<'ast> for All {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.push(i.to_string().to_ascii_lowercase());
        }
        // Arguments of earlier calls say nothing about what the receiver is.
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            self.visit_expr(&m.receiver);
            self.visit_ident(&m.method);
        }
    }
    let mut all = All(Vec::new());
    all.visit_expr(e);
    all.0
}

/// `warp::path!("api" / "health")` → `/api/health`, with the first literal's span.
fn warp_path(mac: &syn::Macro) -> Option<(String, proc_macro2::Span)> {
    let parser = |input: ParseStream| {
        let mut parts = Vec::new();
        let mut first = None;
        while !input.is_empty() {
            if input.peek(syn::LitStr) {
                let l: syn::LitStr = input.parse()?;
                first.get_or_insert(l.span());
                parts.push(l.value());
            } else {
                input.parse::<proc_macro2::TokenTree>()?;
            }
        }
        Ok(first.map(|s| (format!("/{}", parts.join("/")), s)))
    };
    parser.parse2(mac.tokens.clone()).ok().flatten()
}

/// The `then` blocks of the `if`s in `block` whose condition tests for a development build or
/// environment: `env == Env::Development`, `config.is_dev()`, `cfg!(debug_assertions)`.
fn development_branches(file: &RustFile, block: &syn::Block) -> Vec<Range<usize>> {
    struct Find<'f> {
        file: &'f RustFile,
        out: Vec<Range<usize>>,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
            // The condition's names, macro arguments included (`matches!(env, Env::Dev)`,
            // `cfg!(debug_assertions)`).
            struct Words(Vec<String>);
            impl<'ast> Visit<'ast> for Words {
                fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
                    self.0.push(i.to_string().to_ascii_lowercase());
                }
                fn visit_macro(&mut self, m: &'ast syn::Macro) {
                    let text = m.tokens.to_string().to_ascii_lowercase();
                    self.0.extend(
                        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                            .filter(|w| !w.is_empty())
                            .map(str::to_string),
                    );
                }
            }
            let mut words = Words(Vec::new());
            words.visit_expr(&e.cond);
            let development = words.0.iter().any(|w| {
                matches!(
                    w.as_str(),
                    "development" | "dev" | "is_dev" | "is_development" | "debug_assertions"
                )
            });
            if development {
                self.out.push(self.file.block_range(&e.then_branch));
            }
            syn::visit::visit_expr_if(self, e);
        }
        // Nested functions are read when the walk reaches them.
        fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {}
    }
    let mut find = Find {
        file,
        out: Vec::new(),
    };
    find.visit_block(block);
    find.out
}

/// `#[get("/healthz")]`, `#[actix_web::get("/healthz")]`, `#[route("/x", method = "GET")]`,
/// and utoipa's `#[utoipa::path(get, path = "/x")]`: an OpenAPI operation is a handler (utoipa-axum
/// serves it with `routes!(handler)`, whose path is this attribute's).
fn route_attribute(attr: &syn::Attribute) -> Option<String> {
    let segments: Vec<String> = (attr.path().segments.iter())
        .map(|s| s.ident.to_string())
        .collect();
    if segments == ["utoipa", "path"] {
        return attr
            .parse_args_with(|input: ParseStream| {
                let mut path = None;
                while !input.is_empty() {
                    if input.peek(syn::Ident) && input.peek2(syn::Token![=]) {
                        let key: syn::Ident = input.parse()?;
                        input.parse::<syn::Token![=]>()?;
                        if key == "path" && input.peek(syn::LitStr) {
                            path = Some(input.parse::<syn::LitStr>()?.value());
                            continue;
                        }
                    }
                    input.parse::<proc_macro2::TokenTree>()?;
                }
                Ok(path)
            })
            .ok()
            .flatten();
    }
    let last = segments.last()?.clone();
    if !(HTTP_VERBS.contains(&last.as_str()) || last == "route") {
        return None;
    }
    attr.parse_args_with(|input: ParseStream| {
        let l: syn::LitStr = input.parse()?;
        input.parse::<proc_macro2::TokenStream>()?;
        Ok(l.value())
    })
    .ok()
}

/// Constructors of channels with no capacity limit.
pub const UNBOUNDED_CHANNELS: &[&str] = &[
    "tokio::sync::mpsc::unbounded_channel",
    "futures::channel::mpsc::unbounded",
    "futures_channel::mpsc::unbounded",
    "crossbeam_channel::unbounded",
    "crossbeam::channel::unbounded",
    "flume::unbounded",
    "async_channel::unbounded",
    "std::sync::mpsc::channel",
];

pub const SEND_METHODS: &[&str] = &[
    "send",
    "unbounded_send",
    "try_send",
    "send_async",
    "send_blocking",
];

impl Extract<'_> {
    fn channels(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        if let Some(call) = chain.base_call() {
            if let Some(what) = cx.call_matches(call, UNBOUNDED_CHANNELS) {
                let block = cx.current_fn().map(|f| f.block);
                let sender = block.and_then(|b| tuple_sender(b, chain.top));
                let fields = match (&sender, block) {
                    (Some(name), Some(b)) => fields_holding(b, name),
                    _ => Vec::new(),
                };
                self.facts.channels.push(ChannelSite {
                    span: call_span(self.file, call),
                    what: what.to_string(),
                    sender,
                    fields,
                });
            }
        }
        for m in chain.methods() {
            if !SEND_METHODS.iter().any(|s| m.method == s) {
                continue;
            }
            let mut recv = &*m.receiver;
            while let Expr::MethodCall(inner) = recv {
                if inner.method != "clone" && inner.method != "as_ref" {
                    break;
                }
                recv = &inner.receiver;
            }
            if let Some(name) = crate::lang::rust::value_name(recv) {
                self.facts.sends.push(ChannelSend {
                    name,
                    span: method_span(self.file, m),
                    in_consumer_loop: cx.loop_source()
                        == Some(crate::lang::rust::LoopSource::Messages),
                });
            }
        }
    }
}

/// The first name of `let (tx, rx) = <init>;` whose initialiser is `init`.
fn tuple_sender(block: &syn::Block, init: &Expr) -> Option<String> {
    struct Find<'e> {
        init: &'e Expr,
        found: Option<String>,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_local(&mut self, l: &'ast syn::Local) {
            if let (Some(i), syn::Pat::Tuple(t)) = (&l.init, &l.pat) {
                if std::ptr::eq(&*i.expr, self.init) {
                    self.found = t.elems.first().and_then(crate::lang::rust::pat_name);
                }
            }
            syn::visit::visit_local(self, l);
        }
    }
    let mut f = Find { init, found: None };
    f.visit_block(block);
    f.found
}

/// Struct fields whose initialiser mentions `name`: `State { events_tx: tx.clone() }`, `State { tx }`.
fn fields_holding(block: &syn::Block, name: &str) -> Vec<String> {
    struct Find<'n> {
        name: &'n str,
        fields: Vec<String>,
    }
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_field_value(&mut self, fv: &'ast syn::FieldValue) {
            if let syn::Member::Named(field) = &fv.member {
                let mut ids = Idents(Vec::new());
                ids.visit_expr(&fv.expr);
                if ids.0.iter().any(|i| i == self.name) {
                    self.fields.push(field.to_string());
                }
            }
            syn::visit::visit_field_value(self, fv);
        }
    }
    struct Idents(Vec<String>);
    impl<'ast> Visit<'ast> for Idents {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0.push(i.to_string());
        }
    }
    let mut f = Find {
        name,
        fields: Vec::new(),
    };
    f.visit_block(block);
    f.fields
}

impl Extract<'_> {
    fn static_use(&mut self, chain: &Chain<'_>) {
        let Expr::Path(p) = chain.base else { return };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
            return;
        };
        let is_const_name = crate::lang::rust_scan::is_upper_case(&name);
        let methods: Vec<String> = chain.methods().map(|m| m.method.to_string()).collect();
        if !is_const_name || methods.is_empty() {
            return;
        }
        let span = match chain.methods().last() {
            Some(m) => method_span(self.file, m),
            None => return,
        };
        self.facts.static_uses.push(StaticUse {
            name,
            methods,
            span,
        });
    }
}

impl Extract<'_> {
    /// `lazy_static! { static ref SEEN: Mutex<HashMap<..>> = ..; }`
    fn lazy_static_maps(&mut self, mac: &syn::Macro) {
        use proc_macro2::TokenTree;
        let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
        let mut i = 0;
        while i + 3 < tokens.len() {
            let is_ref = matches!((&tokens[i], &tokens[i + 1]), (TokenTree::Ident(s), TokenTree::Ident(r)) if s == "static" && r == "ref");
            if let (true, TokenTree::Ident(name)) = (is_ref, &tokens[i + 2]) {
                // The type runs from after `:` to the `=`.
                let ty: proc_macro2::TokenStream = tokens[i + 3..]
                    .iter()
                    .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == '='))
                    .cloned()
                    .collect();
                if is_map_type(ty) {
                    self.facts
                        .static_maps
                        .push((name.to_string(), self.file.span(name.span())));
                }
            }
            i += 1;
        }
    }
}

impl RustVisitor for Extract<'_> {
    fn item_static(&mut self, _cx: &Cx<'_>, s: &syn::ItemStatic) {
        struct Maps(bool);
        impl<'ast> Visit<'ast> for Maps {
            fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
                self.0 |= MAP_TYPES.iter().any(|m| i == m);
            }
        }
        let mut maps = Maps(false);
        maps.visit_type(&s.ty);
        if maps.0 {
            self.facts
                .static_maps
                .push((s.ident.to_string(), self.file.span(s.ident.span())));
        }
    }

    fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        self.static_use(chain);
        self.channels(cx, chain);
        self.scope = RouteScope {
            in_fn: cx.current_fn().map(|f| f.name.clone()),
            bound: cx
                .let_name(chain.top)
                .map(str::to_string)
                .or_else(|| base_local(chain)),
        };
        self.under_debug_cfg = cx.under_cfg("debug_assertions");
        self.routes_in_chain(chain);
        self.nests_in_chain(chain);
        self.actix_scope(chain);
        self.dependencies(cx, chain);
        self.client_creation(cx, chain);
        if let Some(call) = chain.base_call() {
            if let Expr::Path(p) = &*call.func {
                // `check_db(..)`, `health::check(..)`, `Self::check(..)`; not `Type::get()`,
                // which names another type's method and would join with any `fn get`.
                let segs = path_segments(&p.path);
                let n = segs.len();
                let owner_is_type = n >= 2
                    && segs[n - 2] != "Self"
                    && segs[n - 2].starts_with(|c: char| c.is_ascii_uppercase());
                if let (Some(last), false) = (segs.last(), owner_is_type) {
                    let at = call_span(self.file, call).start;
                    self.facts.call_sites.push((last.clone(), at));
                }
            }
        }
        for m in chain.methods() {
            if matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self")) {
                let at = method_span(self.file, m).start;
                self.facts.call_sites.push((m.method.to_string(), at));
            }
        }
    }

    fn macro_call(&mut self, cx: &Cx<'_>, mac: &syn::Macro) {
        if mac
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == "lazy_static")
        {
            self.lazy_static_maps(mac);
        }
        let resolved = cx.resolve(&mac.path);
        if let Some(p) = resolved
            .iter()
            .find(|p| DATA_CRATES.iter().any(|c| p.starts_with(&format!("{c}::"))))
        {
            let span = match mac.path.segments.first() {
                Some(first) => self
                    .file
                    .join(first.ident.span(), mac.delimiter.span().close()),
                None => 0..0,
            };
            self.facts.dependency_calls.push(DependencyCall {
                span,
                what: format!("`{p}!`"),
            });
        }
    }

    fn function(&mut self, cx: &Cx<'_>, attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        self.development
            .extend(development_branches(self.file, f.block));
        let route_attr = attrs.iter().find_map(|a| {
            let path = route_attribute(a)?;
            Some((
                path,
                self.file
                    .join(a.pound_token.span, a.bracket_token.span.close()),
            ))
        });
        let tonic_request = f.sig.inputs.iter().any(|input| {
            let syn::FnArg::Typed(t) = input else {
                return false;
            };
            let syn::Type::Path(p) = &*t.ty else {
                return false;
            };
            cx.resolve(&p.path).iter().any(|r| r == "tonic::Request")
        });
        self.facts.fns.push(FnFact {
            name: f.name.clone(),
            is_async: f.is_async,
            body: self.file.block_range(f.block),
            is_handler: route_attr.is_some() || tonic_request,
        });
        if let Some((path, span)) = route_attr {
            self.facts.routes.push(Route {
                path,
                span,
                handlers: vec![Handler::Named(f.name.clone())],
                scope: RouteScope {
                    in_fn: Some(f.name.clone()),
                    bound: None,
                },
                development_only: cx.under_cfg("debug_assertions"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(src: &str) -> ServiceFacts {
        let file = RustFile::parse(src, None, false, None).unwrap();
        crate::lang::rust::facts(&file).service
    }

    #[test]
    fn nests_and_route_scopes() {
        let f = facts(
            r#"
            fn app(state: S) -> Router {
                let admin = Router::new().route("/users", get(users));
                Router::new()
                    .route("/", get(index))
                    .nest("/api", api::routes(state))
                    .nest("/admin", admin)
                    .nest("/ops", Router::new().route("/health", get(health)))
                    .nest(PREFIX, other())
            }
            "#,
        );
        let targets: Vec<(&str, &NestTarget)> = f
            .nests
            .iter()
            .map(|n| (n.prefix.as_str(), &n.target))
            .collect();
        assert_eq!(targets.len(), 4);
        assert_eq!(targets[0], ("/api", &NestTarget::Fn("routes".into())));
        assert_eq!(targets[1], ("/admin", &NestTarget::Local("admin".into())));
        assert!(matches!(targets[2], ("/ops", NestTarget::Inline(_))));
        assert_eq!(targets[3], ("", &NestTarget::Unknown));
        let users = f.routes.iter().find(|r| r.path == "/users").unwrap();
        assert_eq!(users.scope.in_fn.as_deref(), Some("app"));
        assert_eq!(users.scope.bound.as_deref(), Some("admin"));
        let health = f.routes.iter().find(|r| r.path == "/health").unwrap();
        let NestTarget::Inline(range) = &f.nests[2].target else {
            unreachable!()
        };
        assert!(range.contains(&health.span.start));
    }

    #[test]
    fn actix_scopes() {
        let f = facts(
            r#"
            fn config(cfg: &mut web::ServiceConfig) {
                cfg.service(
                    web::scope("/api")
                        .service(health)
                        .service(v1())
                        .configure(admin::routes)
                        .service(web::resource("/items").route(web::get().to(items))),
                );
            }
            "#,
        );
        let targets: Vec<&NestTarget> = f.nests.iter().map(|n| &n.target).collect();
        assert!(f.nests.iter().all(|n| n.prefix == "/api"));
        assert!(matches!(targets[0], NestTarget::Scope(_)));
        assert_eq!(
            &targets[1..],
            [
                &NestTarget::Fn("health".into()),
                &NestTarget::Fn("v1".into()),
                &NestTarget::Fn("routes".into())
            ]
        );
        let items = f.routes.iter().find(|r| r.path == "/items").unwrap();
        let NestTarget::Scope(range) = targets[0] else {
            unreachable!()
        };
        assert!(range.contains(&items.span.start));
    }

    fn routes(f: &ServiceFacts) -> Vec<(String, Vec<String>)> {
        f.routes
            .iter()
            .map(|r| {
                let hs = r
                    .handlers
                    .iter()
                    .map(|h| match h {
                        Handler::Named(n) => n.clone(),
                        Handler::Inline(_) => "<closure>".to_string(),
                    })
                    .collect();
                (r.path.clone(), hs)
            })
            .collect()
    }

    #[test]
    fn routes_of_each_framework() {
        let f = facts(
            r#"
            fn axum() { Router::new().route("/a", get(h::a).post(b)).route("/c", get(|| async { 1 })); }
            fn actix(cfg: &mut ServiceConfig) {
                cfg.route("/d", web::get().to(d)).service(web::resource("/e").route(web::get().to(e)));
            }
            fn warp() { let r = warp::path!("api" / "health").and_then(health); }
            #[get("/f")]
            async fn f() {}
            "#,
        );
        assert_eq!(
            routes(&f),
            [
                ("/a".to_string(), vec!["a".to_string(), "b".to_string()]),
                ("/c".to_string(), vec!["<closure>".to_string()]),
                ("/d".to_string(), vec!["d".to_string()]),
                ("/e".to_string(), vec!["e".to_string()]),
                ("/api/health".to_string(), vec!["health".to_string()]),
                ("/f".to_string(), vec!["f".to_string()]),
            ]
        );
    }

    #[test]
    fn dependency_calls_need_a_data_receiver_for_generic_names() {
        let f = facts(
            "async fn h(s: S) { s.db.execute(q).await; s.cache.get(k).await; s.map.get(k); s.flag.load(Relaxed); sqlx::query(\"x\"); }",
        );
        let what: Vec<&str> = f.dependency_calls.iter().map(|d| d.what.as_str()).collect();
        assert_eq!(
            what,
            ["`db.execute(..)`", "`cache.get(..)`", "`sqlx::query`"]
        );
    }
}
