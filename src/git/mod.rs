//! The one command prodlint runs: `git`, to list changed files for `--changed-since`. It is run
//! with the repository's fsmonitor hook turned off and without external diff or textconv drivers,
//! so nothing configured in the checked repository is executed.

pub mod index;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "core.fsmonitor=false"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `git` for --changed-since: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// The root of the work tree `dir` is in, and where `dir` is inside it (`""` at the root, else
/// ending in `/`).
pub fn location(dir: &Path) -> Result<(PathBuf, PathBuf), String> {
    let out = git(dir, &["rev-parse", "--show-toplevel", "--show-prefix"])
        .map_err(|e| format!("--changed-since needs a git work tree: {e}"))?;
    let mut lines = out.split(|&b| b == b'\n');
    let top = lines.next().map(path_from_bytes).unwrap_or_default();
    let prefix = lines.next().map(path_from_bytes).unwrap_or_default();
    Ok((top, prefix))
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).into_owned())
}

/// Files, relative to the work tree's root `top`, added, copied, modified or renamed since the merge base of `reference` and
/// HEAD — committed or not — plus untracked files that are not ignored. Deleted files are not
/// listed.
pub fn changed_files(top: &Path, reference: &str) -> Result<Vec<PathBuf>, String> {
    if reference.starts_with('-') || reference.is_empty() {
        return Err(format!(
            "invalid --changed-since ref `{reference}`: expected a branch, tag or commit"
        ));
    }
    // The merge base keeps commits that landed on the reference after branching out of the list;
    // with no common history, compare with the reference itself.
    let base = git(top, &["merge-base", reference, "HEAD"])
        .ok()
        .map(|out| String::from_utf8_lossy(&out).trim().to_string())
        .filter(|b| !b.is_empty())
        .unwrap_or_else(|| reference.to_string());
    let changed = git(
        top,
        &[
            "diff",
            "--name-only",
            "-z",
            "--no-ext-diff",
            "--no-textconv",
            "--diff-filter=d",
            &base,
            "--",
        ],
    )?;
    let untracked = git(
        top,
        &[
            "ls-files",
            "-z",
            "--others",
            "--exclude-standard",
            "--full-name",
        ],
    )?;
    let mut files: Vec<PathBuf> = changed
        .split(|&b| b == 0)
        .chain(untracked.split(|&b| b == 0))
        .filter(|name| !name.is_empty())
        .map(path_from_bytes)
        .collect();
    files.sort();
    files.dedup();
    Ok(files)
}
