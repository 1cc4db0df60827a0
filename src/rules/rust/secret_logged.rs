use crate::lang::rust::{macro_span, Cx, RustFile, RustVisitor};
use crate::lang::rust_logging::{is_log_macro, is_redacting_name, is_secret_name, logged_values};
use crate::project::Project;
use crate::rules::rust::support::param_type;
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "secret-logged",
    doc: rule_doc!("secret-logged"),
    checks: &[
        Check::Rust(check, TRIGGERS),
        Check::Project(check_debug_structs),
    ],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`): log macros that name a secret-like
/// value (bodies that merely log are not parsed). The `Debug` half reads the logging facts.
const TRIGGERS: RustTriggers = &[crate::lang::rust_scan::LOGS_SECRET];

const HELP: &str = "log that the value is present (`password.is_empty()`, `token.len()`), not the value; keep secrets in `secrecy::SecretString` so formatting them prints `[REDACTED]`";

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

impl RustVisitor for Visitor<'_, '_> {
    fn macro_call(&mut self, w: &Cx<'_>, mac: &syn::Macro) {
        if !is_log_macro(&mac.path) {
            return;
        }
        let mut names: Vec<String> = Vec::new();
        for v in logged_values(mac.tokens.clone()) {
            if !is_secret_name(&v.name) || names.contains(&v.name) {
                continue;
            }
            // A parameter whose type redacts itself (`password: SecretString`).
            let redacted = v.var.as_ref().is_some_and(|var| {
                param_type(w, var).is_some_and(|(last, _)| is_redacting_name(&last))
            });
            if !redacted {
                names.push(v.name);
            }
        }
        if names.is_empty() {
            return;
        }
        let list = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let macro_name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        self.cx
            .report(
                macro_span(w.file, mac),
                format!("this `{macro_name}!` writes {list} to the logs"),
            )
            .help(HELP);
    }
}

/// `?settings` / `{settings:?}` where `settings` is a struct of the same package that derives
/// `Debug` and has secret-named string fields.
fn check_debug_structs(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        let leaky: Vec<&(String, Vec<String>)> = package
            .iter()
            .flat_map(|f| &f.facts.logging.leaky_structs)
            .collect();
        if leaky.is_empty() {
            continue;
        }
        let names: Vec<&str> = leaky.iter().map(|(name, _)| name.as_str()).collect();
        for f in &package {
            for d in &f.debug_logged(&names) {
                let Some((_, fields)) = leaky.iter().find(|(name, _)| *name == d.ty) else {
                    continue;
                };
                let list = fields
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                cx.report_in(
                    f.file,
                    d.span.clone(),
                    format!(
                        "`{}` is logged with `Debug`, and `{}` derives `Debug` with the secret field(s) {list}",
                        d.var, d.ty
                    ),
                )
                .help(format!(
                    "wrap the secret fields in `secrecy::SecretString`, or implement `Debug` for `{}` by hand and leave them out",
                    d.ty
                ));
            }
        }
    }
}
