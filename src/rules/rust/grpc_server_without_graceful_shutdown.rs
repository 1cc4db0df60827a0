use crate::lang::rust::{method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::tonic_server;
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "grpc-server-without-graceful-shutdown",
    doc: rule_doc!("grpc-server-without-graceful-shutdown"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["tonic:Server"];

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
        if server
            .method(&["serve_with_shutdown", "serve_with_incoming_shutdown"])
            .is_some()
        {
            return;
        }
        let Some(serve) = server.method(&["serve", "serve_with_incoming"]) else {
            return;
        };
        let graceful = if serve.method == "serve" {
            "serve_with_shutdown(addr, signal)"
        } else {
            "serve_with_incoming_shutdown(incoming, signal)"
        };
        self.cx
            .report(
                method_span(w.file, serve),
                format!("tonic server started with `.{}(..)`, which never drains: on SIGTERM in-flight RPCs are cut off", serve.method),
            )
            .help(format!("use `.{graceful}` with a future that completes on SIGTERM"));
    }
}
