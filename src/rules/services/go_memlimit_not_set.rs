use crate::project::Project;
use crate::rules::kubernetes::{limit_quantity, memory_limit};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "go-memlimit-not-set",
    doc: rule_doc!("go-memlimit-not-set"),
    checks: &[Check::Project(check)],
    options: None,
};

const HELP_ENV: &str = "set `GOMEMLIMIT` to about 90% of the limit, or from the limit itself: `env: [{name: GOMEMLIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}]` (then lower it with a divisor or leave headroom in the limit)";

fn check(project: &Project, cx: &mut Ctx) {
    for (c, s) in project
        .k8s
        .containers
        .iter()
        .zip(&project.services.containers)
    {
        let Some(d) = &s.dockerfile else { continue };
        let Some((dockerfile, _, image)) = project.dockerfiles.get(d.to) else {
            continue;
        };
        let Some(build) = &image.go_build else {
            continue;
        };
        // GOMEMLIMIT exists from Go 1.19; an older toolchain ignores it.
        if image.go_version.is_some_and(|v| v < (1, 19)) {
            continue;
        }
        let in_env = c
            .spec
            .env
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .any(|e| e.name == "GOMEMLIMIT");
        // `envFrom` may bring it in from a ConfigMap or Secret the run cannot see.
        let env_from = c.spec.env_from.as_ref().is_some_and(|e| !e.is_empty());
        let in_image = image.env.iter().any(|(n, _, _)| n == "GOMEMLIMIT");
        if in_env || env_from || in_image {
            continue;
        }
        let Some(limit) = memory_limit(&c.spec) else {
            continue;
        };
        let suggested = (limit * 0.9 / (1024.0 * 1024.0)).floor();
        cx.report_in(
            c.file,
            c.span("name"),
            format!(
                "`{}` runs a Go program with a memory limit of {} but no `GOMEMLIMIT`: the Go garbage collector does not know the limit, lets the heap grow to twice the live data, and the container is OOM-killed under load instead of collecting harder",
                c.spec.name,
                limit_quantity(&c.spec, "memory").unwrap_or_default()
            ),
        )
        .help(format!("{HELP_ENV}; for this limit about `GOMEMLIMIT={suggested}MiB`"))
        .related(*dockerfile, build.clone(), "the image is built with `go build` here");
    }
}
