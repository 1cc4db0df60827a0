use crate::project::Project;
use crate::rules::rust::liveness_endpoint_checks_dependencies::reached_dependency;
use crate::rules::services::{http_probes, routes_serving, rust_services};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "liveness-probe-checks-dependencies",
    doc: rule_doc!("liveness-probe-checks-dependencies"),
    checks: &[Check::Project(check)],
    options: None,
};

fn check(project: &Project, cx: &mut Ctx) {
    for (container, files) in rust_services(project) {
        for probe in http_probes(container) {
            if probe.kind != "liveness" {
                continue;
            }
            for served in routes_serving(&files, probe.path) {
                let (f, route) = (served.file, served.route);
                let Some(reach) = reached_dependency(&files, f.file, route) else {
                    continue;
                };
                cx.report_in(
                    container.file,
                    container.span("livenessProbe.httpGet.path"),
                    format!(
                        "the liveness probe of `{}` calls `{}`, whose {}: when that dependency is slow or down, every pod fails liveness and is restarted",
                        container.spec.name,
                        probe.path,
                        reach.describe()
                    ),
                )
                .help("point the liveness probe at an endpoint that only shows the process can answer (`/livez`), and check dependencies in the readiness probe, which takes a pod out of load balancing without restarting it")
                .related(f.file, route.span.clone(), format!("`{}` is served here", served.path))
                .related(
                    reach.file,
                    reach.dependency.span.clone(),
                    format!("reaches {} here", reach.dependency.what),
                );
                break;
            }
        }
    }
}
