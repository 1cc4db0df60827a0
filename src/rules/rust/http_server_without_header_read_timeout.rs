use crate::lang::rust::{call_span, method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{is_none, is_zero_duration, later_methods, local_only};
use crate::rules::rust::support::{AXUM_SERVE, HYPER014_SERVER};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "http-server-without-header-read-timeout",
    doc: rule_doc!("http-server-without-header-read-timeout"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &[
    "hyper:Builder",
    "hyper_util:Builder",
    "hyper:Server",
    "serve_connection",
    "serve_connection_with_upgrades",
    "timer",
    "header_read_timeout",
    "http1_header_read_timeout",
    "actix_web:HttpServer",
    "client_request_timeout",
    "client_timeout",
    "axum:serve",
];

/// hyper 1.x connection builders whose header timeout needs a timer.
const HYPER1_BUILDERS: &[&str] = &[
    "hyper::server::conn::http1::Builder::new",
    "hyper_util::server::conn::auto::Builder::new",
];
const SERVE_CONNECTION: &[&str] = &["serve_connection", "serve_connection_with_upgrades"];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !(file.uses_crate("axum")
        || file.uses_crate("hyper")
        || file.uses_crate("hyper_util")
        || file.uses_crate("actix_web"))
    {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// The axum version `axum::serve` belongs to: the newest locked one, or `None` without a lock.
fn locked_axum(file: &RustFile) -> Option<(u64, u64, String)> {
    let pkg = file.package.as_ref()?;
    pkg.workspace
        .locked("axum")
        .iter()
        .filter_map(|v| {
            let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
            Some((parts.next()??, parts.next()??, v.clone()))
        })
        .max()
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        for m in chain.methods() {
            if m.method == "header_read_timeout" && m.args.first().is_some_and(is_none) {
                self.cx
                    .report(
                        method_span(w.file, m),
                        "`.header_read_timeout(None)` switches off hyper's 30 s limit for reading request headers; slow clients can hold connections open forever (slow loris)",
                    )
                    .help("remove the call to keep the default, or set a finite `Some(Duration::from_secs(..))`");
            }
            let actix_timeout =
                m.method == "client_request_timeout" || m.method == "client_timeout";
            if actix_timeout
                && w.file.uses_crate("actix_web")
                && m.args.first().is_some_and(is_zero_duration)
            {
                self.cx
                    .report(
                        method_span(w.file, m),
                        format!("`.{}(0)` switches off actix-web's 5 s limit for receiving a request's headers; slow clients can hold connections open forever (slow loris)", m.method),
                    )
                    .help("remove the call to keep the 5 s default, or set a finite duration");
            }
        }
        let Some(call) = chain.base_call() else {
            return;
        };
        let server = [AXUM_SERVE, HYPER1_BUILDERS, HYPER014_SERVER]
            .iter()
            .any(|targets| w.call_matches(call, targets).is_some());
        // Slow clients must first reach the server.
        if !server || local_only(w) {
            return;
        }
        if w.call_matches(call, AXUM_SERVE).is_some() && w.file.uses_crate("axum") {
            let version = locked_axum(w.file);
            let (assumed, fires) = match &version {
                Some((major, minor, v)) => (
                    format!("axum {v} from Cargo.lock"),
                    *major == 0 && *minor <= 8,
                ),
                None => (
                    "assuming axum 0.8, the newest release: no Cargo.lock found".to_string(),
                    true,
                ),
            };
            if fires {
                self.cx
                    .report(
                        call_span(w.file, call),
                        format!("`axum::serve` never sets hyper's timer, so hyper's 30 s header-read timeout is silently off and slow clients can hold connections forever ({assumed})"),
                    )
                    .help("serve with `hyper_util::server::conn::auto::Builder` and `.http1().timer(TokioTimer::new()).header_read_timeout(..)`, or terminate client connections at a proxy that enforces a header timeout");
            }
            return;
        }
        if w.call_matches(call, HYPER1_BUILDERS).is_some() {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            let serves = methods
                .iter()
                .any(|m| SERVE_CONNECTION.iter().any(|s| m.method == s));
            if serves && !methods.iter().any(|m| m.method == "timer") {
                self.cx
                    .report(
                        call_span(w.file, call),
                        "hyper connection builder without `.timer(..)`: hyper's 30 s header-read timeout needs a timer and is silently off (slow loris)",
                    )
                    .help("add `.timer(hyper_util::rt::TokioTimer::new())` (for the auto builder: `.http1().timer(..)`)");
            }
            return;
        }
        if w.call_matches(call, HYPER014_SERVER).is_some() {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            let serves = methods.iter().any(|m| m.method == "serve");
            if serves
                && !methods
                    .iter()
                    .any(|m| m.method == "http1_header_read_timeout")
            {
                self.cx
                    .report(
                        call_span(w.file, call),
                        "hyper 0.14 server without `.http1_header_read_timeout(..)`: hyper 0.14 has no header-read timeout by default, so slow clients can hold connections forever (slow loris)",
                    )
                    .help("add `.http1_header_read_timeout(Duration::from_secs(30))` to the server builder");
            }
        }
    }
}
