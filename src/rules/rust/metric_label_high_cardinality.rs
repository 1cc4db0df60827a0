use serde::Deserialize;

use crate::lang::words::words;

use crate::lang::rust::{Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::metric_labels::{self, Label};
use crate::rules::{rule_doc, validate_options, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "metric-label-high-cardinality",
    doc: rule_doc!("metric-label-high-cardinality"),
    checks: &[Check::Rust(
        check,
        crate::rules::rust::metric_labels::TRIGGERS,
    )],
    options: Some(validate_options::<Options>),
};

/// `[rule-options.metric-label-high-cardinality]`
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Options {
    /// Replaces the built-in list of label keys.
    denied_labels: Option<Vec<String>>,
    /// Keys never reported (`tenant_id` in a service with a handful of tenants).
    #[serde(default)]
    allowed_labels: Vec<String>,
}

/// Keys whose values are unbounded: one series per user, request, address or URL.
const DENIED: &[&str] = &[
    "user_id",
    "userid",
    "customer_id",
    "account_id",
    "order_id",
    "request_id",
    "trace_id",
    "span_id",
    "session_id",
    "email",
    "ip",
    "url",
    "uri",
    "raw_path",
    "uuid",
    "token",
];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    let options: Options = cx.options();
    let denied: Vec<String> = options
        .denied_labels
        .unwrap_or_else(|| DENIED.iter().map(|s| s.to_string()).collect())
        .iter()
        .map(|s| normalize(s))
        .collect();
    let allowed: Vec<String> = options
        .allowed_labels
        .iter()
        .map(|s| normalize(s))
        .collect();
    Some(Box::new(Visitor {
        cx,
        denied,
        allowed,
    }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    denied: Vec<String>,
    allowed: Vec<String>,
}

/// `user.id`, `User-Id`, `userId` → `user_id`.
fn normalize(key: &str) -> String {
    words(key).join("_")
}

impl Visitor<'_, '_> {
    fn labels(&mut self, labels: Vec<Label>) {
        for label in labels {
            let Some((key, span)) = label.key else {
                continue;
            };
            if label.value.as_ref().is_some_and(|v| v.constant) {
                continue;
            }
            let norm = normalize(&key);
            if self.allowed.contains(&norm) {
                continue;
            }
            // `client_ip`, `http_url`, `user_email` end in a denied key.
            let hit = self
                .denied
                .iter()
                .any(|d| norm == *d || norm.ends_with(&format!("_{d}")));
            if hit {
                self.cx
                    .report(
                        span,
                        format!("the metric label `{key}` takes a value per user, request or address: every new value creates another time series"),
                    )
                    .help("drop the label, or replace it with a bounded one (a status class, a route template, a plan tier); put per-request identifiers on traces or logs instead");
            }
        }
    }
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        self.labels(metric_labels::from_chain(w, chain));
    }
    fn macro_call(&mut self, w: &Cx<'_>, mac: &syn::Macro) {
        self.labels(metric_labels::from_macro(w, mac));
    }
    fn structure(&mut self, w: &Cx<'_>, s: &syn::ItemStruct) {
        self.labels(metric_labels::from_struct(w, s));
    }
}
