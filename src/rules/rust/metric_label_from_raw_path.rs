use crate::lang::rust::{Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::metric_labels::{self, Label};
use crate::rules::rust::support::mentions_in_fn;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "metric-label-from-raw-path",
    doc: rule_doc!("metric-label-from-raw-path"),
    checks: &[Check::Rust(
        check,
        crate::rules::rust::metric_labels::TRIGGERS,
    )],
    options: None,
};

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

/// Crates that route HTTP requests by path: with none of them, a tonic package's request paths
/// are gRPC method paths (`/package.Service/Method`), a fixed set with no ids in them.
const HTTP_ROUTERS: &[&str] = &[
    "axum",
    "actix_web",
    "warp",
    "poem",
    "salvo",
    "rocket",
    "tide",
];

fn grpc_only(w: &Cx<'_>) -> bool {
    w.file
        .package
        .as_ref()
        .is_some_and(|p| p.depends_on("tonic") && !HTTP_ROUTERS.iter().any(|c| p.depends_on(c)))
}

impl Visitor<'_, '_> {
    fn labels(&mut self, w: &Cx<'_>, labels: Vec<Label>) {
        if grpc_only(w) {
            return;
        }
        for label in labels {
            let Some(value) = label.value.filter(|v| v.raw_path) else {
                continue;
            };
            // The matched route is used where there is one; the raw path only for unmatched requests.
            let fallback = mentions_in_fn(w, &["MatchedPath", "match_pattern", "match_name"]);
            let finding = self
                .cx
                .report(
                    value.span,
                    if fallback {
                        "requests that match no route label this metric with their raw path: every scanner probe or typo creates another time series"
                    } else {
                        "this metric label is the raw request path: every distinct id in a URL (`/users/123`) creates another time series"
                    },
                )
                .help("label with the route template instead — axum `MatchedPath`, actix `req.match_pattern()` — and a fixed value such as `\"unmatched\"` when there is none");
            if fallback {
                finding.info();
            }
        }
    }
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let labels = metric_labels::from_chain(w, chain);
        self.labels(w, labels);
    }
    fn macro_call(&mut self, w: &Cx<'_>, mac: &syn::Macro) {
        let labels = metric_labels::from_macro(w, mac);
        self.labels(w, labels);
    }
}
