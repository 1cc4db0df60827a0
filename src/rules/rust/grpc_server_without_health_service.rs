use crate::lang::rust::{call_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{local_only, tonic_server};
use crate::rules::{rule_doc, Check, Ctx, Evidence, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "grpc-server-without-health-service",
    doc: rule_doc!("grpc-server-without-health-service"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["tonic:Server", "tonic_health"];

/// Any use of tonic-health in the package counts: the reporter is often built in another file.
const HEALTH: &[Evidence] = &[Evidence::path("tonic_health")];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("tonic") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(server) = tonic_server(w, chain) else {
            return;
        };
        if server.serve().is_none() || local_only(w) {
            return;
        }
        self.cx
            .report(
                call_span(w.file, server.builder),
                "gRPC server without the standard health service (`grpc.health.v1.Health`); Kubernetes gRPC probes and load balancers cannot check it",
            )
            .help("add `tonic_health::server::health_reporter()`'s service with `.add_service(health_service)` and set each service's status")
            .unless_package(HEALTH);
    }
}
