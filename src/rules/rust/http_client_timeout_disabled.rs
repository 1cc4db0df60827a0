use crate::lang::rust::{method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::db_pool_without_acquire_timeout::POOL_TIMEOUT_METHODS;
use crate::rules::rust::support::{is_infinite_duration, is_none, later_methods};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "http-client-timeout-disabled",
    doc: rule_doc!("http-client-timeout-disabled"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// `is_infinite_duration` needs `MAX` or `INFINITY` in the argument.
const TRIGGERS: RustTriggers = &[
    "*timeout & MAX|INFINITY",
    "reqwest:blocking",
    "awc:Client",
    "awc:ClientBuilder",
];

const REQWEST_BLOCKING: &[&str] = &["reqwest::blocking"];

/// The setters of a client's (or server's) time limits. Other methods that take a timeout run an
/// operation with that bound (`shutdown_with_timeout(Duration::MAX)` waits as long as the
/// shutdown takes); they disable no limit.
const TIMEOUT_SETTERS: &[&str] = &[
    "timeout",
    "read_timeout",
    "write_timeout",
    "connect_timeout",
    "request_timeout",
    "response_timeout",
    "header_read_timeout",
];
const AWC: &[&str] = &["awc::Client", "awc::ClientBuilder"];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        // `.timeout(Duration::MAX)` on anything: a timeout that can never fire.
        for m in chain.methods() {
            let name = m.method.to_string();
            let pool_checkout = POOL_TIMEOUT_METHODS.contains(&name.as_str());
            if TIMEOUT_SETTERS.contains(&name.as_str())
                && !pool_checkout
                && m.args.iter().any(is_infinite_duration)
            {
                self.cx
                    .report(
                        method_span(w.file, m),
                        format!("`.{name}(..)` is set to an effectively infinite duration, which disables it"),
                    )
                    .help("use the longest time a caller should really wait, for example `Duration::from_secs(30)`");
            }
        }
        let Some(call) = chain.base_call() else {
            return;
        };
        let blocking = w.file.uses_crate("reqwest") && w.call_under(call, REQWEST_BLOCKING);
        let awc = w.file.uses_crate("awc") && w.call_under(call, AWC);
        if !blocking && !awc {
            return;
        }
        // The builder may be configured through a variable later in the function.
        let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
        methods.extend(later_methods(w, chain));
        for m in methods {
            if blocking && m.method == "timeout" && m.args.first().is_some_and(is_none) {
                self.cx
                    .report(
                        method_span(w.file, m),
                        "`.timeout(None)` switches off reqwest's blocking client timeout (30 s by default); a stalled server blocks the thread forever",
                    )
                    .help("keep the default or set `.timeout(Duration::from_secs(..))`; for long downloads set a generous finite timeout");
            } else if awc && m.method == "disable_timeout" {
                self.cx
                    .report(
                        method_span(w.file, m),
                        "`.disable_timeout()` switches off awc's request timeout (5 s by default); a stalled server hangs the request forever",
                    )
                    .help("keep the default or set `.timeout(Duration::from_secs(..))`");
            }
        }
    }
}
