use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::at;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "missing-memory-limit",
    doc: rule_doc!("missing-memory-limit"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in obj.containers() {
        let has_limit = c
            .spec
            .resources
            .as_ref()
            .and_then(|r| r.limits.as_ref())
            .is_some_and(|l| l.contains_key("memory"));
        if !has_limit {
            let route = at(&c.route, &[Seg::Key("name")]);
            let what = if c.init {
                "init container"
            } else {
                "container"
            };
            cx.report(
                obj.span(&route, Part::Entry),
                format!("{what} `{}` has no memory limit", c.spec.name),
            )
            .help("set `resources.limits.memory` (and a matching `requests.memory`)");
        }
    }
}
