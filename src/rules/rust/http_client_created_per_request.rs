use crate::project::{Project, RustFileFacts};
use crate::rules::rust::service::{handler_bodies, innermost_fn, HandlerBody};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "http-client-created-per-request",
    doc: rule_doc!("http-client-created-per-request"),
    checks: &[Check::Project(check)],
    options: None,
};

const HELP: &str = "create one client at start-up (in the application state, or a `static LazyLock<reqwest::Client>`) and clone it where needed: clones share one connection pool";

/// The name of a handler whose body calls `helper`.
fn caller_handler<'p>(
    package: &[&'p RustFileFacts],
    handlers: &[HandlerBody<'p>],
    helper: &str,
) -> Option<String> {
    handlers.iter().find_map(|h| {
        let file = package.iter().find(|f| f.file == h.file)?;
        // A body that does not even spell the name cannot call it (and need not be read again
        // if it was not parsed).
        if !file.text.as_str().get(h.range.clone())?.contains(helper) {
            return None;
        }
        let calls = file
            .service_in(&h.range)
            .call_sites
            .iter()
            .any(|(name, at)| name == helper && h.range.contains(at));
        calls.then(|| h.name.unwrap_or("(closure)").to_string())
    })
}

fn check(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        let handlers = handler_bodies(&package);
        for f in &package {
            for c in &f.facts.service.client_creations {
                if c.sends_in_loop {
                    cx.report_in(
                        f.file,
                        c.span.clone(),
                        format!("`{}` creates a new HTTP client, with its own connection pool, on every loop iteration", c.what),
                    )
                    .help(HELP);
                    continue;
                }
                // The innermost function around the creation decides: a helper called once
                // from a handler's closure is not the handler.
                let owner_fn = innermost_fn(f, c.span.start);
                let owner = owner_fn.map(|x| x.body.clone());
                let owner_name = owner_fn.map(|x| x.name.as_str());
                let handler = handlers.iter().find(|h| {
                    h.file == f.file
                        && h.range.contains(&c.span.start)
                        && (h.name.is_none() || owner.as_ref() == Some(&h.range))
                });
                let which = match (handler, owner_name) {
                    (Some(h), _) => match h.name {
                        Some(n) => format!("on every request to handler `{n}`"),
                        None => "on every request to this handler".to_string(),
                    },
                    // One call deeper: a helper that builds a client and sends with it each time
                    // it runs, called from a handler.
                    (None, Some(helper)) if c.sends => {
                        match caller_handler(&package, &handlers, helper) {
                            Some(h) => format!(
                                "each time `{helper}` runs, and request handler `{h}` calls it"
                            ),
                            None => continue,
                        }
                    }
                    _ => continue,
                };
                cx.report_in(
                    f.file,
                    c.span.clone(),
                    format!(
                        "`{}` creates a new HTTP client, with its own connection pool, {which}",
                        c.what
                    ),
                )
                .help(HELP);
            }
        }
    }
}
