use crate::lang::rust::{call_span, path_segments, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::later_methods;
use crate::rules::{rule_doc, Check, Ctx, Evidence, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "grpc-client-without-timeout",
    doc: rule_doc!("grpc-client-without-timeout"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Endpoints and generated clients, and the deadline evidence (`set_timeout`, `timeout`).
const TRIGGERS: RustTriggers = &[
    "tonic:Endpoint",
    "tonic:Channel",
    "tonic:connect",
    "tonic:connect_lazy",
    "tonic:set_timeout",
    "tonic:timeout",
];

const ENDPOINTS: &[&str] = &[
    "tonic::transport::Endpoint::from_static",
    "tonic::transport::Endpoint::from_shared",
    "tonic::transport::Endpoint::new",
    "tonic::transport::Endpoint::try_from",
    "tonic::transport::Endpoint::from",
    "tonic::transport::Channel::from_static",
    "tonic::transport::Channel::from_shared",
    "tonic::transport::Channel::builder",
    "tonic::transport::channel::Endpoint::from_static",
    "tonic::transport::channel::Endpoint::from_shared",
    "tonic::transport::channel::Endpoint::new",
];
/// Deadlines set per request (`Request::set_timeout`, usually in an interceptor) or around the
/// calls (`tokio::time::timeout`, a tower timeout layer) anywhere in the package.
const DEADLINES: &[Evidence] = &[
    Evidence::method("set_timeout"),
    Evidence::path("tokio::time::timeout"),
    Evidence::path("tower::timeout"),
    Evidence::path("tower::ServiceBuilder::new.timeout"),
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    // A channel for an OpenTelemetry OTLP exporter: the exporter applies its own export timeout
    // (10 s by default, `OTEL_EXPORTER_OTLP_TIMEOUT`).
    if !file.uses_crate("tonic") || file.text.contains("opentelemetry_otlp") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// `GreeterClient::connect(url)` from tonic-generated code: a `*Client` type in a local module
/// (or a `*_client` module), not some other crate's client.
fn is_generated_connect(w: &Cx<'_>, call: &syn::ExprCall) -> bool {
    let syn::Expr::Path(p) = &*call.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    let n = segs.len();
    if n < 2 || segs[n - 1] != "connect" {
        return false;
    }
    let ty = &segs[n - 2];
    if !ty.ends_with("Client") || ty == "Client" {
        return false;
    }
    let resolved = w.resolve(&p.path);
    resolved.iter().any(|r| {
        let parts: Vec<&str> = r.split("::").collect();
        let generated_module = parts.iter().any(|s| s.ends_with("_client"));
        let local = match (parts.first(), &w.file.package) {
            (Some(first), Some(pkg)) => {
                matches!(*first, "crate" | "self" | "super") || pkg.crate_of(first).is_none()
            }
            _ => false,
        };
        generated_module || local
    })
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        if w.call_matches(call, ENDPOINTS).is_some() {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            let connects = methods
                .iter()
                .any(|m| m.method == "connect" || m.method == "connect_lazy");
            if connects && !methods.iter().any(|m| m.method == "timeout") {
                self.cx
                    .report(
                        call_span(w.file, call),
                        "tonic channel without `.timeout(..)`, and no request deadline is set anywhere in the package; an RPC to a stalled server waits forever",
                    )
                    .help("add `.timeout(Duration::from_secs(..))` to the endpoint, and set `request.set_timeout(..)` so the server learns the deadline too")
                    .unless_package(DEADLINES);
            }
        } else if is_generated_connect(w, call) {
            self.cx
                .report(
                    call_span(w.file, call),
                    "generated gRPC client connected without a timeout, and no request deadline is set anywhere in the package; an RPC to a stalled server waits forever",
                )
                .help("connect through `Endpoint::from_shared(url)?.timeout(Duration::from_secs(..)).connect()` and pass the channel to `new(..)`, or set `request.set_timeout(..)` on each request")
                .unless_package(DEADLINES);
        }
    }
}
