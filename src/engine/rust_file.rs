//! The Rust file pipeline: where a Rust file stands (its package, its role on the production
//! surface, its cache keys), the cache shortcut that takes an unchanged file's results without
//! reading it, which function bodies are worth parsing (`Triggers`), and the one walk that hands
//! every callback to every enabled rule and to the fact extraction (`Fanout`).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::*;

/// What a Rust file leaves for the project checks.
pub(super) struct RustOutcome {
    pub(super) package: Option<Arc<crate::project::Package>>,
    pub(super) is_test: bool,
    pub(super) facts: crate::project::RustFacts,
}

/// What a Rust file's results depend on besides its text, worked out before it is read.
pub(super) struct RustPlace {
    package: Option<Arc<crate::project::Package>>,
    /// Its role on the production surface (generated files are known once read).
    role: FileRole,
    /// Not walked: no enabled rule applies to its role (test code always was).
    is_test: bool,
    enabled: Vec<&'static str>,
    /// The file's metadata key in the cache (see [`crate::cache`]).
    metadata: Option<u128>,
    /// Read from disk (not standard input), so its text can be read again.
    pub(super) on_disk: bool,
    /// Byte ranges only one-shot subcommands run (a serving binary's root file): findings
    /// there are kept only for rules that judge tool code.
    tool_spans: Vec<Range<usize>>,
}

impl RustPlace {
    /// What the file leaves for the project checks, given its facts.
    fn outcome(&self, facts: Option<crate::project::RustFacts>) -> Option<RustOutcome> {
        facts.map(|facts| RustOutcome {
            package: self.package.clone(),
            // Only production code's facts speak for a service.
            is_test: self.is_test || !self.role.role.is_production(),
            facts,
        })
    }

    /// Once read: a file a generator wrote is not checked (its callers are).
    pub(super) fn generated(&mut self, levels: &mut Vec<(&'static str, Severity)>) {
        self.role = FileRole {
            role: Role::Generated,
            evidence: "its header says it is generated".into(),
        };
        keep_rules_for_role(levels, Role::Generated);
        self.is_test = !walks(Role::Generated, levels);
        self.enabled = levels.iter().map(|(r, _)| *r).collect();
    }

    /// Drops findings inside subcommand code a deployment never runs, unless their rule judges
    /// tool code.
    fn drop_tool_findings(&self, findings: &mut Vec<Finding>) {
        if self.tool_spans.is_empty() {
            return;
        }
        findings.retain(|f| {
            !self.tool_spans.iter().any(|s| s.contains(&f.span.start))
                || rules::find(f.rule).is_none_or(|r| r.applies_to_role(Role::Tool))
        });
    }

    fn key<'a>(&'a self, input: &'a Input) -> FileKey<'a> {
        FileKey {
            path: &input.path,
            package_fingerprint: self.package.as_ref().map(|p| p.fingerprint),
            is_test: self.is_test,
            enabled: &self.enabled,
        }
    }
}

/// With a cache, the file's metadata is read before its text, so a change in between shows in
/// the next run's metadata.
pub(super) fn rust_place(
    input: &Input,
    levels: &mut Vec<(&'static str, Severity)>,
    packages: &PackageCache,
    surface: &Surface,
    cache: Option<&Cache>,
    on_disk: bool,
    max_file_size: u64,
) -> RustPlace {
    let package = packages.package_of(&input.path);
    let role = surface.role_of(&input.path, package.as_deref());
    keep_rules_for_role(levels, role.role);
    let tool_spans = if role.role.is_production() {
        (surface
            .tool_spans(&input.path, package.as_deref())
            .into_iter())
        .map(|(span, _)| span)
        .collect()
    } else {
        Vec::new()
    };
    let mut place = RustPlace {
        tool_spans,
        package,
        is_test: !walks(role.role, levels),
        role,
        enabled: levels.iter().map(|(r, _)| *r).collect(),
        metadata: None,
        on_disk,
    };
    place.metadata = cache.filter(|_| on_disk).and_then(|c| {
        let meta = std::fs::metadata(&input.path).ok()?;
        // Over the size limit: read_text says so.
        (meta.len() <= max_file_size)
            .then(|| c.metadata_key(&place.key(input), &meta))
            .flatten()
    });
    place
}

/// Whether a Rust file is walked: production code always (its facts feed the cross-file
/// rules), other code only when an enabled rule judges its role.
fn walks(role: Role, levels: &[(&'static str, Severity)]) -> bool {
    role.is_production()
        || levels
            .iter()
            .any(|(name, _)| rules::find(name).is_some_and(|r| r.meta.group != "meta"))
}

/// The outcome of a Rust file the cache holds under its metadata, without reading the file.
pub(super) fn without_reading(
    input: &Input,
    place: &mut RustPlace,
    levels: &mut Vec<(&'static str, Severity)>,
    cache: &Cache,
) -> Option<Outcome> {
    let mut entry = cache.get_by_metadata(place.metadata?, &input.path)?;
    if entry.generated {
        place.generated(levels);
    }
    let text = Arc::new(Text::unread(input.path.clone()));
    let source = SourceFile::with_text(input.path.clone(), input.display.clone(), input.kind, text);
    let mut suppressions = std::mem::take(&mut entry.suppressions);
    keep_reported_suppressions(&mut suppressions, levels);
    let (mut findings, internal, facts) = from_entry(entry);
    place.drop_tool_findings(&mut findings);
    Some(Outcome {
        source,
        levels: levels.to_vec(),
        findings,
        internal,
        suppressions,
        rust_facts: place.outcome(facts),
        k8s_facts: None,
        image: None,
        script_end: None,
    })
}

/// Malformed suppressions are reported only where `invalid-suppression` is enabled.
pub(super) fn keep_reported_suppressions(
    suppressions: &mut Suppressions,
    levels: &[(&'static str, Severity)],
) {
    let name = engine_rules::INVALID_SUPPRESSION.name;
    if !levels.iter().any(|(r, _)| *r == name) {
        suppressions.invalid.clear();
    }
}

#[allow(clippy::type_complexity)]
fn from_entry(
    entry: cache::Entry,
) -> (
    Vec<Finding>,
    Vec<(String, Range<usize>)>,
    Option<crate::project::RustFacts>,
) {
    let findings = (entry.findings.into_iter())
        .filter_map(CachedFinding::finding)
        .collect();
    (findings, entry.internal, entry.facts)
}

/// One Rust file read from disk (or standard input), to check or to find in the cache.
pub(super) struct RustCheck<'a> {
    pub(super) input: &'a Input,
    pub(super) text: &'a str,
    pub(super) levels: &'a [(&'static str, Severity)],
    pub(super) place: &'a RustPlace,
    pub(super) config: &'a Config,
}

impl RustCheck<'_> {
    /// The file's findings, rule panics and facts: from the cache under the text's key, or
    /// checked now (and stored, with `suppressions`).
    #[allow(clippy::type_complexity)]
    pub(super) fn outcome(
        &self,
        cache: Option<&Cache>,
        triggers: Option<&Triggers>,
        suppressions: &Suppressions,
    ) -> (
        Vec<Finding>,
        Vec<(String, Range<usize>)>,
        Option<RustOutcome>,
    ) {
        let RustCheck {
            input,
            text,
            levels,
            place,
            config,
        } = *self;
        let key = cache.map(|c| c.key(&place.key(input), text));
        let (findings, internal, facts) = match cache
            .zip(key)
            .and_then(|(c, k)| c.get(k, place.metadata, &input.path))
        {
            Some(entry) => from_entry(entry),
            None => {
                let mut fresh = Vec::new();
                let mut fresh_internal = Vec::new();
                let wanted = triggers
                    .map(|t| t.wanted(&input.path, place.package.as_ref(), place.is_test, config));
                let facts = rust_file(
                    RustInput {
                        text,
                        package: place.package.clone(),
                        is_test: place.is_test,
                        wanted: wanted.as_deref(),
                    },
                    levels,
                    config,
                    &mut fresh,
                    &mut fresh_internal,
                );
                if let (Some(c), Some(k)) = (cache, key) {
                    // A finding that cannot be stored keeps the whole file out.
                    let stored: Option<Vec<CachedFinding>> =
                        fresh.iter().map(CachedFinding::of).collect();
                    if let Some(stored) = stored {
                        c.put(
                            k,
                            place.metadata,
                            &input.path,
                            &cache::Entry {
                                findings: stored,
                                internal: fresh_internal.clone(),
                                facts: facts.clone(),
                                suppressions: suppressions.clone(),
                                generated: place.role.role == Role::Generated,
                            },
                        );
                    }
                }
                (fresh, fresh_internal, facts)
            }
        };
        let mut findings = findings;
        place.drop_tool_findings(&mut findings);
        (findings, internal, place.outcome(facts))
    }
}

/// What makes a Rust function body worth parsing, per package and set of enabled rules: the
/// fact extractors' triggers and those of every enabled rule (`rust_scan`).
pub(super) struct Triggers {
    /// The rules that declare triggers, found once per run.
    rules: Vec<&'static RuleInfo>,
    #[allow(clippy::type_complexity)]
    by_package: Mutex<HashMap<(Option<PathBuf>, Vec<&'static str>), Arc<rust_scan::Wanted>>>,
}

impl Triggers {
    pub(super) fn new() -> Triggers {
        Triggers {
            rules: rules::registry()
                .iter()
                .filter(|r| r.rule.rust_triggers().next().is_some())
                .collect(),
            by_package: Mutex::default(),
        }
    }

    fn wanted(
        &self,
        path: &Path,
        package: Option<&Arc<crate::project::Package>>,
        is_test: bool,
        config: &Config,
    ) -> Arc<rust_scan::Wanted> {
        // Test code is not walked: nothing in it is wanted.
        let rules: Vec<&'static str> = if is_test {
            Vec::new()
        } else {
            self.rules
                .iter()
                .filter(|r| config.level(r, path).is_some())
                .map(|r| r.name())
                .collect()
        };
        let key = (package.map(|p| p.root.clone()), rules);
        let mut memo = self.by_package.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = memo.get(&key) {
            return Arc::clone(w);
        }
        let mut triggers: Vec<&'static str> = Vec::new();
        if !is_test {
            triggers.extend(rust::FACT_TRIGGERS.iter().flat_map(|t| t.iter()));
            for r in self.rules.iter().filter(|r| key.1.contains(&r.name())) {
                triggers.extend(r.rule.rust_triggers());
            }
        }
        let depends_on = |krate: &str| package.is_none_or(|p| p.depends_on(krate));
        let mut wanted = rust_scan::Wanted::new(triggers, depends_on);
        // A crate renamed in Cargo.toml is named in code by its new name.
        if let Some(p) = package {
            let renamed: Vec<&str> = p
                .deps
                .iter()
                .filter(|(local, d)| **local != d.package && wanted.contains(&d.package))
                .map(|(local, _)| local.as_str())
                .collect();
            wanted.add_names(renamed);
        }
        let wanted = Arc::new(wanted);
        memo.insert(key, Arc::clone(&wanted));
        wanted
    }
}

/// A Rust file to parse: its text, package, whether it is test code, and which bodies to parse.
struct RustInput<'a> {
    text: &'a str,
    package: Option<Arc<crate::project::Package>>,
    is_test: bool,
    wanted: Option<&'a rust_scan::Wanted>,
}

/// Parses a Rust file and checks it; returns its facts (`None` when it does not parse or
/// extracting them panicked).
fn rust_file(
    input: RustInput<'_>,
    levels: &[(&'static str, Severity)],
    config: &Config,
    findings: &mut Vec<Finding>,
    internal: &mut Vec<(String, Range<usize>)>,
) -> Option<crate::project::RustFacts> {
    let RustInput {
        text,
        package,
        is_test,
        wanted,
    } = input;
    let parsed = guarded_value(|| rust::RustFile::parse(text, package, is_test, wanted));
    let facts = match parsed {
        Ok(Ok(file)) => check_rust(&file, levels, config, findings, internal),
        // A project template (cargo-generate, a framework's scaffolding) is not Rust that compiles:
        // said so, at info, instead of calling the file broken.
        Ok(Err(e)) if has_template_placeholders(text) => {
            let mut finding = parse_error_finding(
                "this file is a template with `{{ … }}` placeholders, not Rust that compiles, and was not checked".into(),
                e.span,
            );
            finding.at_most = Some(Severity::Info);
            finding.help = Some(
                "render the template and check the result, or exclude the template directory"
                    .into(),
            );
            findings.push(finding);
            None
        }
        Ok(Err(e)) => {
            findings.push(parse_error_finding(
                format!("cannot parse Rust: {}", e.message),
                e.span,
            ));
            None
        }
        Err(msg) => {
            internal.push((format!("the Rust parser panicked: {msg}"), 0..0));
            None
        }
    };
    // Spans are kept in a per-thread table; every one of this file's was turned into bytes.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts
}

/// Runs every enabled Rust rule and the fact extraction in one walk of the file; returns the
/// facts (`None` if extracting them panicked).
fn check_rust(
    file: &rust::RustFile,
    levels: &[(&'static str, Severity)],
    config: &Config,
    findings: &mut Vec<Finding>,
    internal: &mut Vec<(String, Range<usize>)>,
) -> Option<crate::project::RustFacts> {
    let checks: Vec<(&RuleInfo, rules::RustCheck)> = rules::registry()
        .iter()
        .filter(|info| levels.iter().any(|(r, _)| *r == info.name()))
        .flat_map(|info| {
            info.rule.checks.iter().filter_map(move |c| match c {
                Check::Rust(f, _) => Some((info, *f)),
                _ => None,
            })
        })
        .collect();
    let mut outs: Vec<Vec<Finding>> = checks.iter().map(|_| Vec::new()).collect();
    let mut ctxs: Vec<Ctx> = checks
        .iter()
        .zip(outs.iter_mut())
        .map(|((info, _), out)| Ctx::new(info.name(), 0, out, config.options(info.name())))
        .collect();
    let mut visitors: Vec<(&'static str, Box<dyn rust::RustVisitor>)> = Vec::new();
    for ((info, make), cx) in checks.iter().zip(ctxs.iter_mut()) {
        match guarded_value(|| make(file, cx)) {
            Ok(Some(visitor)) => visitors.push((info.name(), visitor)),
            Ok(None) => {}
            Err(msg) => internal.push((
                format!("rule `{}` panicked on this file: {msg}", info.name()),
                0..0,
            )),
        }
    }
    let mut facts = rust::FactsVisitor::new(file);
    let mut members: Vec<Member> = visitors
        .iter_mut()
        .map(|(rule, visitor)| Member {
            rule,
            visitor: &mut **visitor,
            panicked: None,
        })
        .collect();
    members.push(Member {
        rule: "",
        visitor: &mut facts,
        panicked: None,
    });
    let mut fanout = Fanout(members);
    rust::walk(file, &mut fanout);
    let mut facts_ok = true;
    for m in fanout.0 {
        match (m.panicked, m.rule) {
            (Some(_), "") => facts_ok = false,
            (Some(msg), rule) => {
                internal.push((format!("rule `{rule}` panicked on this file: {msg}"), 0..0))
            }
            (None, _) => {}
        }
    }
    drop(visitors);
    drop(ctxs);
    findings.extend(outs.into_iter().flatten());
    facts_ok.then(|| facts.finish())
}

/// One visitor of a shared walk; after a panic it is left out of the rest of the walk.
struct Member<'v> {
    /// The rule it belongs to; empty for the fact extraction.
    rule: &'static str,
    visitor: &'v mut dyn rust::RustVisitor,
    panicked: Option<String>,
}

/// Hands every callback of one walk to each member, each guarded on its own so a panicking rule
/// does not take the others with it.
struct Fanout<'v>(Vec<Member<'v>>);

impl Fanout<'_> {
    fn each(&mut self, f: impl Fn(&mut dyn rust::RustVisitor)) {
        for m in self.0.iter_mut().filter(|m| m.panicked.is_none()) {
            m.panicked = guarded(|| f(&mut *m.visitor));
        }
    }
}

impl rust::RustVisitor for Fanout<'_> {
    fn chain(&mut self, cx: &rust::Cx<'_>, chain: &rust::Chain<'_>) {
        self.each(|v| v.chain(cx, chain));
    }
    fn path_expr(&mut self, cx: &rust::Cx<'_>, path: &syn::ExprPath) {
        self.each(|v| v.path_expr(cx, path));
    }
    fn macro_tokens(&mut self, cx: &rust::Cx<'_>, mac: &syn::Macro) {
        self.each(|v| v.macro_tokens(cx, mac));
    }
    fn select(&mut self, cx: &rust::Cx<'_>, mac: &syn::Macro, branches: &[rust::SelectBranch<'_>]) {
        self.each(|v| v.select(cx, mac, branches));
    }
    fn macro_call(&mut self, cx: &rust::Cx<'_>, mac: &syn::Macro) {
        self.each(|v| v.macro_call(cx, mac));
    }
    fn function(&mut self, cx: &rust::Cx<'_>, attrs: &[syn::Attribute], f: &rust::FnCtx<'_>) {
        self.each(|v| v.function(cx, attrs, f));
    }
    fn looped(&mut self, cx: &rust::Cx<'_>, l: rust::Loop<'_>) {
        self.each(|v| v.looped(cx, l));
    }
    fn structure(&mut self, cx: &rust::Cx<'_>, s: &syn::ItemStruct) {
        self.each(|v| v.structure(cx, s));
    }
    fn item_static(&mut self, cx: &rust::Cx<'_>, s: &syn::ItemStatic) {
        self.each(|v| v.item_static(cx, s));
    }
}

/// `{{name}}`-style placeholders outside string literals' `{{`/`}}` escapes: an opening `{{`
/// followed, on the same line, by an identifier-like word and a closing `}}`.
fn has_template_placeholders(text: &str) -> bool {
    text.lines().any(|line| {
        line.match_indices("{{").any(|(at, _)| {
            let rest = line[at + 2..].trim_start();
            let word = rest
                .chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == '.' || c == '%' || c == '-');
            word && rest.contains("}}")
        })
    })
}
