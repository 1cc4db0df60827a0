use syn::Expr;

use crate::lang::rust::{call_span, method_span, Chain, Cx, LoopSource, RustFile, RustVisitor};
use crate::rules::rust::spawned_task_detached::SPAWNS;
use crate::rules::rust::support::{let_init, mentions_in_fn};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "unbounded-spawn-per-message",
    doc: rule_doc!("unbounded-spawn-per-message"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["spawn"];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// What bounds the number of tasks in flight: a semaphore permit, a bounded stream combinator,
/// or a `JoinSet` whose length is checked or drained in the loop.
const BOUNDS: &[&str] = &[
    "acquire",
    "Semaphore",
    "semaphore",
    "permit",
    "buffer_unordered",
    "buffered",
    "for_each_concurrent",
    "join_next",
    "ConcurrencyLimit",
    "limit_connections",
];

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(source) = w.loop_source() else {
            return;
        };
        if source == LoopSource::Other {
            return;
        }
        let span = if let Some(call) = chain
            .base_call()
            .filter(|c| w.call_matches(c, SPAWNS).is_some())
        {
            call_span(w.file, call)
        } else if let Some(m) = joinset_spawn(w, chain) {
            method_span(w.file, m)
        } else {
            return;
        };
        if mentions_in_fn(w, BOUNDS) {
            return;
        }
        match source {
            LoopSource::Messages => {
                self.cx
                    .report(
                        span,
                        "a task is spawned for every message this loop receives, with nothing bounding how many run at once: a burst or a slow dependency piles up tasks until memory runs out",
                    )
                    .help("bound the concurrency: acquire a `Semaphore` permit (`acquire_owned`) before spawning and move it into the task, or process the stream with `buffer_unordered(n)` / `for_each_concurrent(Some(n), ..)`");
            }
            LoopSource::Connections => {
                self.cx
                    .report(
                        span,
                        "a task is spawned for every accepted connection, with no limit on how many are open at once",
                    )
                    .help("limit concurrent connections (a `Semaphore` permit per connection, or axum's `ListenerExt::limit_connections`) if clients can open many")
                    .info();
            }
            LoopSource::Other => {}
        }
    }
}

/// `set.spawn(..)` on a local `JoinSet` (`let mut set = JoinSet::new();`).
fn joinset_spawn<'a>(w: &Cx<'_>, chain: &Chain<'a>) -> Option<&'a syn::ExprMethodCall> {
    let m = chain.method("spawn")?;
    let Expr::Path(p) = &*m.receiver else {
        return None;
    };
    let name = p.path.get_ident()?.to_string();
    let init = let_init(w.current_fn()?.block, &name)?;
    let Expr::Call(c) = init else { return None };
    w.call_paths(c)
        .iter()
        .any(|p| p.ends_with("JoinSet::new"))
        .then_some(m)
}
