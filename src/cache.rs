//! Results of checking a Rust file, kept between runs so an unchanged file is not parsed again.
//!
//! An entry is stored under a key that hashes everything its content depends on: the file's
//! bytes and path, the package it belongs to (its `Cargo.toml`, and the workspace's `Cargo.lock`
//! and root `Cargo.toml`), whether it is test code, the enabled rules and their options, and the
//! prodlint build (version, plus the executable's size and modification time, so a rebuilt binary
//! never reads its predecessor's entries). A changed input gives a different key, so an entry can
//! be missing but never stale. Entries are grouped by build and options; a group unused for a week
//! is removed when another run opens the cache. A cache that cannot be read or written only costs
//! speed, never results.
//!
//! Only Rust files are cached: Dockerfiles and manifests are checked faster than an entry loads.
//!
//! A group's entries are kept in one file, its *pack*, read whole on a thread of its own while the
//! tree is walked. A run that stored entries (or found many without their metadata key, below)
//! writes the pack anew ([`Cache::finish`], a temporary file renamed into place): every entry the
//! run used, and those of the old pack for files the run did not see (a run over one directory
//! keeps another's), so an edited file's old entry goes and a deleted file's stays until its group
//! is removed. Concurrent runs each write a whole pack; the last one wins and the other's new
//! entries are checked again next time. (One file rather than one per entry: a first run creates
//! one file instead of thousands, and a warm run opens one.)
//!
//! A warm run does not even read the files the pack vouches for. Next to each entry the pack
//! keeps a second key, of the file's metadata when its text was read (device, inode, size,
//! modification and status-change times, read before the text) besides the path, package, test
//! status and rules — as git's index does. A file found under that key is not read; its text is
//! read later only if something must be shown or looked up in it. Writing a file changes its
//! status-change time, which no tool can set back, so a changed file never matches its old
//! metadata — unless it changed within the same clock tick as the write before it: files changed
//! less than [`RACY`] before the run started are read, and recorded by content only (git's "racily
//! clean" entries). On systems without inodes (Windows), every file is read.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::diagnostic::{Label, Severity};
use crate::project::{lock, RustFacts};
use crate::rules::{self, Evidence, Finding};
use crate::suppress::Suppressions;

/// Bumped whenever the entry layout, or what the facts in it hold, changes.
const FORMAT: u32 = 12;

/// How long before a run a file must have last changed for its metadata to stand for its text.
/// Coarse file systems stamp times to the second (FAT: two), so a write within the same tick as
/// the one before it would leave the metadata unchanged.
const RACY: std::time::Duration = std::time::Duration::from_secs(3);

pub struct Cache {
    dir: PathBuf,
    /// Hash of the build and of the rule options, shared by every key of the run.
    run_key: u128,
    /// When the run opened the cache (see [`RACY`]).
    started: std::time::SystemTime,
    /// The group's pack, being read by `loading` until the first lookup needs it.
    pack: OnceLock<Option<Pack>>,
    loading: Mutex<Option<JoinHandle<Option<Pack>>>>,
    /// Every entry this run used, for writing the pack.
    used: Mutex<Usage>,
}

/// A group's entries in one file: [`PACK_MAGIC`], then for each entry its key (16 bytes), the
/// key of its file's metadata (16 bytes, 0 for none), a hash of its file's path (8 bytes), its
/// length (8 bytes, all little-endian) and its bytes.
struct Pack {
    bytes: Vec<u8>,
    /// Every entry as stored (its bytes in `bytes`), also to carry those of files a run did not
    /// see into the next pack.
    records: Vec<Record>,
    /// Entry key, and metadata key, to the entry's place in `records`.
    index: HashMap<u128, usize>,
    by_metadata: HashMap<u128, usize>,
}

/// An entry of a pack, or one a run used.
struct Record {
    key: u128,
    metadata: Option<u128>,
    path: u64,
    held: Held,
}

const PACK_MAGIC: &[u8] = b"prodlint-pack-3\n";
const PACK_FILE: &str = "pack";

impl Pack {
    /// `None` when there is no pack or it is not one (a corrupt pack costs speed only).
    fn read(path: &Path) -> Option<Pack> {
        let bytes = std::fs::read(path).ok()?;
        let mut at = PACK_MAGIC.len();
        if !bytes.starts_with(PACK_MAGIC) {
            return None;
        }
        let mut index = HashMap::new();
        let mut by_metadata = HashMap::new();
        let mut records = Vec::new();
        let u128_at = |at: usize| {
            Some(u128::from_le_bytes(
                bytes.get(at..at + 16)?.try_into().ok()?,
            ))
        };
        let u64_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        while at < bytes.len() {
            let key = u128_at(at)?;
            let metadata = u128_at(at + 16)?;
            let path = u64_at(at + 32)?;
            let len = u64_at(at + 40)?;
            let start = at + 48;
            let end = start.checked_add(usize::try_from(len).ok()?)?;
            bytes.get(start..end)?;
            index.insert(key, records.len());
            if metadata != 0 {
                by_metadata.insert(metadata, records.len());
            }
            records.push(Record {
                key,
                metadata: (metadata != 0).then_some(metadata),
                path,
                held: Held::Packed(start..end),
            });
            at = end;
        }
        Some(Pack {
            bytes,
            records,
            index,
            by_metadata,
        })
    }
}

#[derive(Default)]
struct Usage {
    entries: Vec<Record>,
    /// Entries stored by this run (not found).
    misses: usize,
    /// Entries found by the file's text where its metadata could have found them: the pack lacks
    /// their metadata key (a new checkout, or a file touched but not changed).
    unkeyed: usize,
}

/// Where a used entry's bytes are.
enum Held {
    Packed(Range<usize>),
    Own(Vec<u8>),
}

/// Everything checking one Rust file produced, except what is cheap to redo (the levels).
#[derive(Serialize, Deserialize)]
pub struct Entry {
    pub findings: Vec<CachedFinding>,
    pub internal: Vec<(String, Range<usize>)>,
    pub facts: Option<RustFacts>,
    /// The file's suppression comments, so a file found by its metadata need not be read.
    pub suppressions: Suppressions,
    /// Its header says a generator wrote it (`surface::generated_header`): found by its
    /// metadata, it keeps that role without being read.
    pub generated: bool,
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

/// What a file's entry depends on besides the run and the file's text: see the module docs.
pub struct FileKey<'a> {
    pub path: &'a Path,
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
        let pack_path = dir.join(PACK_FILE);
        let loading = std::thread::Builder::new()
            .spawn(move || Pack::read(&pack_path))
            .ok();
        Some(Cache {
            dir,
            run_key,
            started: std::time::SystemTime::now(),
            pack: OnceLock::new(),
            loading: Mutex::new(loading),
            used: Mutex::new(Usage::default()),
        })
    }

    fn pack(&self) -> Option<&Pack> {
        self.pack
            .get_or_init(|| {
                let loading = lock(&self.loading).take();
                loading.and_then(|h| h.join().ok()).flatten()
            })
            .as_ref()
    }

    /// Writes the pack anew when the run stored entries or found more than 1 in 50 without their
    /// metadata key. Best effort: a pack that cannot be written is one warning, and costs the
    /// next run speed only.
    pub fn finish(&self) {
        let usage = std::mem::take(&mut *lock(&self.used));
        let total = usage.entries.len();
        let pack = self.pack();
        let stale = pack.is_none() || usage.misses > 0 || usage.unkeyed * 50 > total;
        if total == 0 || !stale {
            return;
        }
        // A key hashes the path, so an entry of a file the run saw is either used or outdated.
        let seen: std::collections::HashSet<u64> = usage.entries.iter().map(|r| r.path).collect();
        let carried = (pack.map(|p| p.records.iter()).into_iter().flatten())
            .filter(|r| !seen.contains(&r.path));
        let mut out = PACK_MAGIC.to_vec();
        for record in usage.entries.iter().chain(carried) {
            let bytes = match &record.held {
                Held::Own(b) => b.as_slice(),
                Held::Packed(r) => match pack.and_then(|p| p.bytes.get(r.clone())) {
                    Some(b) => b,
                    None => continue,
                },
            };
            out.extend_from_slice(&record.key.to_le_bytes());
            out.extend_from_slice(&record.metadata.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&record.path.to_le_bytes());
            out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            out.extend_from_slice(bytes);
        }
        // A unique temporary name per writer, so concurrent runs never interleave a file.
        let tmp = self
            .dir
            .join(format!(".{PACK_FILE}.{}.tmp", std::process::id()));
        let written = std::fs::create_dir_all(&self.dir)
            .and_then(|()| std::fs::write(&tmp, out))
            .and_then(|()| std::fs::rename(&tmp, self.dir.join(PACK_FILE)));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            eprintln!(
                "warning: cannot write to the cache in `{}`: {e}; results are complete, but the next run will not be faster (use --cache-dir DIR or --no-cache)",
                self.dir.display()
            );
        }
    }

    /// The key of an entry by the file's text.
    pub fn key(&self, file: &FileKey<'_>, text: &str) -> u128 {
        let mut h = self.hash_of(file);
        h.update(&[0]);
        field(&mut h, text.as_bytes());
        h.digest128()
    }

    /// The key of an entry by the file's metadata, read before its text; `None` where metadata
    /// cannot stand for the text (see [`RACY`] and the module docs).
    pub fn metadata_key(&self, file: &FileKey<'_>, meta: &std::fs::Metadata) -> Option<u128> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let stamp = |secs: i64, nanos: i64| {
                let secs = u64::try_from(secs).ok()?;
                let nanos = u32::try_from(nanos).ok()?;
                std::time::UNIX_EPOCH.checked_add(std::time::Duration::new(secs, nanos))
            };
            let changed = stamp(meta.mtime(), meta.mtime_nsec())?
                .max(stamp(meta.ctime(), meta.ctime_nsec())?);
            if changed + RACY > self.started {
                return None;
            }
            let mut h = self.hash_of(file);
            h.update(&[1]);
            for n in [meta.dev(), meta.ino(), meta.size()] {
                h.update(&n.to_le_bytes());
            }
            for n in [
                meta.mtime(),
                meta.mtime_nsec(),
                meta.ctime(),
                meta.ctime_nsec(),
            ] {
                h.update(&n.to_le_bytes());
            }
            Some(h.digest128()).filter(|&k| k != 0)
        }
        #[cfg(not(unix))]
        {
            let _ = (file, meta);
            None
        }
    }

    fn hash_of(&self, file: &FileKey<'_>) -> Xxh3 {
        let mut h = Xxh3::new();
        h.update(&self.run_key.to_le_bytes());
        field(&mut h, file.path.as_os_str().as_encoded_bytes());
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
        h
    }

    /// The entry the pack holds for a file's metadata key, without reading the file.
    pub fn get_by_metadata(&self, metadata: u128, path: &Path) -> Option<Entry> {
        let pack = self.pack()?;
        self.take(
            pack,
            *pack.by_metadata.get(&metadata)?,
            Some(metadata),
            path,
        )
    }

    /// The entry stored under `key` (the file's text key; `metadata`, its metadata key, is
    /// recorded for the pack); `None` when there is none or it cannot be read.
    pub fn get(&self, key: u128, metadata: Option<u128>, path: &Path) -> Option<Entry> {
        let pack = self.pack()?;
        let entry = self.take(pack, *pack.index.get(&key)?, metadata, path)?;
        lock(&self.used).unkeyed += usize::from(metadata.is_some());
        Some(entry)
    }

    /// Decodes the pack's entry at `at` in its records, and notes it used by this run.
    fn take(&self, pack: &Pack, at: usize, metadata: Option<u128>, path: &Path) -> Option<Entry> {
        let record = pack.records.get(at)?;
        let Held::Packed(range) = &record.held else {
            return None;
        };
        let entry = postcard::from_bytes(pack.bytes.get(range.clone())?).ok()?;
        lock(&self.used).entries.push(Record {
            key: record.key,
            metadata,
            path: path_hash(path),
            held: Held::Packed(range.clone()),
        });
        Some(entry)
    }

    /// Stores an entry, in the pack [`Cache::finish`] writes.
    pub fn put(&self, key: u128, metadata: Option<u128>, path: &Path, entry: &Entry) {
        // An entry that cannot be encoded is simply not kept.
        let Ok(bytes) = postcard::to_stdvec(entry) else {
            return;
        };
        let mut used = lock(&self.used);
        used.entries.push(Record {
            key,
            metadata,
            path: path_hash(path),
            held: Held::Own(bytes),
        });
        used.misses += 1;
    }
}

fn path_hash(path: &Path) -> u64 {
    xxhash_rust::xxh3::xxh3_64(path.as_os_str().as_encoded_bytes())
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            findings: Vec::new(),
            internal: vec![("note".into(), 0..1)],
            facts: None,
            suppressions: Suppressions::default(),
            generated: false,
        }
    }

    #[test]
    fn runs_write_one_pack_and_keep_the_entries_of_files_they_did_not_see() {
        let dir = std::env::temp_dir().join(format!("prodlint-pack-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let open = || Cache::open(Some(dir.clone()), &[]).expect("a cache");
        let (a, b) = (Path::new("a.rs"), Path::new("b.rs"));
        let internal = |e: Option<Entry>| e.map(|e| e.internal);
        // Cold: the entry goes into the pack, the group's only file.
        let cold = open();
        assert!(cold.get(1, Some(11), a).is_none());
        cold.put(1, Some(11), a, &entry());
        cold.finish();
        let pack = cold.dir.join(PACK_FILE);
        let files = std::fs::read_dir(&cold.dir).map(|d| d.count()).ok();
        assert_eq!(files, Some(1));
        // Warm: found by text and by metadata; nothing stored, so the pack is not rewritten.
        let warm = open();
        assert_eq!(
            internal(warm.get_by_metadata(11, a)),
            Some(entry().internal)
        );
        assert_eq!(internal(warm.get(1, None, a)), Some(entry().internal));
        assert!(warm.get_by_metadata(12, a).is_none());
        let written = std::fs::metadata(&pack).and_then(|m| m.modified()).ok();
        warm.finish();
        assert_eq!(
            std::fs::metadata(&pack).and_then(|m| m.modified()).ok(),
            written
        );
        // A run over another file keeps the first file's entry.
        let other = open();
        other.put(2, None, b, &entry());
        other.finish();
        let next = open();
        assert!(next.get(1, None, a).is_some());
        assert!(next.get(2, None, b).is_some());
        next.finish();
        // An edited file's new entry replaces its old one.
        let edit = open();
        edit.put(3, None, a, &entry());
        edit.finish();
        let after = open();
        assert!(after.get(1, None, a).is_none());
        assert!(after.get(3, None, a).is_some());
        assert!(after.get(2, None, b).is_some());
        // A corrupt pack is ignored.
        std::fs::write(&pack, b"garbage").expect("corrupt the pack");
        assert!(open().get(3, None, a).is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn metadata_stands_for_the_text_only_of_files_changed_before_the_run() {
        let dir = std::env::temp_dir().join(format!("prodlint-racy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a directory");
        let file = dir.join("a.rs");
        std::fs::write(&file, "fn main() {}").expect("a file");
        let key = FileKey {
            path: &file,
            package_fingerprint: None,
            is_test: false,
            enabled: &[],
        };
        let meta = || std::fs::metadata(&file).expect("metadata");
        let cache = Cache::open(Some(dir.join("cache")), &[]).expect("a cache");
        // Just written: the same clock tick could hold another write.
        assert_eq!(cache.metadata_key(&key, &meta()), None);
        if cfg!(unix) {
            let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
            let set_old = || {
                std::fs::File::options()
                    .write(true)
                    .open(&file)
                    .and_then(|f| f.set_modified(old))
                    .expect("set the time")
            };
            // A run that starts well after the last change.
            let later = || Cache {
                started: std::time::SystemTime::now() + RACY * 2,
                ..Cache::open(Some(dir.join("cache")), &[]).expect("a cache")
            };
            set_old();
            // The status-change time is now, whatever the modification time says.
            assert_eq!(cache.metadata_key(&key, &meta()), None);
            let first = later().metadata_key(&key, &meta());
            assert!(first.is_some());
            // Same size and modification time, different text: the key changes.
            std::fs::write(&file, "fn mian() {}").expect("rewrite");
            set_old();
            let second = later().metadata_key(&key, &meta());
            assert!(second.is_some());
            assert_ne!(first, second);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
