use crate::engine::normalized;
use crate::project::Project;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "entrypoint-script-without-exec",
    doc: rule_doc!("entrypoint-script-without-exec"),
    checks: &[Check::Project(check)],
    options: None,
};

fn check(project: &Project, cx: &mut Ctx) {
    for (file, path, image) in &project.dockerfiles {
        let Some(entry) = &image.entrypoint else {
            continue;
        };
        let Some(dir) = path.parent() else { continue };
        // The build context is the Dockerfile's directory or one above it (`docker build -f
        // docker/Dockerfile .`): the nearest directory where the copied file exists wins.
        let script = dir.ancestors().find_map(|context| {
            let candidate = normalized(&context.join(&entry.source));
            project.scripts.iter().find(|(_, p, _)| *p == candidate)
        });
        let Some((script_file, _, end)) = script else {
            continue;
        };
        if end.execs || end.traps_term {
            continue;
        }
        cx.report_in(
            *file,
            entry.span.clone(),
            format!(
                "`{}` runs `{}`, whose last command `{}` does not `exec`: the script stays PID 1, the service is its child, and SIGTERM from `docker stop` or Kubernetes never reaches the service",
                entry.keyword, entry.source, end.text
            ),
        )
        .help("start the service with `exec` so it replaces the shell (`exec \"$@\"`, `exec /app/server`), or forward signals with `trap`")
        .related(*script_file, end.span.clone(), "the service starts here without `exec`");
    }
}
