use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "host-namespace-shared",
    doc: rule_doc!("host-namespace-shared"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some((spec, route)) = obj.pod_spec() else {
        return;
    };
    // Seeing the node's processes and interfaces is what a node agent is for.
    if obj.is_node_agent() {
        return;
    }
    let shared = [
        (
            "hostPID",
            spec.host_pid,
            "sees and can signal every process on the node",
        ),
        (
            "hostIPC",
            spec.host_ipc,
            "shares the node's shared memory and semaphores with every process on it",
        ),
        (
            "hostNetwork",
            spec.host_network,
            "listens on the node's own interfaces and bypasses network policies",
        ),
    ];
    for (key, value, what) in shared {
        if value != Some(true) {
            continue;
        }
        let mut at = route.clone();
        at.push(Seg::Key(key));
        cx.report(
            obj.span(&at, Part::Value),
            format!("`{}` sets `{key}: true`: the pod {what}", obj.name()),
        )
        .help(format!("remove `{key}: true`; only node agents that must see the host need it, and they belong in a reviewed, separately deployed DaemonSet"));
    }
}
