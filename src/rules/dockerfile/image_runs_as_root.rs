use crate::lang::dockerfile::{expand, Dockerfile};
use crate::lang::image;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "image-runs-as-root",
    doc: rule_doc!("image-runs-as-root"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name == "root" || name == "0"
}

fn check(file: &Dockerfile, cx: &mut Ctx) {
    let Some(last) = file.stages.len().checked_sub(1) else {
        return;
    };
    let lineage = file.lineage(last);
    if let Some(user) = lineage.iter().find_map(|&s| file.last_in_stage(s, "USER")) {
        let vars = file.stage_vars(last);
        let raw = user
            .args
            .words()
            .into_iter()
            .next()
            .map(|(w, _)| w)
            .unwrap_or_default();
        // A variable with no default could be anything: stay silent.
        let Some(value) = expand(&raw, &|n| vars.get(n).cloned()) else {
            return;
        };
        if is_root(&value) {
            cx.report(user.span.clone(), format!("the final stage runs as `{value}`"))
                .help("switch to an unprivileged user with `USER 10001` (or a named user created in the image)");
        }
        return;
    }
    // No USER anywhere: the image runs as its base image's user.
    let base_ref = file.base_image(last);
    if base_ref
        .as_deref()
        .and_then(image::tag)
        .is_some_and(|t| t.contains("nonroot"))
    {
        return;
    }
    let Some(from) = file.from_of(last) else {
        return;
    };
    let base_text = base_ref.map(|b| format!(" (`{b}`)")).unwrap_or_default();
    cx.report(
        from.span.clone(),
        format!("the final stage{base_text} never sets `USER`, so the service runs as root"),
    )
    .help("add `USER 10001` (or a named unprivileged user) after the last `RUN`");
}
