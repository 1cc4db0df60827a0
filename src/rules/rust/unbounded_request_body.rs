use crate::lang::rust::{call_span, method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{base_local, is_int_max, mentions, param_type};
use crate::rules::{rule_doc, Check, Ctx, Evidence, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "unbounded-request-body",
    doc: rule_doc!("unbounded-request-body"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &[
    "axum:DefaultBodyLimit",
    "axum_core:DefaultBodyLimit",
    "axum:to_bytes",
    "tower_http:RequestBodyLimitLayer",
    "tower_http:limit",
    "actix_web:PayloadConfig",
    "actix_web:JsonConfig",
    "actix_web:FormConfig",
    "actix_web:Payload",
    "actix_web:to_bytes",
    "warp:body",
    "warp:content_length_limit",
    "hyper:to_bytes",
    "hyper:aggregate",
    "http_body_util:BodyExt",
    "into_body",
];

/// tower-http's `RequestBodyLimitLayer` anywhere in the package, or in a crate it links by path,
/// bounds bodies (it wraps them in `http_body_util::Limited`); routers are often assembled across
/// files and crates.
const LIMIT_LAYER: &[Evidence] = &[Evidence::linked_path("tower_http::limit")];

const DISABLE: &[&str] = &[
    "axum::extract::DefaultBodyLimit::disable",
    "axum_core::extract::DefaultBodyLimit::disable",
];
const AXUM_TO_BYTES: &[&str] = &["axum::body::to_bytes"];
/// Constructors whose first argument is a body-size limit.
const LIMIT_CONSTRUCTORS: &[&str] = &[
    "axum::extract::DefaultBodyLimit::max",
    "axum_core::extract::DefaultBodyLimit::max",
    "tower_http::limit::RequestBodyLimitLayer::new",
    "actix_web::web::PayloadConfig::new",
    "warp::body::content_length_limit",
    "warp::filters::body::content_length_limit",
];
/// actix extractor configs whose `.limit(n)` sets the body limit.
const ACTIX_CONFIGS: &[&str] = &[
    "actix_web::web::PayloadConfig",
    "actix_web::web::JsonConfig",
    "actix_web::web::FormConfig",
];
const WARP_BODY: &[&str] = &[
    "warp::body::json",
    "warp::body::bytes",
    "warp::body::form",
    "warp::body::aggregate",
    "warp::body::stream",
    "warp::filters::body::json",
    "warp::filters::body::bytes",
    "warp::filters::body::form",
    "warp::filters::body::aggregate",
    "warp::filters::body::stream",
];
const HYPER_TO_BYTES: &[&str] = &[
    "hyper::body::to_bytes",
    "hyper::body::aggregate",
    "http_body_util::BodyExt::collect",
];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// `req.into_body()` or `req`, where `req` is the current function's `Request` parameter.
fn is_request_body(w: &Cx<'_>, e: &syn::Expr) -> bool {
    let chain = Chain::of(e);
    let names: Vec<String> = chain.methods().map(|m| m.method.to_string()).collect();
    let Some(local) = base_local(&chain) else {
        return false;
    };
    let is_request = param_type(w, &local).is_some_and(|(last, _)| last == "Request");
    is_request && (names.is_empty() || names == ["into_body"])
}

impl Visitor<'_, '_> {
    fn max_limit(&mut self, span: std::ops::Range<usize>, what: &str) {
        self.cx
            .report(
                span,
                format!("{what} sets the request-body limit to the largest integer, which removes it; one large request can exhaust the service's memory"),
            )
            .help("set the largest body this endpoint really accepts, for example `2 * 1024 * 1024`; stream uploads to storage instead of buffering them");
    }
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let file = w.file;
        if let Some(call) = chain.base_call() {
            if w.call_matches(call, DISABLE).is_some() {
                self.cx
                    .report(
                        call_span(file, call),
                        "`DefaultBodyLimit::disable()` removes axum's 2 MB body limit and no `RequestBodyLimitLayer` replaces it; one large request can exhaust the service's memory",
                    )
                    .help("add `tower_http::limit::RequestBodyLimitLayer::new(max_bytes)` to the same router, or use `DefaultBodyLimit::max(max_bytes)`")
                    .unless_package(LIMIT_LAYER);
            } else if w.call_matches(call, AXUM_TO_BYTES).is_some()
                && call.args.iter().nth(1).is_some_and(is_int_max)
            {
                self.max_limit(
                    call_span(file, call),
                    "`axum::body::to_bytes(body, usize::MAX)`",
                );
            } else if let Some(which) = w.call_matches(call, LIMIT_CONSTRUCTORS) {
                if call.args.first().is_some_and(is_int_max) {
                    let short = which.rsplit("::").take(2).collect::<Vec<_>>();
                    let name = format!(
                        "`{}::{}(..)`",
                        short.get(1).unwrap_or(&""),
                        short.first().unwrap_or(&"")
                    );
                    self.max_limit(call_span(file, call), &name);
                }
            } else if w.call_matches(call, HYPER_TO_BYTES).is_some()
                && call.args.first().is_some_and(|a| is_request_body(w, a))
            {
                self.cx
                    .report(
                        call_span(file, call),
                        "the whole request body is read into memory with no size limit; one large request can exhaust the service's memory",
                    )
                    .help("wrap the body in `http_body_util::Limited::new(body, max_bytes)` before collecting it")
                    .unless_package(LIMIT_LAYER);
            }
            if w.call_under(call, ACTIX_CONFIGS) {
                for m in chain.methods() {
                    if m.method == "limit" && m.args.first().is_some_and(is_int_max) {
                        self.max_limit(method_span(file, m), "`.limit(..)`");
                    }
                }
            }
        }

        // warp: a body filter in an `.and(..)` chain that never applies `content_length_limit`.
        let limited = chain.methods().any(|m| m.method == "content_length_limit")
            || mentions(chain.base, "content_length_limit");
        for m in chain.methods() {
            if m.method != "and" {
                continue;
            }
            for arg in &m.args {
                if let syn::Expr::Call(c) = arg {
                    if w.call_matches(c, WARP_BODY).is_some()
                        && !limited
                        && !chain
                            .methods()
                            .any(|o| o.args.iter().any(|a| mentions(a, "content_length_limit")))
                    {
                        self.cx
                            .report(
                                call_span(file, c),
                                "warp body filter with no `content_length_limit` before it; warp applies no default limit, so one large request can exhaust the service's memory",
                            )
                            .help("add `.and(warp::body::content_length_limit(max_bytes))` before the body filter");
                    }
                }
            }
        }

        // Whole-body reads of the handler's request.
        let names: Vec<&syn::ExprMethodCall> = chain.methods().collect();
        let Some(local) = base_local(chain) else {
            return;
        };
        let Some((last, resolved)) = param_type(w, &local) else {
            return;
        };
        if let Some(first) = names.first() {
            let actix_payload = resolved
                .iter()
                .any(|p| p == "actix_web::web::Payload" || p == "actix_web::dev::Payload");
            if actix_payload && first.method == "to_bytes" && first.args.is_empty() {
                self.cx
                    .report(
                        method_span(file, first),
                        "`Payload::to_bytes()` reads the whole request body with no size limit; one large request can exhaust the service's memory",
                    )
                    .help("use `.to_bytes_limited(max_bytes)` or the `web::Bytes`/`web::Json` extractors, which apply `PayloadConfig` limits");
            }
        }
        if last == "Request"
            && names.len() >= 2
            && names[0].method == "into_body"
            && names[1].method == "collect"
        {
            self.cx
                .report(
                    method_span(file, names[1]),
                    "the whole request body is collected into memory with no size limit; one large request can exhaust the service's memory",
                )
                .help("wrap the body in `http_body_util::Limited::new(body, max_bytes)` before collecting it, or add `tower_http::limit::RequestBodyLimitLayer`")
                .unless_package(LIMIT_LAYER);
        }
    }
}
