use crate::lang::dockerfile::{expand, unquote, Dockerfile, Instruction, Logical};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "add-remote-url-without-checksum",
    doc: rule_doc!("add-remote-url-without-checksum"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn check(file: &Dockerfile, cx: &mut Ctx) {
    for (stage, s) in file.stages.iter().enumerate() {
        let vars = file.stage_vars(stage);
        let lookup = |name: &str| vars.get(name).cloned();
        for ins in file.instructions.get(s.body.clone()).unwrap_or_default() {
            let Some(args) = add_arguments(ins) else {
                continue;
            };
            let words = args.words();
            let mut flags = words.iter().take_while(|(w, _)| w.starts_with("--"));
            if flags.any(|(w, _)| w.starts_with("--checksum=")) {
                continue;
            }
            let operands: Vec<_> = words.iter().filter(|(w, _)| !w.starts_with("--")).collect();
            // The last operand is the destination.
            let sources = operands.split_last().map_or(&[][..], |(_, rest)| rest);
            let Some(url) = sources.iter().find_map(|(w, _)| {
                let word = unquote(w);
                let url = expand(&word, &lookup).unwrap_or(word);
                is_remote(&url).then_some(url)
            }) else {
                continue;
            };
            cx.report(
                ins.span.clone(),
                format!("`ADD` downloads `{url}` without `--checksum`: whatever that URL serves on the day of the build goes into the image unverified"),
            )
            .help("pin the content: `ADD --checksum=sha256:<digest> <url> <dest>` (BuildKit, Dockerfile syntax 1.6 or later), or download with curl and check the digest with `sha256sum -c`");
        }
    }
}

/// The arguments of an `ADD`, also inside `ONBUILD ADD …` (their offsets are the instruction's).
fn add_arguments(ins: &Instruction) -> Option<Logical> {
    if ins.keyword.eq_ignore_ascii_case("ADD") {
        return Some(ins.args.clone());
    }
    if ins.keyword.eq_ignore_ascii_case("ONBUILD") {
        let text = ins.args.text.trim_start();
        let (keyword, rest) = text.split_once(char::is_whitespace)?;
        if keyword.eq_ignore_ascii_case("ADD") {
            return Some(Logical::from_text(rest));
        }
    }
    None
}

/// `ADD` fetches http(s) URLs; git repositories (`https://…/x.git`, `git@…`) are pinned by
/// their ref instead and are left alone.
fn is_remote(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !lower
            .split(['#', '?'])
            .next()
            .unwrap_or("")
            .ends_with(".git")
}
