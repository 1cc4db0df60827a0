use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, long_running};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "liveness-probe-uses-readiness-endpoint",
    doc: rule_doc!("liveness-probe-uses-readiness-endpoint"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

/// Words of a path that name a readiness or dependency check.
const READINESS_WORDS: &[&str] = &[
    "ready",
    "readyz",
    "readiness",
    "db",
    "database",
    "deps",
    "dependencies",
];

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in long_running(obj) {
        let Some(path) = c
            .spec
            .liveness_probe
            .as_ref()
            .and_then(|p| p.http_get.as_ref())
            .and_then(|h| h.path.as_deref())
        else {
            continue;
        };
        let lower = path.to_ascii_lowercase();
        let word = lower
            .split(|ch: char| !ch.is_ascii_alphanumeric())
            .find(|w| READINESS_WORDS.contains(w));
        let Some(word) = word else { continue };
        let route = at(
            &c.route,
            &[
                Seg::Key("livenessProbe"),
                Seg::Key("httpGet"),
                Seg::Key("path"),
            ],
        );
        cx.report(
            obj.span(&route, Part::Value),
            format!(
                "the liveness probe of `{}` calls `{path}`, which by its name (`{word}`) checks readiness or dependencies: when a dependency is down, every pod is restarted, which does not bring it back",
                c.spec.name
            ),
        )
        .help("point liveness at an endpoint that only reports whether the process itself is alive (`/livez`), and keep this one for the readiness probe");
    }
}
