use crate::lang::kubernetes::{K8sObject, Part, Seg};
use crate::rules::kubernetes::{at, memory_limit};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "go-memlimit-exceeds-memory-limit",
    doc: rule_doc!("go-memlimit-exceeds-memory-limit"),
    checks: &[Check::Kubernetes(check)],
    options: None,
};

fn check(obj: &K8sObject, cx: &mut Ctx) {
    for c in obj.containers() {
        for (i, env) in c.spec.env.as_deref().unwrap_or(&[]).iter().enumerate() {
            if env.name != "GOMEMLIMIT" {
                continue;
            }
            let Some(value) = env.value.as_deref() else {
                continue;
            };
            let span = obj.span(
                &at(
                    &c.route,
                    &[Seg::Key("env"), Seg::Index(i), Seg::Key("value")],
                ),
                Part::Value,
            );
            if value.trim() == "off" {
                continue;
            }
            let Some(bytes) = go_bytes(value) else {
                cx.report(
                    span,
                    format!("`GOMEMLIMIT={value}` is not a value the Go runtime accepts, so it is ignored and the Go heap has no soft limit"),
                )
                .help("write a whole number of bytes with an optional suffix `B`, `KiB`, `MiB`, `GiB` or `TiB`, for example `900MiB`");
                continue;
            };
            let Some(limit) = memory_limit(c.spec) else {
                continue;
            };
            if bytes > 0.95 * limit {
                let percent = (bytes / limit * 100.0).round();
                cx.report(
                    span,
                    format!("`GOMEMLIMIT={value}` is {percent}% of the container's memory limit: the Go garbage collector starts working harder only when the kernel is already about to OOM-kill the container"),
                )
                .help("leave headroom for non-heap memory: set `GOMEMLIMIT` to about 80–90% of `limits.memory`");
            }
        }
    }
}

/// `GOMEMLIMIT` syntax: a non-negative integer with an optional `B`, `KiB`, `MiB`, `GiB` or `TiB`.
fn go_bytes(v: &str) -> Option<f64> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (digits, suffix) = v.split_at(split);
    if digits.is_empty() {
        return None;
    }
    let n: f64 = digits.parse().ok()?;
    let factor = match suffix {
        "" | "B" => 1.0,
        "KiB" => 1024.0,
        "MiB" => 1024f64.powi(2),
        "GiB" => 1024f64.powi(3),
        "TiB" => 1024f64.powi(4),
        _ => return None,
    };
    Some(n * factor)
}
