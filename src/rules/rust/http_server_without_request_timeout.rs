use crate::lang::rust::{call_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::AXUM_SERVE;
use crate::rules::rust::support::{local_only, tonic_server};
use crate::rules::{rule_doc, Check, Ctx, Evidence, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "http-server-without-request-timeout",
    doc: rule_doc!("http-server-without-request-timeout"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Servers, and the evidence: `tower_http::timeout`, `tower::timeout`, `ServiceBuilder::timeout`, websocket and SSE handlers.
const TRIGGERS: RustTriggers = &[
    "axum:serve",
    "tonic:Server",
    "timeout",
    "axum:ws",
    "axum:sse",
];

/// A timeout layer anywhere in the package: routers and their layers are often assembled in
/// several files. SSE and WebSocket routes must not get a global timeout, so a package that has
/// them is left alone.
const TIMEOUT_LAYERS: &[Evidence] = &[
    Evidence::linked_path("tower_http::timeout"),
    Evidence::linked_path("tower::timeout"),
    Evidence::linked_path("tower::ServiceBuilder::new.timeout"),
    Evidence::linked_path("tower::builder::ServiceBuilder::new.timeout"),
    Evidence::linked_path("axum::extract::ws"),
    Evidence::linked_path("axum::response::sse"),
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !(file.uses_crate("axum") || file.uses_crate("tonic")) {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        if w.call_matches(call, AXUM_SERVE).is_some() && w.file.uses_crate("axum") {
            if local_only(w) {
                return;
            }
            self.cx
                .report(
                    call_span(w.file, call),
                    "axum router served without a request timeout; a handler that hangs (a stuck query, an upstream without a timeout) holds its connection and task forever",
                )
                .help("add `.layer(tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))` to the router (per route for streaming endpoints)")
                .unless_package(TIMEOUT_LAYERS);
            return;
        }
        let Some(server) = tonic_server(w, chain) else {
            return;
        };
        if server.serve().is_none() || server.method(&["timeout"]).is_some() || local_only(w) {
            return;
        }
        self.cx
            .report(
                call_span(w.file, server.builder),
                "tonic server without `.timeout(..)`; an RPC whose client sends no deadline can run forever",
            )
            .help("add `.timeout(Duration::from_secs(30))` to `Server::builder()`; clients' `grpc-timeout` deadlines still apply when shorter")
            .unless_package(TIMEOUT_LAYERS);
    }
}
