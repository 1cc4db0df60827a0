use std::ops::Range;

use syn::visit::Visit;
use syn::Expr;

use crate::lang::rust::{
    call_span, method_span, path_segments, value_name, Cx, FnCtx, RustFile, RustVisitor,
};
use crate::rules::rust::support::str_value;
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "dual-write-without-outbox",
    doc: rule_doc!("dual-write-without-outbox"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// A finding needs a publish and a database write before it, in the same body (`Sites`).
const TRIGGERS: RustTriggers = &[
    "send|publish|basic_publish|send_message|send_result|publish_with_headers|xadd|xadd_map|cmd \
     & commit|execute|execute_many|exec|exec_with_returning|transaction|insert|update|save|delete\
     |insert_into|replace_into",
];

const DATABASES: &[&str] = &[
    "sqlx",
    "sea_orm",
    "diesel",
    "diesel_async",
    "tokio_postgres",
    "deadpool_postgres",
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    // Publishes are recognised by their own crate or type; the database gates the walk.
    if !DATABASES.iter().any(|d| file.uses_crate(d)) {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn function(&mut self, w: &Cx<'_>, _attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        // The same transaction writes an outbox table that a relay publishes from.
        if mentions_outbox(f.block) {
            return;
        }
        let mut sites = Sites {
            w,
            writes: Vec::new(),
            publishes: Vec::new(),
        };
        sites.visit_block(f.block);
        for (publish, what) in &sites.publishes {
            let Some((write, write_what)) = sites
                .writes
                .iter()
                .filter(|(r, _)| r.start < publish.start)
                .max_by_key(|(r, _)| r.start)
            else {
                continue;
            };
            self.cx
                .report(
                    publish.clone(),
                    format!("{what} after {write_what} in `{}`: if the process dies or the publish fails between the two, the database and the consumers disagree for good", f.name),
                )
                .related_here(write.clone(), format!("{write_what} here"))
                .help("use a transactional outbox: insert the event into an outbox table in the same transaction, and publish from that table in a separate relay");
            break;
        }
    }
}

/// Database writes and broker publishes in a function body, in source order.
struct Sites<'w> {
    w: &'w Cx<'w>,
    writes: Vec<(Range<usize>, String)>,
    publishes: Vec<(Range<usize>, String)>,
}

impl<'ast> Visit<'ast> for Sites<'_> {
    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        let name = m.method.to_string();
        let recv = receiver_name(&m.receiver).unwrap_or_default();
        let span = method_span(self.w.file, m);
        match name.as_str() {
            "commit" if !recv.contains("consumer") && !recv.contains("offset") => self
                .writes
                .push((span.clone(), "a transaction commit".into())),
            "execute" | "execute_many" | "exec" | "exec_with_returning"
                if writes_sql(self.w, m) =>
            {
                self.writes.push((span.clone(), "a database write".into()))
            }
            // sea-orm / diesel-async `db.transaction(|txn| ..)`.
            "transaction" if is_db_name(&recv) => self
                .writes
                .push((span.clone(), "a database transaction".into())),
            // sea-orm `active_model.insert(db)`.
            "insert" | "update" | "save" | "delete"
                if self.w.file.uses_crate("sea_orm")
                    && m.args.len() == 1
                    && m.args
                        .first()
                        .and_then(receiver_name)
                        .is_some_and(|a| is_db_name(&a)) =>
            {
                self.writes.push((span.clone(), "a database write".into()))
            }
            // A parameter typed as the application's queue producer (`queue_tx: TaskQueueProducer`).
            "send" | "publish" if producer_param(self.w, &m.receiver) => self
                .publishes
                .push((span.clone(), "a queue publish".into())),
            "basic_publish" => self
                .publishes
                .push((span.clone(), "a RabbitMQ publish".into())),
            "send_message" if self.w.file.uses_crate("aws_sdk_sqs") => {
                self.publishes.push((span.clone(), "an SQS send".into()))
            }
            "send" | "send_result" if is_kafka_record(self.w, m) => self
                .publishes
                .push((span.clone(), "a Kafka produce".into())),
            "publish" | "publish_with_headers" if is_broker_client(self.w, &recv) => self
                .publishes
                .push((span.clone(), "a broker publish".into())),
            "xadd" | "xadd_map" if self.w.file.uses_crate("redis") => self
                .publishes
                .push((span.clone(), "a Redis stream append".into())),
            _ => {}
        }
        syn::visit::visit_expr_method_call(self, m);
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        let paths = self.w.call_paths(c);
        let span = call_span(self.w.file, c);
        if paths.iter().any(|p| {
            matches!(
                p.as_str(),
                "diesel::insert_into"
                    | "diesel::update"
                    | "diesel::delete"
                    | "diesel::replace_into"
            )
        }) {
            self.writes.push((span, "a database write".into()));
        } else if paths.iter().any(|p| p == "redis::cmd")
            && matches!(
                c.args.first().and_then(str_value).as_deref(),
                Some("XADD" | "PUBLISH" | "xadd" | "publish")
            )
        {
            self.publishes.push((span, "a Redis publish".into()));
        }
        syn::visit::visit_expr_call(self, c);
    }

    // Nested functions are checked on their own.
    fn visit_item_fn(&mut self, _: &'ast syn::ItemFn) {}
}

/// An identifier or string literal (SQL, a table name) in the function that says `outbox`; comments
/// do not count.
fn mentions_outbox(block: &syn::Block) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0 |= i.to_string().to_ascii_lowercase().contains("outbox");
        }
        fn visit_lit_str(&mut self, l: &'ast syn::LitStr) {
            self.0 |= l.value().to_ascii_lowercase().contains("outbox");
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            self.0 |= m.tokens.to_string().to_ascii_lowercase().contains("outbox");
        }
    }
    let mut f = Find(false);
    f.visit_block(block);
    f.0
}

/// The lower-case name of what a method is called on, through references, method chains and
/// tuple fields (`self.producer.clone()` → `producer`).
fn receiver_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Field(f) if matches!(f.member, syn::Member::Unnamed(_)) => receiver_name(&f.base),
        Expr::MethodCall(m) => receiver_name(&m.receiver),
        Expr::Reference(r) => receiver_name(&r.expr),
        other => value_name(other).map(|n| n.to_ascii_lowercase()),
    }
}

fn is_write_sql(sql: &str) -> bool {
    let first = sql
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "UPSERT" | "MERGE" | "REPLACE"
    )
}

/// `sqlx::query("INSERT ..").execute(..)`, `client.execute("UPDATE ..", ..)`, sea-orm
/// `Entity::insert(m).exec(db)`.
fn writes_sql(w: &Cx<'_>, m: &syn::ExprMethodCall) -> bool {
    if m.args
        .first()
        .and_then(str_value)
        .is_some_and(|s| is_write_sql(&s))
    {
        return true;
    }
    // Walk down the chain to its base call.
    let mut cur = &*m.receiver;
    loop {
        match cur {
            Expr::MethodCall(inner) => cur = &inner.receiver,
            Expr::Await(a) => cur = &a.base,
            Expr::Try(t) => cur = &t.expr,
            Expr::Call(c) => {
                let paths = w.call_paths(c);
                let sqlx = paths.iter().any(|p| p.starts_with("sqlx::query"));
                if sqlx {
                    return c
                        .args
                        .first()
                        .and_then(str_value)
                        .is_some_and(|s| is_write_sql(&s));
                }
                // sea-orm `Entity::insert(..)`, `Entity::update(..)`, `Entity::delete_many()`.
                let Expr::Path(p) = &*c.func else {
                    return false;
                };
                let segs = path_segments(&p.path);
                return w.file.uses_crate("sea_orm")
                    && segs.last().is_some_and(|l| {
                        l.starts_with("insert")
                            || l.starts_with("update")
                            || l.starts_with("delete")
                    });
            }
            Expr::Macro(mac) => {
                let is_query = mac
                    .mac
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident.to_string().starts_with("query"));
                let first = mac.mac.tokens.clone().into_iter().find_map(|t| match t {
                    proc_macro2::TokenTree::Literal(l) => {
                        syn::parse2::<syn::LitStr>(proc_macro2::TokenTree::Literal(l).into()).ok()
                    }
                    _ => None,
                });
                return is_query && first.is_some_and(|s| is_write_sql(&s.value()));
            }
            _ => return false,
        }
    }
}

fn is_db_name(name: &str) -> bool {
    ["db", "txn", "tx", "conn", "pool", "database", "transaction"]
        .iter()
        .any(|n| {
            name == *n || name.ends_with(&format!("_{n}")) || name.starts_with(&format!("{n}_"))
        })
}

/// The receiver is a parameter whose type is named `*Producer` or `*Publisher`.
fn producer_param(w: &Cx<'_>, receiver: &Expr) -> bool {
    let Expr::Path(p) = receiver else {
        return false;
    };
    let Some(name) = p.path.get_ident() else {
        return false;
    };
    crate::rules::rust::support::param_type(w, &name.to_string())
        .is_some_and(|(last, _)| last.ends_with("Producer") || last.ends_with("Publisher"))
}

/// rdkafka: `producer.send(FutureRecord::to(topic)..., timeout)` or `send(BaseRecord::to(..))`.
fn is_kafka_record(w: &Cx<'_>, m: &syn::ExprMethodCall) -> bool {
    if !w.file.uses_crate("rdkafka") {
        return false;
    }
    struct Records(bool);
    impl<'ast> Visit<'ast> for Records {
        fn visit_ident(&mut self, i: &'ast proc_macro2::Ident) {
            self.0 |= i == "FutureRecord" || i == "BaseRecord";
        }
    }
    let mut r = Records(false);
    for a in &m.args {
        r.visit_expr(a);
    }
    r.0 || receiver_name(&m.receiver).is_some_and(|n| n.contains("producer"))
}

/// `.publish(..)` on something named like a NATS/JetStream/SNS client or publisher.
fn is_broker_client(w: &Cx<'_>, recv: &str) -> bool {
    let brokers = w.file.uses_crate("async_nats")
        || w.file.uses_crate("aws_sdk_sns")
        || w.file.uses_crate("redis");
    brokers
        && [
            "nats",
            "jetstream",
            "js",
            "publisher",
            "sns",
            "broker",
            "client",
            "conn",
            "connection",
        ]
        .iter()
        .any(|n| recv == *n || recv.contains(n))
}
