use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{call_span, pat_name, Cx, FnCtx, RustFile, RustVisitor};
use crate::rules::rust::support::{fn_in_file, let_init};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "spawned-task-detached",
    doc: rule_doc!("spawned-task-detached"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Functions it follows into (`fn_in_file`) are re-read from the text when not parsed.
const TRIGGERS: RustTriggers = &["spawn", "spawn_local"];

/// Functions that start a task or thread and return its handle.
pub const SPAWNS: &[&str] = &[
    "tokio::spawn",
    "tokio::task::spawn",
    "tokio::task::spawn_local",
    "std::thread::spawn",
    "actix_rt::spawn",
    "actix_web::rt::spawn",
];

const HELP: &str = "keep the handle and watch it (`select!` on it next to the server, or `JoinSet::join_next`) so a failed worker stops the process or is restarted, and log its result";

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn function(&mut self, w: &Cx<'_>, _attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        let mut detached = Detached {
            w,
            block: f.block,
            found: Vec::new(),
        };
        detached.visit_block(f.block);
        for call in detached.found {
            let Some(task) = call.args.first() else {
                continue;
            };
            if !long_lived(w, task) || forwards_to_channel(task) || contains_panics(task) {
                continue;
            }
            let aborts = w.file.package.as_ref().is_some_and(|p| p.panic_abort);
            if aborts {
                // A panic aborts the whole process, which is visible and restarted; only an
                // error the task returns still ends it silently.
                self.cx
                    .report(
                        call_span(w.file, call),
                        "this task runs a loop and its `JoinHandle` is dropped: panics abort the process here (`panic = \"abort\"`), but if the task returns an error, the loop stops and nothing notices",
                    )
                    .help(HELP)
                    .info();
                continue;
            }
            self.cx
                .report(
                    call_span(w.file, call),
                    "this task runs a loop and its `JoinHandle` is dropped: if the task panics or returns an error, the loop stops and nothing notices — the process keeps running and looks healthy",
                )
                .help(HELP);
        }
    }
}

/// Spawn calls in a function whose handle is thrown away: an expression statement
/// (`tokio::spawn(..);`), `let _ = ..`, `drop(..)`, or a `let` whose variable is never used.
struct Detached<'w, 'a> {
    w: &'w Cx<'w>,
    block: &'a syn::Block,
    found: Vec<&'a syn::ExprCall>,
}

impl<'a> Detached<'_, 'a> {
    fn spawn_call(&self, e: &'a Expr) -> Option<&'a syn::ExprCall> {
        match e {
            Expr::Call(c) if self.w.call_matches(c, SPAWNS).is_some() => Some(c),
            _ => None,
        }
    }
}

impl<'a> Visit<'a> for Detached<'_, 'a> {
    fn visit_stmt(&mut self, s: &'a syn::Stmt) {
        match s {
            syn::Stmt::Expr(e, Some(_)) => {
                if let Some(c) = self.spawn_call(e) {
                    self.found.push(c);
                } else if let Expr::Call(d) = e {
                    // `drop(tokio::spawn(..));`
                    let is_drop = matches!(&*d.func, Expr::Path(p) if p.path.is_ident("drop"));
                    if let (true, Some(c)) =
                        (is_drop, d.args.first().and_then(|a| self.spawn_call(a)))
                    {
                        self.found.push(c);
                    }
                }
            }
            syn::Stmt::Local(l) => {
                if let Some(c) = l.init.as_ref().and_then(|i| self.spawn_call(&i.expr)) {
                    let unused = match &l.pat {
                        syn::Pat::Wild(_) => true,
                        p => pat_name(p).is_some_and(|n| {
                            n.starts_with('_')
                                || !used_after(
                                    self.w.file.slice(self.w.file.block_range(self.block)),
                                    &n,
                                )
                        }),
                    };
                    if unused {
                        self.found.push(c);
                    }
                }
            }
            _ => {}
        }
        syn::visit::visit_stmt(self, s);
    }
    // Nested functions are visited as functions of their own.
    fn visit_item_fn(&mut self, _: &'a syn::ItemFn) {}
}

/// Whether a variable is mentioned anywhere besides its own `let` — in code or in macro bodies
/// (`select! { r = worker => .. }`), so the function's text is searched word by word.
fn used_after(text: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut count = 0;
    let mut from = 0;
    while let Some(at) = text[from..].find(name).map(|i| i + from) {
        let end = at + name.len();
        let before = text[..at].chars().next_back().is_none_or(|c| !is_word(c));
        let after = text[end..].chars().next().is_none_or(|c| !is_word(c));
        if before && after {
            count += 1;
        }
        from = end;
    }
    count > 1
}

/// The task's future or closure runs a `loop` or `while`: directly, through `.instrument(..)`, a
/// local variable, or a function of this file it calls.
fn long_lived(w: &Cx<'_>, task: &Expr) -> bool {
    match task {
        Expr::Async(a) => has_loop_block(&a.block),
        Expr::Closure(c) => has_loop_expr(&c.body),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "instrument" | "in_current_span" | "boxed" | "fuse"
            ) =>
        {
            long_lived(w, &m.receiver)
        }
        Expr::Path(p) => match (p.path.get_ident(), w.current_fn()) {
            (Some(name), Some(f)) => match let_init(f.block, &name.to_string()) {
                Some(init) => !matches!(init, Expr::Path(_)) && long_lived(w, init),
                None => fn_in_file(w.file, &name.to_string()).is_some_and(|b| has_loop_block(&b)),
            },
            _ => false,
        },
        // `run(state)`, `worker.run()`, `Self::poll(..)`: a function of this file.
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => p
                .path
                .segments
                .last()
                .and_then(|s| fn_in_file(w.file, &s.ident.to_string()))
                .is_some_and(|b| has_loop_block(&b)),
            _ => false,
        },
        Expr::MethodCall(m) => {
            fn_in_file(w.file, &m.method.to_string()).is_some_and(|b| has_loop_block(&b))
        }
        _ => false,
    }
}

/// A pump that forwards items into a channel (`while let Some(x) = s.next().await { tx.send(x) }`):
/// when it dies its sender is dropped and the receiving side sees the channel close.
fn forwards_to_channel(task: &Expr) -> bool {
    struct Sends(bool);
    impl<'ast> Visit<'ast> for Sends {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            let sends = matches!(
                m.method.to_string().as_str(),
                "send" | "try_send" | "send_async" | "unbounded_send"
            );
            let to_sender = match &*m.receiver {
                Expr::Path(p) => p.path.get_ident().is_some_and(|i| {
                    let n = i.to_string();
                    n == "tx" || n.ends_with("_tx") || n.contains("sender")
                }),
                _ => false,
            };
            self.0 |= sends && to_sender;
            syn::visit::visit_expr_method_call(self, m);
        }
    }
    let mut s = Sends(false);
    s.visit_expr(task);
    s.0
}

/// The task contains its own panics: `catch_unwind`, or each unit of work runs in a child task
/// whose `JoinHandle` it awaits (`match tokio::spawn(work()).await { Err(e) => log.. }`).
fn contains_panics(task: &Expr) -> bool {
    struct Contained(bool);
    impl<'ast> Visit<'ast> for Contained {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0 |= i == "catch_unwind";
        }
        fn visit_expr_await(&mut self, a: &'ast syn::ExprAwait) {
            if let Expr::Call(c) = &*a.base {
                self.0 |= matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "spawn"));
            }
            syn::visit::visit_expr_await(self, a);
        }
    }
    let mut c = Contained(false);
    c.visit_expr(task);
    c.0
}

fn has_loop_block(b: &syn::Block) -> bool {
    let mut f = FindLoop(false);
    f.visit_block(b);
    f.0
}

fn has_loop_expr(e: &Expr) -> bool {
    let mut f = FindLoop(false);
    f.visit_expr(e);
    f.0
}

struct FindLoop(bool);
impl<'ast> Visit<'ast> for FindLoop {
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {
        self.0 = true;
    }
    fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {
        self.0 = true;
    }
    // A loop in a nested closure or task is not this task's loop.
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {}
}
