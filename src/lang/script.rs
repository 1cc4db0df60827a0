//! Shell scripts, and the shell commands of Makefile and justfile recipes, as [`Located`]
//! scripts whose spans map back to the file.

use std::path::Path;

use crate::lang::shell::Located;
use crate::lang::shell::{self, is_shell};
use crate::lang::text::Logical;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Shell,
    Make,
    Just,
}

pub fn flavor(path: &Path) -> Flavor {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    match name {
        "Makefile" | "makefile" | "GNUmakefile" => Flavor::Make,
        "justfile" | "Justfile" | ".justfile" => Flavor::Just,
        _ if name.ends_with(".mk") => Flavor::Make,
        _ => Flavor::Shell,
    }
}

pub fn parse(flavor: Flavor, text: &str) -> Vec<Located> {
    match flavor {
        Flavor::Shell => {
            if shebang_is_foreign(text) {
                return Vec::new();
            }
            vec![Located::direct(text, 0)]
        }
        Flavor::Make => make_recipes(text).into_iter().collect(),
        Flavor::Just => just_recipes(text),
    }
}

/// A `#!` line naming something other than a shell (`#!/usr/bin/env python3`).
fn shebang_is_foreign(text: &str) -> bool {
    let Some(first) = text.lines().next().and_then(|l| l.strip_prefix("#!")) else {
        return false;
    };
    let mut words = first.split_whitespace();
    let program = words.next().unwrap_or("");
    let program = program.rsplit('/').next().unwrap_or(program);
    let program = if program == "env" {
        words.find(|w| !w.starts_with('-')).unwrap_or("")
    } else {
        program
    };
    !is_shell(program)
}

/// Every recipe line of a Makefile (lines that start with a tab), without its `@`/`-`/`+` prefix,
/// `$$` read as `$`, as one script (each line is a separate command, as make runs them).
fn make_recipes(text: &str) -> Option<Located> {
    let mut map = Logical::default();
    let mut offset = 0;
    let mut continued = false;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let Some(body) = line.strip_prefix('\t') else {
            continued = false;
            continue;
        };
        let mut at = start + 1;
        let mut body = body.trim_end_matches(['\n', '\r']);
        if !continued {
            let trimmed = body.trim_start_matches(['@', '-', '+', ' ']);
            at += body.len() - trimmed.len();
            body = trimmed;
        }
        continued = body.ends_with('\\');
        // `$$` is make's escape for the shell's `$`.
        let mut rest = body;
        let mut pos = at;
        while let Some(i) = rest.find("$$") {
            map.push(pos, &rest[..=i]);
            pos += i + 2;
            rest = &rest[i + 2..];
        }
        map.push(pos, rest);
        map.push(start + line.trim_end_matches(['\n', '\r']).len(), "\n");
    }
    if map.text.trim().is_empty() {
        return None;
    }
    Some(Located {
        script: shell::parse(&map.text, 0),
        fallback: 0..0,
        map: Some(map),
    })
}

/// The bodies of justfile recipes (indented lines after a `name args:` header), without their
/// indentation and `@`/`-` prefixes; recipes with a non-shell `#!` line are left out.
fn just_recipes(text: &str) -> Vec<Located> {
    let mut out = Vec::new();
    let mut current: Option<Logical> = None;
    let mut offset = 0;
    let mut foreign = false;
    let finish = |map: Option<Logical>, foreign: bool, out: &mut Vec<Located>| {
        if let Some(map) = map.filter(|m| !m.text.trim().is_empty() && !foreign) {
            out.push(Located {
                script: shell::parse(&map.text, 0),
                fallback: 0..0,
                map: Some(map),
            });
        }
    };
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indented = content.starts_with([' ', '\t']);
        if !indented {
            if !content.trim().is_empty() {
                finish(current.take(), foreign, &mut out);
                foreign = false;
                if is_recipe_header(content) {
                    current = Some(Logical::default());
                }
            }
            continue;
        }
        let Some(map) = current.as_mut() else {
            continue;
        };
        let body = content.trim_start();
        let mut at = start + (content.len() - body.len());
        if map.text.is_empty() && body.starts_with("#!") {
            foreign = shebang_is_foreign(body);
        }
        let trimmed = body.trim_start_matches(['@', '-']);
        at += body.len() - trimmed.len();
        map.push(at, trimmed);
        map.push(start + content.len(), "\n");
    }
    finish(current.take(), foreign, &mut out);
    out
}

/// `build:`, `@test *args: build`, `deploy env="prod":`; not `x := 1`, `set shell := [...]`,
/// `alias b := build`, `export A := 1`.
fn is_recipe_header(line: &str) -> bool {
    let line = line.trim_start_matches('@');
    let starts_like_name = line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    let Some(colon) = line.find(':') else {
        return false;
    };
    let word = line.split_whitespace().next().unwrap_or("");
    starts_like_name
        && !line[colon..].starts_with(":=")
        && !matches!(word, "set" | "alias" | "export" | "import" | "mod")
        && !line.starts_with('#')
}

/// How a script ends, for cross-file rules: its last top-level command, whether that command
/// replaces the shell (`exec`), and whether the script traps SIGTERM to pass it on.
#[derive(Debug, Clone)]
pub struct ScriptEnd {
    pub span: std::ops::Range<usize>,
    pub text: String,
    pub execs: bool,
    pub traps_term: bool,
}

/// See [`ScriptEnd`]; for plain shell scripts only (recipes do not start services).
pub fn script_end(flavor: Flavor, scripts: &[Located]) -> Option<ScriptEnd> {
    if flavor != Flavor::Shell {
        return None;
    }
    let located = scripts.first()?;
    let script = &located.script;
    let traps_term = script.commands.iter().any(|c| {
        c.name() == Some("trap")
            && c.args()
                .iter()
                .any(|w| matches!(w.text.as_str(), "TERM" | "SIGTERM" | "15" | "EXIT"))
    });
    let last = script.top_level().last()?;
    let span = last.span_to(last.words.len().saturating_sub(1));
    let text = script
        .text
        .get(span.start.saturating_sub(script.base)..span.end.saturating_sub(script.base))
        .unwrap_or_default();
    Some(ScriptEnd {
        span: located.source_span(span),
        text: text.to_string(),
        execs: last.name() == Some("exec"),
        traps_term,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commands(located: &[Located], text: &str) -> Vec<String> {
        located
            .iter()
            .flat_map(|l| {
                l.script
                    .commands
                    .iter()
                    .map(|c| text[l.source_span(c.span_to(c.words.len() - 1))].to_string())
            })
            .collect()
    }

    #[test]
    fn makefile_recipes() {
        let text = "build:\n\t@cargo build \\\n\t  --release\n\n.PHONY: tools\ntools:\n\t-go install x/y@latest; echo $$HOME\nVAR = 1\n";
        let scripts = parse(Flavor::Make, text);
        let c = commands(&scripts, text);
        assert_eq!(
            c,
            [
                "cargo build \\\n\t  --release",
                "go install x/y@latest",
                "echo $$HOME"
            ],
            "{c:?}"
        );
        assert_eq!(scripts[0].script.commands[2].words[1].text, "$HOME");
    }

    #[test]
    fn justfile_recipes() {
        let text = "set shell := [\"bash\", \"-c\"]\nversion := \"1\"\n\n# Build it\nbuild target=\"x\": deps\n    @cargo install sqlx-cli\n    echo {{target}}\n\npy:\n    #!/usr/bin/env python3\n    print('curl x | sh')\n";
        let scripts = parse(Flavor::Just, text);
        let c = commands(&scripts, text);
        assert_eq!(c, ["cargo install sqlx-cli", "echo {{target}}"], "{c:?}");
    }

    #[test]
    fn foreign_shebangs_are_skipped() {
        assert!(parse(Flavor::Shell, "#!/usr/bin/env python3\nimport os\n").is_empty());
        assert_eq!(parse(Flavor::Shell, "#!/bin/bash\nset -e\n").len(), 1);
        assert_eq!(parse(Flavor::Shell, "echo hi\n").len(), 1);
    }
}
