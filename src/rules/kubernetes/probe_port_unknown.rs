use k8s_openapi::api::core::v1::{Container, Probe};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, long_running};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "probe-port-unknown",
    doc: rule_doc!("probe-port-unknown"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in long_running(obj) {
        let probes: [(&'static str, Option<&Probe>); 3] = [
            ("livenessProbe", c.spec.liveness_probe.as_ref()),
            ("readinessProbe", c.spec.readiness_probe.as_ref()),
            ("startupProbe", c.spec.startup_probe.as_ref()),
        ];
        for (key, probe) in probes {
            let Some(probe) = probe else { continue };
            let ports: [(&'static str, Option<Port>); 3] = [
                (
                    "httpGet",
                    probe.http_get.as_ref().map(|h| Port::of(&h.port)),
                ),
                (
                    "tcpSocket",
                    probe.tcp_socket.as_ref().map(|t| Port::of(&t.port)),
                ),
                ("grpc", probe.grpc.as_ref().map(|g| Port::Number(g.port))),
            ];
            for (handler, port) in ports {
                let Some(port) = port else { continue };
                let problem = match &port {
                    Port::Number(n) if !(1..=65535).contains(n) => {
                        format!("port {n} is not a valid port number (1–65535)")
                    }
                    Port::Name(name) if !declares(c.spec, name) => format!(
                        "the named port `{name}` is not declared in `{}`'s `ports`",
                        c.spec.name
                    ),
                    _ => continue,
                };
                let route = at(
                    &c.route,
                    &[Seg::Key(key), Seg::Key(handler), Seg::Key("port")],
                );
                cx.report(
                    obj.span(&route, Part::Value),
                    format!("the {key} of `{}` can never succeed: {problem}", c.spec.name),
                )
                .help("use a port the container listens on: a number, or the `name` of an entry in its `ports`");
            }
        }
    }
}

enum Port {
    Number(i32),
    Name(String),
}

impl Port {
    fn of(p: &IntOrString) -> Port {
        match p {
            IntOrString::Int(n) => Port::Number(*n),
            // A port given as a string of digits is a number to the kubelet.
            IntOrString::String(s) => match s.parse::<i32>() {
                Ok(n) => Port::Number(n),
                Err(_) => Port::Name(s.clone()),
            },
        }
    }
}

fn declares(c: &Container, name: &str) -> bool {
    c.ports
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .any(|p| p.name.as_deref() == Some(name))
}
