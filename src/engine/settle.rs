//! Settling what a finding depended on once every file has been read: remedies elsewhere in the
//! package, the Kubernetes objects around a workload, and a cross-file finding that confirms a
//! single-file one.

use super::*;
use crate::lang::dockerfile_facts::ImageUser;

/// Drops findings whose `unless_package` evidence holds somewhere in the same package (a file
/// outside any package is its own package).
pub(super) fn drop_findings_remedied_elsewhere(findings: &mut Vec<Finding>, project: &Project) {
    if findings.iter().all(|f| f.unless_package.is_empty()) {
        return;
    }
    let packages = project.rust_packages();
    let mut package_of = HashMap::new();
    let mut by_root = HashMap::new();
    for (i, members) in packages.iter().enumerate() {
        for r in members {
            package_of.insert(r.file, i);
            if let Some(p) = &r.package {
                by_root.insert(p.root.as_path(), i);
            }
        }
    }
    // The crates of the run a package links by path: a router built with its timeout layer in a
    // library crate is served by the binary crate that calls `serve` (`Evidence::LinkedPath`).
    let linked = |i: usize| -> Vec<usize> {
        let deps = (packages[i].first())
            .and_then(|r| r.package.as_ref())
            .map(|p| p.path_deps.clone())
            .unwrap_or_default();
        (deps.iter())
            .filter_map(|d| by_root.get(d.as_path()).copied())
            .filter(|&j| j != i)
            .collect()
    };
    findings.retain(|f| {
        if f.unless_package.is_empty() {
            return true;
        }
        let Some(&i) = package_of.get(&f.file) else {
            return true;
        };
        let in_package = packages[i]
            .iter()
            .any(|r| f.unless_package.iter().any(|e| e.holds(&r.facts)));
        let in_linked = || {
            let reaching: Vec<&crate::rules::Evidence> = (f.unless_package.iter())
                .filter(|e| e.reaches_linked_crates())
                .collect();
            !reaching.is_empty()
                && (linked(i).into_iter())
                    .flat_map(|j| packages[j].iter())
                    .any(|r| reaching.iter().any(|e| e.holds(&r.facts)))
        };
        !(in_package || in_linked())
    });
}

/// Settles findings that depend on other Kubernetes objects of the run.
pub(super) fn apply_k8s_conditions(findings: &mut Vec<Finding>, project: &Project) {
    let k8s = &project.k8s;
    findings.retain_mut(|f| match &f.k8s {
        None => true,
        Some(K8sCondition::ReceivesTraffic {
            workload,
            ports,
            pod_ports,
            info_unless_served,
        }) => match k8s.targeted(workload, ports, pod_ports) {
            Some(targeted) => targeted,
            None if ports.is_empty() => false,
            None => {
                if *info_unless_served {
                    f.at_most = Some(Severity::Info);
                }
                true
            }
        },
        Some(K8sCondition::ServedAndNotAutoscaled(w)) => {
            k8s.served_by_one_pod(w, None) && !k8s.autoscaled(w)
        }
        Some(K8sCondition::OverlayServedAndNotAutoscaled(w, n)) => {
            k8s.served_by_one_pod(w, Some(*n)) && !k8s.autoscaled(w)
        }
        Some(K8sCondition::UnlessBudgeted(w)) => !k8s.budgeted(w),
        Some(K8sCondition::AtMostInfoIfImageNonRoot) => {
            let linked = (k8s.containers.iter().zip(&project.services.containers))
                .find(|(c, _)| c.file == f.file && c.span("name") == f.span)
                .and_then(|(_, service)| service.dockerfile.as_ref())
                .and_then(|d| project.dockerfiles.get(d.to));
            if let Some((_, path, facts)) = linked {
                if let Some(ImageUser::NonRoot { user, .. }) = &facts.user {
                    f.at_most = Some(Severity::Info);
                    f.message = format!(
                        "{}; the image it runs, built by `{}`, sets `USER {user}`, so it runs as that user unless the image changes",
                        f.message,
                        crate::discover::display_path(path)
                    );
                }
            }
            true
        }
        Some(K8sCondition::UnlessBuiltByDeployTool(image)) => {
            !project.services.built_by_deploy_tool(image)
                && !project.services.tagged_by_kustomization(image)
        }
    });
}

/// Where a cross-file rule confirms a single-file one, only the cross-file finding is shown;
/// its first related location is the code the single-file rule reports at:
/// - `liveness-probe-checks-dependencies` (the route) replaces `liveness-endpoint-checks-dependencies`;
/// - `grpc-probe-without-health-service` (the `Server::builder()` call) replaces
///   `grpc-server-without-health-service`.
///
/// Decided after severities, so turning the cross-file rule off brings the other back.
pub(super) fn prefer_cross_file_findings(diagnostics: &mut Vec<Diagnostic>) {
    const CONFIRMS: &[(&str, &str)] = &[
        (
            "liveness-probe-checks-dependencies",
            "liveness-endpoint-checks-dependencies",
        ),
        (
            "grpc-probe-without-health-service",
            "grpc-server-without-health-service",
        ),
    ];
    let confirmed: Vec<(&str, FileId, Range<usize>)> = diagnostics
        .iter()
        .filter_map(|d| {
            let (_, replaced) = CONFIRMS.iter().find(|(rule, _)| d.rule == *rule)?;
            let at = d.related.first()?;
            Some((*replaced, at.file, at.span.clone()))
        })
        .collect();
    diagnostics.retain(|d| {
        !confirmed.iter().any(|(rule, file, span)| {
            d.rule == *rule && d.primary.file == *file && d.primary.span == *span
        })
    });
}

/// Each finding at its file's configured severity (capped where the finding asks); findings of
/// rules the file does not enable are dropped.
pub(super) fn with_severities(
    findings: Vec<Finding>,
    per_file: &[FileSettings],
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for f in findings {
        let Some((levels, _)) = per_file.get(f.file) else {
            continue;
        };
        let Some(&(_, severity)) = levels.iter().find(|(r, _)| *r == f.rule) else {
            continue;
        };
        diagnostics.push(Diagnostic {
            rule: f.rule,
            severity: f.at_most.map_or(severity, |cap| cap.min(severity)),
            message: f.message,
            primary: Label {
                file: f.file,
                span: f.span,
                message: None,
            },
            related: f.related,
            help: f.help,
        });
    }

    diagnostics
}
