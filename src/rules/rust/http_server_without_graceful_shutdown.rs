use crate::lang::rust::{
    call_span, chains_on_local, method_span, Chain, Cx, Link, RustFile, RustVisitor,
};
use crate::rules::rust::support::{AXUM_SERVE, HYPER014_SERVER};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "http-server-without-graceful-shutdown",
    doc: rule_doc!("http-server-without-graceful-shutdown"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &[
    "axum:serve",
    "hyper:Server",
    "warp:serve",
    "poem:Server",
    "salvo:Server",
    "rama:HttpServer",
    "rama:TcpListener",
];

const WARP_SERVE: &[&str] = &["warp::serve"];
/// Methods that start a warp server without a shutdown signal.
const WARP_RUN: &[&str] = &["run", "bind", "run_incoming", "serve_incoming"];
/// poem's and salvo's servers: `poem::Server::new(listener).run(app)` drains nothing;
/// `run_with_graceful_shutdown(app, signal, timeout)` does. salvo drains through the server's
/// handle (`server.handle()` … `handle.stop_graceful(..)`).
const POEM_SERVER: &[&str] = &["poem::Server::new"];
const SALVO_SERVER: &[&str] = &["salvo::Server::new", "salvo::server::Server::new"];
/// rama's servers: `HttpServer::http1().listen(addr, svc)` and `TcpListener::bind(addr)…serve(svc)`
/// drain nothing; their graceful forms take a guard from `rama::graceful::Shutdown`
/// (`listen_graceful(guard, ..)`, `serve_graceful(guard, ..)`).
const RAMA_HTTP_SERVER: &[&str] = &[
    "rama::http::server::HttpServer::http1",
    "rama::http::server::HttpServer::h2",
    "rama::http::server::HttpServer::auto",
];
const RAMA_TCP_LISTENER: &[&str] = &[
    "rama::tcp::server::TcpListener::bind",
    "rama::tcp::server::TcpListener::build",
    "rama::tcp::server::TcpListener::build_with_state",
];
const GRACEFUL: &[&str] = &[
    "with_graceful_shutdown",
    "bind_with_graceful_shutdown",
    "graceful",
    "run_with_graceful_shutdown",
    "handle",
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !["axum", "hyper", "warp", "poem", "salvo", "rama"]
        .iter()
        .any(|c| file.uses_crate(c))
    {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl Visitor<'_, '_> {
    /// Reports at the server's constructor when the server — as built here, or later through the
    /// variable it is kept in — is started with one of `starts` and nothing graceful.
    fn report_plain_start(
        &mut self,
        w: &Cx<'_>,
        chain: &Chain<'_>,
        methods: &[String],
        starts: &[&str],
        message: &str,
        help: &str,
    ) {
        let Some(call) = chain.base_call() else {
            return;
        };
        let Some(all) = Self::finished_elsewhere(w, chain, methods) else {
            return;
        };
        if all.iter().flatten().any(|m| starts.contains(&m.as_str())) {
            self.cx.report(call_span(w.file, call), message).help(help);
        }
    }

    /// The chain, or the chains later applied to the variable it is bound to, add a graceful
    /// shutdown; or the value is returned for a caller to finish.
    fn finished_elsewhere(
        w: &Cx<'_>,
        chain: &Chain<'_>,
        methods: &[String],
    ) -> Option<Vec<Vec<String>>> {
        // The unawaited server returned to the caller, who may add the shutdown.
        let awaited = chain.links.iter().any(|l| matches!(l, Link::Await));
        if w.is_returned(chain.top) && !awaited {
            return None;
        }
        let mut all = vec![methods.to_vec()];
        if let (Some(name), Some(f)) = (w.let_name(chain.top), w.current_fn()) {
            all.extend(chains_on_local(f.block, name));
        }
        if all.iter().flatten().any(|m| GRACEFUL.contains(&m.as_str())) {
            return None;
        }
        Some(all)
    }
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        let methods: Vec<String> = chain.methods().map(|m| m.method.to_string()).collect();
        if w.call_matches(call, AXUM_SERVE).is_some() && w.file.uses_crate("axum") {
            if Self::finished_elsewhere(w, chain, &methods).is_some() {
                self.cx
                    .report(
                        call_span(w.file, call),
                        "`axum::serve` runs without `.with_graceful_shutdown(..)`; in-flight requests are cut off on SIGTERM",
                    )
                    .help("chain `.with_graceful_shutdown(shutdown_signal())` where `shutdown_signal` waits for SIGTERM");
            }
        } else if w.call_matches(call, HYPER014_SERVER).is_some() {
            let Some(serve) = chain.method("serve") else {
                return;
            };
            if Self::finished_elsewhere(w, chain, &methods).is_some() {
                self.cx
                    .report(
                        method_span(w.file, serve),
                        "server runs without `.with_graceful_shutdown(..)`; in-flight requests are cut off on SIGTERM",
                    )
                    .help("chain `.with_graceful_shutdown(shutdown_signal())` after `.serve(..)`");
            }
        } else if w.call_matches(call, POEM_SERVER).is_some() && w.file.uses_crate("poem") {
            self.report_plain_start(
                w,
                chain,
                &methods,
                &["run"],
                "poem's server runs with `.run(..)`, which drains nothing; in-flight requests are cut off on SIGTERM",
                "use `.run_with_graceful_shutdown(app, shutdown_signal(), Some(Duration::from_secs(..)))`",
            );
        } else if w.call_matches(call, SALVO_SERVER).is_some() && w.file.uses_crate("salvo") {
            self.report_plain_start(
                w,
                chain,
                &methods,
                &["serve"],
                "salvo's server is served with no graceful stop; in-flight requests are cut off on SIGTERM",
                "take `server.handle()` before serving and call `handle.stop_graceful(..)` when SIGTERM arrives",
            );
        } else if w.call_matches(call, RAMA_HTTP_SERVER).is_some() && w.file.uses_crate("rama") {
            self.report_plain_start(
                w,
                chain,
                &methods,
                &["listen", "listen_with_state"],
                "rama's HTTP server runs with `.listen(..)`, which drains nothing; in-flight requests are cut off on SIGTERM",
                "serve under a `rama::graceful::Shutdown`: `shutdown.spawn_task_fn(|guard| server.listen_graceful(guard, addr, svc))`, then `shutdown.shutdown_with_limit(..)`",
            );
        } else if w.call_matches(call, RAMA_TCP_LISTENER).is_some() && w.file.uses_crate("rama") {
            self.report_plain_start(
                w,
                chain,
                &methods,
                &["serve", "serve_fn"],
                "rama's TCP listener serves with `.serve(..)`, which drains nothing; in-flight connections are cut off on SIGTERM",
                "serve under a `rama::graceful::Shutdown` with `.serve_graceful(guard, svc)`",
            );
        } else if w.call_matches(call, WARP_SERVE).is_some() && w.file.uses_crate("warp") {
            self.report_plain_start(
                w,
                chain,
                &methods,
                WARP_RUN,
                "`warp::serve` runs without a graceful shutdown; in-flight requests are cut off on SIGTERM",
                "use `.bind_with_graceful_shutdown(addr, shutdown_signal())` (warp 0.3) or `.graceful(shutdown_signal())` (warp 0.4)",
            );
        }
    }
}
