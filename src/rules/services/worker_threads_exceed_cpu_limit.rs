use std::ops::Range;

use crate::project::Project;
use crate::rules::kubernetes::{cpu_limit, limit_quantity};
use crate::rules::services::{depends_on, env_setting, rust_services};
use crate::rules::{rule_doc, Check, Ctx, Rule};
use crate::source::FileId;

pub static RULE: Rule = Rule {
    name: "worker-threads-exceed-cpu-limit",
    doc: rule_doc!("worker-threads-exceed-cpu-limit"),
    checks: &[Check::Project(check)],
    options: None,
};

/// A fixed thread count and where it is set.
struct Fixed {
    count: u64,
    what: String,
    file: FileId,
    span: Range<usize>,
}

fn check(project: &Project, cx: &mut Ctx) {
    for (c, files) in rust_services(project) {
        let Some(limit) = cpu_limit(&c.spec).filter(|l| *l > 0.0) else {
            continue;
        };
        let cores = (limit.ceil() as u64).max(1);
        let mut fixed: Vec<Fixed> = files
            .iter()
            .flat_map(|f| {
                f.facts.runtime.thread_counts.iter().map(|t| Fixed {
                    count: t.count,
                    what: t.what.clone(),
                    file: f.file,
                    span: t.span.clone(),
                })
            })
            .collect();
        // The environment variable sizes tokio runtimes whose code does not fix a count.
        let tokio = depends_on(&files, "tokio");
        if let Some(env) = env_setting(project, c, "TOKIO_WORKER_THREADS").filter(|_| tokio) {
            if let Some(count) = env.value.and_then(|v| v.trim().parse().ok()) {
                fixed.push(Fixed {
                    count,
                    what: format!("`TOKIO_WORKER_THREADS` in {}", env.source),
                    file: env.file,
                    span: env.span,
                });
            }
        }
        fixed.retain(|f| f.count > cores);
        let Some(most) = fixed.iter().max_by_key(|f| f.count) else {
            continue;
        };
        let quantity = limit_quantity(&c.spec, "cpu").unwrap_or_default();
        let finding = cx
            .report_in(
                c.file,
                c.span("resources.limits.cpu"),
                format!(
                    "`{}` has `limits.cpu: {quantity}` but fixes {} threads ({}): busy threads spend the CPU quota early in each 100 ms period and the whole container is throttled until the next one, a latency spike for every request in flight",
                    c.spec.name, most.count, most.what
                ),
            )
            .help(format!(
                "drop the fixed count: tokio, actix-web and rayon size themselves from the CPU limit by default; or raise `limits.cpu` to {}",
                most.count
            ));
        for f in &fixed {
            finding.related(
                f.file,
                f.span.clone(),
                format!("{} threads set here", f.count),
            );
        }
    }
}
