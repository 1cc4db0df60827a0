use std::ops::Range;

use crate::lang::shell::{inline_script, is_shell, Command, Script, Substitution, Word};
use crate::rules::shell::downloads_to_stdout;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "curl-pipe-shell",
    doc: rule_doc!("curl-pipe-shell"),
    checks: &[Check::Shell(check)],
    options: None,
};

const HELP: &str = "download to a file, check it against a pinned digest (`echo \"<sha256>  install.sh\" | sha256sum -c`) or signature, then run it — or install a pinned version from a package manager";

pub fn check(script: &Script, to_source: &dyn Fn(Range<usize>) -> Range<usize>, cx: &mut Ctx) {
    for (i, command) in script.commands.iter().enumerate() {
        // `curl … | sh`: a later stage of the same pipeline runs what the download printed.
        if downloads_to_stdout(command) {
            let runner = script.commands[i + 1..].iter().find(|c| {
                c.pipeline == command.pipeline && c.stage > command.stage && runs_stdin(c)
            });
            if let Some(runner) = runner {
                let span = command.span_to(0).start..runner.words[runner.program()].span.end;
                report(cx, to_source(span), command, runner);
            }
        }
        // `bash <(curl …)`, `sh -c "$(curl …)"`, `eval "$(wget -O- …)"`, `. <(curl …)`.
        for (word, kind) in executed_words(command) {
            for &(k, first) in &word.substitutions {
                if k != kind {
                    continue;
                }
                if let Some(download) = script
                    .substitution(first)
                    .iter()
                    .find(|c| downloads_to_stdout(c))
                {
                    let span = command.span_to(command.program()).start..word.span.end;
                    report(cx, to_source(span), download, command);
                }
            }
        }
        // The same inside `sh -c '…'`.
        if let Some(inner) = inline_script(command, script) {
            check(&inner, to_source, cx);
        }
    }
}

fn report(cx: &mut Ctx, span: Range<usize>, download: &Command, runner: &Command) {
    let tool = download.program_name().unwrap_or("curl");
    let shell = runner.program_name().unwrap_or("sh");
    cx.report(
        span,
        format!("`{shell}` runs a script `{tool}` downloads, unchecked: whatever the server sends at that moment — a changed, truncated or compromised script — is executed"),
    )
    .help(HELP);
}

/// A shell that reads its program from standard input (`sh`, `bash -s -- args`, `sudo -E bash -`),
/// or an interpreter told to (`python3 -`, `node -`, a bare `perl`).
fn runs_stdin(c: &Command) -> bool {
    let Some(name) = c.program_name() else {
        return false;
    };
    let args = c.program_args();
    if is_shell(name) {
        return c.dash_c().is_none();
    }
    let interpreter = matches!(
        name,
        "python" | "python3" | "python2" | "perl" | "ruby" | "node" | "php"
    );
    interpreter && args.first().is_none_or(|w| w.text == "-")
}

/// The arguments a command runs as code, with the substitution that would supply the code: the
/// `-c` string of a shell (`$(…)`) or its script path (`<(…)`), every argument of `eval` (`$(…)`),
/// the file `source` and `.` read (`<(…)`).
fn executed_words(c: &Command) -> Vec<(&Word, Substitution)> {
    let Some(name) = c.program_name() else {
        return Vec::new();
    };
    let args = c.program_args();
    if is_shell(name) {
        return match c.dash_c() {
            Some(i) => args
                .get(i + 1)
                .map(|w| (w, Substitution::Command))
                .into_iter()
                .collect(),
            None => args
                .iter()
                .find(|w| !w.text.starts_with('-'))
                .map(|w| (w, Substitution::Process))
                .into_iter()
                .collect(),
        };
    }
    match name {
        "eval" => args.iter().map(|w| (w, Substitution::Command)).collect(),
        "source" | "." => args
            .first()
            .map(|w| (w, Substitution::Process))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}
