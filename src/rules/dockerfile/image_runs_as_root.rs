use crate::lang::dockerfile::Dockerfile;
use crate::lang::dockerfile_facts::ImageUser;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "image-runs-as-root",
    doc: rule_doc!("image-runs-as-root"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn check(file: &Dockerfile, cx: &mut Ctx) {
    let Some(ImageUser::Root { user, span }) = file.image_user() else {
        return;
    };
    if let Some(value) = user {
        cx.report(span, format!("the final stage runs as `{value}`"))
            .help("switch to an unprivileged user with `USER 10001` (or a named user created in the image)");
        return;
    }
    // No USER anywhere: the image runs as its base image's user.
    let base_text = (file.stages.len().checked_sub(1))
        .and_then(|last| file.base_image(last))
        .map(|b| format!(" (`{b}`)"))
        .unwrap_or_default();
    cx.report(
        span,
        format!("the final stage{base_text} never sets `USER`, so the service runs as root"),
    )
    .help("add `USER 10001` (or a named unprivileged user) after the last `RUN`");
}
