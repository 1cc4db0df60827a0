use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{call_span, method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{is_infinite_duration, is_none, later_methods, let_init};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "db-pool-without-acquire-timeout",
    doc: rule_doc!("db-pool-without-acquire-timeout"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &[
    "acquire_timeout",
    "connection_timeout",
    "wait_timeout",
    "create_pool",
    "deadpool",
    "deadpool_postgres",
    "deadpool_redis",
    "deadpool_diesel",
    "deadpool_sqlite",
    "deadpool_lapin",
    "diesel_async",
];

/// The pool-checkout timeouts of sqlx, bb8, r2d2 and deadpool builders. They belong to this rule,
/// not to `http-client-timeout-disabled`.
pub const POOL_TIMEOUT_METHODS: &[&str] =
    &["acquire_timeout", "connection_timeout", "wait_timeout"];

const POOL_CRATES: &[&str] = &["sqlx", "bb8", "r2d2", "deadpool", "diesel_async"];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    let deadpool = file.package.as_ref().is_none_or(|p| {
        p.deps
            .values()
            .any(|d| d.package.starts_with("deadpool") || d.package == "diesel_async")
    });
    let pools = POOL_CRATES.iter().any(|c| file.uses_crate(c));
    (deadpool || pools).then(|| -> Box<dyn RustVisitor + 'a> {
        Box::new(Visitor {
            cx,
            deadpool,
            reported: Vec::new(),
        })
    })
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    deadpool: bool,
    /// Configs already reported, by function body and variable: one finding per config even when
    /// `create_pool` is called in several branches.
    reported: Vec<(*const syn::Block, String)>,
}

const WAIT_HELP: &str = "bound the wait for a free connection: `.wait_timeout(Some(Duration::from_secs(5)))` on the builder (with `.runtime(Runtime::Tokio1)`), or `pool.timeouts.wait` in the config";

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        for m in chain.methods() {
            let name = m.method.to_string();
            if !POOL_TIMEOUT_METHODS.contains(&name.as_str()) {
                continue;
            }
            let Some(arg) = m.args.first() else { continue };
            let disabled = is_infinite_duration(arg) || (name == "wait_timeout" && is_none(arg));
            if disabled {
                self.cx
                    .report(
                        method_span(w.file, m),
                        format!("`.{name}(..)` lets a request wait forever for a pool connection"),
                    )
                    .help("use a finite timeout a few seconds long, so a saturated pool fails requests quickly instead of queueing them without bound");
            }
        }
        if !self.deadpool {
            return;
        }
        // `Pool::builder(manager)...build()` with no timeout configured on the chain.
        if let Some(call) = chain.base_call() {
            let is_builder = w
                .call_paths(call)
                .iter()
                .any(|p| is_deadpool_path(p) && p.ends_with("Pool::builder"));
            if is_builder {
                let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
                methods.extend(later_methods(w, chain));
                let configured = methods.iter().any(|m| {
                    matches!(
                        m.method.to_string().as_str(),
                        "wait_timeout" | "timeouts" | "config"
                    )
                });
                let built = methods.iter().any(|m| m.method == "build");
                if built && !configured {
                    self.cx
                        .report(
                            call_span(w.file, call),
                            "this deadpool pool has no wait timeout: when every connection is busy, `pool.get()` waits forever",
                        )
                        .help(WAIT_HELP);
                }
            }
        }
        // `cfg.create_pool(..)` on a config built in this function without pool timeouts.
        for m in chain.methods() {
            if m.method != "create_pool" {
                continue;
            }
            let key = match (&*m.receiver, w.current_fn()) {
                (Expr::Path(p), Some(f)) => (
                    f.block as *const syn::Block,
                    p.path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default(),
                ),
                _ => continue,
            };
            if self.reported.contains(&key) {
                continue;
            }
            if config_built_here_without_timeouts(w, &m.receiver) {
                self.reported.push(key);
                self.cx
                    .report(
                        method_span(w.file, m),
                        "this deadpool config sets no pool wait timeout: when every connection is busy, `pool.get()` waits forever",
                    )
                    .help(WAIT_HELP);
            }
        }
    }
}

fn is_deadpool_path(p: &str) -> bool {
    p.starts_with("deadpool") || p.starts_with("diesel_async::pooled_connection::deadpool")
}

/// `let cfg = deadpool_postgres::Config::new();` (or `::default()`, `::from_url(..)`, a struct
/// literal without `pool`) and nothing in the function that sets `cfg.pool` or any timeouts.
fn config_built_here_without_timeouts(w: &Cx<'_>, receiver: &Expr) -> bool {
    let (Expr::Path(p), Some(f)) = (receiver, w.current_fn()) else {
        return false;
    };
    let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
        return false;
    };
    let Some(init) = let_init(f.block, &name) else {
        return false;
    };
    let from_deadpool = match init {
        Expr::Call(c) => w
            .call_paths(c)
            .iter()
            .any(|p| is_deadpool_path(p) && p.contains("Config::")),
        Expr::Struct(s) => {
            let paths = w.resolve(&s.path);
            let has_pool = s
                .fields
                .iter()
                .any(|f| matches!(&f.member, syn::Member::Named(n) if n == "pool"));
            // `..Default::default()` or `..base`: only the named fields are known.
            paths.iter().any(|p| is_deadpool_path(p)) && !has_pool
        }
        _ => false,
    };
    from_deadpool && !sets_timeouts(f.block)
}

/// `x.pool = ..`, `Timeouts { wait: .. }`, `Timeouts::wait_millis(..)`, `.wait_timeout(..)` anywhere
/// in the function.
fn sets_timeouts(block: &syn::Block) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_member(&mut self, m: &'ast syn::Member) {
            if let syn::Member::Named(n) = m {
                self.0 |= n == "pool" || n == "timeouts" || n == "wait";
            }
        }
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0 |= i == "wait_timeout" || i == "wait_millis" || i == "Timeouts";
        }
    }
    let mut f = Find(false);
    f.visit_block(block);
    f.0
}
