use crate::lang::dockerfile::{arg_pairs, env_pairs, Dockerfile, Instruction};
use crate::lang::words::{has_credentials, is_connection_url, is_secret_env_name};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "secret-in-image",
    doc: rule_doc!("secret-in-image"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

const HELP_VAR: &str = "pass it at build time with a BuildKit secret (`RUN --mount=type=secret,id=token,env=TOKEN …`) or at run time from the orchestrator's secret store; never as ENV or an ARG default";
const HELP_FILE: &str = "mount it only where it is needed (`RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci`), or copy it into a build stage the final image does not inherit from; list it in .dockerignore";

fn check(file: &Dockerfile, cx: &mut Ctx) {
    let Some(last) = file.stages.len().checked_sub(1) else {
        return;
    };
    // An `.npmrc` often holds only settings (pnpm's `shamefully-hoist`); it holds a credential when
    // the build hands npm a token.
    let npm_token = file.instructions.iter().any(|ins| {
        let t = &ins.args.text;
        t.contains("NPM_TOKEN") || t.contains("_authToken") || t.contains("NODE_AUTH_TOKEN")
    });
    // Only what the final image is built from ends up in it: its own stage and the stages it is
    // `FROM`. A build stage's files and variables stay in the build cache.
    for stage in file.lineage(last) {
        let Some(s) = file.stages.get(stage) else {
            continue;
        };
        for ins in file.instructions.get(s.body.clone()).unwrap_or_default() {
            match ins.keyword.as_str() {
                "ENV" => {
                    for (name, value, span) in env_pairs(&ins.args) {
                        if !carries_value(&value) {
                            continue;
                        }
                        let how = if is_connection_url(&name) {
                            if !has_credentials(&value) {
                                continue;
                            }
                            "carries a password in its connection URL"
                        } else if !is_secret_env_name(&name) {
                            continue;
                        } else if is_reference(&value) {
                            "copies a build argument into the image's environment"
                        } else {
                            "sets a literal value"
                        };
                        {
                            cx.report(
                                ins.args.source_span(span),
                                format!("`ENV {name}` {how}: it is stored in the image config, and anyone who can pull the image can read it (`docker inspect`)"),
                            )
                            .help(HELP_VAR);
                        }
                    }
                }
                "ARG" => {
                    for (name, default, span) in arg_pairs(&ins.args) {
                        let Some(value) = default else { continue };
                        let secret = if is_connection_url(&name) {
                            has_credentials(&value)
                        } else {
                            is_secret_env_name(&name)
                        };
                        if secret && carries_value(&value) && !is_reference(&value) {
                            cx.report(
                                ins.args.source_span(span),
                                format!("`ARG {name}` has a literal default: it is written into the Dockerfile and into the image history of every step that uses it"),
                            )
                            .help(HELP_VAR);
                        }
                    }
                }
                "COPY" | "ADD" => {
                    if let Some(name) = secret_file(ins, npm_token) {
                        cx.report(
                            ins.span.clone(),
                            format!("`{}` puts `{name}` into the image: a credentials file in a layer stays readable by anyone who pulls the image, even if a later step deletes it", ins.keyword),
                        )
                        .help(HELP_FILE);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A value that can hold a secret: not empty, not a boolean or a bare number.
fn carries_value(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    !(v.is_empty()
        || matches!(
            v.as_str(),
            "true" | "false" | "yes" | "no" | "none" | "null"
        )
        || v.chars().all(|c| c.is_ascii_digit()))
}

fn is_reference(value: &str) -> bool {
    value.trim_start().starts_with('$')
}

/// The first source of a `COPY`/`ADD` that is a credentials file, by name.
fn secret_file(ins: &Instruction, npm_token: bool) -> Option<String> {
    ins.copy_args()?
        .sources
        .into_iter()
        .find(|s| is_secret_file(s) || (npm_token && is_npmrc(s)))
}

/// `.env`, `.netrc`, `.pypirc`, `.git-credentials`, `credentials*`, `id_rsa` (not `.pub`),
/// `*.key`, and `*.pem` unless the name says it is a certificate (`ca.pem`, `cert.pem`,
/// `fullchain.pem`): certificates are public.
fn is_secret_file(path: &str) -> bool {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if name.ends_with(".pub") {
        return false;
    }
    let env_file = name == ".env"
        || name.strip_prefix(".env.").is_some_and(|rest| {
            !matches!(
                rest,
                "example" | "sample" | "template" | "dist" | "defaults"
            )
        });
    let dotfile = matches!(
        name.as_str(),
        ".netrc" | ".pypirc" | ".git-credentials" | ".dockercfg"
    );
    let ssh_key = ["id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"]
        .iter()
        .any(|k| name.starts_with(k));
    let credentials = name.starts_with("credentials");
    let private_key = name.ends_with(".key");
    let pem = name.ends_with(".pem")
        && !["ca", "cert", "chain", "bundle", "root", "public", "pub"]
            .iter()
            .any(|w| name.contains(w));
    env_file || dotfile || ssh_key || credentials || private_key || pem
}

fn is_npmrc(path: &str) -> bool {
    path.trim_end_matches('/').rsplit('/').next() == Some(".npmrc")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_file_names() {
        for yes in [
            ".env",
            "config/.env.production",
            "id_rsa",
            "/root/.ssh/id_ed25519",
            ".netrc",
            "credentials.json",
            "tls/server.key",
            "*.key",
            "server.pem",
            "private.pem",
        ] {
            assert!(is_secret_file(yes), "{yes}");
        }
        for no in [
            ".env.example",
            "id_rsa.pub",
            "ca.pem",
            "certs/fullchain.pem",
            "cert.pem",
            "ca-bundle.pem",
            "environment.ts",
            "keys.go",
            "app.keystore.md",
            "rootCA.pem",
        ] {
            assert!(!is_secret_file(no), "{no}");
        }
    }
}
