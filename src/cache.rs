//! Results of checking a Rust file, kept between runs so an unchanged file is not parsed again.
//!
//! An entry is stored under a key that hashes everything its content depends on: the file's
//! bytes and path, the package it belongs to (its `Cargo.toml`, and the workspace's `Cargo.lock`
//! and root `Cargo.toml`), whether it is test code, the enabled rules and their options, and the
//! prodlint build (version, plus the executable's size and modification time, so a rebuilt binary
//! never reads its predecessor's entries). A changed input gives a different key, so an entry can
//! be missing but never stale. Entries are grouped by build and options; a group unused for a week
//! is removed when another run opens the cache. Entries are written atomically (a temporary file renamed into
//! place); a cache that cannot be read or written only costs speed, never results.
//!
//! Only Rust files are cached: Dockerfiles and manifests are checked faster than an entry loads.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::diagnostic::{Label, Severity};
use crate::project::RustFacts;
use crate::rules::{self, Evidence, Finding};

/// Bumped whenever the entry layout, or what the facts in it hold, changes.
const FORMAT: u32 = 8;

pub struct Cache {
    dir: PathBuf,
    /// Hash of the build and of the rule options, shared by every key of the run.
    run_key: u128,
    /// Set after the first failed write, so a read-only cache directory warns once.
    write_failed: AtomicBool,
}

/// Everything checking one Rust file produced, except what is cheap to redo (the source, the
/// levels, the suppression comments).
#[derive(Serialize, Deserialize)]
pub struct Entry {
    pub findings: Vec<CachedFinding>,
    pub internal: Vec<(String, Range<usize>)>,
    pub facts: Option<RustFacts>,
}

/// A per-file finding; every location is in the file itself.
#[derive(Serialize, Deserialize)]
pub struct CachedFinding {
    rule: String,
    span: Range<usize>,
    message: String,
    help: Option<String>,
    related: Vec<(Range<usize>, Option<String>)>,
    unless_package: Vec<Evidence>,
    at_most: Option<Severity>,
}

impl CachedFinding {
    /// `None` for a finding that cannot be cached (one that waits on Kubernetes objects).
    pub fn of(f: &Finding) -> Option<CachedFinding> {
        if f.k8s.is_some() {
            return None;
        }
        Some(CachedFinding {
            rule: f.rule.to_string(),
            span: f.span.clone(),
            message: f.message.clone(),
            help: f.help.clone(),
            related: f
                .related
                .iter()
                .map(|l| (l.span.clone(), l.message.clone()))
                .collect(),
            unless_package: f.unless_package.clone(),
            at_most: f.at_most,
        })
    }

    /// `None` when the rule no longer exists (a format change would have changed the key, so
    /// this is only a guard against a corrupt entry).
    pub fn finding(self) -> Option<Finding> {
        let rule = rules::find(&self.rule)?.name();
        Some(Finding {
            rule,
            file: 0,
            span: self.span,
            message: self.message,
            help: self.help,
            related: self
                .related
                .into_iter()
                .map(|(span, message)| Label {
                    file: 0,
                    span,
                    message,
                })
                .collect(),
            unless_package: self.unless_package,
            at_most: self.at_most,
            k8s: None,
        })
    }
}

/// What a file's entry depends on besides the run: see the module docs.
pub struct FileKey<'a> {
    pub path: &'a Path,
    pub text: &'a str,
    pub package_fingerprint: Option<u64>,
    pub is_test: bool,
    /// The rules enabled for the file (their severities are applied later and do not matter).
    pub enabled: &'a [&'static str],
}

impl Cache {
    /// The cache in `dir`, or in the user's cache directory (`$PRODLINT_CACHE_DIR`,
    /// `$XDG_CACHE_HOME/prodlint`, `~/.cache/prodlint`, `~/Library/Caches/prodlint` or
    /// `%LOCALAPPDATA%\prodlint`); `None` when there is no such directory.
    pub fn open(dir: Option<PathBuf>, options: &[(String, String)]) -> Option<Cache> {
        let dir = dir.or_else(default_dir)?.join(format!("v{FORMAT}"));
        let mut h = Xxh3::new();
        h.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.update(&FORMAT.to_le_bytes());
        if let Some(meta) = std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::metadata(exe).ok())
        {
            h.update(&meta.len().to_le_bytes());
            if let Some(t) = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            {
                h.update(&t.as_nanos().to_le_bytes());
            }
        }
        for (rule, table) in options {
            field(&mut h, rule.as_bytes());
            field(&mut h, table.as_bytes());
        }
        let run_key = h.digest128();
        // Entries live under their build and options, so a new prodlint build or changed options
        // leave whole directories behind; those unused for a week are removed.
        let root = dir;
        let dir = root.join(format!("{:016x}", run_key as u64));
        prune(&root, &dir);
        Some(Cache {
            dir,
            run_key,
            write_failed: AtomicBool::new(false),
        })
    }

    pub fn key(&self, file: &FileKey<'_>) -> u128 {
        let mut h = Xxh3::new();
        h.update(&self.run_key.to_le_bytes());
        field(&mut h, file.path.as_os_str().as_encoded_bytes());
        field(&mut h, file.text.as_bytes());
        match file.package_fingerprint {
            Some(f) => {
                h.update(&[1]);
                h.update(&f.to_le_bytes());
            }
            None => h.update(&[0]),
        }
        h.update(&[u8::from(file.is_test)]);
        for rule in file.enabled {
            field(&mut h, rule.as_bytes());
        }
        h.digest128()
    }

    fn path_of(&self, key: u128) -> PathBuf {
        let hex = format!("{key:032x}");
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// The entry stored under `key`; `None` when there is none or it cannot be read.
    pub fn get(&self, key: u128) -> Option<Entry> {
        let bytes = std::fs::read(self.path_of(key)).ok()?;
        postcard::from_bytes(&bytes).ok()
    }

    /// Stores an entry; a failure is reported once on stderr and otherwise ignored.
    pub fn put(&self, key: u128, entry: &Entry) {
        let path = self.path_of(key);
        let result = (|| -> std::io::Result<()> {
            let dir = path.parent().unwrap_or(&self.dir);
            std::fs::create_dir_all(dir)?;
            let bytes = postcard::to_stdvec(entry).map_err(std::io::Error::other)?;
            // A unique temporary name per writer, so concurrent runs never interleave a file.
            let tmp = dir.join(format!(
                ".{:032x}.{}.{:?}.tmp",
                key,
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
        })();
        if let Err(e) = result {
            if !self.write_failed.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "warning: cannot write to the cache in `{}`: {e}; results are complete, but the next run will not be faster (use --cache-dir DIR or --no-cache)",
                    self.dir.display()
                );
            }
        }
    }
}

/// How long a build's entries are kept after the last run that used them.
const KEEP_UNUSED: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Marks `current` as used now and removes the sibling directories of other builds or options
/// not used for [`KEEP_UNUSED`]. Best effort: a failure leaves files behind, nothing worse.
fn prune(root: &Path, current: &Path) {
    let now = std::time::SystemTime::now();
    if current.is_dir() {
        if let Ok(d) = std::fs::File::open(current) {
            let _ = d.set_modified(now);
        }
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path == current || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let unused_for = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok());
        if unused_for.is_some_and(|d| d > KEEP_UNUSED) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Writes a length-prefixed field, so adjacent fields cannot run into each other.
pub(crate) fn field(h: &mut Xxh3, bytes: &[u8]) {
    h.update(&(bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn default_dir() -> Option<PathBuf> {
    let env = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = env("PRODLINT_CACHE_DIR") {
        return Some(dir);
    }
    if cfg!(target_os = "windows") {
        return env("LOCALAPPDATA").map(|d| d.join("prodlint"));
    }
    if cfg!(target_os = "macos") {
        return env("HOME").map(|h| h.join("Library/Caches/prodlint"));
    }
    env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .map(|d| d.join("prodlint"))
}
