use crate::lang::rust::{call_span, path_segments, Chain, Cx, FnCtx, RustFile, RustVisitor};
use crate::project::Project;
use crate::rules::rust::service::handler_bodies;
use crate::rules::rust::support::{later_methods, squeezed};
use crate::rules::{rule_doc, Check, Ctx, Rule, RustTriggers};

pub static RULE: Rule = Rule {
    name: "unbounded-in-memory-cache",
    doc: rule_doc!("unbounded-in-memory-cache"),
    checks: &[
        Check::Rust(check, TRIGGERS),
        Check::Project(check_static_maps),
    ],
    options: None,
};

/// Function bodies this rule reads (see `RustTriggers`).
/// Cache builders; `#[cached]` attributes are always parsed, and the static-map half reads the service facts.
const TRIGGERS: RustTriggers = &[
    "moka:Cache",
    "moka:SegmentedCache",
    "moka:CacheBuilder",
    "cached:UnboundCache",
];

fn check<'a>(_file: &'a RustFile, cx: &'a mut Ctx<'_>) -> Option<Box<dyn RustVisitor + 'a>> {
    Some(Box::new(Visitor { cx }))
}

struct Visitor<'c, 'a> {
    cx: &'c mut Ctx<'a>,
}

const MOKA_BUILDERS: &[&str] = &[
    "moka::sync::Cache::builder",
    "moka::future::Cache::builder",
    "moka::sync::SegmentedCache::builder",
    "moka::sync::CacheBuilder::default",
    "moka::future::CacheBuilder::default",
];

const CACHED_UNBOUND: &[&str] = &[
    "cached::UnboundCache::new",
    "cached::UnboundCache::with_capacity",
    "cached::stores::UnboundCache::new",
    "cached::stores::UnboundCache::with_capacity",
];

const GROWS_FOREVER: &str = "Rust has no memory limit of its own: when the process reaches the container's limit it is OOM-killed";

impl RustVisitor for Visitor<'_, '_> {
    fn chain(&mut self, w: &Cx<'_>, chain: &Chain<'_>) {
        let Some(call) = chain.base_call() else {
            return;
        };
        if w.call_matches(call, MOKA_BUILDERS).is_some() {
            let mut methods: Vec<&syn::ExprMethodCall> = chain.methods().collect();
            methods.extend(later_methods(w, chain));
            let bounded = methods
                .iter()
                .any(|m| m.method == "max_capacity" || m.method == "weigher");
            if !bounded && !unit_key(w.file, call_span(w.file, call).start) {
                self.cx
                    .report(
                        call_span(w.file, call),
                        format!("this moka cache has no `max_capacity`: it keeps every entry until it expires or is invalidated. {GROWS_FOREVER}"),
                    )
                    .help("set `.max_capacity(n)` (with `.weigher(..)` to count bytes instead of entries)");
            }
        } else if w.call_matches(call, CACHED_UNBOUND).is_some() {
            self.cx
                .report(
                    call_span(w.file, call),
                    format!("`UnboundCache` never evicts. {GROWS_FOREVER}"),
                )
                .help("use `SizedCache::with_size(n)` or `TimedSizedCache`");
        }
    }

    /// `#[cached]` with no `size` (or a custom `ty`) memoizes into an `UnboundCache`.
    fn function(&mut self, w: &Cx<'_>, attrs: &[syn::Attribute], f: &FnCtx<'_>) {
        if !w.file.uses_crate("cached") {
            return;
        }
        for attr in attrs {
            let segs = path_segments(attr.path());
            if segs.last().is_none_or(|l| l != "cached") {
                continue;
            }
            let args = match &attr.meta {
                syn::Meta::List(l) => l.tokens.to_string(),
                _ => String::new(),
            };
            let sized = ["size", "ty", "type", "create", "max_size"]
                .iter()
                .any(|k| {
                    args.split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == *k)
                });
            if !sized {
                let span = w
                    .file
                    .join(attr.pound_token.span, attr.bracket_token.span.close());
                self.cx
                    .report(
                        span,
                        format!("`#[cached]` without `size` memoizes `{}` into an `UnboundCache`: one entry per distinct argument, forever. {GROWS_FOREVER}", f.name),
                    )
                    .help("bound it: `#[cached(size = 1000)]`, or `#[cached(size = 1000, time = 60)]` for a time-limited sized cache");
            }
        }
    }
}

/// `static CACHE: LazyLock<Cache<(), T>> = LazyLock::new(|| Cache::builder()..)`: a cache keyed by
/// `()` holds one entry, by `u8` at most 256. The declared type is read from the text just before
/// the builder.
fn unit_key(file: &RustFile, at: usize) -> bool {
    let before = &file.text[..at.min(file.text.len())];
    let start = before.char_indices().rev().nth(300).map_or(0, |(i, _)| i);
    let window = squeezed(&before[start..]);
    // Keys of `()`, `bool` or `u8` bound the cache to a handful of entries.
    window.rfind("Cache<").is_some_and(|i| {
        ["Cache<(),", "Cache<bool,", "Cache<u8,", "Cache<i8,"]
            .iter()
            .any(|k| window[i..].starts_with(k))
    })
}

/// Methods that take entries out of a map.
const REMOVALS: &[&str] = &[
    "remove",
    "retain",
    "clear",
    "drain",
    "pop",
    "pop_first",
    "pop_last",
    "truncate",
    "remove_entry",
    "shift_remove",
    "swap_remove",
    "split_off",
    "take",
];
const INSERTS: &[&str] = &["insert", "entry", "push", "extend", "get_or_insert_with"];

/// A `static` map filled in request handlers and never emptied anywhere in the package.
fn check_static_maps(project: &Project, cx: &mut Ctx) {
    for package in project.rust_packages() {
        let handlers = handler_bodies(&package);
        for f in &package {
            for (name, span) in &f.facts.service.static_maps {
                let uses = package
                    .iter()
                    .flat_map(|g| g.static_uses(name).into_iter().map(move |u| (g.file, u)));
                let mut removed = false;
                let mut filled_in_handler = None;
                for (file, u) in uses {
                    if u.methods.iter().any(|m| REMOVALS.contains(&m.as_str())) {
                        removed = true;
                    }
                    let inserts = u.methods.iter().any(|m| INSERTS.contains(&m.as_str()));
                    let in_handler = handlers
                        .iter()
                        .any(|h| h.file == file && h.range.contains(&u.span.start));
                    if inserts && in_handler && filled_in_handler.is_none() {
                        filled_in_handler = Some((file, u.span.clone()));
                    }
                }
                if let (false, Some((file, at))) = (removed, filled_in_handler) {
                    cx.report_in(
                        f.file,
                        span.clone(),
                        format!("the static map `{name}` gains entries in a request handler and nothing ever removes them. {GROWS_FOREVER}"),
                    )
                    .related(file, at, "filled here, per request")
                    .help("use a bounded cache (moka with `max_capacity`) or remove entries when they are no longer needed");
                }
            }
        }
    }
}
