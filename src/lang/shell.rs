//! Shell command lines as rules need them: every simple command with its words (quotes removed,
//! byte spans kept), which pipeline it belongs to, and the commands nested in it — command
//! substitutions `$(…)` and `` `…` ``, process substitutions `<(…)`, and the string of `sh -c '…'`
//! — parsed as scripts of their own. It is a lexer and a flat command splitter, not an
//! interpreter: expansions are kept as written, control keywords (`if`, `then`, `do`, …) are
//! stepped over, and anything it cannot read ends the command it is in rather than the parse.
//!
//! Why not a full shell grammar (brush-parser): rules only need command words and pipelines, with
//! spans that map back through Dockerfile continuation lines and YAML block scalars; a full POSIX
//! AST would cost a large dependency tree and a newer compiler for information no rule uses.

use std::ops::Range;

use crate::lang::text::Logical;

#[derive(Debug, Clone)]
pub struct Word {
    /// The word as the command sees it: quotes removed, escapes resolved, expansions as written.
    pub text: String,
    /// Where the word stands in the text handed to [`parse`] (offsets include its `base`).
    pub span: Range<usize>,
    /// Indexes (in [`Script::commands`]) of the first command of each substitution inside the
    /// word, with the kind of substitution.
    pub substitutions: Vec<(Substitution, usize)>,
    /// Single-quoted or double-quoted from start to end.
    pub quoted: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Substitution {
    /// `$(…)` or `` `…` ``.
    Command,
    /// `<(…)` or `>(…)`.
    Process,
}

#[derive(Debug, Clone)]
pub struct Command {
    /// The command name and its arguments; `VAR=value` prefixes and redirections are left out.
    pub words: Vec<Word>,
    /// The `VAR=value` prefixes (`CGO_ENABLED=0 go build`).
    pub assignments: Vec<Word>,
    /// Commands of one pipeline (`a | b | c`) share this number.
    pub pipeline: usize,
    /// Position in the pipeline, from 0.
    pub stage: usize,
    /// 0 at the top level, 1 inside a substitution, and so on.
    pub depth: usize,
}

impl Command {
    /// The command name without a leading path (`/usr/bin/curl` → `curl`).
    pub fn name(&self) -> Option<&str> {
        self.words
            .first()
            .map(|w| w.text.rsplit('/').next().unwrap_or(&w.text))
    }

    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// The index of the program a wrapper runs: `sudo -E bash` → `bash`, `env A=1 pip` → `pip`,
    /// `exec /app` → `/app`. Options of `sudo` that take a value (`-u user`) are skipped with it.
    pub fn program(&self) -> usize {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let name = w.text.rsplit('/').next().unwrap_or(&w.text);
            match name {
                "sudo" | "doas" => {
                    i += 1;
                    while let Some(flag) = self.words.get(i).filter(|w| w.text.starts_with('-')) {
                        let takes_value =
                            matches!(flag.text.as_str(), "-u" | "-g" | "-C" | "-D" | "-h" | "-p");
                        i += if takes_value { 2 } else { 1 };
                    }
                }
                "env" => {
                    i += 1;
                    while self
                        .words
                        .get(i)
                        .is_some_and(|w| w.text.starts_with('-') || is_assignment(&w.text))
                    {
                        i += 1;
                    }
                }
                "exec" | "nohup" | "time" | "command" | "nice" | "stdbuf" | "xargs" => i += 1,
                _ => return i,
            }
        }
        i
    }

    /// The index, in [`Command::program_args`], of a shell's `-c` option (`-c`, `-lc`, `-ec`):
    /// the next argument is the script it runs.
    pub fn dash_c(&self) -> Option<usize> {
        self.program_args().iter().position(|w| {
            w.text.starts_with('-') && !w.text.starts_with("--") && w.text.contains('c')
        })
    }

    /// The program's name, after any wrapper (see [`Command::program`]).
    pub fn program_name(&self) -> Option<&str> {
        self.words
            .get(self.program())
            .map(|w| w.text.rsplit('/').next().unwrap_or(&w.text))
    }

    /// The program's arguments, after any wrapper.
    pub fn program_args(&self) -> &[Word] {
        self.words.get(self.program() + 1..).unwrap_or(&[])
    }

    /// Span from the first word to the end of the given word.
    pub fn span_to(&self, word: usize) -> Range<usize> {
        let start = self.words.first().map_or(0, |w| w.span.start);
        let end = self.words.get(word).map_or(start, |w| w.span.end);
        start..end.max(start)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Script {
    /// Every simple command, top level and nested, in the order they start.
    pub commands: Vec<Command>,
    /// The text that was parsed, and the offset its spans start from.
    pub text: String,
    pub base: usize,
}

impl Script {
    /// Commands at the top level (not inside a substitution).
    pub fn top_level(&self) -> impl Iterator<Item = &Command> {
        self.commands.iter().filter(|c| c.depth == 0)
    }

    /// Commands of the same pipeline, in order.
    pub fn pipeline(&self, id: usize) -> impl Iterator<Item = &Command> {
        self.commands.iter().filter(move |c| c.pipeline == id)
    }

    /// The commands of a substitution that starts at `first`: those after it at a greater depth
    /// until the depth falls back.
    pub fn substitution(&self, first: usize) -> &[Command] {
        let Some(start) = self.commands.get(first) else {
            return &[];
        };
        let end = self.commands[first..]
            .iter()
            .position(|c| c.depth < start.depth)
            .map_or(self.commands.len(), |n| first + n);
        &self.commands[first..end]
    }
}

/// A shell script that came out of a file, and how its offsets map back to it.
pub struct Located {
    pub script: Script,
    /// `None` when the script text could not be matched with the file: every span then points at
    /// `fallback`.
    pub map: Option<Logical>,
    pub fallback: Range<usize>,
}

impl Located {
    pub fn source_span(&self, span: Range<usize>) -> Range<usize> {
        match &self.map {
            Some(map) => map.source_span(span),
            None => self.fallback.clone(),
        }
    }

    /// A script whose offsets are the file's own.
    pub fn direct(text: &str, base: usize) -> Located {
        let mut map = Logical::default();
        map.push(base, text);
        Located {
            script: parse(text, 0),
            map: Some(map),
            fallback: base..base,
        }
    }
}

/// Nesting deeper than this is not followed (the rest of the word is kept as text).
const MAX_DEPTH: usize = 16;

/// Parses `text`; every span is offset by `base`.
pub fn parse(text: &str, base: usize) -> Script {
    let mut p = Parser {
        src: text.as_bytes(),
        text,
        base,
        out: Script {
            commands: Vec::new(),
            text: text.to_string(),
            base,
        },
        next_pipeline: 0,
    };
    p.script(0, text.len(), 0);
    p.out
}

struct Parser<'t> {
    src: &'t [u8],
    text: &'t str,
    base: usize,
    out: Script,
    next_pipeline: usize,
}

/// Words that start or continue a compound command; the command proper follows them.
const KEYWORDS: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
];

impl Parser<'_> {
    /// Parses `[start, end)` at the given nesting depth.
    fn script(&mut self, start: usize, end: usize, depth: usize) {
        let mut i = start;
        let mut pipeline = self.new_pipeline();
        let mut stage = 0;
        let mut heredocs: Vec<(String, bool)> = Vec::new();
        while i < end {
            let (command, next, sep) = self.command(i, end, depth, &mut heredocs);
            if let Some(mut c) = command {
                c.pipeline = pipeline;
                c.stage = stage;
                c.depth = depth;
                self.insert(c);
            }
            i = next.max(i + 1).min(end.max(i + 1));
            match sep {
                Sep::Pipe => stage += 1,
                Sep::Newline => {
                    i = self.skip_heredocs(i, end, &mut heredocs);
                    pipeline = self.new_pipeline();
                    stage = 0;
                }
                Sep::List | Sep::End => {
                    pipeline = self.new_pipeline();
                    stage = 0;
                }
            }
        }
    }

    fn new_pipeline(&mut self) -> usize {
        self.next_pipeline += 1;
        self.next_pipeline
    }

    /// Commands are kept in the order they start; a command's nested commands were pushed while
    /// its words were read, so it goes in front of them.
    fn insert(&mut self, c: Command) {
        let start = c.words.first().map_or(usize::MAX, |w| w.span.start);
        let at = self
            .out
            .commands
            .iter()
            .rposition(|o| o.words.first().map_or(0, |w| w.span.start) < start)
            .map_or(0, |p| p + 1);
        // Substitution indexes recorded in words shift when a command goes in before them. Only
        // the commands after `at` (this command's own nested ones) and this command refer there.
        let shift = |words: &mut Vec<Word>| {
            for w in words.iter_mut() {
                for (_, idx) in w.substitutions.iter_mut() {
                    if *idx >= at {
                        *idx += 1;
                    }
                }
            }
        };
        for other in self.out.commands[at..].iter_mut() {
            shift(&mut other.words);
        }
        let mut c = c;
        shift(&mut c.words);
        self.out.commands.insert(at, c);
    }

    /// Reads one simple command from `i`; returns it (if it had words), where reading stopped,
    /// and the separator that ended it.
    fn command(
        &mut self,
        mut i: usize,
        end: usize,
        depth: usize,
        heredocs: &mut Vec<(String, bool)>,
    ) -> (Option<Command>, usize, Sep) {
        let mut words: Vec<Word> = Vec::new();
        let mut assignments: Vec<Word> = Vec::new();
        let mut assignments_done = false;
        let mut redirect_next = false;
        loop {
            i = self.skip_blanks(i, end);
            if i >= end {
                return (finish(words, assignments), i, Sep::End);
            }
            let b = self.src[i];
            match b {
                b'#' if words.is_empty()
                    || self
                        .src
                        .get(i.wrapping_sub(1))
                        .is_some_and(|c| c.is_ascii_whitespace()) =>
                {
                    // A comment runs to the end of the line.
                    while i < end && self.src[i] != b'\n' {
                        i += 1;
                    }
                }
                b'\n' => return (finish(words, assignments), i + 1, Sep::Newline),
                b';' => {
                    let n = if self.src.get(i + 1) == Some(&b';') {
                        2
                    } else {
                        1
                    };
                    return (finish(words, assignments), i + n, Sep::List);
                }
                b'&' => {
                    if self.src.get(i + 1) == Some(&b'&') {
                        return (finish(words, assignments), i + 2, Sep::List);
                    }
                    if self.src.get(i + 1) == Some(&b'>') {
                        // `&>file`: a redirection.
                        i += 2;
                        if self.src.get(i) == Some(&b'>') {
                            i += 1;
                        }
                        redirect_next = true;
                        continue;
                    }
                    return (finish(words, assignments), i + 1, Sep::List);
                }
                b'|' => {
                    if self.src.get(i + 1) == Some(&b'|') {
                        return (finish(words, assignments), i + 2, Sep::List);
                    }
                    let n = if self.src.get(i + 1) == Some(&b'&') {
                        2
                    } else {
                        1
                    };
                    return (finish(words, assignments), i + n, Sep::Pipe);
                }
                b'(' | b')' => return (finish(words, assignments), i + 1, Sep::List),
                b'<' | b'>' if self.src.get(i + 1) == Some(&b'(') => {
                    let (w, next) = self.word(i, end, depth);
                    i = next;
                    words.push(w);
                }
                b'<' | b'>' => {
                    // A redirection: `>`, `>>`, `<`, `<<<`, `>&2`, `<<EOF`, `<<-'EOF'`.
                    let heredoc = b == b'<'
                        && self.src.get(i + 1) == Some(&b'<')
                        && self.src.get(i + 2) != Some(&b'<');
                    let mut j = i + 1;
                    while j < end && matches!(self.src[j], b'<' | b'>' | b'&' | b'|' | b'-') {
                        j += 1;
                    }
                    if heredoc {
                        let strip = self.src.get(i + 2) == Some(&b'-');
                        let k = self.skip_blanks(j, end);
                        let (w, next) = self.word(k, end, depth + MAX_DEPTH);
                        heredocs.push((w.text, strip));
                        i = next;
                    } else {
                        // `>&2` has no target word.
                        let fd_dup = self.src.get(j - 1) == Some(&b'&')
                            && self
                                .src
                                .get(j)
                                .is_some_and(|c| c.is_ascii_digit() || *c == b'-');
                        if fd_dup {
                            while j < end && (self.src[j].is_ascii_digit() || self.src[j] == b'-') {
                                j += 1;
                            }
                        } else {
                            redirect_next = true;
                        }
                        i = j;
                    }
                }
                _ => {
                    let (w, next) = self.word(i, end, depth);
                    i = next;
                    // `2>file`: a descriptor number right before a redirection.
                    if w.text.chars().all(|c| c.is_ascii_digit())
                        && matches!(self.src.get(i), Some(b'<' | b'>'))
                    {
                        continue;
                    }
                    if redirect_next {
                        redirect_next = false;
                        continue;
                    }
                    if words.is_empty() && !assignments_done && is_assignment(&w.text) {
                        assignments.push(w);
                        continue;
                    }
                    assignments_done = true;
                    if words.is_empty() && KEYWORDS.contains(&w.text.as_str()) && !w.quoted {
                        continue;
                    }
                    words.push(w);
                }
            }
        }
    }

    fn skip_blanks(&self, mut i: usize, end: usize) -> usize {
        while i < end {
            match self.src[i] {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\\' if self.src.get(i + 1) == Some(&b'\n') => i += 2,
                _ => break,
            }
        }
        i
    }

    /// After a newline, skips the bodies of the heredocs the line opened.
    fn skip_heredocs(&self, mut i: usize, end: usize, heredocs: &mut Vec<(String, bool)>) -> usize {
        for (delimiter, strip) in heredocs.drain(..) {
            while i < end {
                let line_end = self.text[i..end].find('\n').map_or(end, |n| i + n);
                let line = &self.text[i..line_end];
                let line = if strip {
                    line.trim_start_matches('\t')
                } else {
                    line
                };
                i = (line_end + 1).min(end);
                if line.trim_end_matches('\r') == delimiter {
                    break;
                }
            }
        }
        i
    }

    /// Reads a word starting at `i`: up to an unquoted blank or operator.
    fn word(&mut self, start: usize, end: usize, depth: usize) -> (Word, usize) {
        let mut text = String::new();
        let mut substitutions = Vec::new();
        let mut i = start;
        let mut quoted_parts = 0;
        let mut parts = 0;
        while i < end {
            let b = self.src[i];
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b')' => break,
                b'(' => break,
                b'<' | b'>' if self.src.get(i + 1) == Some(&b'(') => {
                    i = self.substitution(i, end, depth, &mut text, &mut substitutions);
                    parts += 1;
                }
                b'<' | b'>' => break,
                b'\\' => {
                    if let Some(c) = self.text[i + 1..end].chars().next() {
                        if c != '\n' {
                            text.push(c);
                        }
                        i += 1 + c.len_utf8();
                    } else {
                        i += 1;
                    }
                    parts += 1;
                }
                b'\'' => {
                    let close = self.text[i + 1..end].find('\'').map_or(end, |n| i + 1 + n);
                    text.push_str(&self.text[i + 1..close]);
                    i = (close + 1).min(end);
                    quoted_parts += 1;
                    parts += 1;
                }
                b'"' => {
                    i += 1;
                    while i < end && self.src[i] != b'"' {
                        match self.src[i] {
                            b'\\' => {
                                if let Some(c) = self.text[i + 1..end].chars().next() {
                                    if !matches!(c, '$' | '`' | '"' | '\\' | '\n') {
                                        text.push('\\');
                                    }
                                    if c != '\n' {
                                        text.push(c);
                                    }
                                    i += 1 + c.len_utf8();
                                } else {
                                    i += 1;
                                }
                            }
                            b'`' => {
                                i = self.substitution(i, end, depth, &mut text, &mut substitutions);
                            }
                            b'$' if self.src.get(i + 1) == Some(&b'(') => {
                                i = self.substitution(i, end, depth, &mut text, &mut substitutions);
                            }
                            _ => {
                                let c = self.text[i..end].chars().next().unwrap_or(' ');
                                text.push(c);
                                i += c.len_utf8();
                            }
                        }
                    }
                    i = (i + 1).min(end);
                    quoted_parts += 1;
                    parts += 1;
                }
                b'$' if self.src.get(i + 1) == Some(&b'(') => {
                    i = self.substitution(i, end, depth, &mut text, &mut substitutions);
                    parts += 1;
                }
                b'$' if self.src.get(i + 1) == Some(&b'{') => {
                    let close = self.text[i..end].find('}').map_or(end, |n| i + n + 1);
                    text.push_str(&self.text[i..close]);
                    i = close;
                    parts += 1;
                }
                b'`' => {
                    i = self.substitution(i, end, depth, &mut text, &mut substitutions);
                    parts += 1;
                }
                _ => {
                    let c = self.text[i..end].chars().next().unwrap_or(' ');
                    text.push(c);
                    i += c.len_utf8();
                    parts += 1;
                }
            }
        }
        let word = Word {
            text,
            span: self.base + start..self.base + i,
            substitutions,
            quoted: quoted_parts > 0 && quoted_parts == parts,
        };
        (word, i)
    }

    /// The substitution at `i` — `$(…)`, `` `…` ``, `<(…)` or `>(…)`: its body parsed one level
    /// deeper and recorded in `substitutions`, its text appended; returns the offset after it.
    fn substitution(
        &mut self,
        i: usize,
        end: usize,
        depth: usize,
        text: &mut String,
        substitutions: &mut Vec<(Substitution, usize)>,
    ) -> usize {
        let (kind, body, close) = match self.src[i] {
            b'`' => (
                Substitution::Command,
                i + 1,
                self.text[i + 1..end].find('`').map_or(end, |n| i + 1 + n),
            ),
            b'$' => (
                Substitution::Command,
                i + 2,
                self.matching_paren(i + 1, end),
            ),
            _ => (
                Substitution::Process,
                i + 2,
                self.matching_paren(i + 1, end),
            ),
        };
        if depth < MAX_DEPTH {
            let first = self.out.commands.len();
            self.script(body.min(close), close, depth + 1);
            if self.out.commands.len() > first {
                substitutions.push((kind, first));
            }
        }
        let after = (close + 1).min(end);
        text.push_str(&self.text[i..after]);
        after
    }

    /// The offset of the `)` matching the `(` at `open` (quotes respected), or `end`.
    fn matching_paren(&self, open: usize, end: usize) -> usize {
        let mut depth = 0usize;
        let mut i = open;
        while i < end {
            match self.src[i] {
                b'(' => depth += 1,
                b')' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                b'\\' => i += 1,
                b'\'' => {
                    i = self.text[i + 1..end].find('\'').map_or(end, |n| i + 1 + n);
                }
                b'"' => {
                    i += 1;
                    while i < end && self.src[i] != b'"' {
                        if self.src[i] == b'\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        end
    }
}

#[derive(Debug, Clone, Copy)]
enum Sep {
    Pipe,
    List,
    Newline,
    End,
}

fn finish(words: Vec<Word>, assignments: Vec<Word>) -> Option<Command> {
    (!words.is_empty()).then_some(Command {
        words,
        assignments,
        pipeline: 0,
        stage: 0,
        depth: 0,
    })
}

/// `NAME=value` before a command name.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// The script of `sh -c '<script>'` (or `bash -lc`, `sudo sh -c`): the `-c` argument parsed, when it
/// is one word whose text stands verbatim in the source (spans then map one to one).
pub fn inline_script(command: &Command, parsed: &Script) -> Option<Script> {
    let (source, base) = (parsed.text.as_str(), parsed.base);
    let name = command.program_name()?;
    if !is_shell(name) {
        return None;
    }
    let script = command.program_args().get(command.dash_c()? + 1)?;
    let raw =
        source.get(script.span.start.checked_sub(base)?..script.span.end.checked_sub(base)?)?;
    let inner = raw
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
        .unwrap_or(raw);
    if inner != script.text {
        return None;
    }
    let offset = script.span.start + (raw.len() - inner.len()) / 2;
    Some(parse(inner, offset))
}

pub fn is_shell(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "mksh" | "busybox"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &Script) -> Vec<String> {
        s.commands
            .iter()
            .map(|c| {
                let words: Vec<&str> = c.words.iter().map(|w| w.text.as_str()).collect();
                format!("{}@{}.{}d{}", words.join(" "), c.pipeline, c.stage, c.depth)
            })
            .collect()
    }

    #[test]
    fn words_quotes_and_spans() {
        let text =
            r#"FOO=1 curl -fsSL "https://x/a b" 'q' \"e 2>/dev/null | sudo  bash -s -- --yes"#;
        let s = parse(text, 100);
        let n = names(&s);
        assert_eq!(n.len(), 2, "{n:?}");
        let curl = &s.commands[0];
        assert_eq!(curl.name(), Some("curl"));
        assert_eq!(curl.words[2].text, "https://x/a b");
        assert_eq!(curl.words[3].text, "q");
        assert_eq!(curl.words[4].text, "\"e");
        assert_eq!(curl.words.len(), 5, "the redirection is not a word");
        let at = |w: &Word| &text[w.span.start - 100..w.span.end - 100];
        assert_eq!(at(&curl.words[0]), "curl");
        assert_eq!(at(&curl.words[2]), "\"https://x/a b\"");
        let bash = &s.commands[1];
        assert_eq!(bash.words[0].text, "sudo");
        assert_eq!((bash.pipeline, bash.stage), (curl.pipeline, 1));
    }

    #[test]
    fn lists_keywords_and_continuations() {
        let s = parse("set -eux; \\\n  if [ -f x ]; then go install a/b@latest && echo ok; fi\nfor f in *; do rm $f; done", 0);
        let n = names(&s);
        assert!(
            n.iter().any(|c| c.starts_with("go install a/b@latest@")),
            "{n:?}"
        );
        assert!(n.iter().any(|c| c.starts_with("echo ok@")), "{n:?}");
        assert!(n.iter().any(|c| c.starts_with("rm $f@")), "{n:?}");
    }

    #[test]
    fn substitutions_are_nested_scripts() {
        let text =
            "sh -c \"$(curl -fsSL https://get.x/install.sh)\" && bash <(wget -qO- https://y)";
        let s = parse(text, 0);
        let n = names(&s);
        assert_eq!(n.len(), 4, "{n:?}");
        let sh = &s.commands[0];
        let (kind, first) = sh.words[2].substitutions[0];
        assert_eq!(kind, Substitution::Command);
        assert_eq!(s.commands[first].name(), Some("curl"));
        assert_eq!(s.commands[first].depth, 1);
        let bash = s
            .commands
            .iter()
            .find(|c| c.name() == Some("bash"))
            .expect("bash");
        let (kind, first) = bash.words[1].substitutions[0];
        assert_eq!(kind, Substitution::Process);
        assert_eq!(s.substitution(first)[0].name(), Some("wget"));
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let s = parse(
            "cat <<'EOF' > /etc/x\ncurl http://nope | sh\nEOF\necho done",
            0,
        );
        let n = names(&s);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[1].starts_with("echo done"), "{n:?}");
    }

    #[test]
    fn inline_scripts_map_spans() {
        let text = "sh -c 'curl -s https://x | bash'";
        let s = parse(text, 10);
        let inner = inline_script(&s.commands[0], &s).expect("inline");
        let curl = &inner.commands[0];
        assert_eq!(
            &text[curl.words[0].span.start - 10..curl.words[0].span.end - 10],
            "curl"
        );
        assert_eq!(inner.commands[1].name(), Some("bash"));
    }

    #[test]
    fn hostile_text_terminates() {
        for text in [
            "$(",
            "$((((",
            "\"unterminated",
            "'",
            "`",
            "<(",
            "a |",
            "| b",
            "\\",
            "${",
            "<<",
            "<<EOF",
            "x >",
            "2>",
            ")))",
        ] {
            let _ = parse(text, 0);
        }
        let deep = "$(".repeat(10_000);
        let _ = parse(&deep, 0);
        let long = "a | ".repeat(50_000);
        assert_eq!(parse(&long, 0).commands.len(), 50_000);
    }
}
