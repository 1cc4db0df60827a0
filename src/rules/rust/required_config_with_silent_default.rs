use proc_macro2::TokenTree;
use syn::Expr;

use crate::lang::rust::{call_span, method_span, Chain, Cx, Link, RustFile, RustVisitor};
use crate::lang::words::{last_two, words};
use crate::rules::rust::support::{is_service, str_value};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "required-config-with-silent-default",
    doc: rule_doc!("required-config-with-silent-default"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["var", "var_os", "config:set_default"];

const ENV_READS: &[&str] = &[
    "std::env::var",
    "std::env::var_os",
    "dotenvy::var",
    "dotenv::var",
];

const DEFAULTING: &[&str] = &[
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_or_default",
    "map_or",
    "map_or_else",
];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    // Command-line tools may treat a token as optional; services must not start half-configured.
    if !is_service(file) {
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
        if w.call_matches(call, ENV_READS).is_some() {
            let Some(name) = call.args.first().and_then(str_value) else {
                return;
            };
            if !is_required_name(&name) {
                return;
            }
            // The first method that turns a missing variable into a value.
            let defaulted = chain.links.iter().find_map(|l| match l {
                Link::Method(m) if DEFAULTING.iter().any(|d| m.method == d) => Some(*m),
                _ => None,
            });
            let Some(m) = defaulted else { return };
            // `.unwrap_or_default().is_empty()`: a presence test for an optional integration.
            if m.args.iter().any(diverges) || chain.has_method("is_empty") {
                return;
            }
            // `text.replace(&env::var("JWT_SECRET").unwrap_or_default(), "***")`: redaction.
            let start = call_span(w.file, call).start;
            let before = w.file.text[..start.min(w.file.text.len())].trim_end();
            let before = before.trim_end_matches('&').trim_end();
            if before.ends_with("replace(") || before.ends_with("replace_all(") {
                return;
            }
            self.cx
                .report(
                    call_span(w.file, call),
                    format!(
                        "`{name}` falls back to a default when it is not set (`.{}(..)`): a missing setting goes unnoticed and the service talks to the wrong place or runs with a known credential",
                        m.method
                    ),
                )
                .help(format!("fail at start-up instead: `std::env::var(\"{name}\").expect(\"{name} must be set\")` or `?` with a clear error"));
            return;
        }
        // `config::Config::builder().set_default("database.url", ..)`
        for m in chain.methods() {
            if m.method != "set_default" || !w.file.uses_crate("config") {
                continue;
            }
            let Some(key) = m.args.first().and_then(str_value) else {
                continue;
            };
            if is_required_name(&key) {
                self.cx
                    .report(
                        method_span(w.file, m),
                        format!("the configuration key `{key}` has a default: when it is missing the service starts anyway with that value"),
                    )
                    .help("remove the default so loading the configuration fails when the key is missing");
            }
        }
    }

    /// clap `#[arg(env = "DATABASE_URL", default_value = "..")]`.
    fn structure(&mut self, w: &Cx<'_>, s: &syn::ItemStruct) {
        for field in &s.fields {
            for attr in &field.attrs {
                let is_clap = attr.path().is_ident("arg") || attr.path().is_ident("clap");
                let syn::Meta::List(list) = &attr.meta else {
                    continue;
                };
                if !is_clap {
                    continue;
                }
                let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
                let value_of = |key: &str| {
                    tokens.windows(3).find_map(|t| match t {
                        [TokenTree::Ident(i), TokenTree::Punct(p), TokenTree::Literal(l)]
                            if i == key && p.as_char() == '=' =>
                        {
                            Some(l.to_string().trim_matches('"').to_string())
                        }
                        _ => None,
                    })
                };
                let has_default = tokens.iter().any(|t| {
                    matches!(t, TokenTree::Ident(i) if i.to_string().starts_with("default_value"))
                });
                if let (Some(env), true) = (value_of("env"), has_default) {
                    if is_required_name(&env) {
                        let span = w
                            .file
                            .join(attr.pound_token.span, attr.bracket_token.span.close());
                        self.cx
                            .report(
                                span,
                                format!("`{env}` has a `default_value`: when it is not set the service starts anyway with that value"),
                            )
                            .help("drop the default so clap fails at start-up when the variable is missing");
                    }
                }
            }
        }
    }
}

/// `|_| panic!(..)`, `|e| unreachable!()`, `|_| std::process::exit(1)`: a fallback that fails.
fn diverges(e: &Expr) -> bool {
    let panics = |mac: &syn::Macro| {
        mac.path.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "panic" | "unreachable" | "unimplemented" | "todo"
            )
        })
    };
    let Expr::Closure(c) = e else {
        return false;
    };
    let body = match &*c.body {
        Expr::Block(b) => match b.block.stmts.last() {
            Some(syn::Stmt::Expr(e, _)) => e,
            Some(syn::Stmt::Macro(m)) => return panics(&m.mac),
            _ => return false,
        },
        other => other,
    };
    match body {
        Expr::Macro(m) => panics(&m.mac),
        Expr::Call(c) => {
            matches!(&*c.func, Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "exit"))
        }
        Expr::Return(_) => true,
        _ => false,
    }
}

/// Connection strings and secrets: `DATABASE_URL`, `PG_DSN`, `REDIS_URL`, `AMQP_ADDR`,
/// `SMTP_PASSWORD`, `JWT_SECRET`, `GITHUB_TOKEN`, `STRIPE_API_KEY`.
pub fn is_required_name(name: &str) -> bool {
    const STORES: &[&str] = &[
        "database",
        "db",
        "postgres",
        "postgresql",
        "pg",
        "mysql",
        "mariadb",
        "redis",
        "amqp",
        "rabbitmq",
        "kafka",
        "nats",
        "mongo",
        "mongodb",
        "clickhouse",
    ];
    let words = words(name);
    let (Some(last), before) = last_two(&words) else {
        return false;
    };
    match last {
        "dsn" | "password" | "passwd" | "secret" | "token" | "apikey" => true,
        "key" => matches!(
            before,
            Some("api" | "secret" | "private" | "signing" | "encryption")
        ),
        "url" | "uri" | "host" | "addr" | "address" | "brokers" | "servers" => {
            before.is_some_and(|b| STORES.contains(&b))
        }
        _ => false,
    }
}
