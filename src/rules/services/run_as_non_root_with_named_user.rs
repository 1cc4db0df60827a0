use crate::lang::dockerfile_facts::ImageUser;
use crate::project::Project;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "run-as-non-root-with-named-user",
    doc: rule_doc!("run-as-non-root-with-named-user"),
    checks: &[Check::Project(check)],
    options: None,
};

fn check(project: &Project, cx: &mut Ctx) {
    let linked = (project.k8s.containers.iter()).zip(&project.services.containers);
    for (c, service) in linked {
        if c.run_as_non_root != Some(true) || c.run_as_user.is_some() {
            continue;
        }
        let Some(d) = &service.dockerfile else {
            continue;
        };
        let Some((dockerfile, path, facts)) = project.dockerfiles.get(d.to) else {
            continue;
        };
        let Some(ImageUser::NonRoot {
            user,
            numeric: false,
            span,
        }) = &facts.user
        else {
            continue;
        };
        cx.report_in(
            c.file,
            c.span("runAsNonRoot"),
            format!(
                "{} sets `runAsNonRoot: true` without `runAsUser`, and its image (built by `{}`) runs as the named user `{user}`: the kubelet cannot verify a name is not root and refuses to start the container (\"image has non-numeric user ({user}), cannot verify user is non-root\")",
                c.label(),
                crate::discover::display_path(path)
            ),
        )
        .help(format!("set `runAsUser` to the user's numeric id in the manifest, or write it as a number in the Dockerfile (`USER 10001` instead of `USER {user}`)"))
        .related(*dockerfile, span.clone(), "the image's `USER` is a name, not a number");
    }
}
