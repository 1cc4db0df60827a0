use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::lang::words::{has_credentials, is_connection_url, is_secret_env_name};
use crate::rules::kubernetes::at;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "secret-in-env-literal",
    doc: rule_doc!("secret-in-env-literal"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in obj.containers() {
        for (i, env) in c.spec.env.as_deref().unwrap_or(&[]).iter().enumerate() {
            let Some(value) = env.value.as_deref() else {
                continue;
            };
            // Empty values and `$(OTHER_VAR)` references carry no secret.
            if value.trim().is_empty() || value.trim_start().starts_with("$(") {
                continue;
            }
            let why = if is_secret_env_name(&env.name) {
                "is given its secret as a literal value"
            } else if is_connection_url(&env.name) && has_credentials(value) {
                "carries a password in its connection URL"
            } else {
                continue;
            };
            let route = at(
                &c.route,
                &[Seg::Key("env"), Seg::Index(i), Seg::Key("value")],
            );
            cx.report(
                obj.span(&route, Part::Value),
                format!("`{}` of container `{}` {why}: it is stored in plain text in the manifest, in Git, and in every copy of the object", env.name, c.spec.name),
            )
            .help("keep it in a Secret and reference it: `valueFrom: {secretKeyRef: {name: .., key: ..}}`");
        }
    }
}
