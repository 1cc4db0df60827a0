use crate::lang::rust::{
    base_local, call_span, chains_on_local, let_init, Chain, Cx, RustFile, RustVisitor,
};
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
    Some(Box::new(Visitor {
        cx,
        clients: Vec::new(),
        request_timeout: false,
    }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    /// Clients created with no timeout, and whether they leave the function that creates them
    /// (stored or returned, not sent with there): reported when the walk ends, those leaving
    /// unless the file sets a per-request timeout.
    clients: Vec<(std::ops::Range<usize>, &'static str, bool)>,
    /// The file sets `.timeout(..)` on a request (`self.client.get(u).timeout(d)`,
    /// `request.timeout(d).send()`): its requests go through a send path that bounds them, which
    /// a client built elsewhere in the file relies on.
    request_timeout: bool,
}

/// HTTP methods of a reqwest client that start a request (and `send`, which ends one).
const REQUEST_METHODS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "request", "send",
];

/// `.timeout(..)` on a request of a send path: in a chain that starts or sends a request
/// (`self.client.get(u).timeout(d)`, `request.timeout(d).send()`) from a value the function was
/// given — a field or a parameter, not a client it made itself (that one is judged by its own
/// sends).
fn is_send_path_timeout(w: &Cx<'_>, chain: &Chain<'_>, methods: &[String]) -> bool {
    if !sets_timeout(methods)
        || !methods
            .iter()
            .any(|m| REQUEST_METHODS.contains(&m.as_str()))
    {
        return false;
    }
    if chain.base_call().is_some() {
        return false;
    }
    match base_local(chain) {
        // A parameter (`request`), not a local made here.
        Some(name) => w
            .current_fn()
            .is_some_and(|f| let_init(f.block, &name).is_none()),
        // A field (`self.client`) or another place.
        None => true,
    }
}

impl Drop for Visitor<'_, '_> {
    fn drop(&mut self) {
        for (span, message, leaves) in std::mem::take(&mut self.clients) {
            if leaves && self.request_timeout {
                continue;
            }
            let help = if message.starts_with("reqwest client built") {
                "add `.timeout(Duration::from_secs(10))` to the builder; reqwest's default is no timeout"
            } else {
                HELP
            };
            self.cx.report(span, message).help(help);
        }
    }
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
        let methods: Vec<String> = chain.methods().map(|m| m.method.to_string()).collect();
        if is_send_path_timeout(w, chain, &methods) {
            self.request_timeout = true;
        }
        let Some(call) = chain.base_call() else {
            return;
        };
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
            self.clients.push((
                span,
                "reqwest client created with no timeout; a stalled server hangs the request forever",
                sends.is_empty(),
            ));
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
            let sends_here = methods.iter().any(|m| m == "send")
                || later().iter().any(|m| m.iter().any(|x| x == "send"));
            self.clients.push((
                span,
                "reqwest client built without `.timeout(..)` or `.read_timeout(..)`",
                !sends_here,
            ));
        }
    }
}
