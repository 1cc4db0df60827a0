//! `prodlint.toml` / `.prodlint.toml`: rule levels by name or group, excluded paths, per-path
//! overrides. Unknown keys and names are errors that point at the line in the config file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::diagnostic::Severity;
use crate::rules::{self, RuleInfo};

pub const FILE_NAMES: &[&str] = &["prodlint.toml", ".prodlint.toml"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Off,
    Level(Severity),
}

#[derive(Debug, Clone)]
struct Entry {
    selector: String,
    setting: Setting,
    /// The config file that sets it (for `--show-settings`).
    origin: PathBuf,
}

struct Override {
    matcher: Gitignore,
    rules: Vec<Entry>,
}

/// Rule selection given on the command line; it wins over the config file.
#[derive(Debug, Clone, Default)]
pub struct CliSelection {
    /// `--select`: only these rules (names or groups). Engine rules (`meta`) stay on.
    pub select: Option<Vec<String>>,
    /// `--ignore`: never these.
    pub ignore: Vec<String>,
    /// `--preview` (`Some(true)`) or `--no-preview` (`Some(false)`); wins over `preview` in the
    /// config file.
    pub preview: Option<bool>,
}

pub struct Config {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// Paths in the config are relative to this directory.
    pub root: PathBuf,
    rules: Vec<Entry>,
    /// `[files] exclude` of this config and those it extends, each relative to its own file.
    exclude: Vec<Gitignore>,
    overrides: Vec<Override>,
    /// `[rule-options.<rule>]` tables, validated against each rule's options type.
    options: BTreeMap<String, toml::Table>,
    /// Which file set each top-level value (`preview`, `fail-on`, `rule-options.x`, ...), for
    /// `--show-settings`; values not listed are defaults.
    origins: BTreeMap<String, PathBuf>,
    /// The configs this one extends, nearest first.
    pub extends: Vec<PathBuf>,
    /// The configs of directories below the run's, when each file is checked under the nearest
    /// config above it (not with `--config` or `--no-config`).
    nested: Option<Arc<Nested>>,
    /// `baseline = "…"`: findings listed there are not reported.
    pub baseline: Option<PathBuf>,
    /// `[files] max-size`: larger files are skipped, not read.
    pub max_file_size: u64,
    /// `select = [...]`: only these rules or groups (`--select` replaces it).
    select: Option<Vec<String>>,
    /// `ignore = [...]`: never these (`--ignore` adds to it).
    ignore: Vec<String>,
    /// `fail-on = "…"`: the lowest severity that makes the run fail (`--fail-on` wins).
    pub fail_on: Option<Severity>,
    /// `preview = true`: preview rules run too (`--preview`/`--no-preview` win).
    preview: Option<bool>,
    pub cli: CliSelection,
    /// `[[services]]`: how workload images map to Dockerfiles and source, where inference is not
    /// enough (see `src/services.rs`).
    pub services: Vec<ServiceConfig>,
}

/// One `[[services]]` entry; paths are absolute (joined to the config's directory).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub name: String,
    /// Matches image references (`ghcr.io/acme/api:*`, `*/api`); the tag or digest may be left out
    /// of the reference or the pattern.
    pub image: globset::GlobMatcher,
    pub image_pattern: String,
    pub dockerfile: Option<PathBuf>,
    /// A Cargo package directory or a Go module directory.
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            root: PathBuf::new(),
            rules: Vec::new(),
            exclude: Vec::new(),
            overrides: Vec::new(),
            options: BTreeMap::new(),
            origins: BTreeMap::new(),
            extends: Vec::new(),
            nested: None,
            baseline: None,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            select: None,
            ignore: Vec::new(),
            fail_on: None,
            preview: None,
            cli: CliSelection::default(),
            services: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        } else {
            write!(f, "{}: {}", self.path.display(), self.message)
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    files: RawFiles,
    #[serde(default)]
    overrides: Vec<RawOverride>,
    #[serde(default, rename = "rule-options")]
    rule_options: BTreeMap<Spanned<String>, Spanned<toml::Table>>,
    /// A baseline file, relative to the config file.
    baseline: Option<String>,
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(rename = "fail-on")]
    fail_on: Option<Spanned<String>>,
    preview: Option<bool>,
    #[serde(default)]
    services: Vec<Spanned<RawService>>,
    /// Another config this one starts from (relative to this file); its values apply where this
    /// one sets none, and its rule levels come first.
    extend: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    name: String,
    image: Spanned<String>,
    dockerfile: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFiles {
    #[serde(default)]
    exclude: Vec<String>,
    /// Bytes (`4194304`) or a size with a unit (`"4MiB"`, `"500KB"`).
    #[serde(rename = "max-size")]
    max_size: Option<Spanned<toml::Value>>,
}

/// Files larger than this are skipped with a note, never read: a linter reads whatever is in a
/// repository, and a 100 MB dump or generated file would cost memory (a Rust file takes about 130
/// times its size to parse) without a finding anyone wants.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// `4194304`, `"4MiB"`, `"4 MB"`, `"512KiB"`, `"1GiB"`: decimal (KB, MB, GB) and binary (KiB, MiB, GiB)
/// units, `B` or none for bytes.
fn parse_size(value: &toml::Value) -> Option<u64> {
    match value {
        toml::Value::Integer(n) => u64::try_from(*n).ok(),
        toml::Value::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let number: u64 = s[..split].parse().ok()?;
            let factor: u64 = match s[split..].trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "kb" => 1_000,
                "kib" => 1 << 10,
                "mb" => 1_000_000,
                "mib" => 1 << 20,
                "gb" => 1_000_000_000,
                "gib" => 1 << 30,
                _ => return None,
            };
            number.checked_mul(factor)
        }
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// Where `[rule-options.<rule>]`'s `key` is written (the key), else the table's header.
fn option_span(text: &str, rule: &str, key: Option<&str>) -> Option<Range<usize>> {
    let header = format!("[rule-options.{rule}]");
    let at = text.find(&header)?;
    let section_end = text[at + header.len()..]
        .find("\n[")
        .map_or(text.len(), |i| at + header.len() + i);
    if let Some(key) = key {
        let mut offset = at;
        for line in text[at..section_end].split_inclusive('\n') {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let is_key = trimmed
                .strip_prefix(key)
                .or_else(|| trimmed.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with('='));
            if is_key {
                return Some(offset + indent..offset + indent + key.len());
            }
            offset += line.len();
        }
    }
    Some(at..at + header.len())
}

/// Finds the config file for a checked path: the nearest `prodlint.toml` or `.prodlint.toml` in it
/// or its parent directories.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let abs = std::path::absolute(start).ok()?;
    let dir = if abs.is_dir() {
        abs.as_path()
    } else {
        abs.parent()?
    };
    dir.ancestors()
        .flat_map(|d| FILE_NAMES.iter().map(move |n| d.join(n)))
        .find(|p| p.is_file())
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        Config::load_in_chain(path, &[])
    }

    /// Loads a config that `chain` extends (each extending the next): a cycle is an error.
    fn load_in_chain(path: &Path, chain: &[PathBuf]) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        })?;
        let root = std::path::absolute(path)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .unwrap_or_default();
        Config::parse_in_chain(&text, path, &root, chain)
    }

    pub fn parse(text: &str, path: &Path, root: &Path) -> Result<Config, ConfigError> {
        Config::parse_in_chain(text, path, root, &[])
    }

    fn parse_in_chain(
        text: &str,
        path: &Path,
        root: &Path,
        chain: &[PathBuf],
    ) -> Result<Config, ConfigError> {
        let error = |span: Option<Range<usize>>, message: String| {
            let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
            ConfigError {
                path: path.to_path_buf(),
                line,
                column,
                message,
            }
        };
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| error(e.span(), with_key_suggestion(e.message().trim())))?;
        let entries = |map: BTreeMap<Spanned<String>, Spanned<String>>, table: &str| {
            let mut out = Vec::new();
            for (key, value) in map {
                let selector = key.get_ref().clone();
                if rules::find(&selector).is_none() && !rules::is_group(&selector) {
                    return Err(error(
                        Some(key.span()),
                        format!(
                            "unknown rule or group `{selector}` in {table} (see `prodlint rules`){}",
                            rules::suggestion(&selector)
                        ),
                    ));
                }
                let setting = match value.get_ref().as_str() {
                    "off" => Setting::Off,
                    other => match Severity::parse(other) {
                        Some(s) => Setting::Level(s),
                        None => {
                            return Err(error(
                                Some(value.span()),
                                format!("invalid level `{other}` for `{selector}`: expected error, warning, info or off"),
                            ))
                        }
                    },
                };
                out.push(Entry {
                    selector,
                    setting,
                    origin: path.to_path_buf(),
                });
            }
            Ok(out)
        };
        let rules = entries(raw.rules, "[rules]")?;
        let max_file_size = match &raw.files.max_size {
            None => DEFAULT_MAX_FILE_SIZE,
            Some(v) => parse_size(v.get_ref()).ok_or_else(|| {
                error(
                    Some(v.span()),
                    "invalid [files] max-size: expected bytes (`4194304`) or a size like \"4MiB\" or \"500KB\"".into(),
                )
            })?,
        };
        let selectors = |list: Vec<Spanned<String>>, key: &str| {
            list.into_iter()
                .map(|name| {
                    if rules::find(name.get_ref()).is_none() && !rules::is_group(name.get_ref()) {
                        return Err(error(
                            Some(name.span()),
                            format!(
                                "unknown rule or group `{}` in `{key}` (see `prodlint rules`){}",
                                name.get_ref(),
                                rules::suggestion(name.get_ref())
                            ),
                        ));
                    }
                    Ok(name.into_inner())
                })
                .collect::<Result<Vec<String>, ConfigError>>()
        };
        let select = raw.select.map(|l| selectors(l, "select")).transpose()?;
        let ignore = selectors(raw.ignore, "ignore")?;
        let fail_on = match raw.fail_on {
            None => None,
            Some(level) => Some(Severity::parse(level.get_ref()).ok_or_else(|| {
                error(
                    Some(level.span()),
                    format!(
                        "invalid `fail-on` level `{}`: expected error, warning or info",
                        level.get_ref()
                    ),
                )
            })?),
        };
        let exclude = if raw.files.exclude.is_empty() {
            Vec::new()
        } else {
            let mut b = GitignoreBuilder::new(root);
            for pattern in &raw.files.exclude {
                b.add_line(None, pattern).map_err(|e| {
                    error(
                        None,
                        format!("invalid [files] exclude pattern `{pattern}`: {e}"),
                    )
                })?;
            }
            vec![b
                .build()
                .map_err(|e| error(None, format!("invalid [files] exclude: {e}")))?]
        };
        let mut overrides = Vec::new();
        for o in raw.overrides {
            let mut b = GitignoreBuilder::new(root);
            for p in &o.paths {
                b.add_line(None, p.get_ref()).map_err(|e| {
                    error(
                        Some(p.span()),
                        format!("invalid path pattern `{}`: {e}", p.get_ref()),
                    )
                })?;
            }
            let matcher = b
                .build()
                .map_err(|e| error(None, format!("invalid [[overrides]] paths: {e}")))?;
            overrides.push(Override {
                matcher,
                rules: entries(o.rules, "[[overrides]] rules")?,
            });
        }
        let mut options = BTreeMap::new();
        for (key, table) in raw.rule_options {
            let name = key.get_ref();
            let Some(rule) = rules::find(name) else {
                return Err(error(
                    Some(key.span()),
                    format!(
                        "unknown rule `{name}` in [rule-options] (see `prodlint rules`){}",
                        rules::suggestion(name)
                    ),
                ));
            };
            let Some(validate) = rule.rule.options else {
                return Err(error(
                    Some(key.span()),
                    format!("rule `{name}` has no options (see `prodlint rule {name}`)"),
                ));
            };
            validate(table.get_ref()).map_err(|e| {
                // Point at the option that is wrong: the unknown key serde names, else the one
                // key that fails on its own (a wrong type), else the table's header.
                let unknown = e
                    .split_once("unknown field `")
                    .and_then(|(_, rest)| rest.split('`').next())
                    .map(str::to_string);
                let failing = unknown.or_else(|| {
                    table.get_ref().iter().find_map(|(k, v)| {
                        let mut alone = toml::Table::new();
                        alone.insert(k.clone(), v.clone());
                        validate(&alone)
                            .err()
                            .filter(|e| !e.contains("missing field"))
                            .map(|_| k.clone())
                    })
                });
                let span =
                    option_span(text, name, failing.as_deref()).unwrap_or_else(|| table.span());
                error(Some(span), format!("invalid [rule-options.{name}]: {e}"))
            })?;
            options.insert(name.clone(), table.into_inner());
        }
        let mut services = Vec::new();
        for entry in raw.services {
            let span = entry.span();
            let service = entry.into_inner();
            let pattern = service.image.get_ref().clone();
            let image = globset::GlobBuilder::new(&pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| {
                    error(
                        Some(service.image.span()),
                        format!("invalid image pattern `{pattern}` in [[services]]: {e}"),
                    )
                })?
                .compile_matcher();
            let existing = |p: Option<Spanned<String>>, what: &str| {
                p.map(|p| {
                    let full = root.join(p.get_ref());
                    if full.exists() {
                        Ok(full)
                    } else {
                        Err(error(
                            Some(p.span()),
                            format!(
                                "{what} `{}` of service `{}` does not exist (paths are relative to the config file)",
                                p.get_ref(),
                                service.name
                            ),
                        ))
                    }
                })
                .transpose()
            };
            let dockerfile = existing(service.dockerfile, "dockerfile")?;
            let source = existing(service.source, "source")?;
            if dockerfile.is_none() && source.is_none() {
                return Err(error(
                    Some(span),
                    format!(
                        "service `{}` in [[services]] needs a `dockerfile`, a `source` or both",
                        service.name
                    ),
                ));
            }
            services.push(ServiceConfig {
                name: service.name,
                image,
                image_pattern: pattern,
                dockerfile,
                source,
            });
        }
        let mut origins = BTreeMap::new();
        let set = [
            ("baseline", raw.baseline.is_some()),
            ("select", select.is_some()),
            ("ignore", !ignore.is_empty()),
            ("fail-on", fail_on.is_some()),
            ("preview", raw.preview.is_some()),
            ("files.max-size", raw.files.max_size.is_some()),
            ("files.exclude", !exclude.is_empty()),
            ("services", !services.is_empty()),
        ];
        for (key, _) in set.iter().filter(|(_, is_set)| *is_set) {
            origins.insert(key.to_string(), path.to_path_buf());
        }
        for rule in options.keys() {
            origins.insert(format!("rule-options.{rule}"), path.to_path_buf());
        }
        let config = Config {
            services,
            path: Some(path.to_path_buf()),
            root: root.to_path_buf(),
            rules,
            exclude,
            overrides,
            options,
            origins,
            extends: Vec::new(),
            nested: None,
            baseline: raw.baseline.map(|b| root.join(b)),
            max_file_size,
            select,
            ignore,
            fail_on,
            preview: raw.preview,
            cli: CliSelection::default(),
        };
        match raw.extend {
            None => Ok(config),
            Some(extend) => {
                let base_path = crate::engine::normalized(&root.join(extend.get_ref()));
                if chain.iter().any(|p| same_file(p, &base_path)) || chain.len() > 16 {
                    return Err(error(
                        Some(extend.span()),
                        format!(
                            "`extend = \"{}\"` makes a cycle: {} extends itself through it",
                            extend.get_ref(),
                            path.display()
                        ),
                    ));
                }
                if !base_path.is_file() {
                    return Err(error(
                        Some(extend.span()),
                        format!(
                            "`extend = \"{}\"`: no such file (`{}`; paths are relative to the config file)",
                            extend.get_ref(),
                            base_path.display()
                        ),
                    ));
                }
                let mut chain = chain.to_vec();
                chain.push(path.to_path_buf());
                let base = Config::load_in_chain(&base_path, &chain)?;
                Ok(config.on_top_of(base))
            }
        }
    }

    /// This config with what it does not set taken from `base` (which it extends): rule levels,
    /// overrides, excludes, ignores and services of both, the base's first; this one's
    /// options per key.
    fn on_top_of(self, base: Config) -> Config {
        let mut options = base.options;
        for (rule, table) in self.options {
            options.entry(rule).or_default().extend(table);
        }
        let mut origins = base.origins;
        origins.extend(self.origins);
        let mut extends = vec![base.path.clone().unwrap_or_default()];
        extends.extend(base.extends);
        let max_set = origins
            .get("files.max-size")
            .is_some_and(|o| Some(o) == self.path.as_ref());
        Config {
            path: self.path,
            root: self.root,
            rules: [base.rules, self.rules].concat(),
            exclude: [base.exclude, self.exclude].concat(),
            overrides: base.overrides.into_iter().chain(self.overrides).collect(),
            options,
            origins,
            extends,
            nested: None,
            baseline: self.baseline.or(base.baseline),
            max_file_size: if max_set {
                self.max_file_size
            } else {
                base.max_file_size
            },
            select: self.select.or(base.select),
            ignore: [base.ignore, self.ignore].concat(),
            fail_on: self.fail_on.or(base.fail_on),
            preview: self.preview.or(base.preview),
            cli: self.cli,
            services: [base.services, self.services].concat(),
        }
    }

    /// A matcher for `[files] exclude`, owned so the parallel walker can keep it.
    /// With nested configs, a path is also excluded by the nearest config above it.
    pub fn exclusion(&self) -> impl Fn(&Path, bool) -> bool + Send + Sync + 'static {
        let exclude = self.exclude.clone();
        let nested = self.nested.clone();
        move |path, is_dir| {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            if excluded_by(&exclude, &abs, is_dir) {
                return true;
            }
            let dir = if is_dir {
                Some(abs.as_path())
            } else {
                abs.parent()
            };
            match nested.as_ref().zip(dir).map(|(n, d)| n.nearest(d)) {
                Some(Nearest::Other(c)) => excluded_by(&c.exclude, &abs, is_dir),
                _ => false,
            }
        }
    }

    /// Turns on nested configs: each file is checked under the nearest `prodlint.toml` or
    /// `.prodlint.toml` above it — this config where that is this config's file, and the
    /// defaults where there is none. The command-line selection applies to all of them. Called
    /// once `cli` is set; not with `--config` or `--no-config`.
    pub fn with_nested_configs(mut self) -> Config {
        self.nested = Some(Arc::new(Nested {
            cli: self.cli.clone(),
            run_config: self.path.as_deref().map(absolute),
            by_dir: Mutex::default(),
            errors: Mutex::default(),
            defaults: Arc::new(Config {
                cli: self.cli.clone(),
                ..Config::default()
            }),
        }));
        self
    }

    /// The config a file is checked under: the nearest one above it with nested configs on,
    /// else this one.
    pub fn for_file(&self, file: &Path) -> FileConfig<'_> {
        let Some(nested) = &self.nested else {
            return FileConfig::Run(self);
        };
        let abs = absolute(file);
        let Some(dir) = abs.parent() else {
            return FileConfig::Run(self);
        };
        match nested.nearest(dir) {
            Nearest::Run => FileConfig::Run(self),
            Nearest::Other(config) => FileConfig::Nested(config),
            Nearest::None => FileConfig::Nested(nested.default_config()),
        }
    }

    /// Nested configs that could not be read, each once.
    pub fn nested_errors(&self) -> Vec<ConfigError> {
        let Some(nested) = &self.nested else {
            return Vec::new();
        };
        let errors = nested.errors.lock().unwrap_or_else(|e| e.into_inner());
        errors.clone()
    }

    /// `select = [...]` of the config (the command line's is in `cli`).
    pub fn selected(&self) -> Option<&Vec<String>> {
        self.select.as_ref()
    }

    /// `ignore = [...]` of the config (the command line's is in `cli`).
    pub fn ignored(&self) -> &[String] {
        &self.ignore
    }

    /// Where a top-level value came from: the config file that sets it, or `None` for a default.
    pub fn origin(&self, key: &str) -> Option<&Path> {
        self.origins.get(key).map(PathBuf::as_path)
    }

    /// `[files] exclude` patterns are not kept as text by the matcher; the files that hold them.
    pub fn exclude_files(&self) -> Vec<&Path> {
        self.exclude.iter().map(Gitignore::path).collect()
    }

    /// The `[rules]` and `[[overrides]]` entries that decide a rule's level for a file, with
    /// the file that wrote each (for `--show-settings`).
    pub fn level_origin(&self, rule: &RuleInfo, path: &Path) -> Option<(String, PathBuf)> {
        let abs = absolute(path);
        let applies = |e: &&Entry| e.selector == rule.name() || e.selector == rule.meta.group;
        let mut last = None;
        let own_entries = self.rules.iter().filter(applies);
        let overrides = (self.overrides.iter())
            .filter(|o| {
                abs.starts_with(o.matcher.path())
                    && o.matcher
                        .matched_path_or_any_parents(&abs, false)
                        .is_ignore()
            })
            .flat_map(|o| o.rules.iter().filter(applies));
        // Group entries before the rule's own, as `level` applies them.
        let (group, own): (Vec<&Entry>, Vec<&Entry>) = own_entries
            .chain(overrides)
            .partition(|e| e.selector == rule.meta.group);
        for e in group.into_iter().chain(own) {
            let what = match e.setting {
                Setting::Off => "off".to_string(),
                Setting::Level(l) => l.as_str().to_string(),
            };
            last = Some((format!("{} = \"{what}\"", e.selector), e.origin.clone()));
        }
        last
    }

    /// Whether an `[[overrides]]` entry changes this rule (or its group) for some paths.
    pub fn overridden(&self, rule: &RuleInfo) -> bool {
        self.overrides.iter().any(|o| {
            o.rules
                .iter()
                .any(|e| e.selector == rule.name() || e.selector == rule.meta.group)
        })
    }

    /// A rule's `[rule-options.<rule>]` table, if the config file has one.
    pub fn options(&self, rule: &str) -> Option<&toml::Table> {
        self.options.get(rule)
    }

    /// Every rule's options table as text, by rule name (for the cache key).
    pub fn options_text(&self) -> Vec<(String, String)> {
        self.options
            .iter()
            .map(|(rule, table)| (rule.clone(), format!("{table:?}")))
            .collect()
    }

    /// Whether preview rules run: `--preview`/`--no-preview`, else `preview` in the config.
    pub fn preview(&self) -> bool {
        self.cli.preview.or(self.preview).unwrap_or(false)
    }

    /// Preview rules the command line or the config names by their own name while preview is
    /// off: they stay off, and the user is told why (naming a group does not count).
    pub fn preview_rules_named(&self) -> Vec<&'static str> {
        rules::registry()
            .iter()
            .filter(|r| self.names_idle_preview_rule(r))
            .map(|r| r.name())
            .collect()
    }

    /// Whether this is a preview rule, preview is off, and a selection names it on its own.
    fn names_idle_preview_rule(&self, rule: &RuleInfo) -> bool {
        let name = rule.name();
        let on = |e: &Entry| e.selector == name && e.setting != Setting::Off;
        rule.is_preview()
            && !self.preview()
            && (self.cli.select.iter().flatten().any(|s| s == name)
                || self.select.iter().flatten().any(|s| s == name)
                || self.rules.iter().any(on)
                || self.overrides.iter().any(|o| o.rules.iter().any(on)))
    }

    /// The severity a rule reports at for a file, or `None` when it is off there.
    pub fn level(&self, rule: &RuleInfo, path: &Path) -> Option<Severity> {
        // A preview rule runs only in preview mode, whatever selects it (as in ruff).
        if rule.is_preview() && !self.preview() {
            return None;
        }
        let default = if rule.meta.default {
            Setting::Level(rule.level)
        } else {
            Setting::Off
        };
        let mut setting = default;
        let mut configured = false;
        let mut apply = |entries: &[Entry], setting: &mut Setting| {
            // Group entries first, so a rule's own entry wins over its group's.
            for e in entries.iter().filter(|e| e.selector == rule.meta.group) {
                *setting = e.setting;
                configured = true;
            }
            for e in entries.iter().filter(|e| e.selector == rule.name()) {
                *setting = e.setting;
                configured = true;
            }
        };
        apply(&self.rules, &mut setting);
        if !self.overrides.is_empty() {
            let abs = absolute(path);
            for o in &self.overrides {
                // Each override's paths are relative to the file that wrote it.
                if abs.starts_with(o.matcher.path())
                    && o.matcher
                        .matched_path_or_any_parents(&abs, false)
                        .is_ignore()
                {
                    apply(&o.rules, &mut setting);
                }
            }
        }
        let named = |list: &[String]| {
            list.iter()
                .any(|s| s == rule.name() || s == &rule.meta.group)
        };
        let cli_selected = self.cli.select.as_deref().is_some_and(named);
        if let Some(select) = self.cli.select.as_ref().or(self.select.as_ref()) {
            if rule.meta.group != "meta" && !named(select) {
                return None;
            }
            // Selecting a rule turns it on when it is off by default; a rule the config turns off
            // stays off unless the command line names it.
            if setting == Setting::Off && named(select) && (!configured || cli_selected) {
                setting = Setting::Level(rule.level);
            }
        }
        // A rule named on the command line is checked even if the config ignores it.
        if named(&self.cli.ignore) || (named(&self.ignore) && !cli_selected) {
            return None;
        }
        match setting {
            Setting::Off => None,
            Setting::Level(l) => Some(l),
        }
    }
}

/// The config a file is checked under (see [`Config::for_file`]).
pub enum FileConfig<'a> {
    Run(&'a Config),
    Nested(Arc<Config>),
}

impl std::ops::Deref for FileConfig<'_> {
    type Target = Config;
    fn deref(&self) -> &Config {
        match self {
            FileConfig::Run(c) => c,
            FileConfig::Nested(c) => c,
        }
    }
}

/// Configs found above the run's files, loaded once each, by directory.
struct Nested {
    cli: CliSelection,
    /// The run's own config file (absolute): files below it use the run's `Config`.
    run_config: Option<PathBuf>,
    /// The nearest config at or above each directory asked about.
    by_dir: Mutex<HashMap<PathBuf, Nearest>>,
    errors: Mutex<Vec<ConfigError>>,
    /// The defaults (with the command line's selection), for files with no config above them.
    defaults: Arc<Config>,
}

/// The nearest config at or above a directory.
#[derive(Clone)]
enum Nearest {
    /// The run's own config file.
    Run,
    Other(Arc<Config>),
    None,
}

impl Nested {
    /// The nearest config at or above `dir`, found once per directory.
    fn nearest(&self, dir: &Path) -> Nearest {
        if let Some(known) = self.lock().get(dir) {
            return known.clone();
        }
        let found = match self.config_in(dir) {
            Some(file) if self.run_config.as_deref() == Some(file.as_path()) => Nearest::Run,
            Some(file) => Nearest::Other(self.load(&file)),
            None => match dir.parent() {
                Some(parent) => self.nearest(parent),
                None => Nearest::None,
            },
        };
        self.lock().insert(dir.to_path_buf(), found.clone());
        found
    }

    fn default_config(&self) -> Arc<Config> {
        self.defaults.clone()
    }

    /// The config file of a directory; both names there is an error (reported once), and
    /// `prodlint.toml` is read.
    fn config_in(&self, dir: &Path) -> Option<PathBuf> {
        let mut found = FILE_NAMES
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| p.is_file());
        let first = found.next()?;
        if let Some(second) = found.next() {
            let error = ConfigError {
                path: first.clone(),
                line: 1,
                column: 1,
                message: format!(
                    "both `{}` and `{}` exist; prodlint reads one config per directory: merge them into one and remove the other",
                    first.display(),
                    second.display()
                ),
            };
            let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
            if !errors.contains(&error) {
                errors.push(error);
            }
        }
        Some(first)
    }

    fn load(&self, file: &Path) -> Arc<Config> {
        match Config::load(file) {
            Ok(mut config) => {
                config.cli = self.cli.clone();
                Arc::new(config)
            }
            Err(e) => {
                let mut errors = self.errors.lock().unwrap_or_else(|e| e.into_inner());
                if !errors.contains(&e) {
                    errors.push(e);
                }
                // Its files are checked with the defaults; the run fails on the error.
                self.default_config()
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Nearest>> {
        self.by_dir.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn same_file(a: &Path, b: &Path) -> bool {
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| absolute(p));
    canonical(a) == canonical(b)
}

/// Whether one of these `[files] exclude` matchers (each rooted at its config's directory)
/// excludes `abs`.
fn excluded_by(exclude: &[Gitignore], abs: &Path, is_dir: bool) -> bool {
    exclude.iter().any(|ex| {
        abs.starts_with(ex.path()) && ex.matched_path_or_any_parents(abs, is_dir).is_ignore()
    })
}

/// serde's "unknown field `fail_on`, expected one of `fail-on`, …" with the closest expected key
/// named: "did you mean `fail-on`?".
fn with_key_suggestion(message: &str) -> String {
    let Some(rest) = message.strip_prefix("unknown field `") else {
        return message.to_string();
    };
    let Some((field, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let candidates = expected.split('`').skip(1).step_by(2);
    match rules::closest(field, candidates) {
        Some(key) => format!("{message}; did you mean `{key}`?"),
        None => message.to_string(),
    }
}

/// Checks `--select`/`--ignore` names against the registry.
pub fn validate_selectors(names: &[String]) -> Result<(), String> {
    for n in names {
        if rules::find(n).is_none() && !rules::is_group(n) {
            return Err(format!(
                "unknown rule or group `{n}` (see `prodlint rules`){}",
                rules::suggestion(n)
            ));
        }
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("prodlint.toml"), Path::new("/repo"))
    }

    /// A config with preview rules on: selection and precedence apply to every rule alike, and
    /// which rules are preview changes as they are measured.
    fn parse_all(text: &str) -> Result<Config, ConfigError> {
        let mut config = parse(text)?;
        config.cli.preview = Some(true);
        Ok(config)
    }

    /// A registered rule with its status set to preview (the registry's statuses change as
    /// rules are measured; the behaviour must not depend on which rule is preview today).
    fn as_preview(name: &str) -> RuleInfo {
        let real = rules::find(name).expect("a registered rule");
        let mut meta = real.meta.clone();
        meta.status = rules::Status::Preview;
        RuleInfo {
            rule: real.rule,
            meta,
            level: real.level,
            body: real.body,
        }
    }

    #[test]
    fn preview_rules_run_only_in_preview_mode() {
        let rule = as_preview("image-tag-not-pinned");
        let file = Path::new("/repo/Dockerfile");
        let mut config = parse("").unwrap();
        assert_eq!(config.level(&rule, file), None, "off by default");
        config.cli.select = Some(vec!["image-tag-not-pinned".into()]);
        assert_eq!(
            config.level(&rule, file),
            None,
            "selecting it is not enough"
        );
        assert!(config.names_idle_preview_rule(&rule), "the user is told");
        config.cli.preview = Some(true);
        assert_eq!(config.level(&rule, file), Some(Severity::Warning));
        assert!(!config.names_idle_preview_rule(&rule));

        let mut from_file = parse("preview = true\n").unwrap();
        assert_eq!(from_file.level(&rule, file), Some(Severity::Warning));
        from_file.cli.preview = Some(false);
        assert_eq!(from_file.level(&rule, file), None, "--no-preview wins");

        // A group names no rule in particular: no warning.
        let mut grouped = parse("").unwrap();
        grouped.cli.select = Some(vec!["supply-chain".into()]);
        assert!(!grouped.names_idle_preview_rule(&rule));
        let configured = parse("[rules]\nimage-tag-not-pinned = \"error\"\n").unwrap();
        assert!(configured.names_idle_preview_rule(&rule));
        assert_eq!(configured.level(&rule, file), None);
    }

    #[test]
    fn services_entries_are_checked() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let ok = Config::parse(
            "[[services]]\nname = \"api\"\nimage = \"ghcr.io/acme/api*\"\nsource = \"src\"\n",
            Path::new("prodlint.toml"),
            root,
        )
        .unwrap();
        assert_eq!(ok.services.len(), 1);
        assert!(ok.services[0].image.is_match("ghcr.io/acme/api:1.0"));
        assert_eq!(
            ok.services[0].source.as_deref(),
            Some(root.join("src").as_path())
        );
        let missing = Config::parse(
            "[[services]]\nname = \"api\"\nimage = \"api\"\ndockerfile = \"nope/Dockerfile\"\n",
            Path::new("prodlint.toml"),
            root,
        )
        .err()
        .expect("an error");
        assert_eq!(missing.line, 4);
        assert!(
            missing.message.contains("does not exist"),
            "{}",
            missing.message
        );
        let neither = parse("[[services]]\nname = \"api\"\nimage = \"api\"\n")
            .err()
            .expect("an error");
        assert!(
            neither.message.contains("needs a `dockerfile`"),
            "{}",
            neither.message
        );
        let glob = parse("[[services]]\nname = \"api\"\nimage = \"a[\"\nsource = \".\"\n")
            .err()
            .expect("an error");
        assert_eq!(glob.line, 3);
        assert!(parse("[[services]]\nname = \"api\"\nimg = \"a\"\n").is_err());
    }

    #[test]
    fn unknown_key_points_at_line() {
        let err = parse("[rules]\nimage-runs-as-root = \"off\"\n\n[file]\nexclude = []\n")
            .err()
            .unwrap();
        assert_eq!(err.line, 4, "{err}");
        assert!(err.message.contains("unknown field `file`"), "{err}");
    }

    #[test]
    fn unknown_rule_points_at_key() {
        let err = parse("[rules]\nimage-runs-as-rot = \"off\"\n")
            .err()
            .unwrap();
        assert_eq!((err.line, err.column), (2, 1));
        assert!(err.message.contains("image-runs-as-rot"));
    }

    #[test]
    fn rule_options_are_validated_where_they_are_written() {
        let ok = parse(
            "[rule-options.metric-label-high-cardinality]\nallowed-labels = [\"tenant_id\"]\n",
        )
        .unwrap();
        assert!(ok.options("metric-label-high-cardinality").is_some());
        let unknown_rule = parse("[rule-options.no-such-rule]\nx = 1\n").err().unwrap();
        assert_eq!(unknown_rule.line, 1, "{unknown_rule}");
        assert!(
            unknown_rule.message.contains("no-such-rule"),
            "{unknown_rule}"
        );
        let no_options = parse("[rule-options.image-runs-as-root]\nx = 1\n")
            .err()
            .unwrap();
        assert!(
            no_options.message.contains("has no options"),
            "{no_options}"
        );
        let bad_key = parse("[rule-options.metric-label-high-cardinality]\nallowed = [\"x\"]\n")
            .err()
            .unwrap();
        assert!(
            bad_key.message.contains("unknown field `allowed`"),
            "{bad_key}"
        );
        let bad_type =
            parse("[rule-options.metric-label-high-cardinality]\nallowed-labels = \"x\"\n")
                .err()
                .unwrap();
        assert!(
            bad_type.message.contains("invalid [rule-options"),
            "{bad_type}"
        );
        // Located at the option, not at 1:1.
        assert_eq!((bad_type.line, bad_type.column), (2, 1), "{bad_type}");
        assert_eq!((bad_key.line, bad_key.column), (2, 1), "{bad_key}");
    }

    #[test]
    fn select_ignore_and_fail_on_in_the_config() {
        let mut c = parse_all(
            "select = [\"health\", \"image-runs-as-root\"]\nignore = [\"missing-readiness-probe\"]\nfail-on = \"error\"\n",
        )
        .unwrap();
        assert_eq!(c.fail_on, Some(Severity::Error));
        let at = Path::new("/repo/x");
        let level = |c: &Config, name: &str| c.level(rules::find(name).unwrap(), at);
        assert_eq!(level(&c, "image-runs-as-root"), Some(Severity::Warning));
        assert!(level(&c, "missing-liveness-probe").is_some());
        assert_eq!(level(&c, "missing-readiness-probe"), None);
        assert_eq!(level(&c, "image-tag-not-pinned"), None);
        // --select replaces the config's selection and wins over its ignore list.
        c.cli.select = Some(vec!["missing-readiness-probe".into()]);
        assert!(level(&c, "missing-readiness-probe").is_some());
        assert_eq!(level(&c, "image-runs-as-root"), None);

        let err = parse("select = [\"helth\"]\n").err().unwrap();
        assert_eq!((err.line, err.column), (1, 11), "{err}");
        let err = parse("ignore = [\"x\"]\n").err().unwrap();
        assert!(err.message.contains("`ignore`"), "{err}");
        let err = parse("fail-on = \"warn\"\n").err().unwrap();
        assert_eq!((err.line, err.column), (1, 11), "{err}");
    }

    #[test]
    fn max_size_takes_bytes_or_units() {
        assert_eq!(parse("").unwrap().max_file_size, DEFAULT_MAX_FILE_SIZE);
        let size = |v: &str| parse(&format!("[files]\nmax-size = {v}\n")).map(|c| c.max_file_size);
        assert_eq!(size("4096"), Ok(4096));
        assert_eq!(size("\"4MiB\""), Ok(4 << 20));
        assert_eq!(size("\"500 KB\""), Ok(500_000));
        assert_eq!(size("\"1gib\""), Ok(1 << 30));
        for bad in [
            "-1",
            "\"4 MiBs\"",
            "\"MiB\"",
            "true",
            "\"99999999999999999999GB\"",
        ] {
            let err = size(bad).err().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!((err.line, err.column), (2, 12), "{err}");
        }
    }

    #[test]
    fn bad_level() {
        let err = parse("[rules]\nsecurity = \"loud\"\n").err().unwrap();
        assert_eq!((err.line, err.column), (2, 12));
    }

    #[test]
    fn precedence() {
        let mut c = parse_all(
            "[rules]\nsecurity = \"error\"\nhealth = \"off\"\nmissing-readiness-probe = \"info\"\n[[overrides]]\npaths = [\"dev/**\"]\nrules = { security = \"off\" }\n",
        )
        .unwrap();
        let root = rules::find("image-runs-as-root").unwrap();
        let live = rules::find("missing-liveness-probe").unwrap();
        let ready = rules::find("missing-readiness-probe").unwrap();
        assert_eq!(
            c.level(root, Path::new("/repo/Dockerfile")),
            Some(Severity::Error)
        );
        assert_eq!(c.level(root, Path::new("/repo/dev/x/Dockerfile")), None);
        assert_eq!(c.level(live, Path::new("/repo/k.yaml")), None);
        assert_eq!(
            c.level(ready, Path::new("/repo/k.yaml")),
            Some(Severity::Info)
        );
        c.cli.select = Some(vec!["missing-liveness-probe".into()]);
        assert_eq!(
            c.level(live, Path::new("/repo/k.yaml")),
            Some(Severity::Warning)
        );
        assert_eq!(c.level(root, Path::new("/repo/Dockerfile")), None);
        let parse_error = rules::find("parse-error").unwrap();
        assert!(c.level(parse_error, Path::new("/repo/k.yaml")).is_some());
        c.cli.ignore = vec!["health".into()];
        assert_eq!(c.level(live, Path::new("/repo/k.yaml")), None);
    }
}
