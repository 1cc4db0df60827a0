//! How a Rust service runs: the thread counts it fixes for its runtimes and pools, the time it
//! allows itself to drain on shutdown, and whether it serves gRPC — the facts the cross-file
//! rules compare with a container's CPU limit, grace period and probes.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use crate::lang::rust::{
    call_span, expr_start, idents, let_init, method_span, path_segments, path_start, Chain, Cx,
    RustFile, SelectBranch,
};

/// Function bodies the runtime facts need parsed (`RustTriggers`): fixed thread counts, drain
/// bounds (`timeout` around a drain, a `select!` racing it, `shutdown_timeout`,
/// `graceful_shutdown`) and server starts. `#[tokio::main]` and allocators are items.
pub const TRIGGERS: &[&str] = &[
    "worker_threads",
    "workers",
    "num_threads",
    "shutdown_timeout",
    "graceful_shutdown",
    "timeout",
    "select!",
    "actix_web:HttpServer",
    "tonic:Server",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RuntimeFacts {
    /// Thread counts written into the code.
    pub thread_counts: Vec<ThreadCount>,
    /// Upper bounds the code puts on its own shutdown.
    pub drain_budgets: Vec<DrainBudget>,
    /// actix-web `HttpServer::new` calls: each drains for up to 30 s on SIGTERM unless
    /// `shutdown_timeout` says otherwise.
    pub actix_servers: Vec<Range<usize>>,
    /// tonic `Server::builder()` calls.
    pub grpc_servers: Vec<Range<usize>>,
    /// `#[global_allocator]` statics of a jemalloc type (`Jemalloc`), at their name.
    pub allocators: Vec<Range<usize>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadCount {
    /// The call or attribute argument that sets it.
    pub span: Range<usize>,
    pub count: u64,
    /// `tokio worker_threads`, `actix-web workers`, `rayon num_threads`.
    pub what: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DrainBudget {
    pub span: Range<usize>,
    pub seconds: f64,
    /// `actix-web shutdown_timeout`, `tokio::time::timeout around the shutdown`.
    pub what: String,
}

/// Gathers [`RuntimeFacts`] during the facts walk.
pub struct Extract<'f> {
    file: &'f RustFile,
    facts: RuntimeFacts,
}

/// Methods that set a thread count, by the call their chain starts with.
const THREAD_SETTERS: &[(&str, &str, &str)] = &[
    (
        "tokio::runtime::Builder::new_multi_thread",
        "worker_threads",
        "tokio `worker_threads`",
    ),
    (
        "actix_web::HttpServer::new",
        "workers",
        "actix-web `workers`",
    ),
    (
        "rayon::ThreadPoolBuilder::new",
        "num_threads",
        "rayon `num_threads`",
    ),
    (
        "rayon::ThreadPoolBuilder::default",
        "num_threads",
        "rayon `num_threads`",
    ),
];

/// Methods whose argument bounds a server's graceful shutdown: actix-web's `shutdown_timeout`
/// (seconds), axum-server's `Handle::graceful_shutdown(Some(d))`, poem's
/// `run_with_graceful_shutdown(.., Some(d))`, tokio's `Runtime::shutdown_timeout(d)`.
const DRAIN_METHODS: &[&str] = &[
    "shutdown_timeout",
    "graceful_shutdown",
    "run_with_graceful_shutdown",
];

impl<'f> Extract<'f> {
    pub fn new(file: &'f RustFile) -> Self {
        Extract {
            file,
            facts: RuntimeFacts::default(),
        }
    }

    pub fn finish(self) -> RuntimeFacts {
        self.facts
    }

    pub fn chain(&mut self, cx: &Cx<'_>, chain: &Chain<'_>) {
        let base = chain.base_call().map(|c| (c, cx.call_paths(c)));
        if let Some((call, paths)) = &base {
            let has = |p: &str| paths.iter().any(|x| x == p);
            if has("actix_web::HttpServer::new") {
                self.facts.actix_servers.push(callee_span(self.file, call));
            }
            if has("tonic::transport::Server::builder") {
                self.facts.grpc_servers.push(call_span(self.file, call));
            }
            for (start, method, what) in THREAD_SETTERS {
                let Some(m) = chain.method(method).filter(|_| has(start)) else {
                    continue;
                };
                if let Some(count) = m.args.first().and_then(|a| int_value(self.file, a)) {
                    self.facts.thread_counts.push(ThreadCount {
                        span: method_span(self.file, m),
                        count,
                        what: what.to_string(),
                    });
                }
            }
            if has("tokio::time::timeout") && call.args.len() == 2 {
                let (limit, future) = (&call.args[0], &call.args[1]);
                if let Some(seconds) = duration_seconds(self.file, limit) {
                    // The future's text: from where it starts to the call's closing parenthesis.
                    let text = expr_start(future).map_or("", |start| {
                        self.file
                            .slice(self.file.join(start, call.paren_token.span.close()))
                    });
                    if is_shutdown_text(text) || self.is_shutdown_local(cx, future) {
                        self.facts.drain_budgets.push(DrainBudget {
                            span: call_span(self.file, call),
                            seconds,
                            what: "`tokio::time::timeout` around the shutdown".into(),
                        });
                    }
                }
            }
        }
        for m in chain.methods() {
            let name = m.method.to_string();
            if !DRAIN_METHODS.contains(&name.as_str()) {
                continue;
            }
            let Some(arg) = m.args.last() else { continue };
            // actix-web takes whole seconds; the others a `Duration`, optionally in `Some`.
            let seconds = match strip_some(arg) {
                Some(inner) => duration_seconds(self.file, inner),
                None => int_value(self.file, arg)
                    .map(|n| n as f64)
                    .or_else(|| duration_seconds(self.file, arg)),
            };
            if let Some(seconds) = seconds {
                self.facts.drain_budgets.push(DrainBudget {
                    span: method_span(self.file, m),
                    seconds,
                    what: format!("`{name}`"),
                });
            }
        }
    }

    /// `select! { _ = graceful.shutdown() => {}, _ = sleep(Duration::from_secs(10)) => {} }`:
    /// the drain races a timer.
    pub fn select(&mut self, cx: &Cx<'_>, mac: &syn::Macro, branches: &[SelectBranch<'_>]) {
        // In a loop, a timer branch is a tick, not a bound on a drain.
        if cx.in_loop() {
            return;
        }
        let timer = branches.iter().find_map(|b| {
            let Expr::Call(call) = b.future else {
                return None;
            };
            let paths = cx.call_paths(call);
            if !paths.iter().any(|p| p == "tokio::time::sleep") {
                return None;
            }
            duration_seconds(self.file, call.args.first()?)
        });
        let Some(seconds) = timer else { return };
        let drains = branches.iter().any(|b| {
            let text = expr_start(b.future).map_or("", |start| {
                self.file
                    .slice(self.file.join(start, mac.delimiter.span().close()))
            });
            // Only this branch's own text: up to the next `=>`.
            let own = text.split("=>").next().unwrap_or("");
            is_shutdown_text(own) || self.is_shutdown_local(cx, b.future)
        });
        let Some(start) = path_start(&mac.path) else {
            return;
        };
        if drains {
            self.facts.drain_budgets.push(DrainBudget {
                span: self.file.join(start, mac.delimiter.span().close()),
                seconds,
                what: "a `select!` racing the drain against `tokio::time::sleep`".into(),
            });
        }
    }

    /// `#[global_allocator] static GLOBAL: Jemalloc = Jemalloc;`
    pub fn item_static(&mut self, s: &syn::ItemStatic) {
        let global = s
            .attrs
            .iter()
            .any(|a| a.path().is_ident("global_allocator"));
        let jemalloc = matches!(&*s.ty, syn::Type::Path(t)
            if t.path.segments.last().is_some_and(|l| l.ident == "Jemalloc"));
        if global && jemalloc {
            self.facts.allocators.push(self.file.span(s.ident.span()));
        }
    }

    /// `#[tokio::main(worker_threads = 8)]`.
    pub fn function(&mut self, attrs: &[syn::Attribute]) {
        for attr in attrs {
            let segs = path_segments(attr.path());
            if segs != ["tokio", "main"] {
                continue;
            }
            let Ok(args) =
                attr.parse_args_with(Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated)
            else {
                continue;
            };
            for arg in args {
                if !arg.path.is_ident("worker_threads") {
                    continue;
                }
                if let Some(count) = int_value(self.file, &arg.value) {
                    let end = expr_start(&arg.value).unwrap_or(arg.eq_token.span);
                    let start = path_start(&arg.path).unwrap_or(arg.eq_token.span);
                    self.facts.thread_counts.push(ThreadCount {
                        span: self.file.join(start, end),
                        count,
                        what: "`#[tokio::main]` `worker_threads`".into(),
                    });
                }
            }
        }
    }

    /// Whether the future a timeout bounds is a local bound to a shutdown future
    /// (`let server = axum::serve(..).with_graceful_shutdown(..)`).
    fn is_shutdown_local(&self, cx: &Cx<'_>, future: &Expr) -> bool {
        let name = match future {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            Expr::Reference(r) => match &*r.expr {
                Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                _ => None,
            },
            _ => None,
        };
        let (Some(name), Some(f)) = (name, cx.current_fn()) else {
            return false;
        };
        let_init(f.block, &name).is_some_and(|init| is_shutdown_text(&idents(init).join(" ")))
    }
}

/// `HttpServer::new` of `HttpServer::new(|| ..)`: the callee alone, not its long argument.
fn callee_span(file: &RustFile, call: &syn::ExprCall) -> Range<usize> {
    match &*call.func {
        Expr::Path(p) => match (path_start(&p.path), p.path.segments.last()) {
            (Some(start), Some(last)) => file.join(start, last.ident.span()),
            _ => call_span(file, call),
        },
        _ => call_span(file, call),
    }
}

/// Whether code text names a drain: a shutdown, graceful or drain step (`graceful.shutdown()`,
/// `server.with_graceful_shutdown(..)`) — not the wait for the signal that starts one
/// (`shutdown_signal()`, `shutdown_rx.recv()`, `token.cancelled()`).
fn is_shutdown_text(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let drain = ["shutdown", "graceful", "drain"]
        .iter()
        .any(|w| lower.contains(w));
    let signal = [
        "signal",
        "recv",
        "notified",
        "cancelled",
        "changed",
        "ctrl_c",
    ]
    .iter()
    .any(|w| lower.contains(w));
    drain
        && (!signal
            || lower.contains("with_graceful_shutdown")
            || lower.contains("serve_with_shutdown"))
}

fn strip_some(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            Expr::Path(p) if p.path.is_ident("Some") => c.args.first(),
            _ => None,
        },
        _ => None,
    }
}

/// An integer literal, or a `const` of the same file holding one (`WORKERS`).
pub fn int_value(file: &RustFile, e: &Expr) -> Option<u64> {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        Expr::Paren(p) => int_value(file, &p.expr),
        Expr::Path(p) => {
            let name = p.path.get_ident()?.to_string();
            int_value(file, file.const_expr(&name)?)
        }
        _ => None,
    }
}

/// The length of a `Duration` built from literals: `Duration::from_secs(30)`,
/// `from_millis(500)`, `Duration::new(5, 0)`, `from_secs_f64(2.5)`, or a `const` of the same
/// file holding one.
pub fn duration_seconds(file: &RustFile, e: &Expr) -> Option<f64> {
    match e {
        Expr::Paren(p) => duration_seconds(file, &p.expr),
        Expr::Reference(r) => duration_seconds(file, &r.expr),
        Expr::Path(p) => {
            let name = p.path.get_ident()?.to_string();
            duration_seconds(file, file.const_expr(&name)?)
        }
        Expr::Call(c) => {
            let Expr::Path(f) = &*c.func else {
                return None;
            };
            let segs = path_segments(&f.path);
            let [.., ty, ctor] = segs.as_slice() else {
                return None;
            };
            if ty != "Duration" {
                return None;
            }
            let first = c.args.first()?;
            let float = || match first {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Float(x),
                    ..
                }) => x.base10_parse::<f64>().ok(),
                _ => int_value(file, first).map(|n| n as f64),
            };
            let n = || int_value(file, first).map(|n| n as f64);
            match ctor.as_str() {
                "from_secs" | "new" => n(),
                "from_millis" => n().map(|n| n / 1e3),
                "from_micros" => n().map(|n| n / 1e6),
                "from_nanos" => n().map(|n| n / 1e9),
                "from_mins" => n().map(|n| n * 60.0),
                "from_secs_f64" | "from_secs_f32" => float(),
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::rust::{facts, RustFile};

    fn runtime(src: &str) -> super::RuntimeFacts {
        let file = match RustFile::parse(src, None, false, None) {
            Ok(f) => f,
            Err(e) => panic!("fixture does not parse: {}", e.message),
        };
        facts(&file).runtime
    }

    fn counts(src: &str) -> Vec<(u64, String)> {
        runtime(src)
            .thread_counts
            .into_iter()
            .map(|t| (t.count, t.what))
            .collect()
    }

    fn budgets(src: &str) -> Vec<f64> {
        runtime(src)
            .drain_budgets
            .into_iter()
            .map(|d| d.seconds)
            .collect()
    }

    #[test]
    fn thread_counts() {
        let src = r#"
            use tokio::runtime::Builder;
            const WORKERS: usize = 6;
            #[tokio::main(flavor = "multi_thread", worker_threads = 8)]
            async fn main() {
                let rt = Builder::new_multi_thread().worker_threads(WORKERS).enable_all().build();
                actix_web::HttpServer::new(|| App::new()).workers(4).bind("0.0.0.0:8080");
                rayon::ThreadPoolBuilder::new().num_threads(2).build_global();
            }
        "#;
        let got = counts(src);
        let numbers: Vec<u64> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, vec![8, 6, 4, 2], "{got:?}");
    }

    #[test]
    fn counts_not_known_are_left_out() {
        let src = r#"
            #[tokio::main]
            async fn main() {
                let n = num_cpus::get();
                tokio::runtime::Builder::new_multi_thread().worker_threads(n).build();
                tokio::runtime::Builder::new_current_thread().build();
                other::Builder::new().worker_threads(3);
            }
        "#;
        assert!(counts(src).is_empty());
    }

    #[test]
    fn drain_budgets() {
        let src = r#"
            use std::time::Duration;
            use tokio::time::timeout;
            const GRACE: Duration = Duration::from_secs(45);
            async fn run() {
                actix_web::HttpServer::new(|| App::new()).shutdown_timeout(60).run();
                timeout(Duration::from_millis(2500), graceful.shutdown()).await;
                let server = axum::serve(l, app).with_graceful_shutdown(signal());
                tokio::time::timeout(GRACE, server).await;
                handle.graceful_shutdown(Some(Duration::from_secs(10)));
            }
        "#;
        assert_eq!(budgets(src), vec![60.0, 2.5, 45.0, 10.0]);
    }

    #[test]
    fn timeouts_around_other_futures_are_not_budgets() {
        let src = r#"
            async fn run() {
                tokio::time::timeout(Duration::from_secs(60), client.get(url).send()).await;
                let req = client.get(url).send();
                tokio::time::timeout(Duration::from_secs(60), req).await;
                handle.graceful_shutdown(None);
            }
        "#;
        assert!(budgets(src).is_empty());
    }

    #[test]
    fn select_racing_the_drain() {
        let src = r#"
            use tokio::time::sleep;
            async fn run(graceful: GracefulShutdown) {
                tokio::select! {
                    _ = graceful.shutdown() => {}
                    _ = sleep(Duration::from_secs(12)) => {}
                }
            }
            async fn ticker(mut shutdown_rx: Receiver<()>) {
                loop {
                    tokio::select! {
                        _ = shutdown_rx.recv() => break,
                        _ = sleep(Duration::from_secs(60)) => tick(),
                    }
                }
            }
            async fn wait(shutdown: CancellationToken) {
                tokio::select! {
                    _ = shutdown_signal() => {}
                    _ = sleep(Duration::from_secs(90)) => {}
                }
                tokio::time::timeout(Duration::from_secs(45), shutdown.cancelled()).await;
            }
        "#;
        assert_eq!(budgets(src), vec![12.0]);
    }

    #[test]
    fn servers() {
        let src = r#"
            use tonic::transport::Server;
            async fn run() {
                Server::builder().add_service(svc).serve(addr).await;
                actix_web::HttpServer::new(|| App::new()).bind(a)?.run().await
            }
        "#;
        let r = runtime(src);
        assert_eq!((r.grpc_servers.len(), r.actix_servers.len()), (1, 1));
    }
}
