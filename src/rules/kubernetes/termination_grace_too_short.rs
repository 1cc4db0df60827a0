use crate::diagnostic::Severity;
use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, long_running, prestop_pause};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "termination-grace-too-short",
    doc: rule_doc!("termination-grace-too-short"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

/// Kubernetes' default `terminationGracePeriodSeconds`.
const DEFAULT_GRACE: i64 = 30;
/// Less time than this left for the process after the pause is reported as a warning.
const MIN_MARGIN: i64 = 10;

fn check(obj: &K8sObject, cx: &mut Ctx) {
    let Some((pod, pod_route)) = obj.pod_spec() else {
        return;
    };
    let explicit = pod.termination_grace_period_seconds;
    let grace = explicit.unwrap_or(DEFAULT_GRACE);
    for c in long_running(obj) {
        let Some(pause) = prestop_pause(c.spec) else {
            continue;
        };
        let margin = grace - pause;
        if margin >= MIN_MARGIN {
            continue;
        }
        let (span, where_) = match explicit {
            Some(_) => (
                obj.span(
                    &at(&pod_route, &[Seg::Key("terminationGracePeriodSeconds")]),
                    Part::Value,
                ),
                format!("`terminationGracePeriodSeconds: {grace}`"),
            ),
            None => (
                obj.span(
                    &at(&c.route, &[Seg::Key("lifecycle"), Seg::Key("preStop")]),
                    Part::Key,
                ),
                format!("the default grace period of {DEFAULT_GRACE} s"),
            ),
        };
        let finding = if margin <= 0 {
            cx.report(
                span,
                format!("{where_} is used up by the {pause} s `preStop` pause of `{}`: the process is killed before it gets any time to drain", c.spec.name),
            )
        } else {
            let f = cx.report(
                span,
                format!("{where_} leaves `{}` only {margin} s after its {pause} s `preStop` pause to finish in-flight work before it is killed", c.spec.name),
            );
            f.at_most(Severity::Warning);
            f
        };
        finding.help(format!(
            "set `terminationGracePeriodSeconds` to the pause plus the longest shutdown the service needs (at least {})",
            pause + MIN_MARGIN
        ));
    }
}
