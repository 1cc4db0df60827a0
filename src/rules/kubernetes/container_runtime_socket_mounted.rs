use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "container-runtime-socket-mounted",
    doc: rule_doc!("container-runtime-socket-mounted"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

/// Sockets of container runtimes: whoever can write to one can start a privileged container.
const SOCKETS: &[&str] = &[
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "podman.sock",
];
/// Directories that hold those sockets: mounting one mounts the socket.
const SOCKET_DIRS: &[&str] = &[
    "/var/run",
    "/run",
    "/var/run/docker",
    "/run/docker",
    "/var/run/containerd",
    "/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/run/podman",
];

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some((spec, route)) = obj.pod_spec() else {
        return;
    };
    // A node agent reads container metadata from the runtime by design (monitoring and log
    // agents); a Deployment that mounts the socket (a CI runner, an image builder) is reported.
    if obj.is_node_agent() {
        return;
    }
    for (i, volume) in spec.volumes.iter().flatten().enumerate() {
        let Some(host_path) = &volume.host_path else {
            continue;
        };
        let path = host_path.path.trim_end_matches('/');
        let socket = SOCKETS.iter().any(|s| path.ends_with(&format!("/{s}")));
        let dir = SOCKET_DIRS.contains(&path);
        if !(socket || dir) {
            continue;
        }
        let mut at = route.clone();
        at.extend([
            Seg::Key("volumes"),
            Seg::Index(i),
            Seg::Key("hostPath"),
            Seg::Key("path"),
        ]);
        let what = if socket {
            format!("mounts the container runtime's socket `{path}` from the node")
        } else {
            format!("mounts `{path}` from the node, which holds the container runtime's socket")
        };
        cx.report(
            obj.span(&at, Part::Value),
            format!("volume `{}` of `{}` {what}: any process in the pod can start a privileged container and take over the node", volume.name, obj.name()),
        )
        .help("do not mount the runtime socket; build images with a daemonless builder (BuildKit rootless, kaniko) and read container metadata from the Kubernetes API");
    }
}
