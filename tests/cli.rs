//! The CLI end to end: formats, exit codes, config errors, suppressions, stdin and hostile input.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn prodlint(args: &[&str]) -> Output {
    prodlint_in(Path::new("."), args, None)
}

fn prodlint_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_prodlint"));
    // The suite exercises the engine with every rule: a check runs preview rules too unless the
    // test says `--no-preview` (which rules are preview changes as they are measured).
    let checks = !matches!(
        args.first(),
        Some(&("rules" | "rule" | "--help" | "--version"))
    );
    let chooses = args
        .iter()
        .any(|a| *a == "--preview" || *a == "--no-preview");
    cmd.args(args);
    if checks && !chooses {
        cmd.arg("--preview");
    }
    cmd.current_dir(dir)
        .env_remove("NO_COLOR")
        // Keep the suite's cache out of the user's cache directory.
        .env(
            "PRODLINT_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-cache"),
        )
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run prodlint");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

fn rules_of(v: &serde_json::Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| d["rule"].as_str().unwrap_or("").to_string())
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("prodlint-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn exit_codes() {
    assert_eq!(
        prodlint(&["check", "fixtures/cli/clean"]).status.code(),
        Some(0)
    );
    assert_eq!(prodlint(&["check", "fixtures/demo"]).status.code(), Some(1));
    let missing = prodlint(&["check", "fixtures/cli/does-not-exist"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("does-not-exist"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        prodlint(&["check", "--format", "yaml"]).status.code(),
        Some(2)
    );
    let unknown = prodlint(&["check", "--select", "no-such-rule", "fixtures/cli/clean"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no-such-rule"));
}

#[test]
fn fail_on_threshold() {
    // The demo's manifest has warnings, and one error that joins it with the code (its readiness
    // probe requests a path the service does not serve).
    let yaml = "fixtures/demo/deploy/orders.yaml";
    assert_eq!(prodlint(&["check", yaml]).status.code(), Some(1));
    let single_file = ["--ignore", "probe-path-not-served"];
    assert_eq!(
        prodlint(&[&["check", "--fail-on", "error", yaml][..], &single_file].concat())
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        prodlint(&["check", "--fail-on", "error", yaml])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        prodlint(&["check", "--fail-on", "info", "fixtures/cli/clean"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn check_is_the_default_command() {
    let a = prodlint(&["fixtures/demo", "--format", "concise", "--quiet"]);
    let b = prodlint(&["check", "fixtures/demo", "--format", "concise", "--quiet"]);
    assert_eq!(stdout(&a), stdout(&b));
    assert!(!stdout(&a).is_empty());
}

#[test]
fn concise_format() {
    let o = prodlint(&["check", "fixtures/demo", "--format", "concise"]);
    let out = stdout(&o);
    assert!(
        out.contains("fixtures/demo/Dockerfile:1:6: warning[image-tag-not-pinned] base image `rust:latest` uses the `latest` tag\n"),
        "{out}"
    );
    let last = out.lines().last().unwrap_or("");
    assert!(
        last.starts_with("Found 18 problems (3 errors, 12 warnings, 3 info) in 4 files"),
        "{last}"
    );
    // Not a terminal (a CI log): concise lines, each followed by its help (the summary's timing
    // differs between runs).
    let default = stdout(&prodlint(&["check", "fixtures/demo"]));
    let without = |s: &str, skip: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Found ") && !l.starts_with(skip))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(without(&out, "  help: "), without(&default, "  help: "));
    assert_eq!(default.matches("\n  help: ").count(), 18, "{default}");
    assert!(!out.contains("help:"), "{out}");
    // Colour when asked for, even in concise.
    let colored = stdout(&prodlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "concise",
        "--color",
        "always",
    ]));
    assert!(
        colored.contains("\u{1b}[1;33mwarning\u{1b}[0m"),
        "{colored}"
    );
}

#[test]
fn json_format_is_the_documented_schema() {
    let o = prodlint(&["check", "fixtures/demo", "--format", "json"]);
    let v = json(&o);
    assert_eq!(v["version"], 1);
    let d = &v["diagnostics"][0];
    for key in [
        "rule",
        "severity",
        "message",
        "help",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "related",
    ] {
        assert!(d.get(key).is_some(), "missing `{key}` in {d}");
    }
    assert_eq!(d["path"], "fixtures/demo/Dockerfile");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(6))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(1), Some(17))
    );
    let s = &v["summary"];
    assert_eq!(s["files_checked"], 4);
    assert_eq!(s["errors"], 3);
    assert_eq!(s["warnings"], 12);
    assert_eq!(s["infos"], 3);
    assert_eq!(s["suppressed"], 0);
    insta::assert_snapshot!("demo_json", stdout(&o));
}

#[test]
fn full_format_and_colors() {
    let plain = stdout(&prodlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "full",
        "--color",
        "never",
    ]));
    assert!(
        plain.contains("  --> fixtures/demo/deploy/orders.yaml:18:11\n"),
        "{plain}"
    );
    // Five findings on one line share one snippet: the line is shown once, each finding says
    // its severity once, and each one's help names its rule.
    assert_eq!(plain.matches("orders.yaml:18:11").count(), 1, "{plain}");
    assert!(plain.contains(
        "warning[missing-liveness-probe]: container `orders` has no liveness probe\nwarning[missing-memory-limit]"
    ));
    assert!(plain.contains("= help[missing-liveness-probe]: add a `livenessProbe`"));
    assert!(plain.contains("= help: pin a version tag"));
    assert!(!plain.contains("Advice") && !plain.contains('⚠'), "{plain}");
    assert!(!plain.contains('\u{1b}'));
    let colored = stdout(&prodlint(&[
        "check",
        "fixtures/demo",
        "--format",
        "full",
        "--color",
        "always",
    ]));
    assert!(colored.contains('\u{1b}'));
}

#[test]
fn suppressions_every_form() {
    let o = prodlint(&["check", "fixtures/cli/suppressions", "--format", "json"]);
    let v = json(&o);
    let mut rules = rules_of(&v);
    rules.sort();
    // Suppressed: image-tag (own line, Dockerfile), image-runs-as-root (own line, list),
    // image-tag (trailing, YAML), the two probes (annotation), the reqwest client (ignore-file).
    // Reported: the unused `shell-form-entrypoint` entry and the unknown rule name.
    assert_eq!(rules, ["invalid-suppression", "unused-suppression"], "{v}");
    assert_eq!(v["summary"]["suppressed"], 6, "{v}");
    let unused = v["diagnostics"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["rule"] == "unused-suppression"))
        .expect("unused");
    assert_eq!(unused["path"], "fixtures/cli/suppressions/Dockerfile");
    assert_eq!(
        (unused["line"].as_u64(), unused["column"].as_u64()),
        (Some(3), Some(40))
    );
    // Ignoring the rule of an unused suppression silences the report about it too.
    let o = prodlint(&[
        "check",
        "fixtures/cli/suppressions",
        "--format",
        "json",
        "--ignore",
        "shell-form-entrypoint",
    ]);
    assert_eq!(rules_of(&json(&o)), ["invalid-suppression"]);
}

#[test]
fn config_levels_excludes_and_overrides() {
    let o = prodlint_in(
        Path::new("fixtures/cli/config"),
        &["check", "--format", "concise", "--quiet"],
        None,
    );
    let out = stdout(&o);
    assert_eq!(
        out,
        "app.yaml:6:8: warning[missing-liveness-probe] container `app` has no liveness probe\n\
         app.yaml:6:26: error[image-tag-not-pinned] container `app` image `app` has no tag, so it pulls `latest`\n\
         dev/app.yaml:6:26: info[image-tag-not-pinned] container `app` image `app` has no tag, so it pulls `latest`\n"
    );
    // The excluded file is still checked when named explicitly.
    let o = prodlint_in(
        Path::new("fixtures/cli/config"),
        &["check", "vendor/app.yaml", "--format", "concise", "--quiet"],
        None,
    );
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    // --no-config ignores the file; --config names one.
    let o = prodlint_in(
        Path::new("fixtures/cli/config"),
        &["check", "--no-config", "--format", "json"],
        None,
    );
    assert_eq!(json(&o)["summary"]["files_checked"], 3);
    let o = prodlint(&[
        "check",
        "--config",
        "fixtures/cli/config/prodlint.toml",
        "fixtures/cli/config/app.yaml",
        "--format",
        "concise",
        "--quiet",
    ]);
    assert_eq!(stdout(&o).lines().count(), 2);
}

#[test]
fn config_errors_name_file_line_and_key() {
    let o = prodlint(&["check", "fixtures/cli/bad-config"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("prodlint.toml:3:1: unknown rule or group `missing-liveness-probes`"),
        "{err}"
    );
}

#[test]
fn stdin_with_filename() {
    let manifest = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: c:latest\n";
    let o = prodlint_in(
        Path::new("."),
        &[
            "check",
            "-",
            "--stdin-filename",
            "rendered.yaml",
            "--format",
            "concise",
            "--select",
            "image-tag-not-pinned",
            "--quiet",
        ],
        Some(manifest),
    );
    assert_eq!(stdout(&o), "rendered.yaml:7:14: warning[image-tag-not-pinned] container `c` image `c:latest` uses the `latest` tag\n");
    let o = prodlint_in(Path::new("."), &["check", "-"], Some(manifest));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--stdin-filename"));
    // A name for standard input without `-` to read it is a mistake, not a check of `.`.
    let o = prodlint_in(
        Path::new("fixtures/demo"),
        &["check", "--stdin-filename", "rendered.yaml"],
        Some(manifest),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no `-` path"), "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn rules_and_rule_commands() {
    let o = prodlint(&["rules", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert!(list
        .as_array()
        .is_some_and(|l| l.iter().any(|r| r["name"] == "image-runs-as-root")));
    let table = stdout(&prodlint(&["rules"]));
    assert!(table.contains("missing-memory-limit"));
    let doc = prodlint(&["rule", "image-runs-as-root"]);
    assert_eq!(doc.status.code(), Some(0));
    assert!(stdout(&doc).contains("## Why is this bad?"));
    assert_eq!(prodlint(&["rule", "no-such-rule"]).status.code(), Some(2));
}

#[test]
fn hostile_input_never_stops_the_run() {
    let dir = temp_dir("hostile");
    std::fs::write(dir.join("Dockerfile"), [0u8, 159, 146, 150, 0, 1, 2, 255]).unwrap();
    std::fs::write(dir.join("empty.yaml"), "").unwrap();
    std::fs::write(dir.join("empty.rs"), "").unwrap();
    std::fs::write(dir.join("Containerfile"), "").unwrap();
    std::fs::write(
        dir.join("latin1.yaml"),
        b"apiVersion: v1\nkind: Pod\nname: \xe9\n",
    )
    .unwrap();
    std::fs::write(dir.join("truncated.yaml"), "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: \"api\n").unwrap();
    std::fs::write(dir.join("invalid.rs"), "fn main( {\n").unwrap();
    std::fs::write(
        dir.join("deep.rs"),
        format!("fn f() {{ {} }}", "(".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(
        dir.join("deep.yaml"),
        format!("apiVersion: v1\nkind: List\nitems: {}", "[".repeat(100_000)),
    )
    .unwrap();
    std::fs::write(dir.join("bomb.yaml"), {
        let mut s = String::from("apiVersion: v1\nkind: List\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..15 {
            s.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        s
    })
    .unwrap();
    // A 2 MB manifest and a 2 MB Rust file: read and checked (a 10 MB pair made the debug test
    // suite 15 s slower without testing more).
    let mut big = String::new();
    while big.len() < 2 << 20 {
        big.push_str("---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: c, image: c:1, resources: {limits: {memory: 1Gi}}, livenessProbe: {tcpSocket: {port: 1}}, readinessProbe: {tcpSocket: {port: 1}}}\n");
    }
    std::fs::write(dir.join("big.yaml"), &big).unwrap();
    let mut big_rs = String::new();
    let mut i = 0;
    while big_rs.len() < 2 << 20 {
        big_rs.push_str(&format!("pub fn f{i}() -> u32 {{ let x = {i}; x + 1 }}\n"));
        i += 1;
    }
    std::fs::write(dir.join("big.rs"), &big_rs).unwrap();
    std::fs::write(
        dir.join("app.Dockerfile"),
        "FROM debian\nUSER 10001\nCMD [\"/app\"]\n",
    )
    .unwrap();

    let o = prodlint(&["check", dir.to_str().unwrap(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    let v = json(&o);
    let rules = rules_of(&v);
    assert!(
        rules.iter().any(|r| r == "image-tag-not-pinned"),
        "the good file is still checked: {rules:?}"
    );
    let parse_errors = rules.iter().filter(|r| *r == "parse-error").count();
    // truncated.yaml, invalid.rs, deep.rs, deep.yaml, bomb.yaml
    assert_eq!(parse_errors, 5, "{v}");
    assert!(!rules.iter().any(|r| r == "internal-error"), "{v}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Inputs sized so that anything quadratic in lines, continuations or line length would take
/// minutes and hang the suite; linear code takes milliseconds.
#[test]
fn pathological_shapes_stay_linear() {
    let dir = temp_dir("shapes");
    let mut continued = String::from("FROM debian:12\nRUN echo start \\\n");
    for i in 0..200_000 {
        continued.push_str(&format!("  && echo {i} \\\n"));
    }
    continued.push_str("  && echo end\n");
    std::fs::write(dir.join("continued.Dockerfile"), continued).expect("write");
    let long_line = format!("FROM debian:12\nRUN echo {}\n", "a".repeat(5 << 20));
    std::fs::write(dir.join("long.Dockerfile"), long_line).expect("write");
    let mut args = String::from("FROM debian:12\n");
    for i in 0..50_000 {
        args.push_str(&format!("ARG A{i}=x\nENV B{i}=${{A{i}}}\n"));
    }
    std::fs::write(dir.join("args.Dockerfile"), args).expect("write");
    let heredoc = format!(
        "FROM debian:12\nRUN <<EOF\n{}EOF\n",
        "echo hi\n".repeat(200_000)
    );
    std::fs::write(dir.join("heredoc.Dockerfile"), heredoc).expect("write");
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{a: \"{}\"}}\n",
        "a".repeat(5 << 20)
    );
    std::fs::write(dir.join("long.yaml"), yaml).expect("write");
    let rust = format!("fn f() -> &'static str {{ \"{}\" }}\n", "a".repeat(5 << 20));
    std::fs::write(dir.join("long.rs"), rust).expect("write");

    let o = prodlint(&[
        "check",
        dir.to_str().unwrap_or("."),
        "--format",
        "json",
        "--no-config",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["summary"]["files_checked"], 6, "{v}");
    assert!(
        !rules_of(&v)
            .iter()
            .any(|r| r == "internal-error" || r == "parse-error"),
        "{v}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn files_over_the_size_limit_are_skipped_with_a_note_not_read() {
    let dir = dir_with_bad_pod("too-large");
    // 100 MB, sparse: the file costs no disk, and reading it would cost 100 MB of memory.
    let huge = std::fs::File::create(dir.join("huge.yaml")).expect("create");
    huge.set_len(100 << 20).expect("set_len");
    drop(huge);
    let o = prodlint_in(&dir, &["check", ".", "--format", "concise"], None);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the rest is checked: {}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("pod.yaml"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("note: skipped `huge.yaml`: 100.0 MiB is over the 10.0 MiB limit"),
        "{}",
        stderr(&o)
    );
    // The limit is configurable; a file named on the command line is not exempt.
    std::fs::write(dir.join("prodlint.toml"), "[files]\nmax-size = \"100B\"\n").expect("write");
    let o = prodlint_in(&dir, &["check", "pod.yaml", "--format", "concise"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stderr(&o).contains("skipped `pod.yaml`"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_special_and_looping_paths_are_reported_and_the_rest_is_checked() {
    let dir = dir_with_bad_pod("unreadable");
    let missing = dir.join("missing.yaml");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A symlink loop, a named pipe that would block a reader forever, and a file and a
        // directory nobody may read (root may read them anyway; then they are simply checked).
        std::os::unix::fs::symlink(dir.join("loop-b"), dir.join("loop-a")).expect("symlink");
        std::os::unix::fs::symlink(dir.join("loop-a"), dir.join("loop-b")).expect("symlink");
        let fifo = dir.join("pipe.yaml");
        let made = Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        std::fs::write(
            dir.join("secret.yaml"),
            BAD_POD.replace("name: p", "name: s"),
        )
        .expect("write");
        std::fs::set_permissions(
            dir.join("secret.yaml"),
            std::fs::Permissions::from_mode(0o000),
        )
        .expect("chmod");
        std::fs::create_dir_all(dir.join("locked")).expect("mkdir");
        std::fs::write(dir.join("locked/pod.yaml"), BAD_POD).expect("write");
        std::fs::set_permissions(dir.join("locked"), std::fs::Permissions::from_mode(0o000))
            .expect("chmod");
    }
    let o = prodlint_in(
        &dir,
        &[
            "check",
            ".",
            missing.to_str().unwrap_or("missing.yaml"),
            "loop-a",
            "pipe.yaml",
            "--format",
            "concise",
        ],
        None,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        stdout(&o).contains("pod.yaml:"),
        "the rest is checked: {}",
        stdout(&o)
    );
    assert!(
        err.contains("cannot read") && err.contains("missing.yaml"),
        "{err}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert!(err.contains("loop-a"), "{err}");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout == b"0\n");
        if !root.unwrap_or(false) {
            assert!(
                err.contains("secret.yaml") && err.contains("locked"),
                "{err}"
            );
        }
        for p in ["secret.yaml", "locked"] {
            let _ = std::fs::set_permissions(dir.join(p), std::fs::Permissions::from_mode(0o755));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn symlinks_are_not_followed() {
    #[cfg(unix)]
    {
        let dir = temp_dir("symlink");
        let outside = temp_dir("symlink-outside");
        std::fs::write(outside.join("Dockerfile"), "FROM debian\n").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("link")).unwrap();
        let o = prodlint(&["check", dir.to_str().unwrap(), "--format", "json"]);
        assert_eq!(json(&o)["summary"]["files_checked"], 0);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&outside);
    }
}

#[test]
fn rendered_helm_output_names_its_templates() {
    let rendered = "---\n# Source: shop/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: shop}\nspec:\n  selector: {app: shop}\n---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\nspec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n        - {name: shop, image: \"shop:latest\"}\n";
    let o = prodlint_in(
        Path::new("."),
        &[
            "check",
            "-",
            "--stdin-filename",
            "rendered.yaml",
            "--no-config",
            "--select",
            "image-tag-not-pinned,missing-readiness-probe",
            "--format",
            "concise",
            "--quiet",
        ],
        Some(rendered),
    );
    // The template's path, with the line and column of the rendered text; the readiness finding
    // is a warning because the Service in the other template selects the pods.
    assert_eq!(
        stdout(&o),
        "shop/templates/deployment.yaml:20:12: warning[missing-readiness-probe] container `shop` has no readiness probe\n\
         shop/templates/deployment.yaml:20:31: warning[image-tag-not-pinned] container `shop` image `shop:latest` uses the `latest` tag\n"
    );
}

#[test]
fn committed_rendered_helm_output_keeps_its_own_path() {
    let rendered = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\nspec:\n  replicas: 2\n  template:\n    metadata:\n      labels: {app: shop}\n    spec:\n      containers:\n        - {name: shop, image: \"shop:latest\"}\n";
    let dir = temp_dir("rendered-helm");
    std::fs::write(dir.join("rendered.yaml"), rendered).expect("write");
    let o = prodlint_in(
        &dir,
        &[
            "check",
            ".",
            "--no-config",
            "--select",
            "image-tag-not-pinned",
            "--format",
            "concise",
            "--quiet",
        ],
        None,
    );
    // The file that exists, at its own line; the template only named.
    assert_eq!(
        stdout(&o),
        "rendered.yaml:13:31: warning[image-tag-not-pinned] container `shop` image `shop:latest` uses the `latest` tag (in the document rendered from `shop/templates/deployment.yaml`)\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn one_helm_notice_per_chart_naming_every_template() {
    let dir = temp_dir("helm-chart-notice");
    let templates = dir.join("chart").join("templates");
    std::fs::create_dir_all(&templates).expect("dir");
    std::fs::write(
        dir.join("chart").join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 1.0.0\n",
    )
    .expect("write");
    for name in ["deployment.yaml", "service.yaml"] {
        std::fs::write(
            templates.join(name),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
        )
        .expect("write");
    }
    std::fs::write(
        dir.join("loose.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n",
    )
    .expect("write");
    let o = prodlint_in(
        &dir,
        &["check", ".", "--no-config", "--format", "json"],
        None,
    );
    let diags = json(&o)["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .clone();
    let helm: Vec<&serde_json::Value> = diags
        .iter()
        .filter(|d| d["rule"] == "helm-template-skipped")
        .collect();
    assert_eq!(helm.len(), 2, "{diags:#?}");
    let chart = helm
        .iter()
        .find(|d| {
            d["message"]
                .as_str()
                .is_some_and(|m| m.contains("chart `chart`"))
        })
        .expect("one notice for the chart");
    assert!(
        chart["message"]
            .as_str()
            .is_some_and(|m| m.contains("the 2 templates")),
        "{chart}"
    );
    let related = chart["related"].as_array().expect("related");
    assert_eq!(related.len(), 1, "{chart}");
    assert!(
        related[0]["path"]
            .as_str()
            .is_some_and(|f| f.ends_with("service.yaml")),
        "{chart}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A temp directory holding `pod.yaml`, a Pod with a few findings.
fn dir_with_bad_pod(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("pod.yaml"), BAD_POD).expect("write");
    dir
}

const BAD_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: app, image: \"app:latest\"}\n";

#[test]
fn every_format_on_the_demo() {
    for format in ["full", "concise", "github", "gitlab", "junit", "sarif"] {
        let o = prodlint(&[
            "check",
            "fixtures/demo",
            "--format",
            format,
            "--quiet",
            "--color",
            "never",
        ]);
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let out = stdout(&o);
        // SARIF embeds every rule's documentation; the snapshot keeps to the results.
        let shown = if format == "sarif" {
            let v: serde_json::Value = serde_json::from_str(&out).expect("json");
            serde_json::to_string_pretty(&v["runs"][0]["results"]).expect("json")
        } else {
            out
        };
        insta::assert_snapshot!(format!("demo_{format}"), shown);
    }
}

#[test]
fn github_annotations_cannot_be_broken_by_paths_or_messages() {
    let dir = temp_dir("github");
    // A file name with every character the workflow-command syntax gives meaning to.
    let name = "evil,name:x%25\n::error file=y::z.yaml";
    std::fs::write(dir.join(name), BAD_POD).expect("write");
    let o = prodlint_in(
        &dir,
        &[
            "check",
            ".",
            "--no-config",
            "--format",
            "github",
            "--quiet",
            "--select",
            "image-tag-not-pinned",
        ],
        None,
    );
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with(
            "::warning file=evil%2Cname%3Ax%2525%0A%3A%3Aerror file=y%3A%3Az.yaml,line=6,"
        ),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn output_file_gets_the_report_and_the_terminal_the_summary() {
    let dir = dir_with_bad_pod("output");
    let o = prodlint_in(
        &dir,
        &[
            "check",
            "pod.yaml",
            "--no-config",
            "--format",
            "gitlab",
            "--output",
            "report.json",
            "--select",
            "image-tag-not-pinned",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with("Found 1 problem (1 warning) in 1 file"),
        "{}",
        stdout(&o)
    );
    let report = std::fs::read_to_string(dir.join("report.json")).expect("report");
    let v: serde_json::Value = serde_json::from_str(&report).expect("json");
    assert_eq!(v[0]["check_name"], "image-tag-not-pinned");
    assert_eq!(v[0]["location"]["lines"]["begin"], 6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn fingerprints_survive_lines_inserted_above() {
    let dir = temp_dir("fingerprint");
    let fingerprints = |text: &str| {
        std::fs::write(dir.join("pod.yaml"), text).expect("write");
        let o = prodlint_in(
            &dir,
            &["check", "pod.yaml", "--no-config", "--format", "gitlab"],
            None,
        );
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        let mut fps: Vec<String> = v
            .as_array()
            .expect("array")
            .iter()
            .map(|i| format!("{} {}", i["check_name"], i["fingerprint"]))
            .collect();
        fps.sort();
        fps
    };
    let before = fingerprints(BAD_POD);
    let after = fingerprints(&format!("# a comment\n# another one\n\n{BAD_POD}"));
    assert!(!before.is_empty());
    assert_eq!(before, after);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn statistics_count_rules_most_frequent_first() {
    // With `--format json`, the statistics are JSON and nothing else is on stdout.
    let o = prodlint(&["check", "fixtures/demo", "--statistics", "--format", "json"]);
    let counts: serde_json::Value = serde_json::from_slice(&o.stdout).expect("statistics JSON");
    let rows = counts.as_array().expect("an array");
    assert_eq!(
        rows.iter()
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum::<u64>(),
        18
    );
    assert!(rows.iter().any(|r| r["rule"] == "missing-memory-limit"));
    let o = prodlint(&["check", "fixtures/demo", "--statistics"]);
    let out = stdout(&o);
    let first = out.lines().next().unwrap_or("");
    assert!(first.trim_start().starts_with("2  "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.contains("missing-memory-limit")
                && l.contains("a container has no memory limit")),
        "{out}"
    );
    assert!(
        out.lines()
            .last()
            .unwrap_or("")
            .starts_with("Found 18 problems"),
        "{out}"
    );
}

#[test]
fn baseline_hides_old_findings_even_after_lines_are_inserted_above() {
    let dir = dir_with_bad_pod("baseline");
    let args = ["check", "pod.yaml", "--no-config", "--format", "concise"];
    let written = prodlint_in(
        &dir,
        &[&args[..], &["--write-baseline", "baseline.json"]].concat(),
        None,
    );
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    assert!(
        stdout(&written).starts_with("Wrote "),
        "{}",
        stdout(&written)
    );

    // Lines inserted at the top move every finding down.
    std::fs::write(
        dir.join("pod.yaml"),
        format!("# owned by the payments team\n\n{BAD_POD}"),
    )
    .expect("write");
    let o = prodlint_in(
        &dir,
        &[&args[..], &["--baseline", "baseline.json"]].concat(),
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.starts_with("No problems found in 1 file"), "{out}");
    assert!(out.contains("in the baseline"), "{out}");

    // A new finding is reported; the old ones stay hidden.
    let two = format!("{BAD_POD}---\napiVersion: v1\nkind: Pod\nmetadata: {{name: q}}\nspec:\n  containers:\n    - {{name: new, image: \"new:latest\"}}\n");
    std::fs::write(dir.join("pod.yaml"), two).expect("write");
    let o = prodlint_in(
        &dir,
        &[
            &args[..],
            &[
                "--baseline",
                "baseline.json",
                "--select",
                "image-tag-not-pinned",
                "--quiet",
            ],
        ]
        .concat(),
        None,
    );
    assert_eq!(
        stdout(&o),
        "pod.yaml:13:26: warning[image-tag-not-pinned] container `new` image `new:latest` uses the `latest` tag\n"
    );

    // Fixed findings leave stale entries, which are counted.
    std::fs::write(
        dir.join("pod.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
    )
    .expect("write");
    let o = prodlint_in(
        &dir,
        &[&args[..], &["--baseline", "baseline.json"]].concat(),
        None,
    );
    assert!(stderr(&o).contains("no longer match"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_baseline_is_a_clear_error() {
    let dir = dir_with_bad_pod("bad-baseline");
    std::fs::write(dir.join("baseline.json"), "{\"not\": \"a baseline\"}").expect("write");
    let o = prodlint_in(
        &dir,
        &[
            "check",
            "pod.yaml",
            "--no-config",
            "--baseline",
            "baseline.json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not a prodlint baseline"),
        "{}",
        stderr(&o)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn baseline_from_the_config_file() {
    let dir = dir_with_bad_pod("config-baseline");
    let w = prodlint_in(
        &dir,
        &[
            "check",
            "pod.yaml",
            "--no-config",
            "--write-baseline",
            "known.json",
        ],
        None,
    );
    assert_eq!(w.status.code(), Some(0), "{}", stderr(&w));
    std::fs::write(dir.join("prodlint.toml"), "baseline = \"known.json\"\n").expect("write");
    let o = prodlint_in(&dir, &["check", "pod.yaml", "--format", "concise"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The official schema, with format assertions on (`uri`, `uri-reference`): code scanning rejects
/// uploads that do not validate.
fn sarif_schema_errors(report: &serde_json::Value) -> Option<String> {
    let id = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json";
    let text = std::fs::read_to_string("tests/data/sarif-schema-2.1.0.json").expect("schema file");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("schema is JSON");
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.enable_format_assertions();
    compiler.add_resource(id, schema).expect("schema resource");
    let index = compiler.compile(id, &mut schemas).expect("schema compiles");
    schemas
        .validate(report, index)
        .err()
        .map(|e| format!("{e:#}"))
}

#[test]
fn sarif_of_the_demo_validates_against_the_sarif_schema() {
    let o = prodlint(&["check", "fixtures/demo", "--format", "sarif"]);
    let mut report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("sarif is JSON");
    assert!(report["runs"][0]["results"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    if let Some(errors) = sarif_schema_errors(&report) {
        panic!("the demo's SARIF does not validate:\n{errors}");
    }
    // The validator does reject what the schema forbids.
    report["runs"][0]["results"][0]["level"] = "fatal".into();
    report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let errors = sarif_schema_errors(&report).expect("an invalid report is rejected");
    assert!(
        errors.contains("/level") && errors.contains("/startLine"),
        "{errors}"
    );
}

#[test]
fn sarif_paths_with_spaces_commas_and_non_ascii_stay_valid_uris() {
    let dir = temp_dir("sarif-uri");
    let sub = dir.join("deploy dir");
    std::fs::create_dir_all(&sub).expect("mkdir");
    std::fs::write(sub.join("my app,v1 é#1.yaml"), BAD_POD).expect("write");
    let o = prodlint_in(&dir, &["check", ".", "--format", "sarif"], None);
    let report: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("sarif is JSON");
    let uri = &report["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
        ["artifactLocation"]["uri"];
    assert_eq!(uri, "deploy%20dir/my%20app%2Cv1%20%C3%A9%231.yaml");
    if let Some(errors) = sarif_schema_errors(&report) {
        panic!("{errors}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sarif_has_rules_results_regions_and_related_locations() {
    let o = prodlint(&["check", "fixtures/demo", "--format", "sarif"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("sarif is JSON");
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert!(rules.iter().all(|r| r["id"].is_string()
        && r["shortDescription"]["text"].is_string()
        && r["help"]["markdown"].is_string()));
    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), 18);
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(!loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap_or("/")
            .starts_with('/'));
        assert!(loc["region"]["startLine"].as_u64().unwrap_or(0) >= 1);
        assert!(["error", "warning", "note"].contains(&r["level"].as_str().unwrap_or("")));
    }
}

#[test]
fn rules_listing_shows_levels_under_the_config_in_effect() {
    let row = |out: &str, rule: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.starts_with(&format!("{rule} ")))
            .unwrap_or_else(|| panic!("no row for {rule} in\n{out}"))
            .split_whitespace()
            .take(6)
            .map(String::from)
            .collect()
    };
    let defaults = stdout(&prodlint(&["rules", "--no-config"]));
    assert!(defaults.starts_with("No config file found"), "{defaults}");
    assert_eq!(
        row(&defaults, "action-ref-not-pinned"),
        [
            "action-ref-not-pinned",
            "workflow",
            "supply-chain",
            "stable",
            "warning",
            "warning"
        ]
    );
    // A preview rule reports at its level, but only in preview mode.
    assert_eq!(
        row(&defaults, "container-runs-as-root")[3..],
        ["preview", "warning", "off"]
    );
    assert!(defaults.contains("preview rules run only with --preview"));
    let given = stdout(&prodlint(&[
        "rules",
        "--config",
        "fixtures/cli/config/prodlint.toml",
    ]));
    assert_eq!(row(&given, "container-runs-as-root")[5], "off");

    let dir = Path::new("fixtures/cli/config");
    let configured = stdout(&prodlint_in(dir, &["rules"], None));
    assert!(
        configured.starts_with("CONFIG is the level under"),
        "{configured}"
    );
    assert_eq!(row(&configured, "container-runs-as-root")[5], "off");
    assert_eq!(row(&configured, "image-tag-not-pinned")[5], "error*");
    assert_eq!(row(&configured, "missing-readiness-probe")[5], "off*");

    let listed = json(&prodlint_in(dir, &["rules", "--format", "json"], None));
    let rule = listed
        .as_array()
        .and_then(|l| l.iter().find(|r| r["name"] == "image-tag-not-pinned"))
        .expect("rule in the JSON listing");
    assert_eq!(rule["configured_level"], "error");
    assert_eq!(rule["overridden_for_some_paths"], true);
    assert_eq!(rule["level"], "warning");
}

#[test]
fn select_ignore_and_fail_on_from_the_config() {
    let dir = dir_with_bad_pod("config-selection");
    let run = |config: &str, extra: &[&str]| {
        std::fs::write(dir.join("prodlint.toml"), config).expect("write");
        let mut args = vec!["check", ".", "--format", "json"];
        args.extend_from_slice(extra);
        let o = prodlint_in(&dir, &args, None);
        let mut rules: Vec<String> = json(&o)["diagnostics"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|d| d["rule"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        rules.sort();
        rules.dedup();
        (o.status.code(), rules)
    };
    let (code, all) = run("", &[]);
    assert_eq!(code, Some(1));
    assert!(all.len() > 2, "{all:?}");

    let (code, selected) = run("select = [\"image-tag-not-pinned\"]\n", &[]);
    assert_eq!(
        (code, selected.as_slice()),
        (Some(1), ["image-tag-not-pinned".to_string()].as_slice())
    );

    // --select on the command line replaces the config's selection.
    let (_, replaced) = run(
        "select = [\"image-tag-not-pinned\"]\n",
        &["--select", "health"],
    );
    assert!(
        !replaced.is_empty() && replaced.iter().all(|r| r.starts_with("missing-")),
        "{replaced:?}"
    );

    let (_, ignored) = run("ignore = [\"image-tag-not-pinned\", \"security\"]\n", &[]);
    assert!(!ignored.contains(&"image-tag-not-pinned".to_string()));
    assert!(!ignored.contains(&"container-runs-as-root".to_string()));
    assert!(
        ignored.contains(&"missing-memory-limit".to_string()),
        "{ignored:?}"
    );

    // fail-on = "error": warnings alone no longer fail the run; --fail-on wins over the config.
    let (code, _) = run(
        "fail-on = \"error\"\nselect = [\"image-tag-not-pinned\"]\n",
        &[],
    );
    assert_eq!(code, Some(0));
    let (code, _) = run(
        "fail-on = \"error\"\nselect = [\"image-tag-not-pinned\"]\n",
        &["--fail-on", "warning"],
    );
    assert_eq!(code, Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Copies a fixture directory (files only, recursively) into `to`.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read fixture dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn reported_paths(o: &Output) -> Vec<String> {
    let mut paths: Vec<String> = json(o)["diagnostics"]
        .as_array()
        .map(|d| {
            d.iter()
                .filter_map(|d| d["path"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    paths.dedup();
    paths
}

const SERVICE_FOR_WEB: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n";
const WEB_DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - {name: web, image: \"web:1.0\"}\n";

#[test]
fn explicit_files_are_checked_with_the_files_cross_file_rules_join() {
    let dir = temp_dir("explicit-context");
    std::fs::create_dir_all(dir.join("k8s")).expect("mkdir");
    std::fs::write(dir.join("k8s/deploy.yaml"), WEB_DEPLOYMENT).expect("write");
    std::fs::write(dir.join("k8s/svc.yaml"), SERVICE_FOR_WEB).expect("write");
    std::fs::write(dir.join("Dockerfile"), "FROM debian:latest\n").expect("write");
    copy_tree(
        Path::new("fixtures/http-server-without-request-timeout/good_layer_elsewhere"),
        &dir.join("api"),
    );
    std::fs::write(dir.join("prodlint.toml"), "").expect("write");

    // The Service in another file makes the Deployment served: the budget finding is reported.
    let o = prodlint_in(
        &dir,
        &[
            "check",
            "k8s/deploy.yaml",
            "--select",
            "missing-pod-disruption-budget",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(reported_paths(&o), ["k8s/deploy.yaml"]);
    // The timeout layer in the package's other file silences the server in main.rs, as in a full run.
    let request_timeout = || {
        prodlint_in(
            &dir,
            &[
                "check",
                "api/src/main.rs",
                "--select",
                "http-server-without-request-timeout",
                "--format",
                "concise",
            ],
            None,
        )
    };
    let o = request_timeout();
    assert!(
        stdout(&o).starts_with("No problems found in 1 file"),
        "{}",
        stdout(&o)
    );
    std::fs::write(
        dir.join("api/src/app.rs"),
        "pub fn router() -> axum::Router {\n    axum::Router::new()\n}\n",
    )
    .expect("write");
    let o = request_timeout();
    assert!(
        stdout(&o).contains("api/src/main.rs:6:5: info[http-server-without-request-timeout]"),
        "{}",
        stdout(&o)
    );
    // Only the named files are reported on; the context is read, not reported.
    let o = prodlint_in(
        &dir,
        &["check", "k8s/svc.yaml", "Dockerfile", "--format", "json"],
        None,
    );
    assert_eq!(reported_paths(&o), ["Dockerfile"]);

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn force_exclude_applies_the_config_to_named_files() {
    let dir = dir_with_bad_pod("force-exclude");
    std::fs::write(
        dir.join("prodlint.toml"),
        "[files]\nexclude = [\"pod.yaml\"]\n",
    )
    .expect("write");
    let named = prodlint_in(&dir, &["check", "pod.yaml", "--format", "json"], None);
    assert_eq!(reported_paths(&named), ["pod.yaml"]);
    let forced = prodlint_in(
        &dir,
        &["check", "--force-exclude", "pod.yaml", "--format", "json"],
        None,
    );
    assert_eq!(forced.status.code(), Some(0));
    assert!(reported_paths(&forced).is_empty());
    // The same for standard input checked under an excluded name.
    let text = std::fs::read_to_string(dir.join("pod.yaml")).expect("read");
    let args = [
        "check",
        "-",
        "--stdin-filename",
        "pod.yaml",
        "--format",
        "json",
    ];
    let piped = prodlint_in(&dir, &args, Some(&text));
    assert_eq!(reported_paths(&piped), ["pod.yaml"]);
    let forced = prodlint_in(
        &dir,
        &[&args[..], &["--force-exclude"]].concat(),
        Some(&text),
    );
    assert_eq!(forced.status.code(), Some(0));
    assert!(reported_paths(&forced).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args([
            "-c",
            "user.email=test@example.com",
            "-c",
            "user.name=test",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn changed_since_reports_only_changed_and_untracked_files() {
    let dir = temp_dir("changed-since");
    std::fs::create_dir_all(dir.join("k8s")).expect("mkdir");
    std::fs::write(dir.join("k8s/deploy.yaml"), WEB_DEPLOYMENT).expect("write");
    std::fs::write(dir.join("k8s/svc.yaml"), SERVICE_FOR_WEB).expect("write");
    std::fs::write(dir.join("k8s/old.yaml"), BAD_POD).expect("write");
    std::fs::write(dir.join("Dockerfile"), "FROM debian:latest\n").expect("write");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    git(&dir, &["checkout", "-q", "-b", "feature"]);

    let run = |extra: &[&str]| {
        let mut args = vec!["check", "--changed-since", "main", "--format", "json"];
        args.extend_from_slice(extra);
        prodlint_in(&dir, &args, None)
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(reported_paths(&o).is_empty());

    // One committed change, one uncommitted change, one untracked file, one deletion.
    std::fs::write(
        dir.join("k8s/deploy.yaml"),
        WEB_DEPLOYMENT.replace("web:1.0", "web:1.1"),
    )
    .expect("write");
    git(&dir, &["commit", "-q", "-am", "bump"]);
    std::fs::write(dir.join("Dockerfile"), "FROM debian:bookworm\n").expect("write");
    std::fs::write(
        dir.join("k8s/new.yaml"),
        BAD_POD.replace("name: p", "name: q"),
    )
    .expect("write");
    std::fs::remove_file(dir.join("k8s/old.yaml")).expect("rm");
    let o = run(&[]);
    assert_eq!(
        reported_paths(&o),
        ["Dockerfile", "k8s/deploy.yaml", "k8s/new.yaml"]
    );
    // The Service that was not changed still makes the Deployment served.
    let budget = json(&o)["diagnostics"].as_array().is_some_and(|d| {
        d.iter()
            .any(|d| d["rule"] == "missing-pod-disruption-budget")
    });
    assert!(budget);
    // Narrowed to a directory.
    assert_eq!(
        reported_paths(&run(&["k8s"])),
        ["k8s/deploy.yaml", "k8s/new.yaml"]
    );

    let bad = run_bad(&dir, "no-such-branch");
    assert_eq!(bad.status.code(), Some(2));
    assert!(stderr(&bad).contains("no-such-branch"), "{}", stderr(&bad));
    let injected = run_bad(&dir, "--output=x");
    assert_eq!(injected.status.code(), Some(2));
    assert!(!dir.join("x").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn run_bad(dir: &Path, reference: &str) -> Output {
    let arg = format!("--changed-since={reference}");
    prodlint_in(dir, &["check", &arg], None)
}

#[test]
fn a_focused_run_does_not_call_other_files_baseline_entries_stale() {
    let dir = dir_with_bad_pod("focus-baseline");
    std::fs::write(
        dir.join("other.yaml"),
        BAD_POD.replace("name: p", "name: o"),
    )
    .expect("write");
    let o = prodlint_in(&dir, &["check", ".", "--write-baseline", "base.json"], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = prodlint_in(
        &dir,
        &["check", "pod.yaml", "--baseline", "base.json"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(!stderr(&o).contains("no longer match"), "{}", stderr(&o));
    std::fs::write(dir.join("pod.yaml"), "").expect("write");
    let o = prodlint_in(
        &dir,
        &["check", "pod.yaml", "--baseline", "base.json"],
        None,
    );
    assert!(stderr(&o).contains("no longer match"), "{}", stderr(&o));
    let o = prodlint_in(
        &dir,
        &[
            "check",
            "--changed-since",
            "HEAD",
            "--write-baseline",
            "b.json",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `check --format json` with the given cache arguments and returns the findings as
/// `rule@line` plus the output.
fn cached_check(dir: &Path, cache_args: &[&str]) -> (Vec<String>, Output) {
    let mut args = vec!["check", ".", "--format", "json"];
    args.extend_from_slice(cache_args);
    let out = prodlint_in(dir, &args, None);
    let v = json(&out);
    let found = v["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| format!("{}@{}", d["rule"].as_str().unwrap_or(""), d["line"]))
        .collect();
    (found, out)
}

fn cache_entries(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                n += 1;
            }
        }
    }
    n
}

/// A reqwest client created without a timeout: one `http-client-without-timeout`, on line 2.
const CLIENT: &str = "async fn fetch(url: &str) {\n    let client = reqwest::Client::new();\n    let _ = client.get(url).send().await;\n}\n";

/// A project directory with `src/`, and the cache directory for it.
fn cache_project(name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    std::fs::create_dir_all(dir.join("src")).expect("src");
    let cache = dir.join("cache");
    (dir, cache)
}

#[test]
fn byte_order_marks_invalid_bytes_and_binary_files_are_not_skipped_silently() {
    let dir = temp_dir("encodings");
    std::fs::write(
        dir.join("Dockerfile"),
        b"\xEF\xBB\xBFFROM rust:latest\nUSER app\n",
    )
    .expect("bom");
    std::fs::write(
        dir.join("Dockerfile.latin1"),
        b"FROM alpine:latest\n# caf\xE9\nUSER app\n",
    )
    .expect("latin-1");
    std::fs::write(dir.join("Dockerfile.bin"), b"FROM alpine:latest\n\0\0").expect("binary");
    let out = prodlint_in(
        &dir,
        &[
            "check",
            ".",
            "--format",
            "json",
            "--no-cache",
            "--select",
            "image-tag-not-pinned",
        ],
        None,
    );
    let v = json(&out);
    let at = |path: &str| -> Vec<(u64, u64)> {
        v["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["path"] == path)
            .map(|d| {
                (
                    d["line"].as_u64().unwrap_or(0),
                    d["column"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    };
    // The byte-order mark is not a column: `rust:latest` starts at column 6, as an editor shows it.
    assert_eq!(at("Dockerfile"), [(1, 6)]);
    assert_eq!(at("Dockerfile.latin1"), [(1, 6)]);
    let err = stderr(&out);
    assert!(
        err.contains(
            "`Dockerfile.latin1` is not valid UTF-8: read with 1 invalid byte sequence replaced"
        ),
        "{err}"
    );
    assert!(err.contains("skipped `Dockerfile.bin`: binary"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    // Naming one manifest: the other manifests are read as context (Services, budgets), and the
    // notes are about what was asked.
    let dir = temp_dir("encodings-named");
    std::fs::write(dir.join("pod.yaml"), BAD_POD).expect("pod");
    std::fs::write(dir.join("bin.yaml"), b"apiVersion: v1\nkind: Pod\n\0\0").expect("binary");
    std::fs::write(
        dir.join("latin.yaml"),
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xE9}\n",
    )
    .expect("latin-1");
    let named = prodlint_in(&dir, &["check", "pod.yaml", "--no-cache"], None);
    let err = stderr(&named);
    assert!(
        !err.contains("bin.yaml") && !err.contains("latin.yaml"),
        "{err}"
    );
    let both = prodlint_in(&dir, &["check", "pod.yaml", "bin.yaml", "--no-cache"], None);
    assert!(
        stderr(&both).contains("skipped `bin.yaml`: binary"),
        "{}",
        stderr(&both)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn preview_rules_run_only_when_asked() {
    let (dir, _) = cache_project("preview");
    std::fs::write(dir.join("src").join("main.rs"), CLIENT).expect("write");
    let rule = "http-client-without-timeout";
    let preview = prodlint::rules::find(rule).is_some_and(|r| r.is_preview());
    let run = |extra: &[&str]| {
        let mut args = vec!["check", ".", "--format", "json", "--no-cache"];
        args.extend_from_slice(extra);
        let out = prodlint_in(&dir, &args, None);
        (rules_of(&json(&out)), stderr(&out))
    };
    let (with, _) = run(&["--preview"]);
    assert_eq!(with, [rule]);
    let (without, warned) = run(&["--no-preview", "--select", rule]);
    if preview {
        assert!(without.is_empty(), "{without:?}");
        assert!(warned.contains("is a preview rule"), "{warned}");
    } else {
        assert_eq!(without, [rule]);
    }
    std::fs::write(dir.join("prodlint.toml"), "preview = true\n").expect("config");
    let (configured, _) = run(&["--select", rule]);
    assert_eq!(configured, [rule]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_cache_is_never_stale_and_never_required() {
    let (dir, cache) = cache_project("cache");
    let cache_arg = cache.to_str().expect("utf-8 temp path");
    let src = dir.join("src");
    let client = CLIENT;
    std::fs::write(src.join("main.rs"), client).expect("write");

    // --no-cache keeps nothing, even where $PRODLINT_CACHE_DIR points.
    let out = Command::new(env!("CARGO_BIN_EXE_prodlint"))
        .args(["check", ".", "--format", "json", "--no-cache", "--preview"])
        .current_dir(&dir)
        .env("PRODLINT_CACHE_DIR", &cache)
        .output()
        .expect("run prodlint");
    assert_eq!(rules_of(&json(&out)), ["http-client-without-timeout"]);
    assert!(!cache.exists(), "--no-cache wrote a cache");
    let (cold, _) = cached_check(&dir, &["--no-cache"]);
    assert_eq!(cold, ["http-client-without-timeout@2"], "{cold:?}");

    // The first run fills the cache, the second reads it and says the same.
    let (first, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(cache_entries(&cache), 1);
    let (second, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(first, cold);
    assert_eq!(second, cold);

    // A changed file is checked again: the finding moves with the code.
    std::fs::write(src.join("main.rs"), format!("\n\n{client}")).expect("write");
    let (moved, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(moved, ["http-client-without-timeout@4"], "{moved:?}");

    // A changed configuration is too: with the rule off, nothing is reported.
    std::fs::write(
        dir.join("prodlint.toml"),
        "[rules]\nhttp-client-without-timeout = \"off\"\n",
    )
    .expect("config");
    let (off, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    assert!(off.is_empty(), "{off:?}");
    std::fs::remove_file(dir.join("prodlint.toml")).expect("remove config");

    // A corrupt entry is ignored and replaced.
    let mut corrupted = 0;
    let mut stack = vec![cache.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                std::fs::write(e.path(), b"\xff\x00garbage").expect("corrupt");
                corrupted += 1;
            }
        }
    }
    assert!(corrupted > 0);
    let (after_corruption, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    assert_eq!(after_corruption, moved);

    // A cache that cannot be written costs speed, not results: one warning, same findings.
    let blocked = dir.join("not-a-dir");
    std::fs::write(&blocked, "a file where the cache directory should be").expect("write");
    let (unwritable, out) = cached_check(
        &dir,
        &["--cache-dir", blocked.to_str().expect("utf-8 temp path")],
    );
    assert_eq!(unwritable, moved);
    assert_eq!(
        stderr(&out).matches("cannot write to the cache").count(),
        1,
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A warm run takes an unchanged file's results by its metadata without reading it; a file
/// rewritten to the same size with its old modification time back is read again.
#[test]
fn the_cache_knows_files_by_metadata_and_is_still_never_stale() {
    let (dir, cache) = cache_project("cache-metadata");
    let cache_arg = cache.to_str().expect("utf-8 temp path");
    let main = dir.join("src").join("main.rs");
    let comment = format!("// {}\n", "x".repeat(60));
    let client = format!("{CLIENT}{comment}");
    std::fs::write(&main, &client).expect("write");
    // Metadata stands for the text only of files changed a few seconds before the run.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let (cold, _) = cached_check(&dir, &["--no-cache"]);
    assert_eq!(cold, ["http-client-without-timeout@2"], "{cold:?}");
    for run in 0..3 {
        let (warm, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
        assert_eq!(warm, cold, "run {run}");
    }
    // The same bytes in another order (the comment first, the finding a line down, its offset
    // past the first line), the old modification time back.
    let modified = std::fs::metadata(&main)
        .and_then(|m| m.modified())
        .expect("mtime");
    let moved = format!("{comment}{}", client.replacen(&comment, "", 1));
    assert_eq!(moved.len(), client.len());
    std::fs::write(&main, &moved).expect("rewrite");
    std::fs::File::options()
        .write(true)
        .open(&main)
        .and_then(|f| f.set_modified(modified))
        .expect("set the time back");
    // Long enough for the rewrite itself not to be too recent to trust.
    std::thread::sleep(std::time::Duration::from_millis(3500));
    let (after, _) = cached_check(&dir, &["--cache-dir", cache_arg]);
    let (fresh, _) = cached_check(&dir, &["--no-cache"]);
    assert_eq!(fresh, ["http-client-without-timeout@3"], "{fresh:?}");
    assert_eq!(after, fresh);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_groups_unused_for_a_week_are_removed() {
    let dir = temp_dir("cache-prune");
    std::fs::write(dir.join("main.rs"), "fn main() {}\n").expect("write");
    let cache = dir.join("cache");
    let cache_arg = cache.to_str().expect("utf-8 temp path");
    // A first run makes the directory of the current cache format (`v<N>`).
    let first = prodlint_in(&dir, &["check", ".", "--cache-dir", cache_arg], None);
    assert!(first.status.success(), "{}", stderr(&first));
    let root = std::fs::read_dir(&cache)
        .expect("cache dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('v'))
        })
        .expect("a format directory");
    let old = root.join("00000000000000aa");
    let recent = root.join("00000000000000bb");
    for (group, age_days) in [(&old, 8), (&recent, 2)] {
        std::fs::create_dir_all(group.join("ab")).expect("group");
        std::fs::write(group.join("ab").join("entry"), b"x").expect("entry");
        let when =
            std::time::SystemTime::now() - std::time::Duration::from_secs(age_days * 24 * 3600);
        std::fs::File::open(group)
            .and_then(|d| d.set_modified(when))
            .expect("set the group's mtime");
    }
    let out = prodlint_in(
        &dir,
        &[
            "check",
            ".",
            "--cache-dir",
            cache.to_str().expect("utf-8 temp path"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!old.exists(), "a group unused for 8 days is removed");
    assert!(recent.exists(), "a group used 2 days ago is kept");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cross_file_finding_replaces_the_code_side_one() {
    let case = "fixtures/liveness-probe-checks-dependencies/bad_db_health";
    let both = json(&prodlint(&[
        "check",
        case,
        "--no-cache",
        "--select",
        "liveness-probe-checks-dependencies,liveness-endpoint-checks-dependencies",
        "--format",
        "json",
    ]));
    assert_eq!(rules_of(&both), ["liveness-probe-checks-dependencies"]);
    // The related locations are the route and the dependency call.
    let related = &both["diagnostics"][0]["related"];
    let files: Vec<&str> = related
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{related}");
    assert!(
        files.iter().all(|f| f.ends_with("src/main.rs")),
        "{files:?}"
    );
    // With the cross-file rule off, the code-side finding comes back.
    let code_only = json(&prodlint(&[
        "check",
        case,
        "--no-cache",
        "--select",
        "liveness-endpoint-checks-dependencies",
        "--format",
        "json",
    ]));
    assert_eq!(
        rules_of(&code_only),
        ["liveness-endpoint-checks-dependencies"]
    );
}

#[test]
fn grpc_probe_finding_replaces_the_code_side_one() {
    let case = "fixtures/grpc-probe-without-health-service/bad_grpc_probe";
    let select = |rules: &str| {
        json(&prodlint(&[
            "check",
            case,
            "--no-cache",
            "--select",
            rules,
            "--format",
            "json",
        ]))
    };
    let both = select("grpc-probe-without-health-service,grpc-server-without-health-service");
    assert_eq!(rules_of(&both), ["grpc-probe-without-health-service"]);
    let code_only = select("grpc-server-without-health-service");
    assert_eq!(rules_of(&code_only), ["grpc-server-without-health-service"]);
    // The dropped finding was at the server the cross-file one points to.
    assert!(code_only["diagnostics"][0]["line"].is_u64());
    assert_eq!(
        code_only["diagnostics"][0]["line"],
        both["diagnostics"][0]["related"][0]["line"]
    );
}

#[test]
fn explain_services_prints_the_map() {
    let out = prodlint(&[
        "check",
        "fixtures/liveness-probe-checks-dependencies/bad_handler_in_library",
        "--no-cache",
        "--explain-services",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Deployment/orders container `server`"),
        "{text}"
    );
    assert!(text.contains("skaffold.yaml artifact `orders`"), "{text}");
    assert!(text.contains("Cargo package `orders`"), "{text}");
    assert!(
        text.contains("1 Kubernetes container(s): 1 mapped to a Dockerfile, 1 to source"),
        "{text}"
    );
}

#[test]
fn explain_surface_names_each_files_role_and_why() {
    let out = prodlint(&[
        "check",
        "fixtures/http-client-without-timeout/bad_production_surface",
        "--no-config",
        "--explain-surface",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let role = |file: &str| -> String {
        text.lines()
            .find(|l| l.contains(&format!("bad_production_surface/{file}: ")))
            .and_then(|l| l.split(": ").nth(1))
            .and_then(|r| r.split(' ').next())
            .unwrap_or_else(|| panic!("no line for {file} in\n{text}"))
            .to_string()
    };
    for (file, expected) in [
        ("api/src/main.rs", "service"),
        ("api/src/client.rs", "library"),
        ("api/src/bin/seed.rs", "tool"),
        ("api/src/it/main.rs", "test"),
        ("api/src/it/helpers.rs", "test"),
        ("api/src/mock.rs", "test"),
        ("api/src/proto.rs", "generated"),
        ("upstream-double/src/lib.rs", "test"),
        ("examples/demo/src/main.rs", "example"),
        ("gateway/src/main.rs", "service"),
        ("gateway/src/upstream.rs", "library"),
        ("gateway/src/admin.rs", "tool"),
        ("gateway/Dockerfile", "service"),
    ] {
        assert_eq!(role(file), expected, "{file}");
    }
    assert!(text.contains("required-features"), "{text}");
    // The one-shot subcommands of the server binary, by line, and the function only one calls.
    for span in [
        "lines 26-29: tool — only the `HealthCheck` subcommand of binary `gateway`",
        "lines 30-30: tool — only the `Replay` subcommand",
        "lines 41-44: tool — `probe`: only the `HealthCheck` subcommand",
    ] {
        assert!(text.contains(span), "{span}\n{text}");
    }
    assert!(
        text.contains("13 files: 3 service, 2 library, 2 tool, 4 test, 1 example, 1 generated"),
        "{text}"
    );
}

#[test]
fn images_told_apart_by_tag_suffix() {
    let dir = temp_dir("tag-suffix");
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    };
    write(
        "compose.yaml",
        "services:\n  cart:\n    image: ghcr.io/acme/shop:1.0-cart\n    build: {context: ., dockerfile: cart/Dockerfile}\n  ad:\n    image: ghcr.io/acme/shop:1.0-ad\n    build: {context: ., dockerfile: ad/Dockerfile}\n",
    );
    for name in ["cart", "ad"] {
        write(
            &format!("{name}/Dockerfile"),
            &format!("FROM alpine:3.20\nCOPY {name} /{name}\nENTRYPOINT [\"/{name}\"]\n"),
        );
    }
    write(
        "k8s.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: shop}\nspec:\n  selector: {matchLabels: {app: shop}}\n  template:\n    metadata: {labels: {app: shop}}\n    spec:\n      containers:\n        - name: cart\n          image: ghcr.io/acme/shop:2.1-cart\n        - name: db\n          image: ghcr.io/acme/shop:2.1-postgresql\n",
    );
    let out = prodlint_in(
        &dir,
        &["check", ".", "--no-cache", "--explain-services"],
        None,
    );
    let text = stdout(&out);
    assert!(
        text.contains("built by compose.yaml service `cart`"),
        "{text}"
    );
    assert!(
        text.contains("2 builds declare images of `ghcr.io/acme/shop`, told apart by tag suffix, and none has the suffix of `ghcr.io/acme/shop:2.1-postgresql`"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn committed_files_are_checked_even_when_gitignore_matches_them() {
    let dir = temp_dir("tracked-ignored");
    std::fs::create_dir_all(dir.join("kustomize")).expect("mkdir");
    std::fs::create_dir_all(dir.join("build")).expect("mkdir");
    // `kustomize/` was committed and later listed in `.gitignore`; `build/` never was committed.
    std::fs::write(dir.join(".gitignore"), "kustomize/\nbuild/\n").expect("write");
    std::fs::write(dir.join("kustomize/pod.yaml"), BAD_POD).expect("write");
    std::fs::write(dir.join("build/pod.yaml"), BAD_POD).expect("write");
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-f", ".gitignore", "kustomize/pod.yaml"]);
    let out = prodlint_in(&dir, &["check", "--format", "json", "."], None);
    assert_eq!(reported_paths(&out), ["kustomize/pod.yaml"]);
    // The same from inside the ignored directory and from above the repository.
    let inside = prodlint_in(
        &dir.join("kustomize"),
        &["check", "--format", "json", "."],
        None,
    );
    assert_eq!(reported_paths(&inside), ["pod.yaml"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn objects_join_only_within_their_own_repository() {
    let dir = temp_dir("two-repositories");
    let one_replica = WEB_DEPLOYMENT.replace("replicas: 2", "replicas: 1");
    // Repository `shop` serves `web` with one replica; repository `blog` autoscales its own `web`.
    for repo in ["shop", "blog"] {
        std::fs::create_dir_all(dir.join(repo).join(".git")).expect("mkdir");
        std::fs::write(dir.join(repo).join("web.yaml"), &one_replica).expect("write");
        std::fs::write(dir.join(repo).join("svc.yaml"), SERVICE_FOR_WEB).expect("write");
    }
    std::fs::write(
        dir.join("blog/hpa.yaml"),
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n  minReplicas: 2\n  maxReplicas: 4\n",
    )
    .expect("write");
    let args = [
        "check",
        "--select",
        "single-replica-deployment",
        "--format",
        "json",
    ];
    let alone = prodlint_in(&dir.join("shop"), &[&args[..], &["."]].concat(), None);
    assert_eq!(reported_paths(&alone), ["web.yaml"]);
    // From the parent: `blog`'s autoscaler does not silence `shop`'s finding, and `blog` has none.
    let both = prodlint_in(&dir, &[&args[..], &["."]].concat(), None);
    assert_eq!(reported_paths(&both), ["shop/web.yaml"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn did_you_mean_for_mistyped_names() {
    let rule = prodlint(&["rule", "image-tag-not-pined"]);
    assert_eq!(rule.status.code(), Some(2));
    assert!(
        stderr(&rule).contains("did you mean `image-tag-not-pinned`?"),
        "{}",
        stderr(&rule)
    );
    let group = prodlint(&["rule", "timeouts"]);
    assert_eq!(group.status.code(), Some(2));
    assert!(stderr(&group).contains("is a group"), "{}", stderr(&group));
    assert!(stderr(&group).contains("http-client-without-timeout"));
    // A mistyped command is not taken for a path (and `.` is not checked instead).
    let command = prodlint(&["chek", "fixtures/demo"]);
    assert_eq!(command.status.code(), Some(2));
    assert!(
        stderr(&command).contains("did you mean `prodlint check`?"),
        "{}",
        stderr(&command)
    );
    assert_eq!(stdout(&command), "");
    let select = prodlint(&["check", "--select", "image-tag-not-pined", "fixtures/demo"]);
    assert_eq!(select.status.code(), Some(2));
    assert!(stderr(&select).contains("did you mean `image-tag-not-pinned`?"));
    let dir = temp_dir("did-you-mean");
    std::fs::write(dir.join("prodlint.toml"), "fail_on = \"error\"\n").expect("write");
    let key = prodlint_in(&dir, &["check", "."], None);
    assert_eq!(key.status.code(), Some(2));
    assert!(
        stderr(&key).contains("did you mean `fail-on`?"),
        "{}",
        stderr(&key)
    );
    std::fs::write(
        dir.join("prodlint.toml"),
        "[rules]\nimage-tag-not-pined = \"off\"\n",
    )
    .expect("write");
    let table = prodlint_in(&dir, &["check", "."], None);
    assert!(
        stderr(&table).contains("did you mean `image-tag-not-pinned`?"),
        "{}",
        stderr(&table)
    );
    std::fs::write(dir.join("prodlint.toml"), "").expect("write");
    std::fs::write(
        dir.join("Dockerfile"),
        "# prodlint: ignore[image-tag-not-pined] base pinned by CI\nFROM debian:latest\n",
    )
    .expect("write");
    let suppression = prodlint_in(&dir, &["check", ".", "--format", "json"], None);
    assert!(
        stdout(&suppression).contains("did you mean `image-tag-not-pinned`?"),
        "{}",
        stdout(&suppression)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn paths_holding_nothing_to_check_are_said_on_stderr() {
    let named = prodlint(&["check", "README.md"]);
    assert_eq!(named.status.code(), Some(0));
    assert!(
        stderr(&named).contains("`README.md` is not a kind of file prodlint checks"),
        "{}",
        stderr(&named)
    );
    let dir = temp_dir("nothing-to-check");
    std::fs::write(dir.join("notes.txt"), "nothing here\n").expect("write");
    let empty = prodlint_in(&dir, &["check", "."], None);
    assert_eq!(empty.status.code(), Some(0));
    assert!(
        stderr(&empty).contains("no file prodlint checks was found"),
        "{}",
        stderr(&empty)
    );
    // A run that checked something says nothing of the kind.
    let demo = prodlint(&["check", "fixtures/demo"]);
    assert!(
        !stderr(&demo).contains("no file prodlint checks"),
        "{}",
        stderr(&demo)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rust_syntax_errors_say_what_and_where() {
    let dir = temp_dir("rust-syntax");
    std::fs::write(dir.join("main.rs"), "fn main( {\n    let x = 1;\n}\n").expect("write");
    let o = prodlint_in(&dir, &["check", "main.rs", "--format", "concise"], None);
    let out = stdout(&o);
    assert!(
        out.contains("main.rs:1:8: error[parse-error] cannot parse Rust: this `(` is never closed"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_baseline_matches_from_any_working_directory() {
    let dir = temp_dir("baseline-anywhere");
    std::fs::create_dir_all(dir.join("deploy")).expect("mkdir");
    std::fs::write(dir.join("deploy/pod.yaml"), BAD_POD).expect("write");
    let w = prodlint_in(
        &dir,
        &["check", ".", "--write-baseline", "known.json"],
        None,
    );
    assert_eq!(w.status.code(), Some(0), "{}", stderr(&w));
    let stored = std::fs::read_to_string(dir.join("known.json")).expect("baseline");
    assert!(stored.contains("\"path\": \"deploy/pod.yaml\""), "{stored}");
    // From the subdirectory, with the baseline named on the command line and from the config.
    let named = prodlint_in(
        &dir.join("deploy"),
        &[
            "check",
            ".",
            "--baseline",
            "../known.json",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(named.status.code(), Some(0), "{}", stdout(&named));
    assert!(reported_paths(&named).is_empty());
    std::fs::write(dir.join("prodlint.toml"), "baseline = \"known.json\"\n").expect("write");
    let configured = prodlint_in(
        &dir.join("deploy"),
        &["check", ".", "--format", "json"],
        None,
    );
    assert_eq!(configured.status.code(), Some(0), "{}", stdout(&configured));
    // And from above the project.
    let above = prodlint_in(
        dir.parent().expect("parent"),
        &[
            "check",
            dir.file_name().and_then(|n| n.to_str()).expect("name"),
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(above.status.code(), Some(0), "{}", stdout(&above));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_config_files_in_one_directory_are_an_error() {
    let dir = dir_with_bad_pod("two-configs");
    std::fs::write(dir.join("prodlint.toml"), "").expect("write");
    std::fs::write(
        dir.join(".prodlint.toml"),
        "[rules]\nmissing-memory-limit = \"off\"\n",
    )
    .expect("write");
    let o = prodlint_in(&dir, &["check", "."], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("both"), "{}", stderr(&o));
    // Naming one with --config is a choice, not an accident.
    let chosen = prodlint_in(&dir, &["check", ".", "--config", ".prodlint.toml"], None);
    assert_ne!(chosen.status.code(), Some(2), "{}", stderr(&chosen));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Each file is checked under the nearest config above it, whatever order the paths come in;
/// `extend` inherits another config; `--show-settings` says which file set what.
#[test]
fn nested_configs_extend_and_show_settings() {
    let dir = temp_dir("nested-configs");
    let manifest = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: nginx:latest\n";
    for sub in ["", "dev/", "svc/", "svc/generated/"] {
        std::fs::create_dir_all(dir.join(sub)).expect("dir");
        std::fs::write(dir.join(format!("{sub}a.yaml")), manifest).expect("manifest");
    }
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).expect("config");
    write("base.toml", "[rules]\nimage-tag-not-pinned = \"error\"\n");
    write(
        "dev/prodlint.toml",
        "[rules]\nimage-tag-not-pinned = \"off\"\n",
    );
    write(
        "svc/prodlint.toml",
        "extend = \"../base.toml\"\n[rules]\nmissing-memory-limit = \"info\"\n[files]\nexclude = [\"generated/\"]\n",
    );
    let findings = |args: &[&str]| {
        let o = prodlint_in(&dir, &[&["check", "--format", "json"], args].concat(), None);
        let mut found: Vec<String> = json(&o)["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| {
                let rule = d["rule"].as_str().unwrap_or("");
                rule == "image-tag-not-pinned" || rule == "missing-memory-limit"
            })
            .map(|d| format!("{} {} {}", d["path"], d["rule"], d["severity"]))
            .collect();
        found.sort();
        found
    };
    let expected = [
        r#""a.yaml" "image-tag-not-pinned" "warning""#,
        r#""a.yaml" "missing-memory-limit" "warning""#,
        r#""dev/a.yaml" "missing-memory-limit" "warning""#,
        r#""svc/a.yaml" "image-tag-not-pinned" "error""#,
        r#""svc/a.yaml" "missing-memory-limit" "info""#,
    ];
    assert_eq!(findings(&["a.yaml", "dev/a.yaml", "svc/a.yaml"]), expected);
    assert_eq!(findings(&["svc/a.yaml", "dev/a.yaml", "a.yaml"]), expected);
    // In a walk, the nested config's exclude holds below it.
    assert_eq!(findings(&["."]), expected);

    let o = prodlint_in(&dir, &["check", "--show-settings", "svc/a.yaml"], None);
    let shown = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(shown.contains("config file: svc/prodlint.toml"), "{shown}");
    assert!(shown.contains("extends: base.toml"), "{shown}");
    assert!(
        shown.contains("image-tag-not-pinned = \"error\" in base.toml"),
        "{shown}"
    );
    assert!(
        shown.contains("missing-memory-limit = \"info\" in svc/prodlint.toml"),
        "{shown}"
    );

    // A nested config that cannot be read fails the run, naming it.
    write("dev/prodlint.toml", "fail_on = \"error\"\n");
    let o = prodlint_in(&dir, &["check", "."], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("dev/prodlint.toml:1:1: unknown field `fail_on`"),
        "{}",
        stderr(&o)
    );
    // A cycle of `extend`s is an error at the key.
    write("dev/prodlint.toml", "extend = \"../svc/prodlint.toml\"\n");
    write("base.toml", "extend = \"dev/prodlint.toml\"\n");
    let o = prodlint_in(&dir, &["check", "dev/a.yaml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("makes a cycle"), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&dir);
}
