use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{method_span, path_segments, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{fn_in_file, let_init};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "trace-sampler-always-on",
    doc: rule_doc!("trace-sampler-always-on"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["opentelemetry_sdk:with_sampler"];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("opentelemetry_sdk") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

const HELP: &str = "sample a fraction of root traces, for example `Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.05)))`, or leave the sampler out so `OTEL_TRACES_SAMPLER`/`OTEL_TRACES_SAMPLER_ARG` decide";

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        for m in chain.methods() {
            if m.method != "with_sampler" {
                continue;
            }
            let Some(arg) = m.args.first() else { continue };
            match sampling(w, arg) {
                Sampling::Always => {
                    self.cx
                        .report(
                            method_span(w.file, m),
                            "this tracer provider records and exports every trace: the sampler is always-on, and setting it in code also overrides `OTEL_TRACES_SAMPLER`",
                        )
                        .help(HELP);
                }
                Sampling::Fallback => {
                    self.cx
                        .report(
                            method_span(w.file, m),
                            "when no sample ratio is configured this tracer provider falls back to sampling every trace",
                        )
                        .help("make the fallback a small ratio, or fail at start-up when the ratio is missing or invalid")
                        .info();
                }
                Sampling::Other => {}
            }
        }
    }
}

enum Sampling {
    /// The sampler is always-on whatever the configuration.
    Always,
    /// Always-on is one of the possible values (a default for missing or invalid configuration).
    Fallback,
    Other,
}

fn sampling(w: &Cx<'_>, arg: &Expr) -> Sampling {
    if is_always_on(arg) {
        return Sampling::Always;
    }
    // A local variable or a helper in this file that builds the sampler.
    let source = match arg {
        Expr::Path(p) => p
            .path
            .get_ident()
            .zip(w.current_fn())
            .and_then(|(name, f)| let_init(f.block, &name.to_string())),
        _ => None,
    };
    if let Some(init) = source {
        return match sampling(w, init) {
            Sampling::Other => Sampling::Other,
            s => s,
        };
    }
    if let Expr::Call(c) = arg {
        if let Expr::Path(p) = &*c.func {
            if let Some(body) = p
                .path
                .get_ident()
                .and_then(|f| fn_in_file(w.file, &f.to_string()))
            {
                let tail_always =
                    matches!(body.stmts.last(), Some(syn::Stmt::Expr(e, None)) if is_always_on(e));
                if tail_always {
                    return Sampling::Always;
                }
                return if contains_always_on_block(&body) {
                    Sampling::Fallback
                } else {
                    Sampling::Other
                };
            }
        }
    }
    if contains_always_on(arg) {
        Sampling::Fallback
    } else {
        Sampling::Other
    }
}

/// `Sampler::AlwaysOn`, `Sampler::TraceIdRatioBased(1.0)`, `Sampler::ParentBased(Box::new(<always>))`.
fn is_always_on(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => is_always_on(&p.expr),
        Expr::Path(p) => {
            let segs = path_segments(&p.path);
            segs.last().is_some_and(|l| l == "AlwaysOn")
        }
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return false;
            };
            let segs = path_segments(&p.path);
            match segs.last().map(String::as_str) {
                Some("TraceIdRatioBased") => c.args.first().is_some_and(is_one_or_more),
                Some("ParentBased") | Some("new") => c.args.first().is_some_and(is_always_on),
                _ => false,
            }
        }
        _ => false,
    }
}

fn is_one_or_more(e: &Expr) -> bool {
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().is_ok_and(|v| v >= 1.0),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<u64>().is_ok_and(|v| v >= 1),
        _ => false,
    }
}

fn contains_always_on(e: &Expr) -> bool {
    let mut f = FindAlwaysOn(false);
    f.visit_expr(e);
    f.0
}

fn contains_always_on_block(b: &syn::Block) -> bool {
    let mut f = FindAlwaysOn(false);
    f.visit_block(b);
    f.0
}

struct FindAlwaysOn(bool);
impl<'ast> Visit<'ast> for FindAlwaysOn {
    fn visit_expr(&mut self, e: &'ast Expr) {
        if is_always_on(e) {
            self.0 = true;
        } else {
            syn::visit::visit_expr(self, e);
        }
    }
}
