use std::ops::Range;

use crate::project::{Project, RustFileFacts};
use crate::rules::kubernetes::prestop_pause;
use crate::rules::services::rust_services;
use crate::rules::{rule_doc, Check, Ctx, Rule};
use crate::source::FileId;

pub static RULE: Rule = Rule {
    name: "shutdown-exceeds-grace-period",
    doc: rule_doc!("shutdown-exceeds-grace-period"),
    checks: &[Check::Project(check)],
    options: None,
};

/// Kubernetes' default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE: i64 = 30;
/// actix-web's default `shutdown_timeout`, in seconds.
const ACTIX_DEFAULT_DRAIN: f64 = 30.0;
/// Time left after the drain for the process to exit, in the suggested fix.
const EXIT_MARGIN: i64 = 5;

/// The longest the service lets itself drain, and where the code says so.
struct Budget {
    seconds: f64,
    file: FileId,
    span: Range<usize>,
    what: String,
    /// A framework default, not a value in the code.
    default: bool,
}

fn drain_budget(files: &[&RustFileFacts]) -> Option<Budget> {
    let explicit = files
        .iter()
        .flat_map(|f| {
            f.facts.runtime.drain_budgets.iter().map(|b| Budget {
                seconds: b.seconds,
                file: f.file,
                span: b.span.clone(),
                what: b.what.clone(),
                default: false,
            })
        })
        .max_by(|a, b| a.seconds.total_cmp(&b.seconds));
    if explicit.is_some() {
        return explicit;
    }
    // actix-web drains for 30 s on SIGTERM unless told otherwise; a `shutdown_timeout` whose
    // value is not a literal, or signals handled elsewhere, leave the budget unknown.
    let configured = files
        .iter()
        .any(|f| f.facts.methods.contains("shutdown_timeout") || f.facts.disables_actix_signals);
    if configured {
        return None;
    }
    files.iter().find_map(|f| {
        let span = f.facts.runtime.actix_servers.first()?;
        Some(Budget {
            seconds: ACTIX_DEFAULT_DRAIN,
            file: f.file,
            span: span.clone(),
            what: "actix-web's default `shutdown_timeout`".into(),
            default: true,
        })
    })
}

fn check(project: &Project, cx: &mut Ctx) {
    for (c, files) in rust_services(project) {
        let Some(budget) = drain_budget(&files) else {
            continue;
        };
        let grace = c.grace_period.unwrap_or(DEFAULT_GRACE);
        let pause = prestop_pause(&c.spec).unwrap_or(0);
        // A pause that uses up the grace period by itself is `termination-grace-too-short`'s.
        if pause >= grace || budget.seconds + (pause as f64) < grace as f64 {
            continue;
        }
        // Nothing chosen at all (actix-web's 30 s, the default grace period, no pause): actix-web
        // gives up on its drain the moment the kubelet kills it, so nothing is cut short that
        // the drain would have finished; adding the pause `missing-prestop-hook` asks for is what
        // makes it too long.
        if budget.default && c.grace_period.is_none() && pause == 0 {
            continue;
        }
        let (span, grace_text) = match c.grace_period {
            Some(g) => (
                c.span("terminationGracePeriodSeconds"),
                format!("`terminationGracePeriodSeconds: {g}`"),
            ),
            None => (
                c.span("name"),
                format!("the default grace period of {DEFAULT_GRACE} s"),
            ),
        };
        let seconds = format_seconds(budget.seconds);
        let after_pause = if pause > 0 {
            format!(" after its {pause} s `preStop` pause")
        } else {
            String::new()
        };
        let finding = cx
            .report_in(
                c.file,
                span,
                format!(
                    "`{}` may drain for up to {seconds} s ({}){after_pause}, but {grace_text} ends in SIGKILL: in-flight requests are cut off mid-drain and the process never finishes its shutdown",
                    c.spec.name, budget.what
                ),
            )
            .help(format!(
                "set `terminationGracePeriodSeconds` to at least {} or bound the drain below {} s in the code",
                (budget.seconds.ceil() as i64) + pause + EXIT_MARGIN,
                grace - pause
            ))
            .related(
                budget.file,
                budget.span,
                format!("the service drains for up to {seconds} s"),
            );
        if pause > 0 {
            finding.related(
                c.file,
                c.span("lifecycle.preStop"),
                format!("the `preStop` hook pauses {pause} s before SIGTERM"),
            );
        }
    }
}

fn format_seconds(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}
