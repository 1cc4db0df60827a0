use crate::project::Project;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "shutdown-signal-ignores-sigterm",
    doc: rule_doc!("shutdown-signal-ignores-sigterm"),
    checks: &[Check::Project(check)],
    options: None,
};

/// Package-wide: `ctrl_c()` is fine when some other file of the package handles SIGTERM.
fn check(project: &Project, cx: &mut Ctx) {
    for members in project.rust_packages() {
        let files = members.iter().copied();
        let mut handled = false;
        let mut actix = false;
        let mut actix_disabled = false;
        for f in files.clone() {
            handled |= f.facts.handles_sigterm;
            actix |= f.facts.starts_actix_server;
            actix_disabled |= f.facts.disables_actix_signals;
        }
        if handled || (actix && !actix_disabled) {
            continue;
        }
        for f in files {
            for span in &f.facts.ctrl_c_calls {
                cx.report_in(
                    f.file,
                    span.clone(),
                    "shutdown waits for `ctrl_c()` (SIGINT) only; SIGTERM, which Kubernetes and `docker stop` send, kills the process without a graceful shutdown",
                )
                .help("also wait for `tokio::signal::unix::signal(SignalKind::terminate())` and finish on whichever comes first");
            }
        }
    }
}
