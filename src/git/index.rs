//! What git tracks, read from the work tree's index file without running git: the walk honours
//! `.gitignore`, and a committed file that `.gitignore` also matches (a `kustomize/` directory
//! listed there after its manifests were committed) must still be checked. Reading the index is
//! one sequential read of a file git keeps small; running `git ls-files` would cost a process
//! per run and execute configuration the checked repository controls.
//!
//! Index versions 2, 3 and 4 (prefix-compressed paths) with SHA-1 object names are read. Anything
//! else (a SHA-256 repository, a split index, a damaged file) gives `None`, and the walk alone
//! decides, as it did before this reader existed.

use std::path::{Path, PathBuf};

/// The work tree that holds `dir` and the path of its index file: the nearest ancestor with a
/// `.git` directory, or a `.git` file naming the git directory (worktrees, submodules).
pub fn work_tree_of(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let start = std::fs::canonicalize(dir).ok()?;
    for top in start.ancestors() {
        let dot_git = top.join(".git");
        if dot_git.is_dir() {
            return Some((top.to_path_buf(), dot_git.join("index")));
        }
        if dot_git.is_file() {
            let text = std::fs::read_to_string(&dot_git).ok()?;
            let gitdir = text.trim().strip_prefix("gitdir:")?.trim();
            return Some((top.to_path_buf(), top.join(gitdir).join("index")));
        }
    }
    None
}

/// The paths the index lists, relative to the work tree, in index order.
pub fn tracked_paths(index: &[u8]) -> Option<Vec<PathBuf>> {
    let header = index.get(..12)?;
    if &header[..4] != b"DIRC" {
        return None;
    }
    let version = u32::from_be_bytes(header[4..8].try_into().ok()?);
    let count = u32::from_be_bytes(header[8..12].try_into().ok()?) as usize;
    if !(2..=4).contains(&version) {
        return None;
    }
    // ctime, mtime (8 each), dev, ino, mode, uid, gid, size (4 each), the SHA-1, flags.
    const FIXED: usize = 8 + 8 + 6 * 4 + 20 + 2;
    let mut paths = Vec::with_capacity(count.min(1 << 20));
    let mut at = 12;
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = at;
        let flags_at = start + FIXED - 2;
        let flags = u16::from_be_bytes(index.get(flags_at..flags_at + 2)?.try_into().ok()?);
        at = start + FIXED;
        if version >= 3 && flags & 0x4000 != 0 {
            at += 2; // extended flags
        }
        let path = if version == 4 {
            let (strip, used) = varint(index.get(at..)?)?;
            at += used;
            let end = at + index.get(at..)?.iter().position(|&b| b == 0)?;
            let keep = previous.len().checked_sub(strip)?;
            let mut path = previous[..keep].to_vec();
            path.extend_from_slice(&index[at..end]);
            at = end + 1;
            path
        } else {
            let end = at + index.get(at..)?.iter().position(|&b| b == 0)?;
            let path = index[at..end].to_vec();
            // Entries are NUL-padded to a multiple of eight bytes (at least one NUL).
            let len = end - start;
            at = start + (len + 8) / 8 * 8;
            path
        };
        paths.push(path_from_bytes(&path));
        previous = path;
    }
    Some(paths)
}

/// Git's offset varint (`varint.c`): seven bits a byte, each continuation adding one.
fn varint(bytes: &[u8]) -> Option<(usize, usize)> {
    let mut value: usize = 0;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        if i > 0 {
            value = value.checked_add(1)?;
        }
        value = value.checked_mul(128)? | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

#[cfg(unix)]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: &[u8]) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(bytes).replace('/', "\\"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds and reads the index of a real repository when `git` is installed (the format is
    /// git's, so git writes it); without git the test has nothing to compare with.
    #[test]
    fn reads_the_index_git_writes() {
        let dir = std::env::temp_dir().join(format!("prodlint-git-index-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("deploy/kustomize")).expect("dirs");
        for f in [
            "a.yaml",
            "deploy/kustomize/app.yaml",
            "deploy/kustomize/svc.yaml",
        ] {
            std::fs::write(dir.join(f), "x: 1\n").expect("write");
        }
        for version in ["2", "3", "4"] {
            let run = |args: &[&str]| {
                std::process::Command::new("git")
                    .arg("-C")
                    .arg(&dir)
                    .args(args)
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            let _ = std::fs::remove_dir_all(dir.join(".git"));
            if !run(&["init", "-q"]) {
                eprintln!("git is not installed: nothing to compare with");
                return;
            }
            assert!(run(&["add", "-f", "."]));
            assert!(run(&["update-index", "--index-version", version]));
            let (top, index) = work_tree_of(&dir.join("deploy")).expect("work tree");
            assert_eq!(top, std::fs::canonicalize(&dir).expect("canonical"));
            let paths = tracked_paths(&std::fs::read(index).expect("index")).expect("parsed");
            assert_eq!(
                paths,
                [
                    PathBuf::from("a.yaml"),
                    PathBuf::from("deploy/kustomize/app.yaml"),
                    PathBuf::from("deploy/kustomize/svc.yaml")
                ],
                "index version {version}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn damaged_indexes_are_refused() {
        assert_eq!(tracked_paths(b""), None);
        assert_eq!(tracked_paths(b"DIRC\0\0\0\x02\0\0\0\x05short"), None);
        assert_eq!(tracked_paths(b"XXXX\0\0\0\x02\0\0\0\0"), None);
    }
}
