use proc_macro2::TokenTree;

use crate::lang::rust::{pat_name, path_segments, Cx, FnCtx, RustFile, RustVisitor};
use crate::lang::rust_logging::{is_redacting_type, is_secret_name, type_idents};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "secret-in-span-fields",
    doc: rule_doc!("secret-in-span-fields"),
    checks: &[Check::Rust(check, TRIGGERS)],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// It reads `#[instrument]` attributes and signatures, which are always parsed.
const TRIGGERS: RustTriggers = &[];

fn check<'a>(file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    if !file.uses_crate("tracing") {
        return None;
    }
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn function(&mut self, w: &Cx<'_>, attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        for attr in attrs {
            let segs = path_segments(attr.path());
            if segs.last().is_none_or(|l| l != "instrument") {
                continue;
            }
            if !(segs.len() == 1 || segs.first().is_some_and(|s| s == "tracing")) {
                continue;
            }
            let skipped = match &attr.meta {
                syn::Meta::List(l) => match skip_list(l.tokens.clone()) {
                    Skip::All => continue,
                    Skip::Some(names) => names,
                },
                _ => Vec::new(),
            };
            let secrets: Vec<String> = f
                .sig
                .inputs
                .iter()
                .filter_map(|input| match input {
                    syn::FnArg::Typed(t) => Some(t),
                    syn::FnArg::Receiver(_) => None,
                })
                .filter_map(|t| {
                    let name = pat_name(&t.pat)?;
                    let secret = (is_secret_name(&name) && !is_cancellation(&t.ty))
                        || is_credentials_type(&t.ty);
                    (secret && !is_redacting_type(&t.ty) && !skipped.contains(&name))
                        .then_some(name)
                })
                .collect();
            if secrets.is_empty() {
                continue;
            }
            let list = secrets
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let span = w
                .file
                .join(attr.pound_token.span, attr.bracket_token.span.close());
            self.cx
                .report(
                    span,
                    format!("`#[instrument]` records every argument of `{}` as a span field, including {list}", f.name),
                )
                .help(format!(
                    "skip it: `#[instrument(skip({}))]` or `#[instrument(skip_all, fields(..))]`; or make the argument a `secrecy::SecretString`",
                    secrets.join(", ")
                ));
        }
    }
}

enum Skip {
    All,
    Some(Vec<String>),
}

/// `skip_all` or the names inside `skip(a, b)`.
fn skip_list(tokens: proc_macro2::TokenStream) -> Skip {
    let mut names = Vec::new();
    let mut prev_skip = false;
    for tt in tokens {
        match &tt {
            TokenTree::Ident(i) if i == "skip_all" => return Skip::All,
            TokenTree::Ident(i) => prev_skip = i == "skip",
            TokenTree::Group(g) if prev_skip => {
                names.extend(g.stream().into_iter().filter_map(|t| match t {
                    TokenTree::Ident(i) => Some(i.to_string()),
                    _ => None,
                }));
                prev_skip = false;
            }
            _ => prev_skip = false,
        }
    }
    Skip::Some(names)
}

fn is_credentials_type(ty: &syn::Type) -> bool {
    type_idents(ty)
        .iter()
        .any(|n| n.contains("Credential") || n.contains("Password"))
}

/// `token: CancellationToken` is no secret.
fn is_cancellation(ty: &syn::Type) -> bool {
    type_idents(ty).iter().any(|n| n.contains("Cancel"))
}
