//! One-shot subcommands of a server binary: the code a deployment never runs.
//!
//! A service's binary is often its own admin tool too: `app server` serves, while `app migrate`,
//! `app healthcheck` or `app admin delete-crate` run once and exit. Their code sits in the same
//! `main.rs` and crate as the server's, and only the dispatch in `main` tells them apart. This
//! reads that dispatch — a `match` (or `if let`) on an enum that derives a command-line parser
//! (clap's `Subcommand`/`Parser`, structopt, argh) — and calls an arm *tool* code when its
//! subcommand neither starts a server nor is run by anything the repository deploys (a
//! Dockerfile's `CMD`/`ENTRYPOINT`, a manifest, a script, a Procfile). A Docker `HEALTHCHECK`
//! does not count: Docker bounds it with its own timeout.
//!
//! It needs one arm known to serve: without it the server cannot be told from the tools, and
//! nothing is called a tool. From the tool arms it follows, within the file, the functions only
//! they call and the modules (`mod x;` of this root) only they use — a module another file of
//! the binary names (`crate::x`, `super::x`) stays production code.
//!
//! The reading is lexical (a token stream, no type information): names are matched as written.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// What only the tool subcommands of one binary run.
#[derive(Debug, Default)]
pub struct ToolCode {
    /// Byte ranges of the binary's root file (arm bodies, functions only they call), with why.
    pub spans: Vec<(Range<usize>, String)>,
    /// Modules (their file, and their directory) only tool subcommands use, with why.
    pub modules: Vec<(PathBuf, String)>,
}

/// What the analysis needs from the run besides the root file's text.
pub struct Context<'a> {
    /// The binary's name, for the evidence.
    pub binary: &'a str,
    /// Whether a (normalized) subcommand name is run by something the repository deploys.
    pub deployed: &'a dyn Fn(&str) -> bool,
    /// The Rust files of the run under a directory (to read a module's files).
    pub files_under: &'a dyn Fn(&Path) -> Vec<PathBuf>,
    /// Reads a file (`None` when it cannot be read).
    pub read: &'a dyn Fn(&Path) -> Option<String>,
}

/// Lower-case letters and digits only: `HealthCheck`, `health-check` and `healthcheck` agree.
pub fn normalize_command(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// A top-level function (or method of a top-level `impl`) of the root file.
struct Function {
    /// From the `fn` keyword to the end of the body.
    item: Range<usize>,
    body: TokenStream,
}

/// One arm of a subcommand dispatch.
struct Arm {
    enum_name: String,
    variants: Vec<String>,
    body: Range<usize>,
    tokens: TokenStream,
}

/// Names a piece of code refers to: functions of the root file and its modules.
#[derive(Default)]
struct Refs {
    functions: HashSet<String>,
    modules: HashSet<String>,
}

struct Root {
    functions: HashMap<String, Function>,
    /// `mod x;` declarations: name → its file candidates and directory.
    modules: HashMap<String, Vec<PathBuf>>,
    /// Names brought in by `use x::…` from a declared module: name → module.
    imports: HashMap<String, String>,
    arms: Vec<Arm>,
    /// Code outside every function, `mod`, `use` and enum item (statics, impl blocks' other
    /// items, structs).
    loose: TokenStream,
    /// Enum definitions by name: a command enum's variants name the modules of their options,
    /// which is not a use.
    enums: HashMap<String, TokenStream>,
    /// Files pasted in with `include!("…")`.
    included: Vec<PathBuf>,
}

/// The tool code of the binary whose root file is `root` (`text`); empty when there is no
/// subcommand dispatch, or no arm of it is known to serve.
pub fn analyse(root: &Path, text: &str, cx: &Context<'_>) -> ToolCode {
    let Ok(tokens) = text.parse::<TokenStream>() else {
        return ToolCode::default();
    };
    let module_dir = module_dir(root);
    let parsed = read_root(tokens, &module_dir);
    if parsed.arms.is_empty() {
        return ToolCode::default();
    }
    // The texts an enum's derive may be in: the root file and its modules' root files.
    let mut texts = vec![text.to_string()];
    for files in parsed.modules.values() {
        texts.extend(files.iter().filter_map(|f| (cx.read)(f)));
    }
    for file in &parsed.included {
        texts.extend((cx.read)(file));
    }
    let cli_enums: HashSet<&str> = parsed
        .arms
        .iter()
        .map(|a| a.enum_name.as_str())
        .filter(|e| texts.iter().any(|t| derives_cli(t, e)))
        .collect();
    let arms: Vec<&Arm> = parsed
        .arms
        .iter()
        .filter(|a| cli_enums.contains(a.enum_name.as_str()))
        .collect();

    // Which arms serve: their code starts a server, or a deployment runs their subcommand.
    let mut module_serves: HashMap<String, bool> = HashMap::new();
    let mut arm_serves = |arm: &Arm| -> bool {
        if arm
            .variants
            .iter()
            .any(|v| (cx.deployed)(&normalize_command(v)))
        {
            return true;
        }
        let (fns, modules) = closure(&parsed, refs(&parsed, arm.tokens.clone()), &HashSet::new());
        let code_serves = super::starts_server(&text[arm.body.clone()])
            || fns
                .iter()
                .filter_map(|f| parsed.functions.get(f))
                .any(|f| text.get(f.item.clone()).is_some_and(super::starts_server));
        code_serves
            || modules.iter().any(|m| {
                *module_serves.entry(m.clone()).or_insert_with(|| {
                    module_files(&parsed, m, cx)
                        .iter()
                        .any(|f| (cx.read)(f).is_some_and(|t| super::starts_server(&t)))
                })
            })
    };
    // A variant serves when any arm naming it does (one dispatch may set up, another run).
    let mut serving: HashSet<(&str, &str)> = HashSet::new();
    for arm in &arms {
        if arm_serves(arm) {
            serving.extend(
                arm.variants
                    .iter()
                    .map(|v| (arm.enum_name.as_str(), v.as_str())),
            );
        }
    }
    let enums_with_server: HashSet<&str> = serving.iter().map(|(e, _)| *e).collect();
    let tool_arms: Vec<&Arm> = arms
        .iter()
        .filter(|a| enums_with_server.contains(a.enum_name.as_str()))
        .filter(|a| {
            !a.variants
                .iter()
                .any(|v| serving.contains(&(a.enum_name.as_str(), v.as_str())))
        })
        .copied()
        .collect();
    if tool_arms.is_empty() {
        return ToolCode::default();
    }
    let tool_bodies: Vec<Range<usize>> = tool_arms.iter().map(|a| a.body.clone()).collect();

    // What the rest of the binary uses: `main` and the loose items, then every function they
    // reach, leaving out the tool arms' bodies.
    let mut loose = parsed.loose.clone();
    for (name, tokens) in &parsed.enums {
        if !cli_enums.contains(name.as_str()) {
            loose.extend(tokens.clone());
        }
    }
    let mut kept = refs(&parsed, loose);
    kept.functions.insert("main".into());
    let (kept_fns, kept_modules) = closure(&parsed, kept, &tool_bodies.iter().cloned().collect());

    let mut out = ToolCode::default();
    let mut tool_fns: HashMap<String, String> = HashMap::new();
    let mut tool_modules: HashMap<String, String> = HashMap::new();
    for arm in &tool_arms {
        let command = arm.variants.join("`/`");
        let why = format!(
            "only the `{command}` subcommand of binary `{}` runs it: it starts no server and no Dockerfile, manifest, script or Procfile of the run runs that subcommand",
            cx.binary
        );
        out.spans.push((arm.body.clone(), why.clone()));
        let (fns, modules) = closure(&parsed, refs(&parsed, arm.tokens.clone()), &HashSet::new());
        for f in fns.into_iter().filter(|f| !kept_fns.contains(f)) {
            tool_fns.entry(f).or_insert_with(|| why.clone());
        }
        for m in modules.into_iter().filter(|m| !kept_modules.contains(m)) {
            tool_modules.entry(m).or_insert_with(|| why.clone());
        }
    }
    for (name, why) in tool_fns {
        if let Some(f) = parsed.functions.get(&name) {
            out.spans.push((f.item.clone(), format!("`{name}`: {why}")));
        }
    }
    for (name, why) in tool_modules {
        if named_elsewhere(&parsed, &name, &module_dir, cx) {
            continue;
        }
        let why = format!("module `{name}`: {why}");
        for file in parsed.modules.get(&name).into_iter().flatten() {
            out.modules.push((file.clone(), why.clone()));
        }
    }
    out.spans.sort_by_key(|(r, _)| (r.start, r.end));
    out.modules.sort();
    out
}

/// Where a root file's `mod x;` files live: beside `main.rs`/`lib.rs`/`mod.rs`, else in the
/// directory named after the file (`src/bin/admin.rs` → `src/bin/admin/`).
fn module_dir(root: &Path) -> PathBuf {
    let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
    match root.file_name().and_then(|n| n.to_str()) {
        Some("main.rs" | "lib.rs" | "mod.rs") => dir,
        _ => root.with_extension(""),
    }
}

fn range(tt: &TokenTree) -> Range<usize> {
    tt.span().byte_range()
}

fn is_ident(tt: Option<&TokenTree>, name: &str) -> bool {
    matches!(tt, Some(TokenTree::Ident(i)) if i == name)
}

fn is_punct(tt: Option<&TokenTree>, ch: char) -> bool {
    matches!(tt, Some(TokenTree::Punct(p)) if p.as_char() == ch)
}

/// `::` at `i`.
fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && is_punct(tokens.get(i + 1), ':')
}

fn brace(tt: Option<&TokenTree>) -> Option<&proc_macro2::Group> {
    match tt {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => Some(g),
        _ => None,
    }
}

/// Reads the root file's items: functions (and top-level `impl` methods), `mod x;`
/// declarations, `use` imports from them, and every dispatch arm in the functions' bodies.
fn read_root(tokens: TokenStream, module_dir: &Path) -> Root {
    let mut root = Root {
        functions: HashMap::new(),
        modules: HashMap::new(),
        imports: HashMap::new(),
        arms: Vec::new(),
        loose: TokenStream::new(),
        enums: HashMap::new(),
        included: Vec::new(),
    };
    let items: Vec<TokenTree> = tokens.into_iter().collect();
    let mut uses: Vec<Vec<TokenTree>> = Vec::new();
    read_items(&items, module_dir, &mut root, &mut uses, true);
    for tree in uses {
        let idents: Vec<String> = tree
            .iter()
            .filter_map(|t| match t {
                TokenTree::Ident(i) => Some(i.to_string()),
                _ => None,
            })
            .filter(|i| !matches!(i.as_str(), "crate" | "self" | "super" | "as"))
            .collect();
        let Some(first) = idents.first() else {
            continue;
        };
        if root.modules.contains_key(first) {
            for name in &idents[1..] {
                root.imports.insert(name.clone(), first.clone());
            }
        }
    }
    let bodies: Vec<TokenStream> = root.functions.values().map(|f| f.body.clone()).collect();
    for body in bodies {
        find_arms(&body.into_iter().collect::<Vec<_>>(), &mut root.arms);
    }
    root
}

fn read_items(
    items: &[TokenTree],
    module_dir: &Path,
    root: &mut Root,
    uses: &mut Vec<Vec<TokenTree>>,
    top: bool,
) {
    let mut i = 0;
    let mut path_attr: Option<String> = None;
    while i < items.len() {
        match &items[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                if let Some(TokenTree::Group(g)) = items.get(i + 1) {
                    path_attr = path_attribute(g.stream()).or(path_attr);
                    i += 2;
                    continue;
                }
            }
            TokenTree::Ident(id) if id == "mod" && top => {
                // An inline module (`mod tests { … }`) is left out: its uses keep nothing.
                if brace(items.get(i + 2)).is_some() {
                    i += 3;
                    path_attr = None;
                    continue;
                }
                if let (Some(TokenTree::Ident(name)), true) =
                    (items.get(i + 1), is_punct(items.get(i + 2), ';'))
                {
                    let name = name.to_string();
                    let files = match path_attr.take() {
                        Some(p) => vec![module_dir.join(p)],
                        None => vec![
                            module_dir.join(format!("{name}.rs")),
                            module_dir.join(&name),
                        ],
                    };
                    root.modules.insert(name, files);
                    i += 3;
                    continue;
                }
            }
            TokenTree::Ident(id) if id == "use" && top => {
                let end = (i..items.len())
                    .find(|&j| is_punct(items.get(j), ';'))
                    .unwrap_or(items.len());
                let mut tree = Vec::new();
                flatten(&items[i + 1..end], &mut tree);
                uses.push(tree);
                i = end + 1;
                continue;
            }
            TokenTree::Ident(id) if id == "fn" => {
                if let Some(TokenTree::Ident(name)) = items.get(i + 1) {
                    // The body: the first brace group after the signature (`;` ends a
                    // declaration without one).
                    let body = (i + 2..items.len())
                        .take_while(|&j| !is_punct(items.get(j), ';'))
                        .find(|&j| brace(items.get(j)).is_some());
                    if let Some(j) = body {
                        let start = range(&items[i]).start;
                        let end = range(&items[j]).end;
                        root.functions.entry(name.to_string()).or_insert(Function {
                            item: start..end,
                            body: brace(items.get(j)).map(|g| g.stream()).unwrap_or_default(),
                        });
                        i = j + 1;
                        path_attr = None;
                        continue;
                    }
                }
            }
            TokenTree::Ident(id) if id == "enum" && top => {
                if let (Some(TokenTree::Ident(name)), Some(j)) = (
                    items.get(i + 1),
                    (i + 2..items.len()).find(|&j| brace(items.get(j)).is_some()),
                ) {
                    let tokens: TokenStream = items[i..=j].iter().cloned().collect();
                    root.enums.insert(name.to_string(), tokens);
                    i = j + 1;
                    path_attr = None;
                    continue;
                }
            }
            TokenTree::Ident(id) if id == "include" && top && is_punct(items.get(i + 1), '!') => {
                if let Some(TokenTree::Group(g)) = items.get(i + 2) {
                    if let Some(TokenTree::Literal(l)) = g.stream().into_iter().next() {
                        let l = l.to_string();
                        if let Some(p) = l.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
                            root.included.push(module_dir.join(p));
                        }
                    }
                }
            }
            TokenTree::Ident(id) if id == "impl" && top => {
                if let Some(j) = (i + 1..items.len()).find(|&j| brace(items.get(j)).is_some()) {
                    root.loose.extend(items[i..j].iter().cloned());
                    let inner: Vec<TokenTree> = brace(items.get(j))
                        .map(|g| g.stream().into_iter().collect())
                        .unwrap_or_default();
                    read_items(&inner, module_dir, root, uses, false);
                    i = j + 1;
                    path_attr = None;
                    continue;
                }
            }
            _ => {}
        }
        // An item ends at `;` or a brace group: an attribute above it was not a module's.
        if is_punct(items.get(i), ';') || brace(items.get(i)).is_some() {
            path_attr = None;
        }
        root.loose.extend(std::iter::once(items[i].clone()));
        i += 1;
    }
}

/// `path = "x.rs"` in an attribute's brackets.
fn path_attribute(stream: TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    if !is_ident(tokens.first(), "path") || !is_punct(tokens.get(1), '=') {
        return None;
    }
    match tokens.get(2) {
        Some(TokenTree::Literal(l)) => {
            let s = l.to_string();
            s.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .map(str::to_string)
        }
        _ => None,
    }
}

/// The tokens of a stream with groups opened (a `use` tree's braces).
fn flatten(tokens: &[TokenTree], out: &mut Vec<TokenTree>) {
    for t in tokens {
        match t {
            TokenTree::Group(g) => {
                flatten(&g.stream().into_iter().collect::<Vec<_>>(), out);
            }
            _ => out.push(t.clone()),
        }
    }
}

/// Every `match` arm and `if let` whose pattern names `Enum::Variant`, anywhere in `tokens`.
fn find_arms(tokens: &[TokenTree], out: &mut Vec<Arm>) {
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(id) if id == "match" => {
                if let Some(g) = (i + 1..tokens.len()).find_map(|j| brace(tokens.get(j))) {
                    read_match_arms(&g.stream().into_iter().collect::<Vec<_>>(), out);
                }
            }
            TokenTree::Ident(id) if id == "if" && is_ident(tokens.get(i + 1), "let") => {
                // `if let PAT = EXPR { … }`: the pattern ends at a lone `=`.
                let eq = (i + 2..tokens.len()).find(|&j| {
                    matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Alone)
                        && !matches!(tokens.get(j - 1), Some(TokenTree::Punct(q)) if matches!(q.as_char(), '=' | '!' | '<' | '>') && q.spacing() == Spacing::Joint)
                });
                if let Some(eq) = eq {
                    let block = (eq + 1..tokens.len()).find(|&j| brace(tokens.get(j)).is_some());
                    if let Some(b) = block {
                        push_arm(&tokens[i + 2..eq], &tokens[b], out);
                    }
                }
            }
            _ => {}
        }
        if let TokenTree::Group(g) = t {
            find_arms(&g.stream().into_iter().collect::<Vec<_>>(), out);
        }
    }
}

/// Splits a `match` body into arms: `PAT => { … } [,]` or `PAT => expr,`.
fn read_match_arms(tokens: &[TokenTree], out: &mut Vec<Arm>) {
    let mut i = 0;
    while i < tokens.len() {
        let Some(arrow) = (i..tokens.len()).find(|&j| {
            matches!(&tokens[j], TokenTree::Punct(p) if p.as_char() == '=' && p.spacing() == Spacing::Joint)
                && is_punct(tokens.get(j + 1), '>')
        }) else {
            return;
        };
        let body_start = arrow + 2;
        // A block ends its arm (a comma after it is optional) unless the expression goes on
        // (`{ … }.await`); any other body ends at the next comma.
        let block_arm = brace(tokens.get(body_start)).is_some()
            && !is_punct(tokens.get(body_start + 1), '.')
            && !is_punct(tokens.get(body_start + 1), '?');
        let body_end = if block_arm {
            body_start + 1
        } else {
            (body_start..tokens.len())
                .find(|&j| is_punct(tokens.get(j), ','))
                .unwrap_or(tokens.len())
        };
        if body_end > body_start {
            let body: TokenStream = tokens[body_start..body_end].iter().cloned().collect();
            let span = range(&tokens[body_start]).start..range(&tokens[body_end - 1]).end;
            push_arm_range(&tokens[i..arrow], span, body, out);
        }
        i = body_end + usize::from(is_punct(tokens.get(body_end), ','));
    }
}

fn push_arm(pattern: &[TokenTree], block: &TokenTree, out: &mut Vec<Arm>) {
    let body: TokenStream = std::iter::once(block.clone()).collect();
    push_arm_range(pattern, range(block), body, out);
}

fn push_arm_range(
    pattern: &[TokenTree],
    body: Range<usize>,
    tokens: TokenStream,
    out: &mut Vec<Arm>,
) {
    let mut variants: Vec<(String, String)> = Vec::new();
    variant_paths(pattern, &mut variants);
    let Some((enum_name, _)) = variants.first().cloned() else {
        return;
    };
    // One enum per arm: `A::X | A::Y`.
    if variants.iter().any(|(e, _)| *e != enum_name) {
        return;
    }
    out.push(Arm {
        enum_name,
        variants: variants.into_iter().map(|(_, v)| v).collect(),
        body,
        tokens,
    });
}

/// `Enum::Variant` paths at the top of a pattern (and inside `Some(…)`/`Ok(…)`), not the
/// patterns of the variant's fields.
fn variant_paths(pattern: &[TokenTree], out: &mut Vec<(String, String)>) {
    let mut i = 0;
    while i < pattern.len() {
        match &pattern[i] {
            TokenTree::Ident(id) if (id == "Some" || id == "Ok") => {
                if let Some(TokenTree::Group(g)) = pattern.get(i + 1) {
                    if g.delimiter() == Delimiter::Parenthesis {
                        variant_paths(&g.stream().into_iter().collect::<Vec<_>>(), out);
                        i += 2;
                        continue;
                    }
                }
            }
            TokenTree::Ident(_) => {
                // The longest `a::b::C::V` path from here: the last two segments.
                let mut segments = vec![&pattern[i]];
                let mut j = i;
                while is_path_sep(pattern, j + 1) {
                    match pattern.get(j + 3) {
                        Some(t @ TokenTree::Ident(_)) => {
                            segments.push(t);
                            j += 3;
                        }
                        _ => break,
                    }
                }
                if segments.len() >= 2 {
                    let n = segments.len();
                    out.push((segments[n - 2].to_string(), segments[n - 1].to_string()));
                }
                // Skip the variant's fields.
                i = j + 1;
                if matches!(pattern.get(i), Some(TokenTree::Group(_))) {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// Whether `enum name` in `text` derives a command-line parser.
fn derives_cli(text: &str, name: &str) -> bool {
    const DERIVES: &[&str] = &[
        "Subcommand",
        "Parser",
        "StructOpt",
        "FromArgs",
        "subcommand",
    ];
    let needle = format!("enum {name}");
    text.match_indices(&needle).any(|(at, _)| {
        let after = text[at + needle.len()..].chars().next();
        if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            return false;
        }
        let mut from = at.saturating_sub(600);
        while !text.is_char_boundary(from) {
            from += 1;
        }
        // The attributes right above: back to the previous item's end.
        let before = &text[from..at];
        let attrs = before.rsplit(['}', ';']).next().unwrap_or(before);
        DERIVES.iter().any(|d| attrs.contains(d))
    })
}

/// The root file's functions and modules named in `tokens`.
fn refs(root: &Root, tokens: TokenStream) -> Refs {
    let mut out = Refs::default();
    collect_refs(root, &tokens.into_iter().collect::<Vec<_>>(), &mut out);
    out
}

fn collect_refs(root: &Root, tokens: &[TokenTree], out: &mut Refs) {
    for (i, t) in tokens.iter().enumerate() {
        match t {
            TokenTree::Ident(id) => {
                let name = id.to_string();
                if root.functions.contains_key(&name) {
                    out.functions.insert(name.clone());
                }
                if root.modules.contains_key(&name) && is_path_sep(tokens, i + 1) {
                    out.modules.insert(name.clone());
                }
                if let Some(m) = root.imports.get(&name) {
                    out.modules.insert(m.clone());
                }
            }
            TokenTree::Group(g) => {
                collect_refs(root, &g.stream().into_iter().collect::<Vec<_>>(), out)
            }
            _ => {}
        }
    }
}

/// Every function and module reached from `start` through the root file's functions, leaving
/// out code inside the `skip` ranges.
fn closure(
    root: &Root,
    start: Refs,
    skip: &HashSet<Range<usize>>,
) -> (HashSet<String>, HashSet<String>) {
    let mut fns: HashSet<String> = HashSet::new();
    let mut modules = start.modules;
    let mut todo: Vec<String> = start.functions.into_iter().collect();
    while let Some(name) = todo.pop() {
        if !fns.insert(name.clone()) {
            continue;
        }
        let Some(f) = root.functions.get(&name) else {
            continue;
        };
        let kept: Vec<TokenTree> = without(f.body.clone(), skip);
        let r = refs(root, kept.into_iter().collect());
        modules.extend(r.modules);
        todo.extend(r.functions.into_iter().filter(|f| !fns.contains(f)));
    }
    (fns, modules)
}

/// `tokens` without the trees inside any of `skip`.
fn without(tokens: TokenStream, skip: &HashSet<Range<usize>>) -> Vec<TokenTree> {
    if skip.is_empty() {
        return tokens.into_iter().collect();
    }
    let mut out = Vec::new();
    for t in tokens {
        let r = range(&t);
        if skip.iter().any(|s| s.start <= r.start && r.end <= s.end) {
            continue;
        }
        match &t {
            TokenTree::Group(g) if skip.iter().any(|s| r.start <= s.start && s.end <= r.end) => {
                let inner: TokenStream = without(g.stream(), skip).into_iter().collect();
                let mut group = proc_macro2::Group::new(g.delimiter(), inner);
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            _ => out.push(t),
        }
    }
    out
}

/// A module's Rust files: its file and everything under its directory.
fn module_files(root: &Root, name: &str, cx: &Context<'_>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in root.modules.get(name).into_iter().flatten() {
        if p.extension().is_some_and(|e| e == "rs") {
            out.push(p.clone());
        } else {
            out.extend((cx.files_under)(p));
        }
    }
    out
}

/// Whether another file of the binary's module tree names module `name` (`crate::name`,
/// `super::name`).
fn named_elsewhere(root: &Root, name: &str, module_dir: &Path, cx: &Context<'_>) -> bool {
    let own: HashSet<PathBuf> = module_files(root, name, cx).into_iter().collect();
    let others: Vec<PathBuf> = root
        .modules
        .keys()
        .filter(|m| *m != name)
        .flat_map(|m| module_files(root, m, cx))
        .filter(|f| !own.contains(f) && f.starts_with(module_dir))
        .collect();
    let needles = [format!("crate::{name}"), format!("super::{name}")];
    others.iter().any(|f| {
        (cx.read)(f).is_some_and(|text| {
            needles.iter().any(|n| {
                text.match_indices(n.as_str()).any(|(at, _)| {
                    !text[at + n.len()..]
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                })
            })
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str, deployed: &[&str]) -> ToolCode {
        let deployed: Vec<String> = deployed.iter().map(|d| normalize_command(d)).collect();
        let is_deployed = |c: &str| deployed.iter().any(|d| d == c);
        let none = |_: &Path| Vec::new();
        let read = |_: &Path| None;
        let cx = Context {
            binary: "app",
            deployed: &is_deployed,
            files_under: &none,
            read: &read,
        };
        let out = analyse(Path::new("/p/src/main.rs"), text, &cx);
        proc_macro2::extra::invalidate_current_thread_spans();
        out
    }

    fn spans(text: &str, out: &ToolCode) -> Vec<String> {
        out.spans
            .iter()
            .map(|(r, _)| {
                text[r.clone()]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    const MAIN: &str = r#"
mod admin;
mod server;
mod db;
use admin::purge;

#[derive(clap::Subcommand)]
enum Command { Serve, Purge, HealthCheck { url: String } }

fn main() {
    match cli().command {
        Command::Serve => server::run(db::pool()),
        Command::Purge => purge(),
        Command::HealthCheck { url } => { check(&url) }
    }
    match cli().command {
        Command::Purge => { log() }
        Command::Serve => { }
        _ => {}
    }
}

fn check(url: &str) { ping(url) }
fn ping(url: &str) { db::ping(url) }
fn log() {}
"#;

    #[test]
    fn tool_arms_their_functions_and_modules() {
        let out = run(MAIN, &["serve"]);
        assert_eq!(
            spans(MAIN, &out),
            [
                "purge()",
                "{ check(&url) }",
                "{ log() }",
                "fn check(url: &str) { ping(url) }",
                "fn ping(url: &str) { db::ping(url) }",
                "fn log() {}"
            ]
        );
        let modules: Vec<&Path> = out.modules.iter().map(|(p, _)| p.as_path()).collect();
        // `db` is used by the serving arm too.
        assert_eq!(
            modules,
            [Path::new("/p/src/admin"), Path::new("/p/src/admin.rs")]
        );
    }

    #[test]
    fn nothing_without_a_known_server() {
        // No arm starts a server and no deployment names one: the server cannot be told apart.
        assert!(run(MAIN, &[]).spans.is_empty());
        // A deployed subcommand is kept even when it serves nothing (a background worker).
        let out = run(MAIN, &["serve", "purge"]);
        assert_eq!(
            spans(MAIN, &out),
            [
                "{ check(&url) }",
                "fn check(url: &str) { ping(url) }",
                "fn ping(url: &str) { db::ping(url) }"
            ]
        );
    }

    #[test]
    fn a_server_started_in_the_arm_and_if_let_dispatch() {
        let text = r#"
#[derive(Parser)]
enum Cmd { Run(RunOpts), Version }
fn main() {
    let cmd = Cmd::parse();
    if let Cmd::Version = cmd { print_version(); return; }
    if let Cmd::Run(opts) = cmd { axum::serve(listener, app).await; }
}
fn print_version() {}
"#;
        let out = run(text, &[]);
        assert_eq!(
            spans(text, &out),
            ["{ print_version(); return; }", "fn print_version() {}"]
        );
    }

    #[test]
    fn matches_on_other_enums_are_not_dispatch() {
        let text = r#"
enum Mode { Serve, Worker }
fn main() {
    match mode() { Mode::Serve => serve(listener), Mode::Worker => work() }
}
fn work() {}
"#;
        assert!(run(text, &[]).spans.is_empty());
    }
}
