//! Every rule is complete (docs with the required sections, fixtures, snapshots), nothing is
//! orphaned, documented examples behave as documented, and docs/rules.md is current.

use std::collections::BTreeSet;
use std::path::Path;

use prodlint::cli::{rules_listing, RulesFormat};
use prodlint::config::{CliSelection, Config};
use prodlint::engine::check_text;
use prodlint::rules::{self, registry};

const SECTIONS: &[&str] = &[
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
];
const KINDS: &[&str] = &["rust", "dockerfile", "kubernetes", "workflow", "script"];

fn dir_names(path: &str) -> BTreeSet<String> {
    std::fs::read_dir(path)
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rule_docs_are_complete() {
    let mut problems = Vec::new();
    for r in registry() {
        let name = r.name();
        if r.meta.name != name {
            problems.push(format!("{name}: front matter says `{}`", r.meta.name));
        }
        let kebab = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !kebab || name.starts_with("no-") || name.starts_with('-') || name.ends_with('-') {
            problems.push(format!(
                "{name}: rule names are kebab-case and name the problem"
            ));
        }
        if !rules::is_group(&r.meta.group) {
            problems.push(format!("{name}: unknown group `{}`", r.meta.group));
        }
        if r.meta.kinds.is_empty() || r.meta.kinds.iter().any(|k| !KINDS.contains(&k.as_str())) {
            problems.push(format!("{name}: kinds must be some of {KINDS:?}"));
        }
        // A Rust rule says which roles of the production surface it judges (`src/surface.rs`).
        let rust_only = r.meta.kinds.iter().all(|k| k == "rust");
        if rust_only && r.meta.group != "meta" && r.meta.roles.is_none() {
            problems.push(format!("{name}: a Rust rule lists its `roles`"));
        }
        if r.is_preview() && !r.body.contains("precision") {
            problems.push(format!(
                "{name}: a preview rule's doc gives its measured precision and known traps"
            ));
        }
        let s = &r.meta.summary;
        if s.is_empty() || s.ends_with('.') || s.chars().next().is_some_and(char::is_uppercase) {
            problems.push(format!(
                "{name}: summary must be lowercase without a trailing period"
            ));
        }
        let mut last = 0;
        for section in SECTIONS {
            match r.body.find(&format!("\n{section}\n")) {
                Some(at) if at >= last => last = at,
                Some(_) => problems.push(format!("{name}: `{section}` is out of order")),
                None => problems.push(format!("{name}: missing `{section}`")),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn registry_is_sorted_and_unique() {
    let names: Vec<&str> = rules::ALL.iter().map(|r| r.name).collect();
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        names, sorted,
        "rules::ALL must be sorted by name, without duplicates"
    );
}

#[test]
fn no_orphans_and_every_rule_has_cases_and_snapshots() {
    let names: BTreeSet<String> = registry().iter().map(|r| r.name().to_string()).collect();
    let mut problems = Vec::new();
    for doc in dir_names("rules") {
        let stem = doc.trim_end_matches(".md");
        if !names.contains(stem) {
            problems.push(format!("rules/{doc}: no rule with this name"));
        }
    }
    for dir in dir_names("fixtures") {
        if !matches!(dir.as_str(), "demo" | "cli" | "prodlint.toml") && !names.contains(&dir) {
            problems.push(format!("fixtures/{dir}: no rule with this name"));
        }
    }
    for name in &names {
        let cases = dir_names(&format!("fixtures/{name}"));
        let bad: Vec<&String> = cases.iter().filter(|c| c.starts_with("bad")).collect();
        if bad.is_empty() {
            problems.push(format!("{name}: no fixtures/{name}/bad* case"));
        }
        if !cases.iter().any(|c| c.starts_with("good")) {
            problems.push(format!("{name}: no fixtures/{name}/good* case"));
        }
        let snaps = dir_names(&format!("fixtures/{name}/snapshots"));
        for b in &bad {
            if !snaps.contains(&format!("{b}.snap")) {
                problems.push(format!("{name}: {b} has no snapshot"));
            }
        }
        for s in &snaps {
            let case = s.trim_end_matches(".snap");
            if !s.ends_with(".snap") || !bad.iter().any(|b| b.as_str() == case) {
                problems.push(format!("fixtures/{name}/snapshots/{s}: orphan snapshot"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The first fenced block after a heading: (info string, code).
fn block_after<'a>(body: &'a str, heading: &str) -> Option<(&'a str, &'a str)> {
    let rest = &body[body.find(heading)? + heading.len()..];
    let open = rest.find("```")?;
    let rest = &rest[open + 3..];
    let info_end = rest.find('\n')?;
    let info = &rest[..info_end];
    let code = &rest[info_end + 1..];
    Some((info.trim(), &code[..code.find("\n```")? + 1]))
}

fn findings_of(rule: &rules::RuleInfo, info: &str, code: &str) -> usize {
    let name = match info {
        "rust" => "example.rs",
        "dockerfile" => "Dockerfile",
        // A YAML example is a workflow for rules of workflows and not of manifests.
        "yaml"
            if rule.meta.kinds.iter().any(|k| k == "workflow")
                && !rule.meta.kinds.iter().any(|k| k == "kubernetes") =>
        {
            ".github/workflows/ci.yml"
        }
        // Not `example.yaml`: a file named as an example is judged as one (not deployed).
        "yaml" => "manifest.yaml",
        "sh" | "bash" => "script.sh",
        "make" | "makefile" => "Makefile",
        other => panic!("{}: unknown example language `{other}`", rule.name()),
    };
    let mut config = Config::default();
    config.cli.preview = Some(true);
    if rule.meta.group != "meta" {
        config.cli = CliSelection {
            select: Some(vec![rule.name().to_string()]),
            ignore: Vec::new(),
            // Preview rules are checked like the others.
            preview: Some(true),
        };
    }
    check_text(name, code, config)
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule.name())
        .count()
}

#[test]
fn documented_examples_behave() {
    let mut problems = Vec::new();
    for r in registry() {
        for (heading, should_fire) in [("## Example", true), ("## Use instead", false)] {
            let Some((info, code)) = block_after(r.body, heading) else {
                problems.push(format!("{}: no code block under `{heading}`", r.name()));
                continue;
            };
            if info.ends_with(",ignore") {
                continue;
            }
            let n = findings_of(r, info, code);
            if should_fire && n == 0 {
                problems.push(format!(
                    "{}: the `{heading}` block does not trigger the rule",
                    r.name()
                ));
            }
            if !should_fire && n > 0 {
                problems.push(format!(
                    "{}: the `{heading}` block triggers the rule",
                    r.name()
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_md_is_current() {
    let expected = rules_listing(RulesFormat::Markdown, &prodlint::config::Config::default());
    let path = Path::new("docs/rules.md");
    if std::env::var_os("PRODLINT_BLESS").is_some() {
        std::fs::write(path, &expected).expect("write docs/rules.md");
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is out of date: run `PRODLINT_BLESS=1 cargo test --test meta`"
    );
}

/// The complete example in docs/configuration.md is a config prodlint accepts, and it does what the
/// page says.
#[test]
fn configuration_doc_example_is_valid() {
    let doc = std::fs::read_to_string("docs/configuration.md").expect("docs/configuration.md");
    let start = doc.find("```toml\n").expect("a toml example") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("end of the example");
    let config = Config::parse(
        &doc[start..end],
        Path::new("prodlint.toml"),
        Path::new("/repo"),
    )
    .unwrap_or_else(|e| panic!("docs/configuration.md example: {e}"));
    assert_eq!(config.fail_on, Some(prodlint::diagnostic::Severity::Error));
    assert!(config.preview(), "the example turns preview rules on");
    let level = |rule: &str, path: &str| {
        config.level(rules::find(rule).expect("rule exists"), Path::new(path))
    };
    assert!(level("missing-liveness-probe", "/repo/k8s/app.yaml").is_some());
    assert_eq!(
        level("missing-liveness-probe", "/repo/deploy/dev/app.yaml"),
        None
    );
    assert_eq!(
        level("single-replica-deployment", "/repo/k8s/app.yaml"),
        None
    );
    // Not selected.
    assert_eq!(level("container-runs-as-root", "/repo/k8s/app.yaml"), None);
    assert_eq!(
        level("image-tag-not-pinned", "/repo/docker/dev.Dockerfile"),
        Some(prodlint::diagnostic::Severity::Info)
    );
    assert_eq!(
        level("image-tag-not-pinned", "/repo/Dockerfile"),
        Some(prodlint::diagnostic::Severity::Error)
    );
}

/// Every path or method a rule looks up in the package facts (`Evidence::path("..")`,
/// `Evidence::linked_path("..")`,
/// `refers_to("..")`, `methods.contains("..")`) must be covered by the rule's own Rust
/// triggers or the fact extractors': otherwise a body holding it may be left unparsed and the
/// evidence missed.
#[test]
fn evidence_is_covered_by_triggers() {
    // The string literal right after each lookup call's opening parenthesis.
    let lookups = |source: &str| -> Vec<String> {
        let mut out = Vec::new();
        for call in [
            "Evidence::path(",
            "Evidence::linked_path(",
            "Evidence::method(",
            "refers_to(",
            "methods.contains(",
        ] {
            for (at, _) in source.match_indices(call) {
                let rest = source[at + call.len()..].trim_start();
                if let Some(lit) = rest.strip_prefix('"').and_then(|r| r.split('"').next()) {
                    out.push(lit.to_string());
                }
            }
        }
        out
    };
    let facts: Vec<&str> = prodlint::lang::rust::FACT_TRIGGERS
        .iter()
        .flat_map(|t| t.iter().copied())
        .collect();
    let name_of = |t: &str| -> String {
        let t = t
            .split_once(':')
            .filter(|(_, r)| !r.starts_with(':'))
            .map_or(t, |(_, r)| r);
        t.trim_end_matches('!').to_string()
    };
    let mut uncovered = Vec::new();
    let mut seen = 0;
    for rule in registry() {
        let file = rule.name().replace('-', "_");
        let Some(path) = [
            "rust",
            "services",
            "dockerfile",
            "kubernetes",
            "workflow",
            "shell",
        ]
        .iter()
        .map(|d| format!("src/rules/{d}/{file}.rs"))
        .find(|p| Path::new(p).is_file()) else {
            continue;
        };
        let source = std::fs::read_to_string(&path).unwrap();
        let names: BTreeSet<String> = rule
            .rule
            .rust_triggers()
            .chain(facts.iter().copied())
            .map(name_of)
            .collect();
        for looked_up in lookups(&source) {
            seen += 1;
            let covered = looked_up
                .split([':', '.'])
                .any(|segment| names.contains(segment));
            if !covered {
                uncovered.push(format!("{}: `{looked_up}`", rule.name()));
            }
        }
    }
    assert!(
        seen > 20,
        "the lookups were not found ({seen}); has the evidence API changed?"
    );
    assert!(
        uncovered.is_empty(),
        "not covered by any trigger: {uncovered:#?}"
    );
}

/// `rust-version` tells the truth: no locked dependency declares a newer one (`cargo metadata`
/// reads each package's `rust-version`), so the documented toolchain builds the locked tree.
#[test]
fn rust_version_covers_every_locked_dependency() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let version = |v: &str| -> Vec<u32> {
        let mut parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap_or(0)).collect();
        parts.resize(3, 0);
        parts
    };
    let ours = version(env!("CARGO_PKG_RUST_VERSION"));
    let newer: Vec<String> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter_map(|p| {
            let declared = p["rust_version"].as_str()?;
            (version(declared) > ours)
                .then(|| format!("{} {} needs {declared}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        newer.is_empty(),
        "rust-version {} is older than what locked dependencies need: {}",
        env!("CARGO_PKG_RUST_VERSION"),
        newer.join(", ")
    );
}
