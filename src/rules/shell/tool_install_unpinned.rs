use std::ops::Range;

use crate::lang::shell::{inline_script, Command, Script, Word};
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "tool-install-unpinned",
    doc: rule_doc!("tool-install-unpinned"),
    checks: &[Check::Shell(check)],
    options: None,
};

/// What is wrong with one install command, and where.
struct Problem<'w> {
    /// The word that names the unpinned thing (the span runs from the program to it).
    word: &'w Word,
    message: String,
    help: &'static str,
}

pub fn check(script: &Script, to_source: &dyn Fn(Range<usize>) -> Range<usize>, cx: &mut Ctx) {
    for command in &script.commands {
        if let Some(p) = problem(command) {
            let start = command
                .words
                .get(command.program())
                .map_or(p.word.span.start, |w| w.span.start);
            cx.report(to_source(start..p.word.span.end), p.message)
                .help(p.help);
        }
        if let Some(inner) = inline_script(command, script) {
            check(&inner, to_source, cx);
        }
    }
}

fn problem(c: &Command) -> Option<Problem<'_>> {
    let name = c.program_name()?;
    let args = c.program_args();
    match name {
        "go" => go(args),
        "cargo" => cargo(args),
        "npm" | "pnpm" => npm(args),
        "npx" => npx(args),
        "pip" | "pip3" => pip(args),
        n if n.starts_with("pip3.") => pip(args),
        "python" | "python3" => {
            // `python -m pip install …`
            let m = args.iter().position(|w| w.text == "-m")?;
            (args.get(m + 1)?.text == "pip").then_some(())?;
            pip(&args[m + 2..])
        }
        "uv" if args.first().is_some_and(|w| w.text == "pip") => pip(&args[1..]),
        "curl" | "wget" => latest_url(name, args),
        _ => None,
    }
}

const GO_HELP: &str = "install a released version: `go install example.com/cmd/tool@v1.2.3`";

fn go(args: &[Word]) -> Option<Problem<'_>> {
    let sub = args.first()?;
    // Module paths start with a domain (`golang.org/x/tools`); `tool`, `std`, `all` and
    // packages of the current module do not, and go.mod pins those.
    let packages = || {
        args[1..].iter().filter(|w| {
            !w.text.starts_with('-')
                && !is_local(&w.text)
                && w.text
                    .split('/')
                    .next()
                    .is_some_and(|first| first.contains('.'))
        })
    };
    match sub.text.as_str() {
        // Without `@version`, `go install` builds the version go.mod requires (and outside a
        // module it is an error since Go 1.16), so only a moving version floats.
        "install" => {
            let w = packages().find(|w| w.text.contains('@') && floating_go_version(&w.text))?;
            Some(Problem {
                word: w,
                message: format!(
                    "`go install {}` installs whatever version is newest when the build runs",
                    w.text
                ),
                help: GO_HELP,
            })
        }
        "get" => {
            let w = packages().find(|w| floating_go_version(&w.text))?;
            Some(Problem {
                word: w,
                // Which Go the image has is not known here: say what changed and when, not that
                // this build fails.
                message: format!("`go get {}` installs whatever version is newest when the build runs; from Go 1.17 on, tools are installed with `go install pkg@version` (Go 1.18 stopped `go get` building outside a module)", w.text),
                help: GO_HELP,
            })
        }
        _ => None,
    }
}

/// No `@version`, or a moving one.
fn floating_go_version(package: &str) -> bool {
    match package.rsplit_once('@') {
        None => true,
        Some((_, v)) => matches!(
            v,
            "latest" | "none" | "master" | "main" | "HEAD" | "upgrade" | "patch"
        ),
    }
}

fn is_local(arg: &str) -> bool {
    arg.starts_with('.') || arg.starts_with('/') || arg.starts_with('$')
}

/// `cargo install` options that take a value.
const CARGO_VALUE_FLAGS: &[&str] = &[
    "--version",
    "--vers",
    "--git",
    "--rev",
    "--tag",
    "--branch",
    "--path",
    "--root",
    "--features",
    "-F",
    "--target",
    "--target-dir",
    "--profile",
    "-j",
    "--jobs",
    "--registry",
    "--index",
    "--bin",
    "--example",
    "--config",
    "-Z",
    "--color",
    "--message-format",
];

fn cargo(args: &[Word]) -> Option<Problem<'_>> {
    if args.first()?.text != "install" {
        return None;
    }
    let (flags, crates) = options_and_operands(&args[1..], CARGO_VALUE_FLAGS);
    let has = |f: &str| flags.contains(&f);
    let locked = has("--locked") || has("--frozen");
    let from_path = has("--path");
    let pinned_source = from_path || (has("--git") && (has("--rev") || has("--tag")));
    let versioned = has("--version") || has("--vers");
    let unversioned = if pinned_source || versioned {
        None
    } else {
        crates.iter().copied().find(|w| !w.text.contains('@'))
    };
    let word = unversioned.or_else(|| (!locked).then(|| crates.first().copied()).flatten())?;
    let what = if from_path {
        "the local package".to_string()
    } else {
        format!("`{}`", word.text)
    };
    let git_branch = has("--git") && !pinned_source;
    let message = match (unversioned.is_some(), locked) {
        (true, _) if git_branch => format!("`cargo install --git` of {what} without `--rev` or `--tag` builds whatever the branch points at when the build runs"),
        (true, true) => format!("`cargo install` of {what} without a version installs whatever release is newest when the build runs"),
        (true, false) => format!("`cargo install` of {what} without a version or `--locked` installs the newest release, built with the newest dependency versions that match its manifest"),
        (false, _) => format!("`cargo install` of {what} without `--locked` ignores its Cargo.lock and resolves dependencies afresh: a new (or yanked, or compromised) dependency release changes what is built"),
    };
    Some(Problem {
        word,
        message,
        help: "pin the version and the lock file: `cargo install tool@1.2.3 --locked`",
    })
}

fn npm(args: &[Word]) -> Option<Problem<'_>> {
    let sub = args.first()?.text.as_str();
    if !matches!(sub, "install" | "i" | "add" | "install-global") {
        return None;
    }
    let global = args
        .iter()
        .any(|w| matches!(w.text.as_str(), "-g" | "--global" | "--location=global"));
    if !global {
        return None;
    }
    let w = args[1..]
        .iter()
        .filter(|w| !w.text.starts_with('-'))
        .find(|w| unversioned_npm(&w.text))?;
    Some(Problem {
        word: w,
        message: format!(
            "`npm install -g {}` installs whatever version is newest when the build runs",
            w.text
        ),
        help: "pin it: `npm install -g tool@1.2.3`",
    })
}

/// `tool`, `@scope/tool`, `tool@latest`; not `tool@1.2.3`, paths, tarballs or git URLs.
fn unversioned_npm(spec: &str) -> bool {
    if is_local(spec) || spec.contains("://") || spec.ends_with(".tgz") || spec.starts_with("git") {
        return false;
    }
    let name_end = if let Some(rest) = spec.strip_prefix('@') {
        rest.find('@').map(|i| i + 1)
    } else {
        spec.find('@')
    };
    match name_end {
        None => true,
        Some(at) => matches!(&spec[at + 1..], "latest" | "next" | "" | "*"),
    }
}

fn npx(args: &[Word]) -> Option<Problem<'_>> {
    // Without `--yes`/`-p`, npx may run a binary the project's lock file already pins; with
    // `--no` it never downloads.
    if args
        .iter()
        .any(|w| matches!(w.text.as_str(), "--no" | "--no-install" | "--yes=false"))
    {
        return None;
    }
    let mut remote = false;
    let mut i = 0;
    while let Some(w) = args.get(i) {
        match w.text.as_str() {
            "-y" | "--yes" => remote = true,
            "-p" | "--package" => {
                let pkg = args.get(i + 1)?;
                return unversioned_npm(&pkg.text).then(|| npx_problem(pkg));
            }
            t if t.starts_with("--package=") => {
                return unversioned_npm(&t["--package=".len()..]).then(|| npx_problem(w));
            }
            t if t.starts_with('-') => {}
            _ => return (remote && unversioned_npm(&w.text)).then(|| npx_problem(w)),
        }
        i += 1;
    }
    None
}

fn npx_problem(w: &Word) -> Problem<'_> {
    Problem {
        word: w,
        message: format!(
            "`npx` downloads and runs `{}` at whatever version is newest when this runs",
            w.text
        ),
        help: "pin it: `npx --yes tool@1.2.3`, or add it to package.json so the lock file pins it",
    }
}

/// `pip install` options that take a value.
const PIP_VALUE_FLAGS: &[&str] = &[
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--platform",
    "--python-version",
    "--implementation",
    "--abi",
    "--trusted-host",
    "--src",
    "--upgrade-strategy",
    "--progress-bar",
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--cert",
    "--client-cert",
    "--no-binary",
    "--only-binary",
    "-C",
    "--config-settings",
    "--global-option",
    "--report",
    "--python",
];

fn pip(args: &[Word]) -> Option<Problem<'_>> {
    if args.first()?.text != "install" {
        return None;
    }
    // `--no-index` installs only from local `--find-links` (a wheel the job just built).
    if args.iter().any(|w| w.text == "--no-index") {
        return None;
    }
    let (_, requirements) = options_and_operands(&args[1..], PIP_VALUE_FLAGS);
    let w = requirements
        .into_iter()
        .find(|w| unversioned_pip(&w.text))?;
    // The command as written up to the package (`pip install --upgrade pip`), so the message
    // quotes what the reader sees.
    let upto: Vec<&str> = args
        .iter()
        .take_while(|a| !std::ptr::eq(*a, w))
        .map(|a| a.text.as_str())
        .chain(std::iter::once(w.text.as_str()))
        .collect();
    Some(Problem {
        word: w,
        message: format!(
            "`pip {}` installs whatever version is newest when this runs",
            upto.join(" ")
        ),
        help: "pin it (`pip install tool==1.2.3`), or install from a requirements or lock file with hashes",
    })
}

/// The option names (`--version`, `--git`; without `=value`) and the operands of a command's
/// arguments; `value_flags` take the next word as their value unless written `--flag=value`.
fn options_and_operands<'w>(
    args: &'w [Word],
    value_flags: &[&str],
) -> (Vec<&'w str>, Vec<&'w Word>) {
    let mut options = Vec::new();
    let mut operands = Vec::new();
    let mut words = args.iter();
    while let Some(w) = words.next() {
        let t = w.text.as_str();
        if t.starts_with('-') {
            let name = t.split('=').next().unwrap_or(t);
            options.push(name);
            if value_flags.contains(&name) && !t.contains('=') {
                words.next();
            }
        } else {
            operands.push(w);
        }
    }
    (options, operands)
}

/// A requirement without a version specifier; not paths, archives, wheels or URLs.
fn unversioned_pip(spec: &str) -> bool {
    if is_local(spec) || spec.contains('/') || spec.contains("://") {
        return false;
    }
    let lower = spec.to_ascii_lowercase();
    if [".whl", ".tar.gz", ".zip", ".tgz"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return false;
    }
    !["==", ">=", "<=", "~=", "!=", "<", ">", "@"]
        .iter()
        .any(|op| spec.contains(op))
}

fn latest_url<'w>(tool: &str, args: &'w [Word]) -> Option<Problem<'w>> {
    let w = args.iter().find(|w| {
        let t = w.text.as_str();
        (t.starts_with("http://") || t.starts_with("https://"))
            && (t.contains("/latest/") || t.ends_with("/latest") || t.contains("/latest?"))
            && !is_instance_metadata(t)
    })?;
    Some(Problem {
        word: w,
        message: format!(
            "`{tool}` fetches `{}`, which points at whatever release is newest when this runs",
            w.text
        ),
        help: "download a fixed release (`…/releases/download/v1.2.3/…`) and check its digest",
    })
}

/// A cloud instance-metadata service (`http://169.254.169.254/latest/meta-data/…`, GCP's
/// `metadata.google.internal`): `latest` is its API version, and what it returns is data about
/// the machine, not a tool.
fn is_instance_metadata(url: &str) -> bool {
    let host = url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':', '?']).next())
        .unwrap_or("");
    host.starts_with("169.254.") || host == "[fd00:ec2::254]" || host == "metadata.google.internal"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_metadata_is_not_a_download() {
        assert!(is_instance_metadata(
            "http://169.254.169.254/latest/meta-data/instance-id"
        ));
        assert!(is_instance_metadata(
            "http://metadata.google.internal/computeMetadata/v1/latest"
        ));
        assert!(!is_instance_metadata("https://get.nexte.st/latest/linux"));
    }

    #[test]
    fn version_specs() {
        assert!(unversioned_npm("prettier"));
        assert!(unversioned_npm("@angular/cli"));
        assert!(unversioned_npm("pnpm@latest"));
        assert!(!unversioned_npm("pnpm@9.0.6"));
        assert!(!unversioned_npm("@angular/cli@17.3.0"));
        assert!(!unversioned_npm("./local-pkg"));
        assert!(unversioned_pip("poetry"));
        assert!(unversioned_pip("uvicorn[standard]"));
        assert!(!unversioned_pip("poetry==1.8.3"));
        assert!(!unversioned_pip("requests>=2,<3"));
        assert!(!unversioned_pip("dist/app-1.0-py3-none-any.whl"));
        assert!(!unversioned_pip("git+https://github.com/x/y@v1"));
        assert!(floating_go_version("golang.org/x/tools/gopls@latest"));
        assert!(floating_go_version("github.com/x/y"));
        assert!(!floating_go_version("github.com/x/y@v1.2.3"));
    }
}
