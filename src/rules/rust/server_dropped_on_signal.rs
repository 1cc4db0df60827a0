use crate::lang::rust::{method_span, path_start, Chain, Cx, RustFile, RustVisitor, SelectBranch};
use crate::rules::rust::support::{base_local, idents, let_init, tonic_server, unwrap_future};
use crate::rules::rust::support::{AXUM_SERVE, HYPER014_SERVER};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "server-dropped-on-signal",
    doc: rule_doc!("server-dropped-on-signal"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["select!", "abort"];

const ACTIX_SERVER: &[&str] = &["actix_web::HttpServer::new"];
const SPAWN: &[&str] = &["tokio::spawn", "tokio::task::spawn", "actix_rt::spawn"];
/// Words that name a shutdown trigger: `ctrl_c()`, `shutdown_signal()`, `sigterm.recv()`,
/// `token.cancelled()`, `stop_rx.changed()`.
const SIGNAL_WORDS: &[&str] = &[
    "ctrl_c",
    "signal",
    "shutdown",
    "sigterm",
    "sigint",
    "terminate",
    "cancelled",
    "stop",
];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    // Not only the known frameworks: a crate's own server started on an address counts too.
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// Which server a future runs, if it is one: the expression itself or a local bound to one.
fn server_kind(w: &Cx<'_>, e: &syn::Expr, depth: usize) -> Option<&'static str> {
    let e = unwrap_future(e);
    let chain = Chain::of(e);
    if let Some(call) = chain.base_call() {
        if w.call_matches(call, AXUM_SERVE).is_some() {
            return Some("axum::serve");
        }
        if w.call_matches(call, ACTIX_SERVER).is_some() && chain.has_method("run") {
            return Some("actix-web HttpServer");
        }
        if w.call_matches(call, HYPER014_SERVER).is_some() && chain.has_method("serve") {
            return Some("hyper Server");
        }
        if chain
            .methods()
            .any(|m| m.method.to_string().starts_with("serve"))
            && tonic_server(w, &chain).is_some()
        {
            return Some("tonic Server");
        }
        return None;
    }
    // A server of the crate's own, started by a method given the address to serve on:
    // `service.bind(addr)`, `app.serve(listen_addr)` (the Go `srv.ListenAndServe(addr)`).
    if let Some(last) = chain.methods().last() {
        let kind = match last.method.to_string().as_str() {
            "bind" => Some("server (`.bind(addr)`)"),
            "serve" => Some("server (`.serve(addr)`)"),
            "listen" => Some("server (`.listen(addr)`)"),
            "run" => Some("server (`.run(addr)`)"),
            _ => None,
        };
        let on_address = last.args.iter().any(|a| {
            idents(a)
                .iter()
                .any(|i| i.to_ascii_lowercase().ends_with("addr"))
        });
        if let (Some(kind), true) = (kind, on_address) {
            return Some(kind);
        }
    }
    // A local bound to a server future earlier in the function.
    let name = base_local(&chain)?;
    if depth > 2 {
        return None;
    }
    let init = let_init(w.current_fn()?.block, &name)?;
    server_kind(w, init, depth + 1)
}

fn is_signal(w: &Cx<'_>, e: &syn::Expr) -> bool {
    let e = unwrap_future(e);
    let chain = Chain::of(e);
    if let Some(call) = chain.base_call() {
        if w.call_matches(call, &["tokio::signal::ctrl_c"]).is_some() {
            return true;
        }
    }
    let named = |e: &syn::Expr| {
        idents(e)
            .iter()
            .any(|i| SIGNAL_WORDS.iter().any(|s| i.contains(s)))
    };
    if named(e) {
        return true;
    }
    // `term.recv()` where `let mut term = signal(SignalKind::terminate())?`.
    let init = base_local(&chain).and_then(|name| let_init(w.current_fn()?.block, &name));
    init.is_some_and(named)
}

impl RustVisitor for Visitor<'_, '_> {
    fn select(&mut self, w: &Cx<'_>, mac: &syn::Macro, branches: &[SelectBranch<'_>]) {
        let server = branches.iter().find_map(|b| server_kind(w, b.future, 0));
        let Some(server) = server else {
            return;
        };
        if !branches.iter().any(|b| is_signal(w, b.future)) {
            return;
        }
        let Some(start) = path_start(&mac.path) else {
            return;
        };
        let span = w.file.join(start, mac.delimiter.span().close());
        self.cx
            .report(
                span,
                format!("`select!` drops the {server} future when the shutdown signal fires, cutting off in-flight requests instead of draining them"),
            )
            .help("pass the signal to the server's graceful shutdown (`.with_graceful_shutdown(signal)`, `serve_with_shutdown`, actix `ServerHandle::stop(true)`) and await the server alone");
    }

    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(abort) = chain.method("abort") else {
            return;
        };
        let Some(name) = base_local(chain) else {
            return;
        };
        let Some(f) = w.current_fn() else {
            return;
        };
        let Some(syn::Expr::Call(spawn)) = let_init(f.block, &name) else {
            return;
        };
        if w.call_matches(spawn, SPAWN).is_none() {
            return;
        }
        let Some(server) = spawn.args.first().and_then(|a| server_kind(w, a, 0)) else {
            return;
        };
        self.cx
            .report(
                method_span(w.file, abort),
                format!("`.abort()` kills the task running the {server}, cutting off in-flight requests instead of draining them"),
            )
            .help("signal the server's graceful shutdown instead and await the task's handle");
    }
}
