use crate::lang::dockerfile::Dockerfile;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "shell-form-entrypoint",
    doc: rule_doc!("shell-form-entrypoint"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn check(file: &Dockerfile, cx: &mut Ctx) {
    let Some(last) = file.stages.len().checked_sub(1) else {
        return;
    };
    let Some(ins) = file
        .effective(last, "ENTRYPOINT")
        .or_else(|| file.effective(last, "CMD"))
    else {
        return;
    };
    if ins.args.exec_form().is_some() {
        return;
    }
    let command = ins.args.text.trim();
    if command.is_empty() || command.starts_with("exec ") {
        return;
    }
    let exec_form = shell_words_as_json(command);
    cx.report(
        ins.span.clone(),
        format!(
            "`{}` is in shell form, so `/bin/sh -c` is PID 1 and the service never receives SIGTERM",
            ins.keyword
        ),
    )
    .help(format!(
        "use the exec form: `{} {exec_form}` (or start the command with `exec `)",
        ins.keyword
    ));
}

/// A best-effort exec-form rendering of a simple command for the help text.
fn shell_words_as_json(command: &str) -> String {
    let words: Vec<String> = command
        .split_whitespace()
        .map(|w| serde_json::to_string(w.trim_matches('"')).unwrap_or_default())
        .collect();
    format!("[{}]", words.join(", "))
}
