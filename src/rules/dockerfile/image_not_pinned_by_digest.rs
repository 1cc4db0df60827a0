use crate::lang::dockerfile::Dockerfile;
use crate::lang::image::{pin, Pin};
use crate::lang::kubernetes::K8sObject;
use crate::rules::dockerfile::image_tag_not_pinned::{dockerfile_images, kubernetes_images};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "image-not-pinned-by-digest",
    doc: rule_doc!("image-not-pinned-by-digest"),
    checks: &[
        Check::Dockerfile(check_dockerfile),
        Check::Kubernetes(check_kubernetes),
    ],
    options: None,
};

const HELP: &str = "add the digest after the tag, so the tag stays readable and the content fixed: `app:1.4.2@sha256:<digest>` (`docker buildx imagetools inspect app:1.4.2` prints it; Renovate and Dependabot keep it current)";

/// Only tagged references: untagged and `latest` ones are `image-tag-not-pinned`'s.
fn problem(reference: &str) -> Option<String> {
    match pin(reference) {
        Pin::Tag(_) => Some(
            "is pinned by tag only: the registry can serve different content under the same tag"
                .into(),
        ),
        Pin::Digest | Pin::Latest | Pin::Untagged => None,
    }
}

fn check_dockerfile(file: &Dockerfile, cx: &mut Ctx) {
    dockerfile_images(file, cx, problem, HELP);
}

fn check_kubernetes(obj: &K8sObject, cx: &mut Ctx) {
    kubernetes_images(obj, cx, problem, HELP);
}
