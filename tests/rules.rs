//! The fixture harness: every case under `fixtures/<rule>/` is checked with only that rule enabled
//! (engine rules, group `meta`, run with the default rule set and are compared alone). Findings must
//! equal the `expect: <rule>` markers exactly; `good*` cases must produce nothing; the `full`
//! rendering of every `bad*` case is an insta snapshot next to the fixture. Each case is also
//! checked with every function body parsed and must give the same result (`rust_scan`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use prodlint::config::{CliSelection, Config};
use prodlint::engine::{check, CacheSetting, Options, Report};
use prodlint::output::{self, Format, Style};
use prodlint::rules;

fn case_files(case: &Path) -> Vec<PathBuf> {
    if case.is_file() {
        return vec![case.to_path_buf()];
    }
    let mut files = Vec::new();
    let mut stack = vec![case.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

/// `# expect: rule` / `// expect: rule-a, rule-b`: on a line with code it names that line; alone on
/// its line it names the next line that is not itself a marker. JSON has no comments: a JSON
/// file's markers are lines `<line>: <rule>` of `<file>.expect` beside it.
fn markers(case: &Path) -> BTreeMap<(String, usize, String), usize> {
    let mut out = BTreeMap::new();
    for file in case_files(case) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let sidecar = PathBuf::from(format!("{}.expect", file.display()));
        if let Ok(expect) = std::fs::read_to_string(&sidecar) {
            let display = prodlint::discover::display_path(&file);
            for line in expect.lines() {
                let (at, rule) = line.split_once(':').expect("`<line>: <rule>` in .expect");
                let at: usize = at.trim().parse().expect("a line number in .expect");
                *out.entry((display.clone(), at, rule.trim().to_string()))
                    .or_default() += 1;
            }
            continue;
        }
        let display = prodlint::discover::display_path(&file);
        let lines: Vec<&str> = text.lines().collect();
        let is_marker_only = |l: &str| {
            let t = l.trim_start();
            (t.starts_with('#') || t.starts_with("//")) && t.contains("expect:")
        };
        for (i, line) in lines.iter().enumerate() {
            let Some(at) = line.find("expect:") else {
                continue;
            };
            let before = line[..at].trim_end();
            let code = before.trim_end_matches('#').trim_end_matches("//").trim();
            if !(before.ends_with('#') || before.ends_with("//")) {
                continue;
            }
            let target = if code.is_empty() {
                let mut j = i + 1;
                while j < lines.len() && is_marker_only(lines[j]) {
                    j += 1;
                }
                j + 1
            } else {
                i + 1
            };
            for name in line[at + "expect:".len()..].split(',') {
                let name = name.split_whitespace().next().unwrap_or("");
                if !name.is_empty() {
                    *out.entry((display.clone(), target, name.to_string()))
                        .or_default() += 1;
                }
            }
        }
    }
    out
}

fn run(rule: &rules::RuleInfo, case: &Path, cache: CacheSetting, parse_every_body: bool) -> Report {
    let mut config = if case.is_dir() && case.join("prodlint.toml").is_file() {
        Config::load(&case.join("prodlint.toml")).expect("fixture config")
    } else {
        Config::default()
    };
    // Preview rules are checked like the others (which rules are preview changes as they are
    // measured).
    config.cli.preview = Some(true);
    if rule.meta.group != "meta" {
        config.cli = CliSelection {
            select: Some(vec![rule.name().to_string()]),
            ignore: Vec::new(),
            // Preview rules are checked like the others.
            preview: Some(true),
        };
    }
    let mut report = check(Options {
        paths: vec![case.to_path_buf()],
        stdin: None,
        config,
        threads: Some(1),
        focus: None,
        force_exclude: false,
        cache,
        explain_services: false,
        explain_surface: false,
        parse_every_body,
    });
    if rule.meta.group == "meta" {
        report.diagnostics.retain(|d| d.rule == rule.name());
    }
    report
}

fn found(report: &Report) -> BTreeMap<(String, usize, String), usize> {
    let mut out = BTreeMap::new();
    for d in &report.diagnostics {
        let src = report.sources.get(d.primary.file).expect("source");
        let line = src.line_of(d.primary.span.start);
        *out.entry((src.display.clone(), line, d.rule.to_string()))
            .or_default() += 1;
    }
    out
}

#[test]
fn fixtures() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for rule in rules::registry() {
        let dir = Path::new("fixtures").join(rule.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            failures.push(format!("{}: no fixtures directory", rule.name()));
            continue;
        };
        let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        for case in names {
            let name = case
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_string();
            if name.ends_with(".expect") {
                continue; // a JSON case's markers, read with it
            }
            let bad = name.starts_with("bad");
            if !bad && !name.starts_with("good") {
                continue;
            }
            cases += 1;
            let report = run(rule, &case, CacheSetting::Off, false);
            // The same case from a cold and then a warm cache must render identically: every
            // rule's findings survive the round trip through the cache.
            let cache_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join("fixture-cache")
                .join(rule.name())
                .join(&name);
            let _ = std::fs::remove_dir_all(&cache_dir);
            let style = || Style {
                color: false,
                width: 100,
            };
            let uncached = output::render(&report, Format::Full, style());
            // Function bodies left unparsed must not change anything: a rule whose triggers
            // miss what it reads fails here.
            let every_body = run(rule, &case, CacheSetting::Off, true);
            if output::render(&every_body, Format::Full, style()) != uncached {
                failures.push(format!(
                    "{}: parsing every function body changes the findings (are the rule's triggers missing something it reads?)\n--- triggers on:\n{uncached}\n--- every body:\n{}",
                    case.display(),
                    output::render(&every_body, Format::Full, style())
                ));
            }
            for pass in ["cold", "warm"] {
                let cached = run(rule, &case, CacheSetting::Dir(cache_dir.clone()), false);
                if output::render(&cached, Format::Full, style()) != uncached {
                    failures.push(format!(
                        "{}: the {pass}-cache run differs from the uncached one",
                        case.display()
                    ));
                }
            }
            let expected = if bad { markers(&case) } else { BTreeMap::new() };
            let actual = found(&report);
            if expected != actual {
                failures.push(format!(
                    "{}: findings differ from markers\n  expected: {expected:?}\n  actual:   {actual:?}\n{}",
                    case.display(),
                    output::render(&report, Format::Concise, Style { color: false, width: 100 })
                ));
            }
            if bad && expected.is_empty() {
                failures.push(format!(
                    "{}: a bad case needs at least one `expect:` marker",
                    case.display()
                ));
            }
            if bad {
                let rendered = output::render(
                    &report,
                    Format::Full,
                    Style {
                        color: false,
                        width: 100,
                    },
                );
                let snapshot = std::panic::catch_unwind(|| {
                    let mut settings = insta::Settings::clone_current();
                    settings.set_snapshot_path(
                        std::env::current_dir()
                            .expect("cwd")
                            .join(dir.join("snapshots")),
                    );
                    settings.set_prepend_module_to_snapshot(false);
                    settings.set_omit_expression(true);
                    settings.bind(|| insta::assert_snapshot!(name.clone(), rendered));
                });
                if snapshot.is_err() {
                    failures.push(format!(
                        "{}: snapshot differs (review with `cargo insta review`)",
                        case.display()
                    ));
                }
            }
        }
    }
    assert!(cases > 0, "no fixture cases found");
    assert!(
        failures.is_empty(),
        "{} failure(s):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
