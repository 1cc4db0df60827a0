use k8s_openapi::api::core::v1::Probe;

use crate::project::{Project, RustFileFacts};
use crate::rules::services::{depends_on, failing_probe, image_of, probes, rust_services};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "grpc-probe-without-health-service",
    doc: rule_doc!("grpc-probe-without-health-service"),
    checks: &[Check::Project(check), Check::RustFacts(TRIGGERS)],
    options: None,
};

/// Function bodies whose references this rule reads (see `RustTriggers`).
/// The health-service evidence; a started tonic server is a runtime fact.
const TRIGGERS: RustTriggers = &["tonic_health"];

/// The standard health service: tonic-health, or a hand-written implementation naming its
/// protocol package.
fn serves_health(files: &[&RustFileFacts]) -> bool {
    files
        .iter()
        .any(|f| f.facts.refers_to("tonic_health") || f.text.as_str().contains("grpc.health.v1"))
}

fn check(project: &Project, cx: &mut Ctx) {
    for (c, files) in rust_services(project) {
        // Without tonic the service's gRPC server (if any) is not one these facts describe.
        if !depends_on(&files, "tonic") || serves_health(&files) {
            continue;
        }
        for (kind, key, probe) in probes(c) {
            let Some(probe) = probe else { continue };
            let (span, how) = if probe.grpc.is_some() {
                (c.span(&format!("{key}.grpc")), "`grpc` probe")
            } else if runs_grpc_health_probe(probe) {
                (
                    c.span(&format!("{key}.exec")),
                    "`grpc_health_probe` command",
                )
            } else {
                continue;
            };
            let finding = cx
                .report_in(
                    c.file,
                    span,
                    format!(
                        "the {kind} probe of `{}` is a {how}, but the service never registers the gRPC health service (`grpc.health.v1.Health`): every check is answered `UNIMPLEMENTED`, so {}",
                        c.spec.name,
                        failing_probe(kind)
                    ),
                )
                .help("serve `tonic_health::server::health_reporter()`'s service next to the others (`.add_service(health_service)`) and set each service's status with the reporter");
            let server = files.iter().find_map(|f| {
                let span = f.facts.runtime.grpc_servers.first()?;
                Some((f.file, span.clone()))
            });
            if let Some((file, span)) = server {
                finding.related(
                    file,
                    span,
                    "the gRPC server is built here, without the health service",
                );
            } else if let Some((file, _, image)) = image_of(project, c) {
                if let Some(build) = image.cargo.first() {
                    finding.related(*file, build.span.clone(), "the service is built here");
                }
            }
        }
    }
}

/// An `exec` probe running `grpc_health_probe` (any path to it).
fn runs_grpc_health_probe(probe: &Probe) -> bool {
    probe
        .exec
        .as_ref()
        .and_then(|e| e.command.as_ref())
        .is_some_and(|command| {
            command
                .iter()
                .flat_map(|a| a.split_whitespace())
                .any(|w| w.rsplit('/').next() == Some("grpc_health_probe"))
        })
}
