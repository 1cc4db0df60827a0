//! The GitHub Action's install step (`scripts/install.sh`) against a local directory laid out
//! like a release: a good checksum installs, a bad one fails without installing, and a version
//! with no asset for this machine says so with the exit code the action falls back on.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sh(dir: &Path, script: &str) -> Output {
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .output()
        .expect("bash runs")
}

/// The target triple install.sh picks on this machine.
fn target() -> String {
    let arch = String::from_utf8_lossy(&sh(Path::new("."), "uname -m").stdout)
        .trim()
        .to_string();
    let arch = match arch.as_str() {
        "amd64" => "x86_64".to_string(),
        "arm64" => "aarch64".to_string(),
        other => other.to_string(),
    };
    let os = match String::from_utf8_lossy(&sh(Path::new("."), "uname -s").stdout).trim() {
        "Darwin" => "apple-darwin",
        _ => "unknown-linux-musl",
    };
    format!("{arch}-{os}")
}

/// A fake release of `version` under `root`: an archive holding a `prodlint` that prints its
/// version, and the archive's checksum (or a wrong one).
fn fake_release(root: &Path, version: &str, good_checksum: bool) {
    let dir = root.join(format!("v{version}"));
    let stage = root.join(format!("stage-{version}"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::create_dir_all(&stage).expect("mkdir");
    std::fs::write(
        stage.join("prodlint"),
        format!("#!/bin/sh\necho prodlint {version}\n"),
    )
    .expect("write");
    let asset = format!("prodlint-{}.tar.gz", target());
    let out = sh(
        root,
        &format!(
            "chmod +x '{stage}/prodlint' && tar -czf '{dir}/{asset}' -C '{stage}' prodlint && cd '{dir}' && sha256sum '{asset}' > '{asset}.sha256'",
            stage = stage.display(),
            dir = dir.display()
        ),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if !good_checksum {
        let wrong = format!("{} {asset}\n", "0".repeat(64));
        std::fs::write(dir.join(format!("{asset}.sha256")), wrong).expect("write");
    }
}

fn install(root: &Path, version: &str, dest: &Path) -> Output {
    let script: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install.sh");
    Command::new("bash")
        .arg(script)
        .arg(version)
        .arg(dest)
        .arg(format!("file://{}", root.display()))
        .output()
        .expect("install.sh runs")
}

#[test]
fn the_action_installs_a_verified_release_binary() {
    let root = std::env::temp_dir().join(format!("prodlint-fake-release-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("mkdir");
    fake_release(&root, "1.2.3", true);
    fake_release(&root, "6.6.6", false);

    // Good checksum: installed and runs.
    let dest = root.join("good");
    let ok = install(&root, "1.2.3", &dest);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let ran = Command::new(dest.join("bin/prodlint"))
        .output()
        .expect("installed binary runs");
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "prodlint 1.2.3"
    );

    // Bad checksum: exit 4, nothing installed (the action never falls back on it).
    let dest = root.join("bad");
    let bad = install(&root, "6.6.6", &dest);
    assert_eq!(
        bad.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("checksum mismatch"));
    assert!(!dest.join("bin/prodlint").exists());

    // No asset for this version: exit 3, which the action answers by building from source.
    let dest = root.join("none");
    let none = install(&root, "0.0.1", &dest);
    assert_eq!(
        none.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
    assert!(!dest.join("bin/prodlint").exists());
    let _ = std::fs::remove_dir_all(&root);
}
