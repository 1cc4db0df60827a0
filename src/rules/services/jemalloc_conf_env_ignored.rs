use std::ops::Range;
use std::path::Path;

use crate::lang::dockerfile_facts::ImageFacts;
use crate::project::Project;
use crate::rules::services::{env_setting, image_of};
use crate::rules::{rule_doc, Check, Ctx, Finding, Rule, RustTriggers};
use crate::services::{rust_files, service_packages, Source};
use crate::source::FileId;

pub static RULE: Rule = Rule {
    name: "jemalloc-conf-env-ignored",
    doc: rule_doc!("jemalloc-conf-env-ignored"),
    checks: &[Check::Project(check), Check::RustFacts(TRIGGERS)],
    options: None,
};

/// The `#[global_allocator]` static it looks for is an item, always parsed; listed for the
/// lookup (see `RustTriggers`).
const TRIGGERS: RustTriggers = &["Jemalloc"];

/// The jemalloc crates and the features that drop the `_rjem_` symbol prefix (feature
/// unification: any of them enabling it enables it for all).
const JEMALLOC_CRATES: &[&str] = &[
    "tikv_jemallocator",
    "tikv_jemalloc_sys",
    "jemallocator",
    "jemalloc_sys",
];
const UNPREFIXING: &[&str] = &[
    "unprefixed_malloc_on_supported_platforms",
    "override_allocator_on_supported_platforms",
];

/// How the service's jemalloc reads its configuration.
struct Jemalloc {
    /// Unprefixed symbols: reads `MALLOC_CONF`; else `_RJEM_MALLOC_CONF`.
    unprefixed: bool,
    /// The unprefixing feature is enabled (a musl build keeps the prefix anyway).
    feature: bool,
    /// The `cargo build` for a musl target, when that is what keeps the prefix.
    musl_build: Option<(FileId, Range<usize>)>,
    /// The `#[global_allocator]` static.
    allocator: Option<(FileId, Range<usize>)>,
    /// The crate the allocator comes from, for messages.
    krate: String,
}

impl Jemalloc {
    /// Points to the code that decides which variable jemalloc reads.
    fn relate(&self, finding: &mut Finding) {
        if let Some((file, span)) = &self.allocator {
            finding.related(*file, span.clone(), "jemalloc is the allocator here");
        }
        if let Some((file, span)) = &self.musl_build {
            finding.related(*file, span.clone(), "built for a musl target here");
        }
    }
}

/// The jemalloc the service installs as its allocator, if any.
fn jemalloc(
    project: &Project,
    root: &Path,
    image: Option<(FileId, &ImageFacts)>,
) -> Option<Jemalloc> {
    let files = rust_files(project, root);
    let allocator = files.iter().any(|f| {
        f.facts.refers_to("tikv_jemallocator::Jemalloc")
            || f.facts.refers_to("jemallocator::Jemalloc")
    });
    if !allocator {
        return None;
    }
    let deps: Vec<_> = service_packages(project, root)
        .into_iter()
        .flat_map(|p| p.deps.values())
        .filter(|d| JEMALLOC_CRATES.contains(&d.package.as_str()))
        .collect();
    let krate = deps
        .iter()
        .find(|d| d.package.ends_with("jemallocator"))?
        .package
        .replace('_', "-");
    let features = deps
        .iter()
        .any(|d| d.features.iter().any(|f| UNPREFIXING.contains(&f.as_str())));
    // On musl targets jemalloc keeps the prefix whatever the features say.
    let musl_build = image.and_then(|(file, i)| {
        let build = i.cargo.iter().find(|c| c.musl)?;
        Some((file, build.span.clone()))
    });
    let allocator = files.iter().find_map(|f| {
        let span = f.facts.runtime.allocators.first()?;
        Some((f.file, span.clone()))
    });
    Some(Jemalloc {
        unprefixed: features && musl_build.is_none(),
        feature: features,
        musl_build,
        allocator,
        krate,
    })
}

/// A variable jemalloc ignores, and the one it reads instead.
fn misnamed(
    jemalloc: &Jemalloc,
    set: &dyn Fn(&str) -> bool,
) -> Option<(&'static str, &'static str)> {
    let (read, ignored) = if jemalloc.unprefixed {
        ("MALLOC_CONF", "_RJEM_MALLOC_CONF")
    } else {
        ("_RJEM_MALLOC_CONF", "MALLOC_CONF")
    };
    // With both set, the ignored one may be meant for another program in the image.
    (set(ignored) && !set(read)).then_some((ignored, read))
}

fn message(jemalloc: &Jemalloc, ignored: &str, read: &str, whose: &str) -> String {
    let why = if jemalloc.unprefixed {
        format!(
            "`{}` is built with unprefixed symbols (`unprefixed_malloc_on_supported_platforms`), so jemalloc reads `{read}`",
            jemalloc.krate
        )
    } else if jemalloc.feature {
        format!("the image is built for a musl target, where `{}` keeps the `_rjem_` symbol prefix even with `unprefixed_malloc_on_supported_platforms`, so jemalloc reads `{read}`", jemalloc.krate)
    } else {
        format!(
            "`{}` prefixes jemalloc's symbols with `_rjem_` (its `unprefixed_malloc_on_supported_platforms` feature is off), so jemalloc reads `{read}`",
            jemalloc.krate
        )
    };
    format!("`{ignored}` in {whose} is ignored: {why}; the allocator runs with its defaults")
}

fn help(read: &str, jemalloc: &Jemalloc) -> String {
    if jemalloc.unprefixed || jemalloc.feature {
        format!("rename the variable to `{read}`")
    } else {
        format!("rename the variable to `{read}`, or enable `{}`'s `unprefixed_malloc_on_supported_platforms` feature (glibc targets only)", jemalloc.krate)
    }
}

fn check(project: &Project, cx: &mut Ctx) {
    // Variables in a manifest's container env.
    for (c, s) in project
        .k8s
        .containers
        .iter()
        .zip(&project.services.containers)
    {
        let Some(Source::Cargo(root)) = s.source.as_ref().map(|l| &l.to) else {
            continue;
        };
        let set = |name: &str| env_setting(project, c, name).is_some();
        // Looking for the allocator reads the service's files: only where a variable is set.
        if !set("MALLOC_CONF") && !set("_RJEM_MALLOC_CONF") {
            continue;
        }
        let image = image_of(project, c).map(|(file, _, i)| (*file, i));
        let Some(jemalloc) = jemalloc(project, root, image) else {
            continue;
        };
        let Some((ignored, read)) = misnamed(&jemalloc, &set) else {
            continue;
        };
        // Set in the image rather than the manifest: reported at its `ENV` below.
        let Some(setting) = env_setting(project, c, ignored).filter(|e| e.file == c.file) else {
            continue;
        };
        let finding = cx
            .report_in(
                c.file,
                setting.span,
                message(
                    &jemalloc,
                    ignored,
                    read,
                    &format!("the env of `{}`", c.spec.name),
                ),
            )
            .help(help(read, &jemalloc));
        jemalloc.relate(finding);
    }
    // Variables in an image's ENV.
    for (i, (file, _, image)) in project.dockerfiles.iter().enumerate() {
        let source = project
            .services
            .dockerfile_sources
            .get(i)
            .and_then(Option::as_ref);
        let Some(Source::Cargo(root)) = source.map(|l| &l.to) else {
            continue;
        };
        let set = |name: &str| image.env.iter().any(|(n, _, _)| n == name);
        if !set("MALLOC_CONF") && !set("_RJEM_MALLOC_CONF") {
            continue;
        }
        let Some(jemalloc) = jemalloc(project, root, Some((*file, image))) else {
            continue;
        };
        let Some((ignored, read)) = misnamed(&jemalloc, &set) else {
            continue;
        };
        let Some((_, _, span)) = image.env.iter().find(|(n, _, _)| n == ignored) else {
            continue;
        };
        let finding = cx
            .report_in(
                *file,
                span.clone(),
                message(&jemalloc, ignored, read, "the image's `ENV`"),
            )
            .help(help(read, &jemalloc));
        jemalloc.relate(finding);
    }
}
