use crate::lang::dockerfile::Dockerfile;
use crate::lang::image;
use crate::lang::kubernetes::K8sObject;
use crate::rules::dockerfile::image_tag_not_pinned::{dockerfile_images, kubernetes_images};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "invalid-image-reference",
    doc: rule_doc!("invalid-image-reference"),
    checks: &[
        Check::Dockerfile(check_dockerfile),
        Check::Kubernetes(check_kubernetes),
    ],
    options: None,
};

const HELP: &str = "write the reference as `[registry/]repository[:tag][@sha256:digest]`, with a lower-case repository";

/// Why the reference cannot be pulled; placeholders meant to be replaced (`CONTAINER_IMAGE`,
/// `${IMAGE}`) are not references yet.
fn problem(reference: &str) -> Option<String> {
    if image::is_placeholder(reference) {
        return None;
    }
    image::invalid(reference).map(|why| format!("cannot be pulled: {why}"))
}

fn check_dockerfile(file: &Dockerfile, cx: &mut Ctx) {
    dockerfile_images(file, cx, problem, HELP);
}

fn check_kubernetes(obj: &K8sObject, cx: &mut Ctx) {
    kubernetes_images(obj, cx, problem, HELP);
}
