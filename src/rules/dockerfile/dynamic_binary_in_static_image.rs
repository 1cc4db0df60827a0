use std::ops::Range;

use crate::lang::dockerfile::{Dockerfile, Instruction};
use crate::lang::image;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "dynamic-binary-in-static-image",
    doc: rule_doc!("dynamic-binary-in-static-image"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn check(file: &Dockerfile, cx: &mut Ctx) {
    let Some(last) = file.stages.len().checked_sub(1) else {
        return;
    };
    let Some(base) = file.base_image(last) else {
        return;
    };
    let Some(runtime) = libc_free(&base) else {
        return;
    };
    let Some(body) = file.stages.get(last).map(|s| s.body.clone()) else {
        return;
    };
    for ins in file.instructions.get(body).unwrap_or_default() {
        let Some((stage, source)) = copied_binary(file, ins) else {
            continue;
        };
        let Some(build) = dynamic_build(file, stage) else {
            continue;
        };
        cx.report(
            ins.span.clone(),
            format!("`{source}` is copied into {runtime}, which has no C library, but it is built by {}: it links the C library dynamically, and the container fails at start with \"no such file or directory\"", build.what),
        )
        .help(build.help)
        .related(0, build.span, "built here");
        return;
    }
}

/// Runtime images without a C library.
fn libc_free(reference: &str) -> Option<String> {
    if reference == "scratch" {
        return Some("`scratch`".into());
    }
    let repo = image::repository(reference);
    let tag = image::tag(reference).unwrap_or_default();
    if repo.contains("distroless/static") {
        return Some(format!("`{reference}`"));
    }
    if image::name(reference) == "busybox" && !tag.contains("glibc") {
        return Some(format!("`{reference}`"));
    }
    None
}

/// `COPY --from=<earlier stage> <binary> …`: the stage and the first source that looks like a
/// program (not certificates, zone files or configuration).
fn copied_binary(file: &Dockerfile, ins: &Instruction) -> Option<(usize, String)> {
    if ins.keyword != "COPY" {
        return None;
    }
    let copy = ins.copy_args()?;
    let from = copy.from?;
    let stage = match from.parse::<usize>() {
        Ok(n) => n,
        Err(_) => file
            .stages
            .iter()
            .rposition(|s| s.alias.as_deref() == Some(from.as_str()))?,
    };
    let binary = copy.sources.into_iter().find(|s| looks_like_program(s))?;
    Some((stage, binary))
}

fn looks_like_program(path: &str) -> bool {
    let data_dir = ["/etc/", "/usr/share/", "/usr/lib/", "/lib/", "/var/"]
        .iter()
        .any(|d| path.starts_with(d));
    let name = path.rsplit('/').next().unwrap_or(path);
    let data_ext = name.rsplit_once('.').is_some_and(|(_, ext)| {
        matches!(
            ext,
            "crt"
                | "pem"
                | "json"
                | "yaml"
                | "yml"
                | "toml"
                | "conf"
                | "html"
                | "js"
                | "css"
                | "txt"
                | "md"
                | "sql"
                | "so"
                | "a"
                | "proto"
        )
    });
    !(data_dir || data_ext || name.is_empty() || path.ends_with('/'))
}

struct Build {
    what: String,
    help: &'static str,
    span: Range<usize>,
}

/// The first build command in the stage (or the stages it builds on) that makes a binary linked
/// against the C library.
fn dynamic_build(file: &Dockerfile, stage: usize) -> Option<Build> {
    let lineage = file.lineage(stage);
    let vars = file.stage_vars(stage);
    let base = file.base_image(stage).unwrap_or_default();
    let musl_base = {
        let tag = image::tag(&base).unwrap_or_default();
        let name = image::name(&base);
        tag.contains("alpine") || name.contains("musl")
    };
    for run in file.run_scripts() {
        let in_lineage = lineage.iter().any(|&s| {
            file.stages
                .get(s)
                .is_some_and(|st| st.body.contains(&run.index))
        });
        if !in_lineage {
            continue;
        }
        let script = &run.located.script;
        for (i, c) in script.commands.iter().enumerate() {
            let Some(name) = c.program_name() else {
                continue;
            };
            let args = c.program_args();
            let sub = args.first().map(|w| w.text.as_str());
            let span = run.located.source_span(c.span_to(c.program() + 1));
            if name == "go" && sub == Some("build") {
                let disabled = |v: &str| v.trim() == "0";
                let cgo_off = vars.get("CGO_ENABLED").is_some_and(|v| disabled(v))
                    || c.assignments.iter().any(|w| w.text == "CGO_ENABLED=0")
                    || script.commands[..i].iter().any(|p| {
                        p.program_name() == Some("export")
                            && p.args().iter().any(|w| w.text == "CGO_ENABLED=0")
                    });
                // Without a C compiler (the alpine images have none) cgo is off by itself.
                if cgo_off || (musl_base && !installs_c_compiler(file, &lineage)) {
                    continue;
                }
                return Some(Build {
                    what: "`go build` with cgo enabled (the default where a C compiler is installed)".into(),
                    help: "build with `CGO_ENABLED=0 go build …` (or `ENV CGO_ENABLED=0` in the build stage)",
                    span,
                });
            }
            if name == "cargo" && sub == Some("build") {
                // `--target x`, `--target=x`, or `CARGO_BUILD_TARGET`.
                let target = args.iter().enumerate().find_map(|(j, w)| {
                    if let Some(value) = w.text.strip_prefix("--target=") {
                        return Some(value.to_string());
                    }
                    let after_flag = j > 0 && args.get(j - 1).is_some_and(|p| p.text == "--target");
                    after_flag.then(|| w.text.clone())
                });
                let target = target.or_else(|| vars.get("CARGO_BUILD_TARGET").cloned());
                let resolved = target
                    .as_deref()
                    .map(|t| resolve_variable(t, &vars, &script.text));
                let named = match &resolved {
                    Some(Resolved::Text(t)) => Some(t.clone()),
                    _ => None,
                };
                let musl_target = match resolved {
                    Some(Resolved::Text(t)) => t.contains("musl"),
                    // A target only known when the build runs (`--target "$TARGET"` from a
                    // build argument with no default): which one it is cannot be told.
                    Some(Resolved::Unknown) => continue,
                    None => false,
                };
                let static_crt = vars
                    .get("RUSTFLAGS")
                    .is_some_and(|v| v.contains("crt-static"))
                    || script.text.contains("crt-static");
                if musl_target || static_crt || musl_base {
                    continue;
                }
                return Some(Build {
                    what: match named {
                        Some(t) => format!("`cargo build` for `{t}`"),
                        None => "`cargo build` for the default `*-gnu` target".into(),
                    },
                    help: "build for musl (`rustup target add x86_64-unknown-linux-musl` and `cargo build --release --target x86_64-unknown-linux-musl`), set `RUSTFLAGS=\"-C target-feature=+crt-static\"`, or run on `gcr.io/distroless/cc`",
                    span,
                });
            }
        }
    }
    None
}

fn installs_c_compiler(file: &Dockerfile, lineage: &[usize]) -> bool {
    lineage.iter().any(|&s| {
        file.stages.get(s).is_some_and(|st| {
            file.instructions.get(st.body.clone()).is_some_and(|body| {
                body.iter().any(|i| {
                    i.keyword == "RUN"
                        && ["gcc", "build-base", "musl-dev", "clang"]
                            .iter()
                            .any(|p| i.args.text.split_whitespace().any(|w| w == *p))
                })
            })
        })
    })
}

/// A word's value once a `$NAME` / `${NAME}` in it is looked up: in the Dockerfile's `ARG`/`ENV`
/// values, else in an assignment `NAME=...` of the script itself.
enum Resolved {
    Text(String),
    Unknown,
}

fn resolve_variable(
    word: &str,
    vars: &std::collections::HashMap<String, String>,
    script: &str,
) -> Resolved {
    let Some(at) = word.find('$') else {
        return Resolved::Text(word.to_string());
    };
    let rest = word[at + 1..].trim_start_matches('{');
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if name.is_empty() {
        return Resolved::Unknown;
    }
    if let Some(value) = vars.get(&name) {
        return Resolved::Text(value.clone());
    }
    let assignment = format!("{name}=");
    let defined = script.match_indices(&assignment).find_map(|(i, _)| {
        let before = script[..i].chars().next_back();
        let starts_word = before.is_none_or(|c| c.is_whitespace() || c == ';' || c == '&');
        starts_word.then(|| {
            script[i + assignment.len()..]
                .split(['\n', ';', '&'])
                .next()
                .unwrap_or("")
                .to_string()
        })
    });
    defined.map_or(Resolved::Unknown, Resolved::Text)
}
