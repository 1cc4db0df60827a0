use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{method_span, Chain, Cx, RustFile, RustVisitor};
use crate::rules::rust::support::{fn_text_squeezed, let_init, str_value};
use crate::rules::{rule_doc, validate_options, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "amqp-consumer-auto-ack",
    doc: rule_doc!("amqp-consumer-auto-ack"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: Some(validate_options::<Options>),
};

/// Function bodies this rule reads (see `RustTriggers`).
/// The consume call; its options are read in the same function.
const TRIGGERS: RustTriggers = &["lapin:basic_consume"];

/// `[rule-options.amqp-consumer-auto-ack]`
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Options {
    /// Queues where losing messages is acceptable (telemetry, cache invalidation), by name.
    #[serde(default)]
    allowed_queues: Vec<String>,
}

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("lapin") {
        return None;
    }
    let options: Options = cx.options();
    Some(Box::new(Visitor {
        cx,
        allowed: options.allowed_queues,
    }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
    allowed: Vec<String>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        for m in chain.methods() {
            if m.method != "basic_consume" {
                continue;
            }
            let allowed = m
                .args
                .first()
                .and_then(queue_name)
                .is_some_and(|q| self.allowed.contains(&q));
            if m.args.iter().any(|a| sets_no_ack(w, a)) && !consumes_exclusive_queue(w) && !allowed
            {
                self.cx
                    .report(
                        method_span(w.file, m),
                        "this consumer is started with `no_ack: true`: RabbitMQ counts each message as delivered the moment it is sent, so messages in flight are lost when the consumer crashes or is restarted, and no prefetch limit applies",
                    )
                    .help("consume with `no_ack: false`, set a prefetch with `basic_qos`, and `ack` each delivery after it has been processed");
            }
        }
    }
}

/// The function declares an exclusive queue (`QueueDeclareOptions { exclusive: true, .. }`,
/// `QueueDeclareOptions::exclusive()`): a temporary reply or broadcast queue that dies with the
/// connection, so its messages are lost with the consumer whatever the acknowledgement mode.
fn consumes_exclusive_queue(w: &Cx<'_>) -> bool {
    let Some(body) = fn_text_squeezed(w) else {
        return false;
    };
    body.contains("queue_declare")
        && (body.contains("exclusive:true") || body.contains("QueueDeclareOptions::exclusive()"))
}

/// `BasicConsumeOptions { no_ack: true, .. }`, directly or through a local variable
/// (`let opts = ..; opts.no_ack = true;`).
fn sets_no_ack(w: &Cx<'_>, arg: &Expr) -> bool {
    let arg = match arg {
        Expr::Reference(r) => &*r.expr,
        other => other,
    };
    match arg {
        Expr::Struct(s) => struct_sets_no_ack(s),
        Expr::Path(p) => {
            let (Some(name), Some(f)) = (p.path.get_ident(), w.current_fn()) else {
                return false;
            };
            let name = name.to_string();
            let from_init =
                matches!(let_init(f.block, &name), Some(Expr::Struct(s)) if struct_sets_no_ack(s));
            from_init || assigns_no_ack(f.block, &name)
        }
        _ => false,
    }
}

/// `"orders"`, `"orders".into()`, `&"orders"`: the queue's name when it is written out.
fn queue_name(e: &Expr) -> Option<String> {
    match e {
        Expr::MethodCall(m) if m.method == "into" || m.method == "to_string" => {
            queue_name(&m.receiver)
        }
        other => str_value(other),
    }
}

fn struct_sets_no_ack(s: &syn::ExprStruct) -> bool {
    s.fields
        .iter()
        .any(|f| matches!(&f.member, syn::Member::Named(n) if n == "no_ack") && is_true(&f.expr))
}

fn is_true(e: &Expr) -> bool {
    matches!(e, Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) if b.value)
}

/// `name.no_ack = true;` anywhere in the block.
fn assigns_no_ack(block: &syn::Block, name: &str) -> bool {
    struct Find<'n>(&'n str, bool);
    impl<'ast> Visit<'ast> for Find<'_> {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            if let Expr::Field(f) = &*a.left {
                let on_name = matches!(&*f.base, Expr::Path(p) if p.path.is_ident(self.0));
                let no_ack = matches!(&f.member, syn::Member::Named(n) if n == "no_ack");
                self.1 |= on_name && no_ack && is_true(&a.right);
            }
            syn::visit::visit_expr_assign(self, a);
        }
    }
    let mut f = Find(name, false);
    f.visit_block(block);
    f.1
}
