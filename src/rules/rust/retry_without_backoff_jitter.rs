use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{call_span, path_segments, Chain, Cx, Loop, RustFile, RustVisitor};
use crate::rules::rust::support::{idents, is_cli, later_methods};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "retry-without-backoff-jitter",
    doc: rule_doc!("retry-without-backoff-jitter"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Backoff builders, and a loop whose block awaits, tests for `Ok` and exits (the retry loop's
/// shape, `is_retry_loop`: not `while let`, and `for` only over a range).
const TRIGGERS: RustTriggers = &[
    "backon:ExponentialBuilder",
    "backon:FibonacciBuilder",
    "backon:ConstantBuilder",
    "tokio_retry:strategy",
    "tokio_retry2:strategy",
    "loop|while(!let)|for(..) { await & Ok|is_ok & break|return }",
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    // A command-line tool is one client: its retries cannot gang up on a server.
    if is_cli(file) {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

const BACKON: &[&str] = &[
    "backon::ExponentialBuilder::default",
    "backon::ExponentialBuilder::new",
    "backon::FibonacciBuilder::default",
    "backon::FibonacciBuilder::new",
    "backon::ConstantBuilder::default",
    "backon::ConstantBuilder::new",
];

/// tokio-retry (and its fork tokio-retry2) strategies: iterators of delays.
const TOKIO_RETRY_PREFIXES: &[&str] = &["tokio_retry::strategy", "tokio_retry2::strategy"];

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        if let Some(target) = w.call_matches(call, BACKON) {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            if !methods.iter().any(|m| m.method == "with_jitter") {
                let builder = target.split("::").nth(1).unwrap_or("builder");
                self.cx
                    .report(
                        call_span(w.file, call),
                        format!("this `{builder}` has no jitter (backon's default): every client that failed together retries together"),
                    )
                    .help("add `.with_jitter()` to the builder");
            }
            return;
        }
        let strategy = if w.call_under(call, TOKIO_RETRY_PREFIXES) {
            let paths = w.call_paths(call);
            ["ExponentialBackoff", "FibonacciBackoff", "FixedInterval"]
                .into_iter()
                .find(|s| paths.iter().any(|p| p.contains(s)))
        } else {
            None
        };
        if let Some(strategy) = strategy {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            let jittered = methods.iter().any(|m| {
                m.method == "map"
                    && m.args
                        .iter()
                        .any(|a| idents(a).iter().any(|i| i.contains("jitter")))
            });
            if !jittered {
                self.cx
                    .report(
                        call_span(w.file, call),
                        format!("this tokio-retry `{strategy}` has no jitter: every client that failed together retries together"),
                    )
                    .help("map the delays through jitter: `.map(tokio_retry::strategy::jitter)`");
            }
        }
    }

    fn looped(&mut self, w: &Cx<'_>, l: Loop<'_>) {
        if !w.in_async() || !is_retry_loop(l) {
            return;
        }
        // `wait_for_ready`, `wait_until_started`: polling a local process until it is up.
        if w.current_fn().is_some_and(|f| f.name.starts_with("wait_")) {
            return;
        }
        let delay = delay_of(l.body());
        let message = match delay {
            // With no delay at all, only a loop that plainly tries the same call again is a retry;
            // one that moves to the next candidate or retries only some errors (a redirect to the
            // leader) is a search or a failover.
            Delay::None if !plain_retry(l.body()) => return,
            Delay::None => {
                "this loop retries a failed call immediately, with no delay between attempts"
            }
            Delay::Constant => {
                "this loop retries a failed call after a fixed delay, with no backoff or jitter"
            }
            Delay::Growing => return,
        };
        self.cx
            .report(w.file.span(l.keyword()), message)
            .help("wait longer after each failure and add jitter (for example with the `backon` crate's `ExponentialBuilder::default().with_jitter()`), and cap the number of attempts");
    }
}

/// A loop that exits when an awaited call succeeds and goes round again when it fails:
/// `match call().await { Ok(v) => return Ok(v), Err(e) => { .. } }`,
/// `if let Ok(v) = call().await { break v; }`, `if call().await.is_ok() { break; }`.
fn is_retry_loop(l: Loop<'_>) -> bool {
    // `while let Some(x) = it.next()` walks over items.
    if matches!(l, Loop::While(w) if matches!(&*w.cond, Expr::Let(_))) {
        return false;
    }
    if let Loop::For(f) = l {
        // `for attempt in 0..n` counts attempts; `for item in items` processes items.
        if !matches!(&*f.expr, Expr::Range(_)) {
            return false;
        }
    }
    let mut v = RetryShape(false);
    for stmt in &l.body().stmts {
        v.visit_stmt(stmt);
    }
    v.0
}

struct RetryShape(bool);
impl<'ast> Visit<'ast> for RetryShape {
    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        if awaits(&m.expr) {
            // A guarded `Ok(r) if r.is_done() => return` is a polling loop's exit, not success.
            let ok_exits = m
                .arms
                .iter()
                .any(|a| arm_is(a, "Ok") && a.guard.is_none() && exits(&a.body));
            let err_retries = m.arms.iter().any(|a| arm_is(a, "Err") && !exits(&a.body));
            self.0 |= ok_exits && err_retries;
        }
        syn::visit::visit_expr_match(self, m);
    }
    fn visit_expr_if(&mut self, i: &'ast syn::ExprIf) {
        let cond = &*i.cond;
        let ok_test = match cond {
            Expr::Let(l) => pat_is(&l.pat, "Ok") && awaits(&l.expr),
            Expr::MethodCall(m) => m.method == "is_ok" && awaits(&m.receiver),
            _ => false,
        };
        let then_exits = i.then_branch.stmts.iter().any(|s| match s {
            syn::Stmt::Expr(e, _) => exits(e),
            _ => false,
        });
        self.0 |= ok_test && then_exits;
        syn::visit::visit_expr_if(self, i);
    }
    // Inner loops, closures and async blocks are judged on their own.
    fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
    fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
    fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
}

/// Whether the expression awaits a call that is not a receive (`rx.recv().await` and
/// `stream.try_next().await` read the next item; they are not attempts).
/// No `.next()` in the loop (advancing to another candidate) and no error arm that decides
/// whether to go round (a guard, or an `if`/`match` inside it).
fn plain_retry(body: &syn::Block) -> bool {
    struct Plain(bool);
    impl<'ast> Visit<'ast> for Plain {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if m.method == "next" {
                self.0 = false;
            }
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_arm(&mut self, a: &'ast syn::Arm) {
            if arm_is(a, "Err") && !exits(&a.body) {
                let mut decides = Decides(false);
                decides.visit_expr(&a.body);
                if a.guard.is_some() || decides.0 {
                    self.0 = false;
                }
            }
            syn::visit::visit_arm(self, a);
        }
    }
    struct Decides(bool);
    impl<'ast> Visit<'ast> for Decides {
        fn visit_expr_if(&mut self, _: &'ast syn::ExprIf) {
            self.0 = true;
        }
        fn visit_expr_match(&mut self, _: &'ast syn::ExprMatch) {
            self.0 = true;
        }
    }
    let mut p = Plain(true);
    p.visit_block(body);
    p.0
}

fn awaits(e: &Expr) -> bool {
    match e {
        Expr::Await(a) => {
            !matches!(&*a.base, Expr::MethodCall(m) if RECEIVES.iter().any(|r| m.method == r))
        }
        Expr::Try(t) => awaits(&t.expr),
        Expr::MethodCall(m) => awaits(&m.receiver),
        Expr::Paren(p) => awaits(&p.expr),
        _ => false,
    }
}

/// Awaits that wait for the next event rather than attempt an operation: a value, a
/// connection, a change of a `watch` value, a notification, a clock tick.
const RECEIVES: &[&str] = &[
    "recv",
    "recv_many",
    "next",
    "try_next",
    "accept",
    "recv_from",
    "read",
    "read_line",
    "message",
    "changed",
    "notified",
    "wait_for",
    "tick",
];

fn arm_is(a: &syn::Arm, variant: &str) -> bool {
    pat_is(&a.pat, variant)
}

/// `Ok(v)`, `Ok(_)`, `Ok((a, b))`: the variant holding any value, not `Ok(None)` or `Ok(0)` (which
/// end a read loop rather than a retry).
fn pat_is(p: &syn::Pat, variant: &str) -> bool {
    match p {
        syn::Pat::TupleStruct(t) => {
            path_segments(&t.path).last().is_some_and(|l| l == variant)
                && t.elems.iter().all(|e| match e {
                    // `None` and constants parse as identifier patterns too.
                    syn::Pat::Ident(i) => i
                        .ident
                        .to_string()
                        .starts_with(|c: char| c.is_lowercase() || c == '_'),
                    syn::Pat::Wild(_) | syn::Pat::Tuple(_) | syn::Pat::Rest(_) => true,
                    _ => false,
                })
        }
        _ => false,
    }
}

/// `return ..`, `break ..`, or a block that ends in one.
fn exits(e: &Expr) -> bool {
    match e {
        Expr::Return(_) | Expr::Break(_) => true,
        Expr::Block(b) => b.block.stmts.last().is_some_and(|s| match s {
            syn::Stmt::Expr(e, _) => exits(e),
            _ => false,
        }),
        _ => false,
    }
}

enum Delay {
    None,
    Constant,
    Growing,
}

/// How the loop waits between attempts: no sleep at all, a sleep of a literal or constant
/// duration, or something computed (a variable that grows, a backoff value, jitter).
fn delay_of(body: &syn::Block) -> Delay {
    struct Sleeps {
        found: bool,
        constant: bool,
        grows: bool,
    }
    impl<'ast> Visit<'ast> for Sleeps {
        // `delay *= 2`, `delay <<= 1`: the wait grows.
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            self.grows |= matches!(b.op, syn::BinOp::MulAssign(_) | syn::BinOp::ShlAssign(_));
            syn::visit::visit_expr_binary(self, b);
        }
        // A sleep inside `select!` or another macro: its duration is not known.
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if crate::lang::rust::token_paths(m.tokens.clone())
                .iter()
                .any(|(segs, _)| segs.last().is_some_and(|l| l == "sleep"))
            {
                self.found = true;
                self.constant = false;
            }
        }
        fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
            if let Expr::Path(p) = &*c.func {
                let segs = path_segments(&p.path);
                if segs
                    .last()
                    .is_some_and(|l| l == "sleep" || l == "delay_for")
                {
                    self.found = true;
                    self.constant &= c.args.first().is_some_and(is_constant_duration);
                }
            }
            syn::visit::visit_expr_call(self, c);
        }
    }
    let mut s = Sleeps {
        found: false,
        constant: true,
        grows: false,
    };
    s.visit_block(body);
    let body_idents: Vec<String> = body
        .stmts
        .iter()
        .flat_map(|st| match st {
            syn::Stmt::Expr(e, _) => idents(e),
            syn::Stmt::Local(l) => l.init.as_ref().map(|i| idents(&i.expr)).unwrap_or_default(),
            _ => Vec::new(),
        })
        .collect();
    // A helper that computes or performs the wait (`retry_delay(attempt)`, `wait_for_retry(..)`),
    // a ticking interval, or randomness: the loop paces itself some other way.
    let paced = s.grows
        || body_idents.iter().any(|i| {
            [
                "backoff", "jitter", "rand", "delay", "wait", "interval", "tick",
            ]
            .iter()
            .any(|w| i.contains(w))
                || i == "pow"
        });
    match (s.found, s.constant) {
        _ if paced => Delay::Growing,
        (false, _) => Delay::None,
        (true, true) => Delay::Constant,
        (true, false) => Delay::Growing,
    }
}

/// `Duration::from_millis(500)`, `Duration::from_secs(1)`, `RETRY_DELAY` (an upper-case constant).
fn is_constant_duration(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.path.segments.last().is_some_and(|s| {
            s.ident
                .to_string()
                .chars()
                .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit())
        }),
        Expr::Call(c) => {
            let is_duration = matches!(&*c.func, Expr::Path(p) if path_segments(&p.path).iter().any(|s| s == "Duration"));
            is_duration && c.args.iter().all(|a| matches!(a, Expr::Lit(_)))
        }
        Expr::Reference(r) => is_constant_duration(&r.expr),
        _ => false,
    }
}
