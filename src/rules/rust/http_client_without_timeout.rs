use crate::lang::rust::{call_span, chains_on_local, Chain, Cx, RustFile, RustVisitor};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "http-client-without-timeout",
    doc: rule_doc!("http-client-without-timeout"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &[
    "reqwest:reqwest",
    "reqwest:Client",
    "reqwest:ClientBuilder",
    "reqwest:timeout",
    "reqwest:read_timeout",
];

const CLIENT: &[&str] = &["reqwest::Client::new", "reqwest::Client::default"];
const BUILDER: &[&str] = &[
    "reqwest::Client::builder",
    "reqwest::ClientBuilder::new",
    "reqwest::ClientBuilder::default",
];
const FREE_FN: &[&str] = &["reqwest::get"];
/// Builder settings that bound how long a request can hang (`connect_timeout` alone does not).
const TIMEOUTS: &[&str] = &["timeout", "read_timeout"];

const HELP: &str =
    "build the client with `reqwest::Client::builder().timeout(Duration::from_secs(10)).build()`";

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("reqwest") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

fn sets_timeout(methods: &[String]) -> bool {
    methods.iter().any(|m| TIMEOUTS.contains(&m.as_str()))
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        // reqwest on wasm has no timeout setting at all.
        if w.under_cfg("wasm32") {
            return;
        }
        let Some(call) = chain.base_call() else {
            return;
        };
        let methods: Vec<String> = chain.methods().map(|m| m.method.to_string()).collect();
        let span = call_span(w.file, call);
        let bound = w.let_name(chain.top);
        let later = || match (bound, w.current_fn()) {
            (Some(name), Some(f)) => chains_on_local(f.block, name),
            _ => Vec::new(),
        };

        if w.call_matches(call, FREE_FN).is_some() {
            if !sets_timeout(&methods) {
                self.cx
                    .report(
                        span,
                        "`reqwest::get` sends the request with a new client that has no timeout",
                    )
                    .help(format!("{HELP}, reuse it, and call `.get(url)` on it"));
            }
        } else if w.call_matches(call, CLIENT).is_some() {
            // `Client::new().get(u).timeout(d).send()`: a per-request timeout on the only request.
            if sets_timeout(&methods) {
                return;
            }
            // `let client = Client::new();` where every request sent with it sets a timeout.
            let sends: Vec<Vec<String>> = later()
                .into_iter()
                .filter(|m| m.iter().any(|x| x == "send"))
                .collect();
            if !sends.is_empty() && sends.iter().all(|m| sets_timeout(m)) {
                return;
            }
            self.cx
                .report(span, "reqwest client created with no timeout; a stalled server hangs the request forever")
                .help(HELP);
        } else if w.call_matches(call, BUILDER).is_some() {
            if sets_timeout(&methods) {
                return;
            }
            let built_here = methods.iter().any(|m| m == "build");
            if !built_here {
                // `let b = Client::builder(); ... b.timeout(t) ... b.build()`
                let later = later();
                let built_later = later.iter().any(|m| m.iter().any(|x| x == "build"));
                if !built_later || later.iter().any(|m| sets_timeout(m)) {
                    return;
                }
            }
            self.cx
                .report(span, "reqwest client built without `.timeout(..)` or `.read_timeout(..)`")
                .help("add `.timeout(Duration::from_secs(10))` to the builder; reqwest's default is no timeout");
        }
    }
}
