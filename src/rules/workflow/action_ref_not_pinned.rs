use crate::lang::workflow::Workflow;
use crate::rules::{rule_doc, validate_options, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "action-ref-not-pinned",
    doc: rule_doc!("action-ref-not-pinned"),
    checks: &[Check::Workflow(check)],
    options: Some(validate_options::<Options>),
};

/// `[rule-options.action-ref-not-pinned]`
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Options {
    /// Accept only full commit SHAs (and image digests), not tags.
    #[serde(default)]
    require_sha: bool,
}

/// Refs that name a development branch or a moving pointer rather than a release. Other branch
/// names cannot be told from tags without asking GitHub; `require-sha` covers them.
const MOVING: &[&str] = &[
    "main", "master", "develop", "dev", "trunk", "latest", "HEAD",
];

fn check(wf: &Workflow, cx: &mut Ctx) {
    let options: Options = cx.options();
    for u in &wf.uses {
        let value = u.value.trim();
        if value.starts_with("./") || value.starts_with("../") || value.contains("${{") {
            continue;
        }
        let problem = if let Some(image) = value.strip_prefix("docker://") {
            docker_problem(image, options.require_sha)
        } else {
            action_problem(value, options.require_sha)
        };
        if let Some((message, help)) = problem {
            cx.report(u.span.clone(), message).help(help);
        }
    }
}

const SHA_HELP: &str = "pin the full commit SHA and keep the version in a comment: `uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2` (Dependabot and Renovate update both)";

fn action_problem(value: &str, require_sha: bool) -> Option<(String, String)> {
    let Some((action, reference)) = value.rsplit_once('@') else {
        return Some((
            format!("`{value}` names no version: the workflow runs whatever the action's default branch holds when it starts"),
            SHA_HELP.to_string(),
        ));
    };
    let full_sha = reference.len() == 40 && reference.chars().all(|c| c.is_ascii_hexdigit());
    if full_sha {
        return None;
    }
    if MOVING.contains(&reference) {
        return Some((
            format!("`{action}@{reference}` follows a branch: every push to it changes the code that runs with this workflow's token and secrets"),
            SHA_HELP.to_string(),
        ));
    }
    if require_sha {
        return Some((
            format!("`{action}@{reference}` is a tag, and tags can be moved to other commits — as in the tj-actions/changed-files compromise (CVE-2025-30066), where existing tags were repointed to code that leaked CI secrets"),
            SHA_HELP.to_string(),
        ));
    }
    None
}

fn docker_problem(image: &str, require_sha: bool) -> Option<(String, String)> {
    if image.contains("@sha256:") {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    let tag = last.split_once(':').map(|(_, t)| t);
    let help = "pin the image digest: `uses: docker://alpine:3.20@sha256:<digest>`".to_string();
    match tag {
        None | Some("latest") => Some((
            format!("`docker://{image}` runs whatever image is tagged latest when the job starts"),
            help,
        )),
        Some(_) if require_sha => Some((
            format!("`docker://{image}` is a tag, which can be pushed again with other content"),
            help,
        )),
        Some(_) => None,
    }
}
