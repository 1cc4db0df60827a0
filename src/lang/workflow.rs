//! GitHub Actions workflows and composite actions (`action.yml`): the `uses:` references of jobs
//! and steps, and the shell scripts of `run:` steps with a map from each script offset back to the file (through a block scalar's
//! indentation).

use std::ops::Range;

use crate::lang::shell::{self, Located};
use crate::lang::text::Logical;
use crate::lang::yaml::{self, Node, NodeKind};

pub struct Workflow {
    /// `uses:` of steps and of jobs that call a reusable workflow.
    pub uses: Vec<Uses>,
    /// `run:` steps whose shell is a POSIX shell.
    pub runs: Vec<Located>,
    pub errors: Vec<(String, Range<usize>)>,
}

pub struct Uses {
    pub value: String,
    /// The value's span.
    pub span: Range<usize>,
}

pub fn parse(text: &str) -> Workflow {
    let stream = yaml::parse_stream_lenient(text);
    let mut wf = Workflow {
        uses: Vec::new(),
        runs: Vec::new(),
        errors: Vec::new(),
    };
    if let Some(e) = &stream.error {
        let at = e.offset.min(text.len());
        wf.errors.push((e.message.clone(), at..at));
    }
    for doc in &stream.documents {
        let root = &doc.root;
        let default_shell = root
            .get("defaults")
            .and_then(|d| d.get("run"))
            .and_then(|r| r.get("shell"))
            .and_then(Node::as_str);
        // A composite action (`action.yml`): `runs.steps`, each with its own `shell:`.
        if let Some(NodeKind::Seq(steps)) = root
            .get("runs")
            .and_then(|r| r.get("steps"))
            .map(|s| &s.kind)
        {
            push_steps(&mut wf, text, steps, None);
        }
        let Some(NodeKind::Map(jobs)) = root.get("jobs").map(|j| &j.kind) else {
            continue;
        };
        for (_, job) in jobs {
            if let Some(uses) = job.get("uses") {
                push_uses(&mut wf, uses);
            }
            let job_shell = job
                .get("defaults")
                .and_then(|d| d.get("run"))
                .and_then(|r| r.get("shell"))
                .and_then(Node::as_str)
                .or(default_shell);
            let Some(NodeKind::Seq(steps)) = job.get("steps").map(|s| &s.kind) else {
                continue;
            };
            push_steps(&mut wf, text, steps, job_shell);
        }
    }
    wf
}

/// The `uses:` and POSIX-shell `run:` of each step.
fn push_steps(wf: &mut Workflow, text: &str, steps: &[Node], default_shell: Option<&str>) {
    for step in steps {
        if let Some(uses) = step.get("uses") {
            push_uses(wf, uses);
        }
        let Some(run) = step.get("run") else { continue };
        let Some(script) = run.as_str() else { continue };
        let shell = step.get("shell").and_then(Node::as_str).or(default_shell);
        // Without `shell:`, Linux and macOS runners use bash; Windows runners pwsh, which the
        // lexer would misread, so only an explicit POSIX shell or none is read.
        let posix = shell.is_none_or(|s| {
            let program = s.split_whitespace().next().unwrap_or("");
            shell::is_shell(program.rsplit('/').next().unwrap_or(program))
        });
        if posix {
            wf.runs.push(Located {
                script: shell::parse(script, 0),
                map: scalar_map(text, run, script),
                fallback: run.span.start..run.span.start,
            });
        }
    }
}

fn push_uses(wf: &mut Workflow, node: &Node) {
    if let Some(value) = node.as_str() {
        wf.uses.push(Uses {
            value: value.to_string(),
            span: node.span.clone(),
        });
    }
}

/// Maps a scalar's text back to the file: verbatim single-line scalars, and literal (`|`) block
/// scalars line by line through their indentation. `None` for anything else (folded or escaped
/// text).
fn scalar_map(source: &str, node: &Node, value: &str) -> Option<Logical> {
    let mut map = Logical::default();
    if !value.contains('\n') {
        let at = source.get(node.span.clone())?.find(value)?;
        map.push(node.span.start + at, value);
        return Some(map);
    }
    // The node's span starts at its first content line; the line before is the header, which
    // must be a literal (`|`, `|-`, `|+`, `|2`) block: folded text is joined and does not map.
    let mut cursor = source[..node.span.start].rfind('\n').map_or(0, |n| n + 1);
    let header = source[..cursor.saturating_sub(1)]
        .rsplit('\n')
        .next()
        .unwrap_or("")
        .trim_end();
    let indicator = header.rsplit(' ').next().unwrap_or("");
    if !indicator.starts_with('|') {
        return None;
    }
    let lines: Vec<&str> = value.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        if last && line.is_empty() {
            break;
        }
        let line_end = source[cursor..]
            .find('\n')
            .map_or(source.len(), |n| cursor + n);
        let src_line = source[cursor..line_end].trim_end_matches('\r');
        if line.is_empty() {
            if !src_line.trim().is_empty() {
                return None;
            }
        } else {
            let indent = src_line.len().checked_sub(line.len())?;
            if &src_line[indent..] != *line || !src_line[..indent].chars().all(|c| c == ' ') {
                return None;
            }
            map.push(cursor + indent, line);
        }
        if !last {
            map.push(line_end.min(source.len()), "\n");
        }
        cursor = (line_end + 1).min(source.len());
    }
    Some(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_steps_map_back_through_block_scalars() {
        let text = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: |\n          set -eux\n\n          curl -fsSL https://x | sh\n      - run: echo one-line\n      - shell: pwsh\n        run: iwr https://x | iex\n  call:\n    uses: org/repo/.github/workflows/x.yml@main\n";
        let wf = parse(text);
        assert!(wf.errors.is_empty());
        let uses: Vec<&str> = wf.uses.iter().map(|u| u.value.as_str()).collect();
        assert_eq!(
            uses,
            [
                "actions/checkout@v4",
                "org/repo/.github/workflows/x.yml@main"
            ]
        );
        assert_eq!(&text[wf.uses[0].span.clone()], "actions/checkout@v4");
        assert_eq!(wf.runs.len(), 2, "the pwsh step is not read");
        let run = &wf.runs[0];
        let curl = run
            .script
            .commands
            .iter()
            .find(|c| c.name() == Some("curl"))
            .expect("curl");
        assert_eq!(&text[run.source_span(curl.words[0].span.clone())], "curl");
        let echo = &wf.runs[1].script.commands[0];
        assert_eq!(
            &text[wf.runs[1].source_span(echo.span_to(1))],
            "echo one-line"
        );
    }
}
