//! A Dockerfile parser that keeps byte spans.
//!
//! Written here rather than taken from a crate because the rules need things no maintained parser
//! gave us together: recovery after a bad instruction (the rest of the file is still checked), spans
//! of words inside an instruction (the image reference of a `FROM` with flags and continuations),
//! BuildKit heredocs including an instruction directly after the terminator, and the `# escape=`
//! directive.

use std::collections::HashMap;
use std::ops::Range;

use crate::lang::shell::Located;
pub use crate::lang::text::Logical;

const KEYWORDS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

#[derive(Debug, Clone)]
pub struct Dockerfile {
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// `ARG`s declared before the first `FROM`: the only variables `FROM` lines can use.
    pub global_args: HashMap<String, Option<String>>,
    pub errors: Vec<ParseError>,
    /// Where the file is (set by the engine; empty for text without a file).
    pub path: std::path::PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Instruction {
    /// Upper-cased keyword (`RUN`).
    pub keyword: String,
    pub keyword_span: Range<usize>,
    /// From the keyword to the end of its last continuation line (heredoc bodies excluded).
    pub span: Range<usize>,
    /// The arguments, with line continuations and comment lines removed.
    pub args: Logical,
    pub heredocs: Vec<Heredoc>,
}

#[derive(Debug, Clone)]
pub struct Heredoc {
    pub delimiter: String,
    pub body: String,
    pub body_span: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    /// Index of the `FROM` instruction.
    pub from: usize,
    pub image: Option<ImageRef>,
    /// The `AS name` of the stage, lower-cased.
    pub alias: Option<String>,
    /// The earlier stage this one builds on (`FROM builder`).
    pub parent: Option<usize>,
    /// Indexes of the instructions after `FROM`, up to the next `FROM`.
    pub body: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct ImageRef {
    /// As written, possibly with `$VARS`.
    pub raw: String,
    /// After expanding global `ARG` defaults; `None` when a variable has no default.
    pub expanded: Option<String>,
    /// Source span of the reference as written.
    pub span: Range<usize>,
}

pub fn parse(text: &str) -> Dockerfile {
    let mut parser = LineParser::new(text);
    let escape = parser.directives();
    let mut instructions = Vec::new();
    let mut errors = Vec::new();
    while let Some(ins) = parser.instruction(escape, &mut errors) {
        instructions.push(ins);
    }
    let (stages, global_args) = build_stages(&instructions, &mut errors);
    Dockerfile {
        instructions,
        stages,
        global_args,
        errors,
        path: std::path::PathBuf::new(),
    }
}

/// Walks physical lines, keeping byte offsets.
struct LineParser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> LineParser<'a> {
    fn new(text: &'a str) -> Self {
        let pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        LineParser { text, pos }
    }

    /// The next physical line: (start offset, content without the line terminator).
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let start = self.pos;
        let rest = &self.text[start..];
        let (line, advance) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        Some((start, line.strip_suffix('\r').unwrap_or(line)))
    }

    fn peek_line(&self) -> Option<(usize, &'a str)> {
        let mut copy = LineParser {
            text: self.text,
            pos: self.pos,
        };
        copy.next_line()
    }

    /// Reads parser directives at the top of the file; returns the escape character.
    fn directives(&mut self) -> char {
        let mut escape = '\\';
        while let Some((_, line)) = self.peek_line() {
            let Some(rest) = line.trim_start().strip_prefix('#') else {
                break;
            };
            let Some((key, value)) = rest.split_once('=') else {
                break;
            };
            let key = key.trim().to_ascii_lowercase();
            if key.is_empty() || key.contains(char::is_whitespace) {
                break;
            }
            if key == "escape" {
                match value.trim() {
                    "`" => escape = '`',
                    _ => escape = '\\',
                }
            }
            self.next_line();
        }
        escape
    }

    fn instruction(&mut self, escape: char, errors: &mut Vec<ParseError>) -> Option<Instruction> {
        // Skip blank and comment lines.
        let (start, line) = loop {
            let (start, line) = self.next_line()?;
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            break (start + (line.len() - trimmed.len()), trimmed);
        };
        let kw_len = line.find(|c: char| c.is_whitespace()).unwrap_or(line.len());
        let keyword = line[..kw_len].to_ascii_uppercase();
        let keyword_span = start..start + kw_len;
        if !KEYWORDS.contains(&keyword.as_str()) {
            let shown: String = line[..kw_len].chars().take(40).collect();
            errors.push(ParseError {
                message: format!("unknown instruction `{shown}`"),
                span: keyword_span.clone(),
            });
        }

        let mut args = Logical::default();
        let mut end;
        let mut current = (start + kw_len, &line[kw_len..]);
        loop {
            let (offset, content) = current;
            let (body, continued) = strip_continuation(content, escape);
            args.push(offset, body);
            end = offset + content.len();
            if !continued {
                break;
            }
            // Continuation: skip comment and empty lines, as BuildKit does.
            let next = loop {
                match self.next_line() {
                    None => break None,
                    Some((o, l)) => {
                        let t = l.trim_start();
                        if t.is_empty() || t.starts_with('#') {
                            continue;
                        }
                        break Some((o, l));
                    }
                }
            };
            match next {
                Some(n) => current = n,
                None => break,
            }
        }

        let mut heredocs = Vec::new();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            for (strip_tabs, delimiter, marker_span) in heredoc_markers(&args.text) {
                let body_start = self.pos;
                let mut body = String::new();
                let mut found = false;
                let mut body_end = body_start;
                while let Some((o, l)) = self.next_line() {
                    let candidate = if strip_tabs {
                        l.trim_start_matches('\t')
                    } else {
                        l
                    };
                    if candidate == delimiter {
                        found = true;
                        break;
                    }
                    body.push_str(candidate);
                    body.push('\n');
                    body_end = o + l.len();
                }
                if !found {
                    errors.push(ParseError {
                        message: format!("heredoc `{delimiter}` is never terminated"),
                        span: args.source_span(marker_span),
                    });
                }
                heredocs.push(Heredoc {
                    delimiter,
                    body,
                    body_span: body_start..body_end.max(body_start),
                });
            }
        }

        Some(Instruction {
            keyword,
            keyword_span,
            span: start..end,
            args,
            heredocs,
        })
    }
}

/// Removes a trailing escape character (plus trailing whitespace) that continues the line.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end();
    match trimmed.strip_suffix(escape) {
        // An escaped escape (`\\`) at the end is a literal, not a continuation.
        Some(rest) if !rest.ends_with(escape) => (rest, true),
        _ => (line, false),
    }
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"` markers outside quotes: (strip tabs, delimiter, logical span).
fn heredoc_markers(text: &str) -> Vec<(bool, String, Range<usize>)> {
    let bytes = text.as_bytes();
    let mut markers = Vec::new();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            None if b == b'"' || b == b'\'' => {
                quote = Some(b);
                i += 1;
                continue;
            }
            None => {}
        }
        if b == b'<' && bytes.get(i + 1) == Some(&b'<') && (i == 0 || bytes[i - 1] != b'<') {
            let start = i;
            let mut j = i + 2;
            if bytes.get(j) == Some(&b'<') {
                // `<<<` is a here-string.
                i = j + 1;
                continue;
            }
            let strip_tabs = bytes.get(j) == Some(&b'-');
            if strip_tabs {
                j += 1;
            }
            let q = match bytes.get(j) {
                Some(&c @ (b'"' | b'\'')) => {
                    j += 1;
                    Some(c)
                }
                _ => None,
            };
            let word_start = j;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
                j += 1;
            }
            let word = &text[word_start..j];
            let starts_ok = word
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_');
            if let Some(q) = q {
                if bytes.get(j) != Some(&q) {
                    i = j.max(i + 2);
                    continue;
                }
                j += 1;
            }
            if starts_ok {
                markers.push((strip_tabs, word.to_string(), start..j));
            }
            i = j.max(i + 2);
            continue;
        }
        i += 1;
    }
    markers
}

fn build_stages(
    instructions: &[Instruction],
    errors: &mut Vec<ParseError>,
) -> (Vec<Stage>, HashMap<String, Option<String>>) {
    let mut global_args = HashMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for (idx, ins) in instructions.iter().enumerate() {
        match ins.keyword.as_str() {
            "ARG" if stages.is_empty() => {
                for (name, default) in parse_arg(&ins.args) {
                    global_args.insert(name, default);
                }
            }
            "FROM" => {
                if let Some(last) = stages.last_mut() {
                    last.body.end = idx;
                }
                let words = ins.args.words();
                let mut rest = words.iter().skip_while(|(w, _)| w.starts_with("--"));
                let image = rest.next().map(|(w, span)| ImageRef {
                    raw: w.clone(),
                    expanded: expand(w, &|name| global_args.get(name).cloned().flatten()),
                    span: ins.args.source_span(span.clone()),
                });
                let alias = match (rest.next(), rest.next()) {
                    (Some((as_kw, _)), Some((name, _))) if as_kw.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                if image.is_none() {
                    errors.push(ParseError {
                        message: "`FROM` needs an image".into(),
                        span: ins.span.clone(),
                    });
                }
                let parent = image.as_ref().and_then(|img| {
                    let name = img
                        .expanded
                        .as_deref()
                        .unwrap_or(&img.raw)
                        .to_ascii_lowercase();
                    stages
                        .iter()
                        .rposition(|s| s.alias.as_deref() == Some(name.as_str()))
                });
                stages.push(Stage {
                    from: idx,
                    image,
                    alias,
                    parent,
                    body: idx + 1..instructions.len(),
                });
            }
            _ => {}
        }
    }
    (stages, global_args)
}

/// `ARG A=1 B` → [("A", Some("1")), ("B", None)], quotes removed.
pub fn parse_arg(args: &Logical) -> Vec<(String, Option<String>)> {
    args.words()
        .into_iter()
        .map(|(word, _)| match word.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(unquote(value))),
            None => (word, None),
        })
        .collect()
}

/// The shell script of a `RUN` (or `ONBUILD RUN`): its shell-form command line, or the body of its
/// heredoc when the command line only opens one (`RUN <<EOF`, `RUN bash <<EOF`). Exec-form `RUN`s and
/// heredocs for other interpreters (`RUN python3 <<EOF`) have none.
pub struct RunScript<'a> {
    pub instruction: &'a Instruction,
    /// The instruction's index in [`Dockerfile::instructions`] (stage bodies are index ranges).
    pub index: usize,
    /// The script, mapped back through the instruction's continuation lines (or, for a heredoc,
    /// to the body's place in the file).
    pub located: Located,
}

impl Dockerfile {
    /// Every `RUN` script, in file order (see [`RunScript`]).
    pub fn run_scripts(&self) -> Vec<RunScript<'_>> {
        use crate::lang::shell;
        let mut out = Vec::new();
        for (index, ins) in self.instructions.iter().enumerate() {
            let text = &ins.args.text;
            let start = if ins.keyword == "RUN" {
                Some(0)
            } else if ins.keyword == "ONBUILD" {
                let t = text.trim_start();
                let lead = text.len() - t.len();
                t.get(..4)
                    .filter(|k| k.eq_ignore_ascii_case("RUN ") || k.eq_ignore_ascii_case("RUN\t"))
                    .map(|_| lead + 3)
            } else {
                None
            };
            let Some(mut at) = start else { continue };
            // RUN options (`--mount=…`, `--network=…`) come before the command.
            loop {
                let rest = &text[at..];
                let trimmed = rest.trim_start();
                at += rest.len() - trimmed.len();
                if !trimmed.starts_with("--") {
                    break;
                }
                at += trimmed.find(char::is_whitespace).unwrap_or(trimmed.len());
            }
            if text[at..].trim_start().starts_with('[') {
                continue;
            }
            let line = shell::parse(&text[at..], at);
            let opens_heredoc_only = line.commands.is_empty()
                || (line.commands.len() == 1
                    && line.commands[0].args().is_empty()
                    && line.commands[0].name().is_some_and(shell::is_shell));
            match ins.heredocs.first() {
                Some(doc) if opens_heredoc_only => {
                    let interpreter = doc.body.lines().next().filter(|l| l.starts_with("#!"));
                    let shell_body = interpreter.is_none_or(|l| {
                        let name = l
                            .trim_start_matches("#!")
                            .split_whitespace()
                            .last()
                            .unwrap_or("");
                        shell::is_shell(name.rsplit('/').next().unwrap_or(name))
                    });
                    // Spans map one to one only when the body is the source text itself (the
                    // body keeps the newline before the terminator; its span does not).
                    let body = if doc.body.len() == doc.body_span.len() + 1 {
                        doc.body.strip_suffix('\n').unwrap_or(&doc.body)
                    } else {
                        &doc.body
                    };
                    if shell_body && body.len() == doc.body_span.len() {
                        out.push(RunScript {
                            instruction: ins,
                            index,
                            located: Located::direct(body, doc.body_span.start),
                        });
                    }
                }
                _ => out.push(RunScript {
                    instruction: ins,
                    index,
                    located: Located {
                        script: line,
                        map: Some(ins.args.clone()),
                        fallback: ins.span.start..ins.span.start,
                    },
                }),
            }
        }
        out
    }
}

/// The operands of a `COPY` or `ADD` (quotes removed, options left out).
pub struct CopyArgs {
    /// `--from=<stage or image>`.
    pub from: Option<String>,
    pub sources: Vec<String>,
    pub dest: String,
}

impl Instruction {
    /// See [`CopyArgs`]; `None` for other instructions and for the JSON form.
    pub fn copy_args(&self) -> Option<CopyArgs> {
        if !(self.keyword == "COPY" || self.keyword == "ADD") || self.args.exec_form().is_some() {
            return None;
        }
        let words = self.args.words();
        let from = words
            .iter()
            .find_map(|(w, _)| w.strip_prefix("--from="))
            .map(unquote);
        let mut operands: Vec<String> = words
            .iter()
            .map(|(w, _)| unquote(w))
            .filter(|w| !w.starts_with("--"))
            .collect();
        let dest = operands.pop()?;
        Some(CopyArgs {
            from,
            sources: operands,
            dest,
        })
    }
}

impl Dockerfile {
    /// The image a stage is built on, followed through `FROM <stage>` (its `ARG`-expanded form when
    /// the defaults allow).
    /// The `FROM` instruction of a stage.
    pub fn from_of(&self, stage: usize) -> Option<&Instruction> {
        self.instructions.get(self.stages.get(stage)?.from)
    }

    pub fn base_image(&self, stage: usize) -> Option<String> {
        let root = self.lineage(stage).last().copied().unwrap_or(stage);
        let image = self.stages.get(root)?.image.as_ref()?;
        Some(image.expanded.clone().unwrap_or_else(|| image.raw.clone()))
    }
}

/// The script an image starts with, as cross-file rules need it: the `ENTRYPOINT` (or `CMD`)
/// instruction of the final stage, and the path, relative to the build context, of the file a
/// `COPY`/`ADD` put at the program's place.
#[derive(Debug, Clone)]
pub struct EntrypointScript {
    pub keyword: String,
    /// The `ENTRYPOINT`/`CMD` instruction.
    pub span: Range<usize>,
    /// The program as the instruction names it (`/usr/local/bin/entrypoint.sh`).
    pub program: String,
    /// The `COPY`/`ADD` source for it (`docker/entrypoint.sh`).
    pub source: String,
}

impl Dockerfile {
    /// What the image starts: the final stage's effective `ENTRYPOINT` (or `CMD` without one) and
    /// its words (exec form, or shell form split with quotes removed).
    pub fn start_command(&self) -> Option<(&Instruction, Vec<String>)> {
        let last = self.stages.len().checked_sub(1)?;
        let ins = self
            .effective(last, "ENTRYPOINT")
            .or_else(|| self.effective(last, "CMD"))?;
        let words = match ins.args.exec_form() {
            Some(list) => list,
            None => ins
                .args
                .words()
                .into_iter()
                .map(|(w, _)| unquote(&w))
                .collect(),
        };
        Some((ins, words))
    }

    /// See [`EntrypointScript`]; `None` when the program is not a file the Dockerfile copies in.
    pub fn entrypoint_script(&self) -> Option<EntrypointScript> {
        let last = self.stages.len().checked_sub(1)?;
        let (ins, words) = self.start_command()?;
        let mut words = words
            .iter()
            .map(String::as_str)
            .skip_while(|w| *w == "exec");
        let first = words.next()?;
        // `sh /entrypoint.sh` and `bash -e /entrypoint.sh` run the script too.
        let first_name = first.rsplit('/').next().unwrap_or(first);
        let program = if crate::lang::shell::is_shell(first_name) {
            words.find(|w| !w.starts_with('-'))?
        } else {
            first
        };
        let workdir = self
            .lineage(last)
            .into_iter()
            .find_map(|s| self.last_in_stage(s, "WORKDIR"))
            .map(|w| unquote(w.args.text.trim()));
        let absolute = |p: &str| -> String {
            if p.starts_with('/') {
                p.to_string()
            } else {
                let dir = workdir.clone().unwrap_or_else(|| "/".into());
                format!(
                    "{}/{}",
                    dir.trim_end_matches('/'),
                    p.trim_start_matches("./")
                )
            }
        };
        let program_abs = absolute(program);
        for stage in self.lineage(last) {
            let body = self.stages.get(stage)?.body.clone();
            for copy in self.instructions.get(body).unwrap_or_default() {
                let Some(CopyArgs {
                    from: None,
                    sources,
                    dest,
                }) = copy.copy_args()
                else {
                    continue;
                };
                for source in &sources {
                    let base = source
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(source);
                    let into_dir = dest.ends_with('/')
                        || dest == "."
                        || dest.ends_with("/.")
                        || sources.len() > 1;
                    // `COPY x .` copies into the working directory.
                    let dest = if dest == "." || dest.ends_with("/.") {
                        &dest[..dest.len() - 1]
                    } else {
                        dest.as_str()
                    };
                    let target = if into_dir {
                        format!("{}/{}", absolute(dest).trim_end_matches('/'), base)
                    } else {
                        absolute(dest)
                    };
                    if target == program_abs {
                        return Some(EntrypointScript {
                            keyword: ins.keyword.clone(),
                            span: ins.span.clone(),
                            program: program.to_string(),
                            source: source.trim_start_matches("./").to_string(),
                        });
                    }
                }
            }
        }
        None
    }
}

/// `ENV A=1 B="x y"` or the legacy `ENV A x y`: names, values (quotes removed) and the logical span
/// of each name.
pub fn env_pairs(args: &Logical) -> Vec<(String, String, Range<usize>)> {
    let words = args.words();
    if words.iter().any(|(w, _)| w.contains('=')) {
        return words
            .iter()
            .filter_map(|(w, span)| {
                let (k, v) = w.split_once('=')?;
                Some((k.to_string(), unquote(v), span.start..span.start + k.len()))
            })
            .collect();
    }
    match words.split_first() {
        Some(((k, span), rest)) => {
            let v: Vec<&str> = rest.iter().map(|(w, _)| w.as_str()).collect();
            vec![(k.clone(), unquote(&v.join(" ")), span.clone())]
        }
        None => Vec::new(),
    }
}

/// `ARG A=1 B`: names, defaults and the logical span of each name.
pub fn arg_pairs(args: &Logical) -> Vec<(String, Option<String>, Range<usize>)> {
    args.words()
        .into_iter()
        .map(|(word, span)| match word.split_once('=') {
            Some((name, value)) => (
                name.to_string(),
                Some(unquote(value)),
                span.start..span.start + name.len(),
            ),
            None => (word, None, span),
        })
        .collect()
}

pub fn unquote(s: &str) -> String {
    let bytes = s.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        s[1..s.len() - 1].to_string()
    } else {
        s.to_string()
    }
}

/// Expands `$VAR`, `${VAR}`, `${VAR:-default}` and `${VAR-default}`; `None` when a variable has no
/// value (the result would depend on build arguments prodlint cannot see).
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let rest = &text[i + 1..];
        if let Some(inner) = rest.strip_prefix('{') {
            let close = inner.find('}')?;
            let expr = &inner[..close];
            let (name, default) = if let Some((n, d)) = expr.split_once(":-") {
                (n, Some(d))
            } else if let Some((n, d)) = expr.split_once('-') {
                (n, Some(d))
            } else {
                (expr, None)
            };
            let value = lookup(name)
                .filter(|v| !v.is_empty())
                .or_else(|| default.map(str::to_string))?;
            out.push_str(&value);
            let consumed = 1 + close + 1;
            for _ in 0..consumed {
                chars.next();
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if len == 0 {
                out.push('$');
                continue;
            }
            out.push_str(&lookup(&rest[..len])?);
            for _ in 0..len {
                chars.next();
            }
        }
    }
    Some(out)
}

impl Dockerfile {
    /// The stages from `stage` back through the stages it builds on (`FROM builder`).
    pub fn lineage(&self, stage: usize) -> Vec<usize> {
        let mut chain = vec![stage];
        let mut current = stage;
        while let Some(parent) = self.stages.get(current).and_then(|s| s.parent) {
            if chain.contains(&parent) || chain.len() > self.stages.len() {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }

    /// The last instruction with this keyword in the stage's own body.
    pub fn last_in_stage(&self, stage: usize, keyword: &str) -> Option<&Instruction> {
        let body = self.stages.get(stage)?.body.clone();
        self.instructions
            .get(body)?
            .iter()
            .rev()
            .find(|i| i.keyword == keyword)
    }

    /// The last instruction with this keyword in the stage or, failing that, the stages it builds on.
    pub fn effective(&self, stage: usize, keyword: &str) -> Option<&Instruction> {
        self.lineage(stage)
            .into_iter()
            .find_map(|s| self.last_in_stage(s, keyword))
    }

    /// Variables visible in a stage: ARG defaults (falling back to global ARGs) and ENV values of
    /// the stage and the stages it builds on.
    pub fn stage_vars(&self, stage: usize) -> HashMap<String, String> {
        let mut vars = HashMap::new();
        for s in self.lineage(stage).into_iter().rev() {
            let Some(st) = self.stages.get(s) else {
                continue;
            };
            for ins in self.instructions.get(st.body.clone()).unwrap_or(&[]) {
                match ins.keyword.as_str() {
                    "ARG" => {
                        for (name, default) in parse_arg(&ins.args) {
                            let value =
                                default.or_else(|| self.global_args.get(&name).cloned().flatten());
                            if let Some(v) = value {
                                vars.insert(name, v);
                            }
                        }
                    }
                    "ENV" => {
                        for (k, v, _) in env_pairs(&ins.args) {
                            vars.insert(k, v);
                        }
                    }
                    _ => {}
                }
            }
        }
        vars
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(d: &Dockerfile) -> Vec<&str> {
        d.instructions.iter().map(|i| i.keyword.as_str()).collect()
    }

    #[test]
    fn continuations_and_comment_lines() {
        let text = "FROM alpine:3.20\nRUN apk add \\\n# a comment\n\n    curl && \\\n    echo done\nUSER app\n";
        let d = parse(text);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(kw(&d), ["FROM", "RUN", "USER"]);
        assert_eq!(
            d.instructions[1].args.text,
            " apk add     curl &&     echo done"
        );
        assert_eq!(
            &text[d.instructions[1].span.clone()],
            "RUN apk add \\\n# a comment\n\n    curl && \\\n    echo done"
        );
    }

    #[test]
    fn escape_directive_backtick() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows:ltsc2022\nRUN dir `\n  c:\\\nUSER ContainerUser\n";
        let d = parse(text);
        assert_eq!(kw(&d), ["FROM", "RUN", "USER"]);
        assert_eq!(d.instructions[1].args.text, " dir   c:\\");
    }

    #[test]
    fn heredoc_then_instruction_directly_after_terminator() {
        let text = "FROM debian:12\nRUN <<EOF\nset -e\nFROM not-an-instruction\nEOF\nUSER root\nCOPY <<-'CONF' /etc/x\n\tkey=1\n\tCONF\nCMD [\"x\"]\n";
        let d = parse(text);
        assert!(d.errors.is_empty(), "{:?}", d.errors);
        assert_eq!(kw(&d), ["FROM", "RUN", "USER", "COPY", "CMD"]);
        assert_eq!(
            d.instructions[1].heredocs[0].body,
            "set -e\nFROM not-an-instruction\n"
        );
        assert_eq!(d.instructions[3].heredocs[0].delimiter, "CONF");
        assert_eq!(d.stages.len(), 1);
    }

    #[test]
    fn here_strings_and_shifts_are_not_heredocs() {
        let text = "FROM debian:12\nRUN cat <<< \"x\" && echo $((1<<2)) \"<<EOF\"\nUSER app\n";
        let d = parse(text);
        assert_eq!(kw(&d), ["FROM", "RUN", "USER"]);
        assert!(d.instructions[1].heredocs.is_empty());
    }

    #[test]
    fn unterminated_heredoc_is_an_error() {
        let d = parse("FROM debian\nRUN <<EOF\necho\n");
        assert_eq!(d.errors.len(), 1);
        assert!(d.errors[0].message.contains("never terminated"));
    }

    #[test]
    fn from_with_flags_alias_and_arg_expansion() {
        let text = "ARG BASE=rust\nARG TAG\nFROM --platform=$BUILDPLATFORM ${BASE}:1.80 AS Build\nFROM build\nFROM $BASE:${TAG}\nFROM ${BASE}:${TAG:-slim}\n";
        let d = parse(text);
        assert_eq!(d.stages.len(), 4);
        let img = d.stages[0].image.as_ref().unwrap();
        assert_eq!(&text[img.span.clone()], "${BASE}:1.80");
        assert_eq!(img.expanded.as_deref(), Some("rust:1.80"));
        assert_eq!(d.stages[0].alias.as_deref(), Some("build"));
        assert_eq!(d.stages[1].parent, Some(0));
        assert_eq!(d.stages[2].image.as_ref().unwrap().expanded, None);
        assert_eq!(
            d.stages[3].image.as_ref().unwrap().expanded.as_deref(),
            Some("rust:slim")
        );
    }

    #[test]
    fn image_span_across_continuation() {
        let text = "FROM --platform=linux/amd64 \\\n    nginx AS web\n";
        let d = parse(text);
        let img = d.stages[0].image.as_ref().unwrap();
        assert_eq!(&text[img.span.clone()], "nginx");
    }

    #[test]
    fn unknown_instruction_recovers() {
        let d = parse("FROM a:1\nFOO bar\nUSER root\n");
        assert_eq!(d.errors.len(), 1);
        assert_eq!(kw(&d), ["FROM", "FOO", "USER"]);
    }

    #[test]
    fn exec_form() {
        let d = parse("FROM a:1\nCMD [\"/app\", \"--port\", \"80\"]\nENTRYPOINT /app --x\n");
        assert_eq!(
            d.instructions[1].args.exec_form().unwrap(),
            ["/app", "--port", "80"]
        );
        assert!(d.instructions[2].args.exec_form().is_none());
    }

    #[test]
    fn crlf_and_bom() {
        let text = "\u{feff}FROM a:1\r\nUSER root\r\n";
        let d = parse(text);
        assert_eq!(kw(&d), ["FROM", "USER"]);
        assert_eq!(&text[d.instructions[1].span.clone()], "USER root");
    }

    #[test]
    fn stage_vars_follow_lineage() {
        let d = parse("ARG UID=10001\nFROM a:1 AS base\nARG UID\nENV APP_USER=app\nFROM base\nUSER $APP_USER\n");
        let vars = d.stage_vars(1);
        assert_eq!(vars.get("APP_USER").map(String::as_str), Some("app"));
        assert_eq!(vars.get("UID").map(String::as_str), Some("10001"));
    }
}
