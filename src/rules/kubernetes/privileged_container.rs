use k8s_openapi::api::core::v1::Container;

use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{argv, at, shell_script};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "privileged-container",
    doc: rule_doc!("privileged-container"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    // Node agents (monitoring agents, node installers, CNI plugins) need the node's privileges
    // by design.
    if obj.is_node_agent() {
        return;
    }
    for c in obj.containers() {
        let Some(sc) = &c.spec.security_context else {
            continue;
        };
        if sc.privileged == Some(true) && !(c.init && sets_kernel_parameters(c.spec)) {
            let route = at(
                &c.route,
                &[Seg::Key("securityContext"), Seg::Key("privileged")],
            );
            cx.report(
                obj.span(&route, Part::Value),
                format!("container `{}` runs privileged: it has every capability of the node's root user and can take over the node", c.spec.name),
            )
            .help("remove `privileged: true`; grant only the capabilities it needs with `capabilities.add`");
        }
        if sc.allow_privilege_escalation == Some(true) {
            let route = at(
                &c.route,
                &[
                    Seg::Key("securityContext"),
                    Seg::Key("allowPrivilegeEscalation"),
                ],
            );
            cx.report(
                obj.span(&route, Part::Value),
                format!("container `{}` allows privilege escalation: a setuid binary in the image can make a compromised process root", c.spec.name),
            )
            .help("set `allowPrivilegeEscalation: false`");
        }
    }
}

/// An init container that sets the node's kernel parameters (`sysctl -w vm.max_map_count=…`, or
/// a write under `/proc/sys/`) before the application starts: the documented way to set a
/// parameter Kubernetes does not namespace, which needs a privileged container and nothing else
/// of the pod is privileged for it.
fn sets_kernel_parameters(c: &Container) -> bool {
    let argv = argv(c);
    // The script of `sh -c '<script>'`, else the words as one command.
    let script = shell_script(&argv).map_or_else(|| argv.join(" "), str::to_string);
    script.contains("/proc/sys/")
        || (crate::lang::shell::parse(&script, 0).commands.iter())
            .any(|cmd| cmd.program_name() == Some("sysctl"))
}
