//! The rule registry. A rule is its documentation file (`rules/<name>.md`, linked in with
//! `include_str!` so a missing doc breaks the build) plus the checks it runs, one per input kind.

use std::ops::Range;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use crate::diagnostic::{Label, Severity};
use crate::lang::dockerfile::Dockerfile;
use crate::lang::kubernetes::{K8sObject, Workload};
use crate::lang::rust::{RustFile, RustVisitor};
use crate::lang::shell::Located;
use crate::lang::shell::Script;
use crate::lang::workflow::Workflow;
use crate::project::Project;
use crate::source::{FileId, FileKind};

mod dockerfile;
mod kubernetes;
mod rust;
mod services;
mod shell;
mod workflow;

/// Includes a rule's documentation file by name.
macro_rules! rule_doc {
    ($name:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $name, ".md"))
    };
}
pub(crate) use rule_doc;

pub struct Rule {
    pub name: &'static str,
    pub doc: &'static str,
    pub checks: &'static [Check],
    /// Checks the rule's `[rule-options.<name>]` table from the config file; `None` when the rule
    /// has no options.
    pub options: Option<ValidateOptions>,
}

/// Identifiers one of which a Rust function body must hold for a rule to find anything in it;
/// bodies that hold none are not parsed. Syntax in `crate::lang::rust_scan::Wanted`: `"reqwest"`
/// (any segment of a matched path will do, as imports are followed), `"info!"` (a macro),
/// `"*timeout"` (a glob), `"fs & async"` (all parts), `"loop|while(!let) { await & Ok }"` (all
/// parts inside the keyword's block), `"warp:path"` (only in packages that depend on `warp`). Prefer the
/// most specific segment: a crate name keeps every body that names anything imported from it.
pub type RustTriggers = &'static [&'static str];

/// Checks a rule's options table; the error says what is wrong with it.
pub type ValidateOptions = fn(&toml::Table) -> Result<(), String>;

/// Validates an options table by deserializing it into the rule's options type.
pub fn validate_options<T: DeserializeOwned>(table: &toml::Table) -> Result<(), String> {
    T::deserialize(toml::Value::Table(table.clone()))
        .map(|_| ())
        .map_err(|e| e.message().trim().to_string())
}

/// A check of one shell script; the second argument maps the script's spans to the file's.
pub type ShellCheck = fn(&Script, &dyn Fn(Range<usize>) -> Range<usize>, &mut Ctx);

pub type ProjectCheck = fn(&Project, &mut Ctx);

pub type RustCheck =
    for<'a, 'o> fn(&'a RustFile, &'a mut Ctx<'o>) -> Option<Box<dyn RustVisitor + 'a>>;

/// The input a check reads, and the function that reads it. The engine calls a check only for
/// files of its kind and only where configuration enables the rule.
pub enum Check {
    /// Returns the rule's visitor for the file (`None` when the file cannot matter to the rule).
    /// Every Rust rule's visitor, and the fact extraction, share one walk of the file. The
    /// [`RustTriggers`] say which function bodies the visitor needs parsed.
    Rust(RustCheck, RustTriggers),
    /// What a project check reads from Rust facts beyond what the extractors always gather
    /// (evidence paths and methods): function bodies holding one of these are parsed.
    RustFacts(RustTriggers),
    Dockerfile(fn(&Dockerfile, &mut Ctx)),
    Kubernetes(fn(&K8sObject, &mut Ctx)),
    /// A GitHub Actions workflow.
    Workflow(fn(&Workflow, &mut Ctx)),
    /// The shell scripts of a script file, Makefile or justfile.
    Script(fn(&[Located], &mut Ctx)),
    /// Every shell script, wherever it is written: Dockerfile `RUN`s, workflow `run:` steps,
    /// scripts and recipes (for the kinds the rule's docs list); `to_source` maps its spans.
    Shell(ShellCheck),
    /// Runs once per run over facts exported by the front ends (cross-file rules).
    Project(ProjectCheck),
}

/// Diagnostics the engine itself emits. They have docs and can be configured like any rule.
pub mod engine_rules {
    use super::Rule;
    pub static PARSE_ERROR: Rule = Rule {
        name: "parse-error",
        doc: rule_doc!("parse-error"),
        checks: &[],
        options: None,
    };
    pub static UNUSED_SUPPRESSION: Rule = Rule {
        name: "unused-suppression",
        doc: rule_doc!("unused-suppression"),
        checks: &[],
        options: None,
    };
    pub static INVALID_SUPPRESSION: Rule = Rule {
        name: "invalid-suppression",
        doc: rule_doc!("invalid-suppression"),
        checks: &[],
        options: None,
    };
    pub static HELM_TEMPLATE_SKIPPED: Rule = Rule {
        name: "helm-template-skipped",
        doc: rule_doc!("helm-template-skipped"),
        checks: &[],
        options: None,
    };
}

/// Every rule, sorted by name (a meta-test checks the order).
pub static ALL: &[&Rule] = &[
    &workflow::action_ref_not_pinned::RULE,
    &dockerfile::add_remote_url_without_checksum::RULE,
    &rust::amqp_consumer_auto_ack::RULE,
    &rust::blocking_call_in_async::RULE,
    &dockerfile::build_image_used_at_runtime::RULE,
    &kubernetes::container_runs_as_root::RULE,
    &kubernetes::container_runtime_socket_mounted::RULE,
    &shell::curl_pipe_shell::RULE,
    &rust::db_pool_without_acquire_timeout::RULE,
    &rust::dual_write_without_outbox::RULE,
    &dockerfile::dynamic_binary_in_static_image::RULE,
    &dockerfile::entrypoint_script_without_exec::RULE,
    &kubernetes::go_memlimit_exceeds_memory_limit::RULE,
    &services::go_memlimit_not_set::RULE,
    &rust::grpc_client_without_timeout::RULE,
    &services::grpc_probe_without_health_service::RULE,
    &rust::grpc_server_without_graceful_shutdown::RULE,
    &rust::grpc_server_without_health_service::RULE,
    &engine_rules::HELM_TEMPLATE_SKIPPED,
    &kubernetes::host_namespace_shared::RULE,
    &rust::http_client_created_per_request::RULE,
    &rust::http_client_timeout_disabled::RULE,
    &rust::http_client_without_timeout::RULE,
    &rust::http_server_without_graceful_shutdown::RULE,
    &rust::http_server_without_header_read_timeout::RULE,
    &rust::http_server_without_request_timeout::RULE,
    &kubernetes::identical_liveness_readiness_probe::RULE,
    &dockerfile::image_not_pinned_by_digest::RULE,
    &dockerfile::image_runs_as_root::RULE,
    &dockerfile::image_tag_not_pinned::RULE,
    &dockerfile::invalid_image_reference::RULE,
    &engine_rules::INVALID_SUPPRESSION,
    &services::jemalloc_conf_env_ignored::RULE,
    &rust::liveness_endpoint_checks_dependencies::RULE,
    &services::liveness_probe_checks_dependencies::RULE,
    &kubernetes::liveness_probe_uses_readiness_endpoint::RULE,
    &rust::metric_label_from_raw_path::RULE,
    &rust::metric_label_high_cardinality::RULE,
    &kubernetes::missing_liveness_probe::RULE,
    &kubernetes::missing_memory_limit::RULE,
    &kubernetes::missing_pod_disruption_budget::RULE,
    &kubernetes::missing_prestop_hook::RULE,
    &kubernetes::missing_readiness_probe::RULE,
    &kubernetes::missing_resource_requests::RULE,
    &engine_rules::PARSE_ERROR,
    &kubernetes::privileged_container::RULE,
    &services::probe_path_not_served::RULE,
    &kubernetes::probe_port_unknown::RULE,
    &rust::required_config_with_silent_default::RULE,
    &rust::retry_without_backoff_jitter::RULE,
    &services::run_as_non_root_with_named_user::RULE,
    &kubernetes::secret_in_env_literal::RULE,
    &dockerfile::secret_in_image::RULE,
    &rust::secret_in_span_fields::RULE,
    &rust::secret_logged::RULE,
    &rust::server_dropped_on_signal::RULE,
    &dockerfile::shell_form_entrypoint::RULE,
    &services::shutdown_exceeds_grace_period::RULE,
    &rust::shutdown_signal_ignores_sigterm::RULE,
    &kubernetes::single_replica_deployment::RULE,
    &rust::spawned_task_detached::RULE,
    &kubernetes::termination_grace_too_short::RULE,
    &shell::tool_install_unpinned::RULE,
    &rust::trace_propagator_not_configured::RULE,
    &rust::trace_sampler_always_on::RULE,
    &rust::unbounded_channel::RULE,
    &rust::unbounded_in_memory_cache::RULE,
    &rust::unbounded_request_body::RULE,
    &rust::unbounded_spawn_per_message::RULE,
    &engine_rules::UNUSED_SUPPRESSION,
    &services::worker_threads_exceed_cpu_limit::RULE,
];

pub const GROUPS: &[&str] = &[
    "timeouts",
    "shutdown",
    "health",
    "resources",
    "concurrency",
    "messaging",
    "observability",
    "configuration",
    "supply-chain",
    "security",
    "meta",
];

/// The front matter of a rule's documentation file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub name: String,
    pub kinds: Vec<String>,
    pub group: String,
    pub level: String,
    pub default: bool,
    /// `stable` rules run by default; `preview` rules only with `--preview` (or `preview = true`
    /// in the config), because their measured precision is below the bar in docs/precision.md.
    pub status: Status,
    /// The roles of Rust files (`crate::surface::Role`) the rule judges: serving rules list
    /// `service` and `library`. Rules without it (other kinds, the engine's own) see every file.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
    pub summary: String,
}

/// A rule's maturity, as ruff has it: a rule is `stable` only when at least 90 % of its findings
/// on the measuring half of the evaluation corpus held up when read against the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Stable,
    Preview,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stable => "stable",
            Status::Preview => "preview",
        }
    }
}

/// A rule with its parsed documentation.
pub struct RuleInfo {
    pub rule: &'static Rule,
    pub meta: RuleMeta,
    pub level: Severity,
    /// The Markdown after the front matter.
    pub body: &'static str,
}

impl RuleInfo {
    pub fn name(&self) -> &'static str {
        self.rule.name
    }

    /// Whether the rule judges Rust files of this role.
    pub fn applies_to_role(&self, role: crate::surface::Role) -> bool {
        self.meta
            .roles
            .as_ref()
            .is_none_or(|roles| roles.iter().any(|r| r == role.as_str()))
    }

    pub fn is_preview(&self) -> bool {
        self.meta.status == Status::Preview
    }

    pub fn applies_to(&self, kind: FileKind) -> bool {
        self.meta.kinds.iter().any(|k| k == kind.name())
    }
}

/// Splits `---\n<yaml>\n---\n<body>`.
pub fn split_front_matter(doc: &str) -> Option<(&str, &str)> {
    let rest = doc.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    Some((&rest[..end], &rest[end + 5..]))
}

pub fn parse_meta(doc: &str) -> Result<(RuleMeta, &str), String> {
    let (front, body) = split_front_matter(doc).ok_or("no `---` front matter")?;
    let stream = crate::lang::yaml::parse_stream(front);
    if let Some(e) = stream.error {
        return Err(format!("front matter: {}", e.message));
    }
    let root = stream.documents.first().ok_or("empty front matter")?;
    let meta: RuleMeta =
        crate::lang::yaml::from_node(&root.root).map_err(|e| format!("front matter: {e}"))?;
    Ok((meta, body))
}

/// All rules with their metadata. The docs are compiled in and checked by `tests/meta.rs`, so a
/// malformed one is a build defect, not user input.
/// The rule or group name closest to `name` by edit distance, if one is close enough to be
/// what was meant (for "did you mean" in errors).
pub fn did_you_mean(name: &str) -> Option<&'static str> {
    let names = registry()
        .iter()
        .map(|r| r.name())
        .chain(GROUPS.iter().copied());
    closest(name, names)
}

/// The candidate closest to `name` by edit distance, when within a third of its length (at
/// least 1, at most 3 edits).
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = if ca == *cb {
                previous
            } else {
                1 + previous.min(row[j]).min(row[j + 1])
            };
            previous = current;
        }
    }
    row[b.len()]
}

/// ` (did you mean `x`?)` for an unknown rule or group name, or nothing.
pub fn suggestion(name: &str) -> String {
    did_you_mean(name)
        .map(|m| format!("; did you mean `{m}`?"))
        .unwrap_or_default()
}

pub fn registry() -> &'static [RuleInfo] {
    static REGISTRY: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        ALL.iter()
            .map(|rule| {
                let (meta, body) =
                    parse_meta(rule.doc).unwrap_or_else(|e| panic!("rules/{}.md: {e}", rule.name));
                let level = Severity::parse(&meta.level).unwrap_or_else(|| {
                    panic!("rules/{}.md: bad level `{}`", rule.name, meta.level)
                });
                for role in meta.roles.iter().flatten() {
                    if crate::surface::Role::parse(role).is_none() {
                        panic!("rules/{}.md: unknown role `{role}`", rule.name);
                    }
                }
                RuleInfo {
                    rule,
                    meta,
                    level,
                    body,
                }
            })
            .collect()
    })
}

/// The rule of this name. The registry is sorted by name (a meta-test checks it), and the engine
/// asks for every enabled rule of every file, so this is a binary search.
pub fn find(name: &str) -> Option<&'static RuleInfo> {
    let registry = registry();
    registry
        .binary_search_by(|r| r.name().cmp(name))
        .ok()
        .map(|i| &registry[i])
}

pub fn is_group(name: &str) -> bool {
    GROUPS.contains(&name)
}

/// A finding as a rule reports it; the engine adds severity from configuration.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static str,
    pub file: FileId,
    pub span: Range<usize>,
    pub message: String,
    pub help: Option<String>,
    pub related: Vec<Label>,
    /// The finding is dropped when the file's package (production code, any file) shows one of
    /// these: the remedy may be applied somewhere the rule cannot follow.
    pub unless_package: Vec<Evidence>,
    /// Reported at no more than this severity whatever the rule's configured level (a weaker form
    /// of the problem: a channel nobody sends to from a request path).
    pub at_most: Option<Severity>,
    /// Decided once every Kubernetes file has been read: whether a Service selects the workload,
    /// a budget covers it, an autoscaler scales it.
    pub k8s: Option<K8sCondition>,
}

/// How a Kubernetes finding depends on other objects of the run.
#[derive(Debug, Clone)]
pub enum K8sCondition {
    /// Only for a container that receives traffic: a Service selecting the workload targets one
    /// of its `ports`; or, when no Service of the project selects the workload, it declares a
    /// port (then at `info` if `info_unless_served`). Dropped for a sidecar no Service targets
    /// and for a container with no port and no Service.
    ReceivesTraffic {
        workload: Workload,
        ports: Vec<crate::lang::kubernetes::PortRef>,
        /// Every port the pod's containers declare: a Service port that none declares may
        /// reach any container that declares none (declaring ports is optional).
        pod_ports: Vec<crate::lang::kubernetes::PortRef>,
        info_unless_served: bool,
    },
    /// Dropped when no Service selects the workload, when every Service selecting it also
    /// selects other pods (v1 and v2 of one app, two pods in all), or when an autoscaler scales it.
    ServedAndNotAutoscaled(Workload),
    /// The same for a kustomize overlay's merged workload, which runs this many replicas in
    /// place of the base's: the overlay is deployed instead of the base, not beside it.
    OverlayServedAndNotAutoscaled(Workload, i32),
    /// Dropped when a PodDisruptionBudget selects the workload.
    UnlessBudgeted(Workload),
    /// Dropped when a deploy tool of the run builds this image (a skaffold artifact, a Tiltfile
    /// `docker_build`): it puts the built tag in the manifest's place when it deploys.
    /// Also dropped when a kustomization of the run sets its tag or digest (`images:`).
    UnlessBuiltByDeployTool(String),
    /// A container that "may run as root": where the service map links it to a Dockerfile whose
    /// image runs as a non-root user, at most `info`, and the message names that user.
    AtMostInfoIfImageNonRoot,
}

impl K8sCondition {
    /// Puts the condition's workload in project `scope` (see [`crate::lang::kubernetes::Workload`]).
    pub fn set_scope(&mut self, scope: u32) {
        match self {
            K8sCondition::ServedAndNotAutoscaled(w)
            | K8sCondition::OverlayServedAndNotAutoscaled(w, _)
            | K8sCondition::UnlessBudgeted(w)
            | K8sCondition::ReceivesTraffic { workload: w, .. } => w.scope = scope,
            K8sCondition::UnlessBuiltByDeployTool(_) | K8sCondition::AtMostInfoIfImageNonRoot => {}
        }
    }
}

/// Something a package's production code does, as far as its facts tell. Owned when it comes
/// back from the cache; rules write it with [`Evidence::path`] and [`Evidence::method`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Evidence {
    /// Refers to this path or to something under it (`tower_http::limit`).
    Path(Cow<'static, str>),
    /// Calls a method of this name (`set_timeout`).
    Method(Cow<'static, str>),
    /// Refers to this path, in the package or in a crate of the run it links by path: a router
    /// and its layers built in a library crate are served by the binary crate that links it.
    LinkedPath(Cow<'static, str>),
}

impl Rule {
    /// The Rust triggers of every check of the rule.
    pub fn rust_triggers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.checks.iter().flat_map(|c| match c {
            Check::Rust(_, t) | Check::RustFacts(t) => t.iter().copied(),
            _ => [].iter().copied(),
        })
    }
}

impl Evidence {
    pub const fn path(p: &'static str) -> Evidence {
        Evidence::Path(Cow::Borrowed(p))
    }

    pub const fn method(m: &'static str) -> Evidence {
        Evidence::Method(Cow::Borrowed(m))
    }

    pub const fn linked_path(p: &'static str) -> Evidence {
        Evidence::LinkedPath(Cow::Borrowed(p))
    }

    pub fn holds(&self, facts: &crate::project::RustFacts) -> bool {
        match self {
            Evidence::Path(p) | Evidence::LinkedPath(p) => facts.refers_to(p),
            Evidence::Method(m) => facts.methods.contains(m.as_ref()),
        }
    }

    /// Whether it may be found in the crates the package links, not only in the package.
    pub fn reaches_linked_crates(&self) -> bool {
        matches!(self, Evidence::LinkedPath(_))
    }
}

impl Finding {
    pub fn unless_package(&mut self, evidence: &[Evidence]) -> &mut Self {
        self.unless_package = evidence.to_vec();
        self
    }

    pub fn when_k8s(&mut self, condition: K8sCondition) -> &mut Self {
        self.k8s = Some(condition);
        self
    }

    /// Reports this finding at `info` at most.
    pub fn info(&mut self) -> &mut Self {
        self.at_most(Severity::Info)
    }

    /// Reports this finding at no more than `severity`, whatever the rule's level.
    pub fn at_most(&mut self, severity: Severity) -> &mut Self {
        self.at_most = Some(severity);
        self
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// A related location in the file being checked (per-file checks).
    pub fn related_here(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Self {
        let file = self.file;
        self.related(file, span, message)
    }

    pub fn related(
        &mut self,
        file: FileId,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Self {
        self.related.push(Label {
            file,
            span,
            message: Some(message.into()),
        });
        self
    }
}

/// What a check reports into.
pub struct Ctx<'a> {
    pub(crate) rule: &'static str,
    pub(crate) file: FileId,
    pub(crate) findings: &'a mut Vec<Finding>,
    pub(crate) options: Option<&'a toml::Table>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        rule: &'static str,
        file: FileId,
        findings: &'a mut Vec<Finding>,
        options: Option<&'a toml::Table>,
    ) -> Self {
        Ctx {
            rule,
            file,
            findings,
            options,
        }
    }

    /// The rule's options from the config file, or their defaults. The table was validated when
    /// the config was loaded, so a failure here cannot come from the user; it falls back too.
    pub fn options<T: DeserializeOwned + Default>(&self) -> T {
        self.options
            .and_then(|t| T::deserialize(toml::Value::Table(t.clone())).ok())
            .unwrap_or_default()
    }

    /// Report a finding in the file being checked.
    pub fn report(&mut self, span: Range<usize>, message: impl Into<String>) -> &mut Finding {
        let file = self.file;
        self.report_in(file, span, message)
    }

    /// Report a finding in another file (project rules).
    pub fn report_in(
        &mut self,
        file: FileId,
        span: Range<usize>,
        message: impl Into<String>,
    ) -> &mut Finding {
        self.findings.push(Finding {
            rule: self.rule,
            file,
            span,
            message: message.into(),
            help: None,
            related: Vec::new(),
            unless_package: Vec::new(),
            at_most: None,
            k8s: None,
        });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }
}
