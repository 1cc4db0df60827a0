use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::at;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-resource-requests",
    doc: rule_doc!("missing-resource-requests"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in obj.containers().into_iter().filter(|c| !c.init) {
        let resources = c.spec.resources.as_ref();
        // Kubernetes copies a limit into the missing request, so a limit alone is a request.
        let has = |what: &str| {
            resources.is_some_and(|r| {
                r.requests.as_ref().is_some_and(|q| q.contains_key(what))
                    || r.limits.as_ref().is_some_and(|q| q.contains_key(what))
            })
        };
        let missing: Vec<&str> = ["memory", "cpu"].into_iter().filter(|w| !has(w)).collect();
        if missing.is_empty() {
            continue;
        }
        let list = missing
            .iter()
            .map(|m| format!("`requests.{m}`"))
            .collect::<Vec<_>>()
            .join(" or ");
        cx.report(
            obj.span(&at(&c.route, &[Seg::Key("name")]), Part::Entry),
            format!("container `{}` sets no {list}: the scheduler assumes it needs nothing, packs it onto busy nodes, and it is the first to be evicted under pressure", c.spec.name),
        )
        .help("set `resources.requests` to what the container uses at steady state (CPU limits are optional)");
    }
}
