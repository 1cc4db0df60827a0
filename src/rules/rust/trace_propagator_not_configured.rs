use crate::lang::rust::{call_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::{rule_doc, Check, Ctx, Evidence, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "trace-propagator-not-configured",
    doc: rule_doc!("trace-propagator-not-configured"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Provider builders, and every propagator evidence.
const TRIGGERS: RustTriggers = &[
    "opentelemetry_sdk:SdkTracerProvider",
    "opentelemetry_sdk:TracerProvider",
    "opentelemetry_otlp:new_pipeline",
    "set_text_map_propagator",
    "propagation",
    "opentelemetry_jaeger_propagator",
    "opentelemetry_zipkin",
    "opentelemetry_aws",
    "opentelemetry_datadog",
    "opentelemetry_http",
    "init_tracing_opentelemetry",
    "axum_tracing_opentelemetry",
    "tonic_tracing_opentelemetry",
    "inject_context",
    "extract_with_context",
];

const PROVIDER_BUILDERS: &[&str] = &[
    "opentelemetry_sdk::trace::SdkTracerProvider::builder",
    "opentelemetry_sdk::trace::TracerProvider::builder",
    "opentelemetry_sdk::trace::SdkTracerProvider::default",
    "opentelemetry_otlp::new_pipeline",
];

/// Code that installs a propagator or propagates context by hand, anywhere in the package.
const PROPAGATES: &[Evidence] = &[
    Evidence::path("opentelemetry::global::set_text_map_propagator"),
    Evidence::path("opentelemetry_sdk::propagation"),
    Evidence::path("opentelemetry::propagation::TextMapCompositePropagator"),
    Evidence::path("opentelemetry_jaeger_propagator"),
    Evidence::path("opentelemetry_zipkin"),
    Evidence::path("opentelemetry_aws"),
    Evidence::path("opentelemetry_datadog"),
    Evidence::path("opentelemetry_http"),
    Evidence::path("init_tracing_opentelemetry"),
    Evidence::path("axum_tracing_opentelemetry"),
    Evidence::path("tonic_tracing_opentelemetry"),
    Evidence::method("inject_context"),
    Evidence::method("extract_with_context"),
    Evidence::method("set_text_map_propagator"),
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("opentelemetry_sdk") && !file.uses_crate("opentelemetry_otlp") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        if w.call_matches(call, PROVIDER_BUILDERS).is_none() {
            return;
        }
        self.cx
            .report(
                call_span(w.file, call),
                "this package builds an OpenTelemetry tracer provider but never installs a text-map propagator: the global default propagates nothing, so every incoming and outgoing request starts a new, unconnected trace",
            )
            .help("install one at start-up: `opentelemetry::global::set_text_map_propagator(opentelemetry_sdk::propagation::TraceContextPropagator::new())`")
            .unless_package(PROPAGATES);
    }
}
