use std::ops::Range;

use syn::visit::Visit;

use crate::lang::rust::{call_span, method_span, Chain, Cx, FnCtx, RustFile, RustVisitor};
use crate::rules::rust::support::is_service;
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "blocking-call-in-async",
    doc: rule_doc!("blocking-call-in-async"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Only in async code (every check starts with `Cx::in_async`): the body of an `async fn`, or
/// one that holds an async block or closure.
const TRIGGERS: RustTriggers = &[
    "sleep & async",
    "reqwest:blocking & async",
    "block_on & async",
    "fs & async",
    "TcpStream & async",
    "postgres:postgres & async",
    "Command & async",
    "to_socket_addrs & async",
];

/// Calls that block (or panic) in any async code, by resolved path prefix, with what they do.
const ALWAYS_BLOCKING: &[(&str, &str)] = &[
    ("std::thread::sleep", "sleeps the whole worker thread"),
    (
        "reqwest::blocking",
        "uses reqwest's blocking client (it panics inside a runtime)",
    ),
    (
        "futures::executor::block_on",
        "blocks the worker thread until a future completes",
    ),
    (
        "futures_executor::block_on",
        "blocks the worker thread until a future completes",
    ),
    (
        "pollster::block_on",
        "blocks the worker thread until a future completes",
    ),
];
/// Blocking I/O that matters where requests are served: reported in packages that run a server.
/// Quick metadata calls (`create_dir_all`, `remove_file`, `metadata`) are left out on purpose.
const BLOCKING_IO: &[(&str, &str)] = &[
    ("std::fs::read", "does blocking file I/O"),
    ("std::fs::read_to_string", "does blocking file I/O"),
    ("std::fs::write", "does blocking file I/O"),
    ("std::fs::copy", "does blocking file I/O"),
    ("std::fs::read_dir", "does blocking file I/O"),
    ("std::fs::File::open", "does blocking file I/O"),
    ("std::fs::File::create", "does blocking file I/O"),
    ("std::fs::File::create_new", "does blocking file I/O"),
    (
        "std::net::TcpStream::connect",
        "connects with a blocking socket",
    ),
    (
        "std::net::TcpStream::connect_timeout",
        "connects with a blocking socket",
    ),
    ("postgres::Client", "uses the synchronous `postgres` client"),
];
/// `OpenOptions::new()` itself does nothing; its `.open(..)` blocks.
const LAZY_FS: &[&str] = &["std::fs::OpenOptions::new"];
const STD_COMMAND: &[&str] = &["std::process::Command::new"];
/// Calls that mark the end of start-up in `async fn main`.
const STARTS_SERVING: &[&str] = &[
    "spawn",
    "serve",
    "serve_with_shutdown",
    "serve_with_incoming",
    "serve_with_incoming_shutdown",
    "run",
    "launch",
    "serve_connection",
    "accept",
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    let serves = is_service(file);
    Some(Box::new(Visitor {
        cx,
        serves,
        startup: None,
    }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    /// The package runs a server, so blocking I/O delays requests.
    serves: bool,
    /// In `async fn main`: the byte offset of the first call that starts serving or spawns.
    startup: Option<(Range<usize>, usize)>,
}

/// The first offset in `main` where a server starts or a task is spawned.
fn startup_end(file: &RustFile, f: &FnCtx<'_>) -> usize {
    struct First<'f> {
        file: &'f RustFile,
        at: usize,
    }
    impl<'ast> Visit<'ast> for First<'_> {
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let syn::Expr::Path(p) = &*c.func {
                if p.path
                    .segments
                    .last()
                    .is_some_and(|s| STARTS_SERVING.iter().any(|n| s.ident == n))
                {
                    self.at = self.at.min(call_span(self.file, c).start);
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if STARTS_SERVING.iter().any(|n| m.method == n) {
                self.at = self.at.min(method_span(self.file, m).start);
            }
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut first = First {
        file,
        at: usize::MAX,
    };
    first.visit_block(f.block);
    first.at
}

impl Visitor<'_, '_> {
    /// Whether `at` is start-up code of `async fn main`, before anything serves or spawns.
    fn is_startup(&mut self, w: &Cx<'_>, at: usize) -> bool {
        let Some(f) = w.current_fn() else {
            return false;
        };
        if f.name != "main" || !f.is_async {
            return false;
        }
        let range = w.file.block_range(f.block);
        let end = match &self.startup {
            Some((r, end)) if *r == range => *end,
            _ => {
                let end = startup_end(w.file, f);
                self.startup = Some((range, end));
                end
            }
        };
        at < end
    }

    fn report(&mut self, w: &Cx<'_>, span: Range<usize>, what: &str, does: &str) {
        if self.is_startup(w, span.start) {
            return;
        }
        self.cx
            .report(
                span,
                format!("`{what}` {does} inside async code, stalling every task scheduled on this worker"),
            )
            .help(help_for(what));
    }
}

fn help_for(what: &str) -> &'static str {
    if what.contains("sleep") {
        "use `tokio::time::sleep(..).await`"
    } else if what.contains("fs::") || what.contains("open") {
        "use `tokio::fs`, or move the work into `tokio::task::spawn_blocking`"
    } else if what.contains("block_on") {
        "`.await` the future instead; from synchronous code inside the runtime use `tokio::task::block_in_place`"
    } else if what.contains("reqwest::blocking") {
        "use the async `reqwest::Client`"
    } else {
        "use the async equivalent, or move the work into `tokio::task::spawn_blocking`"
    }
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        if !w.in_async() {
            return;
        }
        let file = w.file;
        if let Some(call) = chain.base_call() {
            let paths = w.call_paths(call);
            let shown = paths.first().cloned().unwrap_or_default();
            let io = if self.serves { BLOCKING_IO } else { &[] };
            let known = ALWAYS_BLOCKING.iter().chain(io);
            if !self.serves {
                // Only the always-blocking calls below: elsewhere (a CLI) file I/O delays no one.
            } else if w.call_matches(call, LAZY_FS).is_some() {
                if let Some(open) = chain.method("open") {
                    self.report(
                        w,
                        method_span(file, open),
                        "std::fs::OpenOptions::open",
                        "does blocking file I/O",
                    );
                }
            } else if w.call_matches(call, STD_COMMAND).is_some() {
                for m in chain.methods() {
                    if m.method == "output" || m.method == "status" {
                        let what = format!("std::process::Command::{}", m.method);
                        self.report(w, method_span(file, m), &what, "waits for a child process");
                    }
                }
            }
            if let Some((_, does)) = known
                .clone()
                .find(|(prefix, _)| w.call_under(call, &[prefix]))
            {
                self.report(w, call_span(file, call), &shown, does);
            }
        }
        for m in chain.methods() {
            if m.method == "block_on" {
                self.report(w, method_span(file, m), ".block_on", "blocks the worker thread until a future completes (and panics on a Tokio runtime)");
            } else if m.method == "to_socket_addrs" {
                self.report(
                    w,
                    method_span(file, m),
                    ".to_socket_addrs",
                    "resolves DNS with a blocking call",
                );
            }
        }
    }
}
