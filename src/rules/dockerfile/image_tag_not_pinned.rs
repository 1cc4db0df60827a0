use crate::lang::dockerfile::Dockerfile;
use crate::lang::image::{pin, Pin};
use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{rule_doc, Check, Ctx, K8sCondition, Rule};

pub static RULE: Rule = Rule {
    name: "image-tag-not-pinned",
    doc: rule_doc!("image-tag-not-pinned"),
    checks: &[
        Check::Dockerfile(check_dockerfile),
        Check::Kubernetes(check_kubernetes),
    ],
    options: None,
};

const HELP: &str = "pin a version tag (`app:1.4.2`) or a digest (`app@sha256:…`)";

fn problem(reference: &str) -> Option<String> {
    match pin(reference) {
        Pin::Latest => Some("uses the `latest` tag".into()),
        Pin::Untagged => Some("has no tag, so it pulls `latest`".into()),
        Pin::Digest | Pin::Tag(_) => None,
    }
}

fn check_dockerfile(file: &Dockerfile, cx: &mut Ctx) {
    dockerfile_images(file, cx, problem, HELP);
}

fn check_kubernetes(obj: &K8sObject, cx: &mut Ctx) {
    kubernetes_images(obj, cx, problem, HELP);
}

/// Reports every `FROM` image (not `scratch`, earlier stages or unresolved build arguments) for
/// which `problem` says what is wrong. Shared with `image-not-pinned-by-digest`.
pub fn dockerfile_images(
    file: &Dockerfile,
    cx: &mut Ctx,
    problem: fn(&str) -> Option<String>,
    help: &'static str,
) {
    for (i, stage) in file.stages.iter().enumerate() {
        let Some(image) = &stage.image else { continue };
        // A variable without a default depends on build arguments we cannot see.
        let Some(expanded) = &image.expanded else {
            continue;
        };
        let lower = expanded.to_ascii_lowercase();
        let earlier_stage = file.stages[..i]
            .iter()
            .any(|s| s.alias.as_deref() == Some(lower.as_str()));
        if lower == "scratch" || earlier_stage {
            continue;
        }
        if let Some(what) = problem(expanded) {
            let shown = if expanded == &image.raw {
                format!("base image `{expanded}` {what}")
            } else {
                format!("base image `{}` (`{expanded}`) {what}", image.raw)
            };
            cx.report(image.span.clone(), shown).help(help);
        }
    }
}

/// Reports every container image (app, init and ephemeral containers) for which `problem` says
/// what is wrong.
pub fn kubernetes_images(
    obj: &K8sObject,
    cx: &mut Ctx,
    problem: fn(&str) -> Option<String>,
    help: &'static str,
) {
    let containers = obj.containers().into_iter().map(|c| {
        let what = if c.init {
            "init container"
        } else {
            "container"
        };
        (what, c.spec.name.as_str(), c.spec.image.as_deref(), c.route)
    });
    let ephemeral = obj
        .ephemeral_images()
        .into_iter()
        .map(|(name, image, route)| ("ephemeral container", name, image, route));
    for (what, name, image, route) in containers.chain(ephemeral) {
        let Some(image) = image else {
            continue;
        };
        if let Some(problem) = problem(image) {
            let mut route = route;
            route.push(Seg::Key("image"));
            cx.report(
                obj.span(&route, Part::Value),
                format!("{what} `{name}` image `{image}` {problem}"),
            )
            .help(help)
            .when_k8s(K8sCondition::UnlessBuiltByDeployTool(image.to_string()));
        }
    }
}
