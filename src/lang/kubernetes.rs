//! Kubernetes front end: YAML documents (and `kind: List` items) turned into typed `k8s-openapi`
//! objects, with routes (`spec.template.spec.containers[0].name`) that resolve to exact spans.

use std::collections::BTreeMap;
use std::ops::Range;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    Container, Pod, PodSpec, PodTemplateSpec, ReplicationController, Service, ServicePort,
};
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::yaml::{self, Document, Node, NodeKind};

/// A label selector of a Service or PodDisruptionBudget, with the namespace it selects in.
#[derive(Debug, Clone, PartialEq)]
pub struct Selector {
    /// `None` when the manifest leaves it to `kubectl -n` or kustomize: it matches any namespace.
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Matches every pod of its namespace (a PDB's `selector: {}` or one with only
    /// `matchExpressions`, which are not evaluated).
    pub all: bool,
    /// The project the object belongs to ([`K8sFacts::set_scope`]).
    pub scope: u32,
    /// For a Service, the container ports its `targetPort`s name (its `port` where no
    /// `targetPort` is given); empty for PodDisruptionBudgets and Services without ports.
    pub target_ports: Vec<PortRef>,
    /// A Service all of whose ports are named for metrics (`metrics`, `https-metrics`): what
    /// reaches the pods through it is a scraper, not the traffic an outage interrupts.
    pub metrics_only: bool,
}

/// A container port as a Service's `targetPort` names it: by number or by the port's name.
#[derive(Debug, Clone, PartialEq)]
pub enum PortRef {
    Number(i32),
    Name(String),
}

impl PortRef {
    /// The ports a container declares, by number and by name.
    pub fn of_container(c: &Container) -> Vec<PortRef> {
        let mut out = Vec::new();
        for p in c.ports.iter().flatten() {
            out.push(PortRef::Number(p.container_port));
            out.extend(p.name.clone().map(PortRef::Name));
        }
        out
    }
}

/// A workload as other objects refer to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub namespace: Option<String>,
    pub kind: String,
    pub name: String,
    /// The pod template's labels.
    pub labels: BTreeMap<String, String>,
    /// The project it belongs to: objects join only within one project (the nearest git work
    /// tree or prodlint config root), so findings do not depend on which parent was checked.
    pub scope: u32,
}

/// An autoscaler's `scaleTargetRef`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScaleTarget {
    pub namespace: Option<String>,
    pub kind: String,
    pub name: String,
    pub scope: u32,
}

/// Namespaces match when equal, or when either manifest leaves it to `kubectl -n` or kustomize.
fn same_namespace(a: &Option<String>, b: &Option<String>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

impl Selector {
    pub fn selects(&self, w: &Workload) -> bool {
        self.scope == w.scope
            && same_namespace(&self.namespace, &w.namespace)
            && (self.all
                || (!self.labels.is_empty()
                    && self.labels.iter().all(|(k, v)| w.labels.get(k) == Some(v))))
    }
}

/// What rules about one object need to know about the others in the run: which Services and
/// PodDisruptionBudgets select pods, and which workloads an autoscaler scales.
#[derive(Debug, Clone, Default)]
pub struct K8sFacts {
    pub services: Vec<Selector>,
    pub disruption_budgets: Vec<Selector>,
    /// The autoscalers' `scaleTargetRef`s.
    pub autoscaled: Vec<ScaleTarget>,
    /// The long-running containers of every workload, for the service map and cross-file rules.
    pub containers: Vec<ContainerFacts>,
    /// Deployments, StatefulSets and ReplicationControllers with their replica count (1 when
    /// unset): a Service that selects several (v1, v2, v3 of one app) has their pods together.
    pub replicas: Vec<(Workload, i32)>,
    /// The joins above, indexed by label on first use (reset by [`K8sFacts::extend`]): asking
    /// for every workload stays linear in the number of objects.
    index: std::sync::OnceLock<FactsIndex>,
}

/// Services, PodDisruptionBudgets and replica-counted workloads by label (`key=value`).
#[derive(Debug, Clone, Default)]
struct FactsIndex {
    services: LabelIndex,
    disruption_budgets: LabelIndex,
    /// Replica-counted workloads by each label their pods carry.
    workloads: std::collections::HashMap<(String, String), Vec<usize>>,
}

/// Selectors by their first label, and those that select every pod of a namespace.
#[derive(Debug, Clone, Default)]
struct LabelIndex {
    by_first_label: std::collections::HashMap<(String, String), Vec<usize>>,
    all: Vec<usize>,
}

impl LabelIndex {
    fn new(selectors: &[Selector]) -> Self {
        let mut index = LabelIndex::default();
        for (i, s) in selectors.iter().enumerate() {
            if s.all {
                index.all.push(i);
            } else if let Some((k, v)) = s.labels.iter().next() {
                (index
                    .by_first_label
                    .entry((k.clone(), v.clone()))
                    .or_default())
                .push(i);
            }
        }
        index
    }

    /// The selectors that may select `w` (each still to be asked), in order.
    fn candidates(&self, w: &Workload) -> Vec<usize> {
        let mut found: Vec<usize> = (w.labels.iter())
            .filter_map(|(k, v)| self.by_first_label.get(&(k.clone(), v.clone())))
            .flatten()
            .chain(&self.all)
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// A long-running container as cross-file rules see it: its spec (plain `k8s-openapi` data) and
/// the spans of the places they report at or point to.
#[derive(Debug, Clone)]
pub struct ContainerFacts {
    /// Set by the engine once the file has its id.
    pub file: crate::source::FileId,
    /// The project of the file ([`K8sFacts::set_scope`]).
    pub scope: u32,
    /// `Deployment/api`.
    pub workload: String,
    pub spec: Container,
    /// The pod's `terminationGracePeriodSeconds`, if set.
    pub grace_period: Option<i64>,
    /// `runAsNonRoot` and `runAsUser` as they apply to the container (its own, else the pod's).
    pub run_as_non_root: Option<bool>,
    pub run_as_user: Option<i64>,
    /// Spans by the route below the container (`name`, `image`, `livenessProbe.httpGet.path`,
    /// `resources.limits.cpu`, `env.3.name`), `terminationGracePeriodSeconds` and the deciding
    /// `runAsNonRoot` (the container's or the pod's); only those that exist.
    spans: BTreeMap<String, Range<usize>>,
}

impl ContainerFacts {
    /// The span at `key` (see `spans`), else the `name: …` entry of the container.
    pub fn span(&self, key: &str) -> Range<usize> {
        self.spans
            .get(key)
            .or_else(|| self.spans.get("name"))
            .cloned()
            .unwrap_or(0..0)
    }

    /// `workload/container`, as the service map shows it.
    pub fn label(&self) -> String {
        format!("{} container `{}`", self.workload, self.spec.name)
    }
}

impl K8sFacts {
    fn index(&self) -> &FactsIndex {
        self.index.get_or_init(|| {
            let mut workloads: std::collections::HashMap<(String, String), Vec<usize>> =
                std::collections::HashMap::new();
            for (i, (w, _)) in self.replicas.iter().enumerate() {
                for (k, v) in &w.labels {
                    workloads.entry((k.clone(), v.clone())).or_default().push(i);
                }
            }
            FactsIndex {
                services: LabelIndex::new(&self.services),
                disruption_budgets: LabelIndex::new(&self.disruption_budgets),
                workloads,
            }
        })
    }

    /// The Services that select `w`, in order.
    fn services_of<'a>(&'a self, w: &'a Workload) -> impl Iterator<Item = &'a Selector> + 'a {
        (self.index().services.candidates(w).into_iter())
            .filter_map(|i| self.services.get(i))
            .filter(move |s| s.selects(w))
    }

    /// The replica-counted workloads `s` selects.
    fn selected_by<'a>(&'a self, s: &'a Selector) -> Vec<&'a (Workload, i32)> {
        let candidates: Vec<usize> = match s.labels.iter().next() {
            Some((k, v)) if !s.all => (self.index().workloads.get(&(k.clone(), v.clone())))
                .cloned()
                .unwrap_or_default(),
            _ => (0..self.replicas.len()).collect(),
        };
        (candidates.into_iter())
            .filter_map(|i| self.replicas.get(i))
            .filter(|(w, _)| s.selects(w))
            .collect()
    }

    /// Whether Services send a container of `w` with these ports traffic: `None` when no
    /// Service selects `w`, else whether one targets one of the ports. Declaring ports is
    /// optional, so a target port no container of the pod (`pod_ports`) declares may be any
    /// container's that declares none, and a Service that lists no ports targets every one.
    pub fn targeted(&self, w: &Workload, ports: &[PortRef], pod_ports: &[PortRef]) -> Option<bool> {
        let mut selecting = self.services_of(w).peekable();
        selecting.peek()?;
        Some(selecting.any(|s| {
            !s.metrics_only
                && (s.target_ports.is_empty()
                    || s.target_ports
                        .iter()
                        .any(|t| ports.contains(t) || (ports.is_empty() && !pod_ports.contains(t))))
        }))
    }

    pub fn budgeted(&self, w: &Workload) -> bool {
        (self.index().disruption_budgets.candidates(w).into_iter())
            .filter_map(|i| self.disruption_budgets.get(i))
            .any(|s| s.selects(w))
    }

    /// Whether Services select `w` and each of them, across every workload it selects, has at
    /// most one pod: taking `w`'s one pod down leaves them with none. A workload that is one of
    /// several behind a Service (`reviews-v1` of `reviews`) is not, even where a narrower Service
    /// selects it alone (`reviews-v1`, for routing one version). `own` is `w`'s count where the
    /// facts do not hold it (a kustomize overlay's merged workload, deployed instead of its base).
    pub fn served_by_one_pod(&self, w: &Workload, own: Option<i32>) -> bool {
        let mut serving = self.services_of(w).filter(|s| !s.metrics_only).peekable();
        serving.peek().is_some()
            && serving.all(|s| {
                // The same workload written twice (a base and an overlay, two environments, a
                // Deployment and a StatefulSet variant of one sample) is one workload: its name's
                // largest count, once.
                let mut by_name: BTreeMap<&str, i32> = BTreeMap::new();
                for (other, n) in self.selected_by(s) {
                    let count = by_name.entry(&other.name).or_insert(0);
                    *count = (*count).max(*n);
                }
                if let Some(own) = own {
                    by_name.insert(&w.name, own);
                }
                by_name.values().map(|n| i64::from(*n)).sum::<i64>() <= 1
            })
    }

    pub fn autoscaled(&self, w: &Workload) -> bool {
        self.autoscaled.iter().any(|t| {
            t.scope == w.scope
                && same_namespace(&t.namespace, &w.namespace)
                && t.kind == w.kind
                && t.name == w.name
        })
    }

    /// Puts every object of these facts (one file's) in project `scope`.
    pub fn set_scope(&mut self, scope: u32) {
        for s in self.services.iter_mut().chain(&mut self.disruption_budgets) {
            s.scope = scope;
        }
        for t in &mut self.autoscaled {
            t.scope = scope;
        }
        for (w, _) in &mut self.replicas {
            w.scope = scope;
        }
        for c in &mut self.containers {
            c.scope = scope;
        }
        self.index = std::sync::OnceLock::new();
    }

    pub fn extend(&mut self, other: K8sFacts) {
        self.services.extend(other.services);
        self.disruption_budgets.extend(other.disruption_budgets);
        self.autoscaled.extend(other.autoscaled);
        self.containers.extend(other.containers);
        self.replicas.extend(other.replicas);
        self.index = std::sync::OnceLock::new();
    }
}

/// The annotation that suppresses rules on an object (the only suppression that survives rendering).
pub const IGNORE_ANNOTATION: &str = "prodlint.dev/ignore";

/// One step of a route into a YAML tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Key(&'static str),
    Index(usize),
}

/// Which part of a mapping entry a route points at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part {
    /// `key: value`, the whole entry.
    Entry,
    Key,
    Value,
}

pub enum Typed {
    Deployment(Box<Deployment>),
    StatefulSet(Box<StatefulSet>),
    DaemonSet(Box<DaemonSet>),
    ReplicaSet(Box<ReplicaSet>),
    ReplicationController(Box<ReplicationController>),
    Job(Box<Job>),
    CronJob(Box<CronJob>),
    Pod(Box<Pod>),
    Service(Box<Service>),
    PodDisruptionBudget(Box<PodDisruptionBudget>),
    HorizontalPodAutoscaler(Box<HorizontalPodAutoscaler>),
}

pub struct ObjectEntry {
    pub doc: usize,
    /// Route from the document root to the object (`items[3]` inside a `List`).
    pub prefix: Vec<Seg>,
    pub kind: String,
    pub name: String,
    pub typed: Typed,
}

#[derive(Default)]
pub struct K8sFile {
    pub docs: Vec<Document>,
    pub objects: Vec<ObjectEntry>,
    /// Syntax errors, then objects of a known kind that do not match its schema.
    pub errors: Vec<(String, Range<usize>)>,
    /// How many of `errors`, from the first, are syntax errors.
    pub syntax_errors: usize,
    /// Where Helm template syntax was found; the documents that hold it are not checked.
    pub helm: Option<usize>,
    /// Whether documents without template syntax were checked beside the template ones.
    pub helm_partial: bool,
    /// Whether any document looked like a Kubernetes object (`apiVersion` and `kind`).
    pub is_kubernetes: bool,
}

/// Cheap test before parsing: a Kubernetes manifest names both keys somewhere.
pub fn may_be_kubernetes(text: &str) -> bool {
    let is_key = |line: &str, key: &str| {
        let t = line.trim_start();
        let t = t.strip_prefix("- ").map_or(t, str::trim_start);
        t.strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'))
    };
    if !text.contains("apiVersion") {
        return false;
    }
    // JSON (one line or many): the quoted keys, each followed by its colon.
    let json_key = |key: &str| {
        text.match_indices(key)
            .any(|(at, _)| text[at + key.len()..].trim_start().starts_with(':'))
    };
    if text.trim_start().starts_with(['{', '['])
        && json_key("\"apiVersion\"")
        && json_key("\"kind\"")
    {
        return true;
    }
    text.lines().any(|l| is_key(l, "apiVersion")) && text.lines().any(|l| is_key(l, "kind"))
}

pub fn parse(text: &str) -> K8sFile {
    // What kubectl accepts parses: flow collections closed at their key's indentation included.
    let whole = yaml::parse_stream_lenient(text);
    let mut file = K8sFile::default();
    // Go templates (`{{ }}`) and Jinja (`{% %}`): a document that holds them and does not parse,
    // or holds them outside quoted values, is a template.
    let has_markers = |part: &str| part.contains("{{") || part.contains("{%");
    let is_template = |stream: &yaml::Stream, part: &str| {
        has_markers(part)
            && (stream.error.is_some()
                || (stream.documents.iter()).any(|d| has_template_syntax(&d.root, text)))
    };
    let documents = if whole.error.is_none() && !is_template(&whole, text) {
        whole.documents
    } else {
        // A syntax error or template syntax ends its own document only: each document is
        // parsed on its own, and template documents are left out.
        let mut documents = Vec::new();
        let mut checked_any = false;
        // In a file that is a template, a document that does not parse is taken to be broken
        // by the templating (a `{{- if }}` opened in one document and closed in another).
        let templated = is_template(&whole, text);
        for range in yaml::document_ranges(text) {
            let part = &text[range.clone()];
            let stream = yaml::parse_document_at(text, range.clone());
            if is_template(&stream, part) || (templated && stream.error.is_some()) {
                let marker = part.find("{{").into_iter().chain(part.find("{%")).min();
                let first = marker.unwrap_or(0) + range.start;
                file.helm.get_or_insert(first);
                continue;
            }
            checked_any |= !stream.documents.is_empty();
            if let Some(e) = &stream.error {
                file.errors
                    .push((e.message.clone(), e.offset..e.offset + 1));
            }
            documents.extend(stream.documents);
        }
        if file.helm.is_some() {
            file.is_kubernetes = true;
            file.helm_partial = checked_any;
        }
        documents
    };
    let syntax_error = !file.errors.is_empty();
    file.syntax_errors = file.errors.len();
    file.add_documents(&documents);
    // A file that fails to parse counts as a manifest when it looks like one.
    file.is_kubernetes |= syntax_error && may_be_kubernetes(text);
    file.docs = documents;
    file
}

/// Whether a port's name says it serves metrics (`metrics`, `http-metrics`, `https-metrics`).
pub fn named_for_metrics(name: &str) -> bool {
    name.to_ascii_lowercase().contains("metrics")
}

/// A Service named for the metrics it exposes: `manager-metrics`, `controller-manager-metrics-service`
/// (as operator scaffolds name it), not `metrics-server` (an API server of its own).
fn metrics_service_name(name: &str) -> bool {
    let words: Vec<String> = name
        .split(['-', '_', '.'])
        .map(str::to_ascii_lowercase)
        .collect();
    match words.as_slice() {
        [.., last] if last == "metrics" => true,
        [.., metrics, last] => metrics == "metrics" && matches!(last.as_str(), "service" | "svc"),
        _ => false,
    }
}

/// Objects built elsewhere (the merged objects of a kustomize overlay) as a file of them: their
/// spans point into whichever file they were anchored in.
pub fn from_documents(documents: Vec<Document>) -> K8sFile {
    let mut file = K8sFile {
        is_kubernetes: true,
        ..K8sFile::default()
    };
    file.add_documents(&documents);
    file.docs = documents;
    file
}

/// A copy of an object with another `apiVersion` (spans kept), for types whose deserializer checks it.
fn with_api_version(node: &Node, api: &str) -> Node {
    let mut copy = node.clone();
    if let NodeKind::Map(entries) = &mut copy.kind {
        for (key, value) in entries.iter_mut() {
            if key.as_str() == Some("apiVersion") {
                value.kind = NodeKind::Scalar {
                    text: api.to_string(),
                    plain: true,
                };
            }
        }
    }
    copy
}

fn type_of(node: &Node) -> (Option<&str>, Option<&str>) {
    (
        node.get("apiVersion").and_then(Node::as_str),
        node.get("kind").and_then(Node::as_str),
    )
}

/// Template syntax where YAML would not have it: in a plain scalar (`image: repo/{{ .Values.x }}`)
/// or as a flow mapping opened with `{{`. Quoted and block scalars (alert templates in a
/// ConfigMap) are data, not templates.
fn has_template_syntax(node: &Node, text: &str) -> bool {
    match &node.kind {
        NodeKind::Scalar { text: t, plain } => *plain && t.contains("{{"),
        NodeKind::Seq(items) => items.iter().any(|n| has_template_syntax(n, text)),
        NodeKind::Map(entries) => {
            text.get(node.span.start..)
                .is_some_and(|t| t.starts_with("{{"))
                || entries
                    .iter()
                    .any(|(k, v)| has_template_syntax(k, text) || has_template_syntax(v, text))
        }
    }
}

impl K8sFile {
    /// Adds the objects of each document (each item of a `kind: List` on its own).
    fn add_documents(&mut self, documents: &[Document]) {
        for (i, doc) in documents.iter().enumerate() {
            let (api, kind) = type_of(&doc.root);
            if api.is_some() && kind.is_some() {
                self.is_kubernetes = true;
            }
            if api == Some("v1") && kind == Some("List") {
                if let Some(NodeKind::Seq(items)) = doc.root.get("items").map(|n| &n.kind) {
                    for (j, item) in items.iter().enumerate() {
                        self.add_object(i, vec![Seg::Key("items"), Seg::Index(j)], item);
                    }
                }
            } else {
                self.add_object(i, Vec::new(), &doc.root);
            }
        }
    }

    fn add_object(&mut self, doc: usize, prefix: Vec<Seg>, node: &Node) {
        let (Some(api), Some(kind)) = type_of(node) else {
            return;
        };
        // The beta API versions of the apps workloads (removed from Kubernetes 1.16, still in many
        // repositories) have the fields the rules read where `apps/v1` has them: they are checked
        // as their `apps/v1` form.
        let beta = matches!(
            (api, kind),
            (
                "extensions/v1beta1" | "apps/v1beta1" | "apps/v1beta2",
                "Deployment" | "DaemonSet" | "StatefulSet" | "ReplicaSet",
            )
        );
        let as_v1;
        let (api, node) = if beta {
            as_v1 = with_api_version(node, "apps/v1");
            ("apps/v1", &as_v1)
        } else {
            (api, node)
        };
        let typed = match (api, kind) {
            ("apps/v1", "Deployment") => decode(node, |o| Typed::Deployment(Box::new(o))),
            ("apps/v1", "StatefulSet") => decode(node, |o| Typed::StatefulSet(Box::new(o))),
            ("apps/v1", "DaemonSet") => decode(node, |o| Typed::DaemonSet(Box::new(o))),
            ("apps/v1", "ReplicaSet") => decode(node, |o| Typed::ReplicaSet(Box::new(o))),
            ("v1", "ReplicationController") => {
                decode(node, |o| Typed::ReplicationController(Box::new(o)))
            }
            ("batch/v1", "Job") => decode(node, |o| Typed::Job(Box::new(o))),
            ("batch/v1", "CronJob") => decode(node, |o| Typed::CronJob(Box::new(o))),
            ("v1", "Pod") => decode(node, |o| Typed::Pod(Box::new(o))),
            ("v1", "Service") => decode(node, |o| Typed::Service(Box::new(o))),
            ("policy/v1", "PodDisruptionBudget") => {
                decode(node, |o| Typed::PodDisruptionBudget(Box::new(o)))
            }
            ("autoscaling/v2", "HorizontalPodAutoscaler") => {
                decode(node, |o| Typed::HorizontalPodAutoscaler(Box::new(o)))
            }
            // Other kinds, older API versions and custom resources are not checked.
            _ => return,
        };
        let name = node
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string();
        let (typed, error) = typed;
        if let Some(e) = error {
            let span = e.span.clone().unwrap_or_else(|| node.span.clone());
            let what = if name.is_empty() {
                kind.to_string()
            } else {
                format!("{kind} `{name}`")
            };
            let rest = if typed.is_some() {
                "; the rest of it is checked without this value"
            } else {
                "; it is not checked"
            };
            self.errors
                .push((format!("{what} does not match its schema: {e}{rest}"), span));
        }
        if let Some(typed) = typed {
            self.objects.push(ObjectEntry {
                doc,
                prefix,
                kind: kind.to_string(),
                name,
                typed,
            });
        }
    }

    /// The selectors and autoscaler targets of this file, for rules about other files' objects.
    pub fn facts(&self) -> K8sFacts {
        let mut facts = K8sFacts::default();
        for e in &self.objects {
            match &e.typed {
                Typed::Service(s) => {
                    let selector = s.spec.as_ref().and_then(|sp| sp.selector.clone());
                    if let Some(labels) = selector.filter(|l| !l.is_empty()) {
                        let ports = s.spec.as_ref().and_then(|sp| sp.ports.as_ref());
                        let for_metrics = |p: &ServicePort| {
                            p.name.as_deref().is_some_and(named_for_metrics)
                                || matches!(&p.target_port, Some(IntOrString::String(n)) if named_for_metrics(n))
                        };
                        let metrics_only = metrics_service_name(&e.name)
                            || ports.is_some_and(|ps| !ps.is_empty() && ps.iter().all(for_metrics));
                        let target_ports = (ports.into_iter().flatten())
                            .map(|p| match &p.target_port {
                                Some(IntOrString::Int(n)) => PortRef::Number(*n),
                                Some(IntOrString::String(name)) => name
                                    .parse()
                                    .map_or_else(|_| PortRef::Name(name.clone()), PortRef::Number),
                                None => PortRef::Number(p.port),
                            })
                            .collect();
                        facts.services.push(Selector {
                            scope: 0,
                            namespace: s.metadata.namespace.clone(),
                            labels,
                            all: false,
                            target_ports,
                            metrics_only,
                        });
                    }
                }
                Typed::PodDisruptionBudget(p) => {
                    if let Some(sel) = p.spec.as_ref().and_then(|sp| sp.selector.as_ref()) {
                        let labels = sel.match_labels.clone().unwrap_or_default();
                        facts.disruption_budgets.push(Selector {
                            scope: 0,
                            target_ports: Vec::new(),
                            metrics_only: false,
                            namespace: p.metadata.namespace.clone(),
                            all: labels.is_empty(),
                            labels,
                        });
                    }
                }
                Typed::HorizontalPodAutoscaler(h) => {
                    if let Some(spec) = &h.spec {
                        facts.autoscaled.push(ScaleTarget {
                            namespace: h.metadata.namespace.clone(),
                            kind: spec.scale_target_ref.kind.clone(),
                            name: spec.scale_target_ref.name.clone(),
                            scope: 0,
                        });
                    }
                }
                _ => {}
            }
        }
        for obj in self.objects() {
            facts.containers.extend(obj.container_facts());
            if let (Some(n), Some(w)) = (obj.replicas(), obj.workload()) {
                facts.replicas.push((w, n.unwrap_or(1)));
            }
        }
        facts
    }

    /// The objects with their YAML nodes, for checks.
    pub fn objects(&self) -> impl Iterator<Item = K8sObject<'_>> {
        self.objects.iter().filter_map(|entry| {
            let root = &self.docs.get(entry.doc)?.root;
            let node = resolve(root, &entry.prefix)?;
            Some(K8sObject { entry, node })
        })
    }
}

/// Follows a route as far as it goes: the deepest node reached, and the mapping entry key that led
/// to it (if the last step was a key).
fn walk<'n>(root: &'n Node, route: &[Seg]) -> (&'n Node, Option<&'n Node>, usize) {
    let mut node = root;
    let mut key = None;
    for (depth, seg) in route.iter().enumerate() {
        let next = match seg {
            Seg::Key(k) => node.entry(k).map(|(k, v)| (v, Some(k))),
            Seg::Index(i) => node.index(*i).map(|v| (v, None)),
        };
        match next {
            Some((v, k)) => {
                node = v;
                key = k;
            }
            None => return (node, key, depth),
        }
    }
    (node, key, route.len())
}

fn resolve<'n>(root: &'n Node, route: &[Seg]) -> Option<&'n Node> {
    let (node, _, depth) = walk(root, route);
    (depth == route.len()).then_some(node)
}

/// A Kubernetes object being checked.
pub struct K8sObject<'a> {
    pub entry: &'a ObjectEntry,
    pub node: &'a Node,
}

/// A container of a workload's pod template, with its route.
pub struct ContainerRef<'a> {
    pub spec: &'a Container,
    pub route: Vec<Seg>,
    pub init: bool,
}

impl<'a> K8sObject<'a> {
    pub fn kind(&self) -> &str {
        &self.entry.kind
    }

    /// `Some(replicas)` for the kinds that have a replica count (Deployments, StatefulSets,
    /// ReplicationControllers), `None` inside when it is unset.
    pub fn replicas(&self) -> Option<Option<i32>> {
        match &self.entry.typed {
            Typed::Deployment(d) => Some(d.spec.as_ref().and_then(|s| s.replicas)),
            Typed::StatefulSet(s) => Some(s.spec.as_ref().and_then(|s| s.replicas)),
            Typed::ReplicationController(r) => Some(r.spec.as_ref().and_then(|s| s.replicas)),
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        &self.entry.name
    }

    /// Byte span of a route relative to this object. A missing tail resolves to the deepest entry
    /// that exists (the parent key of a missing field), never failing.
    pub fn span(&self, route: &[Seg], part: Part) -> Range<usize> {
        let (node, key, depth) = walk(self.node, route);
        if depth < route.len() {
            return match key {
                Some(k) => k.span.start..node.span.end.max(k.span.end),
                None => node.span.clone(),
            };
        }
        match (part, key) {
            (Part::Key, Some(k)) => k.span.clone(),
            (Part::Entry, Some(k)) => k.span.start..node.span.end.max(k.span.end),
            _ => node.span.clone(),
        }
    }

    /// The pod template (or the Pod's spec) and the route to it.
    fn template(&self) -> Option<(Option<&'a ObjectMeta>, Option<&'a PodSpec>, Vec<Seg>)> {
        use Seg::Key;
        let from_template =
            |t: &'a PodTemplateSpec, route: Vec<Seg>| (t.metadata.as_ref(), t.spec.as_ref(), route);
        let tpl = vec![Key("spec"), Key("template")];
        Some(match &self.entry.typed {
            Typed::Deployment(o) => from_template(&o.spec.as_ref()?.template, tpl),
            Typed::StatefulSet(o) => from_template(&o.spec.as_ref()?.template, tpl),
            Typed::DaemonSet(o) => from_template(&o.spec.as_ref()?.template, tpl),
            Typed::ReplicaSet(o) => from_template(o.spec.as_ref()?.template.as_ref()?, tpl),
            Typed::ReplicationController(o) => {
                from_template(o.spec.as_ref()?.template.as_ref()?, tpl)
            }
            Typed::Job(o) => from_template(&o.spec.as_ref()?.template, tpl),
            Typed::CronJob(o) => {
                let job = o.spec.as_ref()?.job_template.spec.as_ref()?;
                from_template(
                    &job.template,
                    vec![
                        Key("spec"),
                        Key("jobTemplate"),
                        Key("spec"),
                        Key("template"),
                    ],
                )
            }
            Typed::Pod(o) => (None, o.spec.as_ref(), Vec::new()),
            _ => return None,
        })
    }

    /// The pod spec of a workload and the route to it.
    pub fn pod_spec(&self) -> Option<(&'a PodSpec, Vec<Seg>)> {
        let (_, spec, mut route) = self.template()?;
        route.push(Seg::Key("spec"));
        Some((spec?, route))
    }

    /// Containers (and init containers) of a workload.
    pub fn containers(&self) -> Vec<ContainerRef<'a>> {
        let Some((spec, route)) = self.pod_spec() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, list, init) in [
            (
                "initContainers",
                spec.init_containers.as_deref().unwrap_or(&[]),
                true,
            ),
            ("containers", spec.containers.as_slice(), false),
        ] {
            for (i, c) in list.iter().enumerate() {
                let mut r = route.clone();
                r.extend([Seg::Key(key), Seg::Index(i)]);
                out.push(ContainerRef {
                    spec: c,
                    route: r,
                    init,
                });
            }
        }
        out
    }

    /// The workload as Services, budgets and autoscalers see it (`None` for other kinds).
    pub fn workload(&self) -> Option<Workload> {
        let (meta, _, _) = self.template()?;
        let namespace = match &self.entry.typed {
            Typed::Deployment(o) => o.metadata.namespace.clone(),
            Typed::StatefulSet(o) => o.metadata.namespace.clone(),
            Typed::DaemonSet(o) => o.metadata.namespace.clone(),
            Typed::ReplicaSet(o) => o.metadata.namespace.clone(),
            Typed::ReplicationController(o) => o.metadata.namespace.clone(),
            Typed::Job(o) => o.metadata.namespace.clone(),
            Typed::CronJob(o) => o.metadata.namespace.clone(),
            Typed::Pod(o) => o.metadata.namespace.clone(),
            _ => None,
        };
        let labels = match &self.entry.typed {
            Typed::Pod(o) => o.metadata.labels.clone(),
            _ => meta.and_then(|m| m.labels.clone()),
        };
        Some(Workload {
            namespace,
            kind: self.entry.kind.clone(),
            name: self.entry.name.clone(),
            labels: labels.unwrap_or_default(),
            scope: 0,
        })
    }

    /// Ephemeral (debug) containers of a Pod's spec: name, image and route. They are a different
    /// type from containers (no probes, ports or resources).
    pub fn ephemeral_images(&self) -> Vec<(&'a str, Option<&'a str>, Vec<Seg>)> {
        let Some((spec, route)) = self.pod_spec() else {
            return Vec::new();
        };
        spec.ephemeral_containers
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut r = route.clone();
                r.extend([Seg::Key("ephemeralContainers"), Seg::Index(i)]);
                (c.name.as_str(), c.image.as_deref(), r)
            })
            .collect()
    }

    /// The long-running containers (not init containers, not in Jobs or CronJobs) as facts.
    pub fn container_facts(&self) -> Vec<ContainerFacts> {
        if self.runs_to_completion() {
            return Vec::new();
        }
        let Some((pod, pod_route)) = self.pod_spec() else {
            return Vec::new();
        };
        let mut grace_route = pod_route.clone();
        grace_route.push(Seg::Key("terminationGracePeriodSeconds"));
        let grace = resolve(self.node, &grace_route).map(|n| n.span.clone());
        let mut out = Vec::new();
        for c in self.containers().into_iter().filter(|c| !c.init) {
            let mut spans = BTreeMap::new();
            if let Some(g) = &grace {
                spans.insert("terminationGracePeriodSeconds".to_string(), g.clone());
            }
            let mut add = |key: String, tail: &[Seg], part: Part| {
                let mut route = c.route.clone();
                route.extend_from_slice(tail);
                if resolve(self.node, &route).is_some() {
                    spans.insert(key, self.span(&route, part));
                }
            };
            add("name".into(), &[Seg::Key("name")], Part::Entry);
            add("image".into(), &[Seg::Key("image")], Part::Value);
            for limit in ["cpu", "memory"] {
                add(
                    format!("resources.limits.{limit}"),
                    &[Seg::Key("resources"), Seg::Key("limits"), Seg::Key(limit)],
                    Part::Value,
                );
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                add(
                    format!("{probe}.httpGet.path"),
                    &[Seg::Key(probe), Seg::Key("httpGet"), Seg::Key("path")],
                    Part::Value,
                );
                add(
                    format!("{probe}.grpc"),
                    &[Seg::Key(probe), Seg::Key("grpc")],
                    Part::Key,
                );
                add(
                    format!("{probe}.exec"),
                    &[Seg::Key(probe), Seg::Key("exec")],
                    Part::Key,
                );
            }
            add(
                "lifecycle.preStop".into(),
                &[Seg::Key("lifecycle"), Seg::Key("preStop")],
                Part::Key,
            );
            for i in 0..c.spec.env.as_ref().map_or(0, Vec::len) {
                add(
                    format!("env.{i}.name"),
                    &[Seg::Key("env"), Seg::Index(i), Seg::Key("name")],
                    Part::Entry,
                );
            }
            // The user settings that apply: the container's, else the pod's; the span of the
            // `runAsNonRoot` that decides.
            let container_sc = c.spec.security_context.as_ref();
            let pod_sc = pod.security_context.as_ref();
            let run_as_non_root = (container_sc.and_then(|s| s.run_as_non_root))
                .or(pod_sc.and_then(|s| s.run_as_non_root));
            let run_as_user =
                (container_sc.and_then(|s| s.run_as_user)).or(pod_sc.and_then(|s| s.run_as_user));
            let mut non_root_route = if container_sc.and_then(|s| s.run_as_non_root).is_some() {
                c.route.clone()
            } else {
                pod_route.clone()
            };
            non_root_route.extend([Seg::Key("securityContext"), Seg::Key("runAsNonRoot")]);
            if run_as_non_root.is_some() && resolve(self.node, &non_root_route).is_some() {
                spans.insert(
                    "runAsNonRoot".to_string(),
                    self.span(&non_root_route, Part::Value),
                );
            }
            out.push(ContainerFacts {
                file: 0,
                scope: 0,
                workload: format!("{}/{}", self.kind(), self.name()),
                spec: c.spec.clone(),
                grace_period: pod.termination_grace_period_seconds,
                run_as_non_root,
                run_as_user,
                spans,
            });
        }
        out
    }

    /// Whether this workload is a node agent: a DaemonSet (one pod per node, which is how
    /// monitoring agents, log collectors, CNI plugins and node installers are deployed), or a pod
    /// that mounts the node's own system directories (`/`, `/proc`, `/sys`, `/dev`, `/boot`,
    /// `/lib/modules`), which only software that looks after the node itself reads. Host
    /// namespaces, the runtime socket and privilege are what such pods are for.
    pub fn is_node_agent(&self) -> bool {
        if let Typed::DaemonSet(_) = self.entry.typed {
            return true;
        }
        let system = |path: &str| {
            let path = path.trim_end_matches('/');
            path.is_empty()
                || ["/proc", "/sys", "/dev", "/boot", "/lib/modules"]
                    .iter()
                    .any(|d| path == *d || path.strip_prefix(d).is_some_and(|r| r.starts_with('/')))
        };
        self.pod_spec().is_some_and(|(spec, _)| {
            (spec.volumes.iter().flatten())
                .filter_map(|v| v.host_path.as_ref())
                .any(|h| system(&h.path))
        })
    }

    /// Jobs and CronJobs run to completion: probes do not apply to them.
    pub fn runs_to_completion(&self) -> bool {
        matches!(self.entry.typed, Typed::Job(_) | Typed::CronJob(_))
    }

    /// Rules named in `prodlint.dev/ignore` annotations on the object or its pod template, each
    /// with the span of its name in the annotation value.
    pub fn ignore_annotations(&self, text: &str) -> Vec<(String, Range<usize>)> {
        let mut routes = vec![vec![Seg::Key("metadata")]];
        if let Some((_, _, mut route)) = self.template() {
            if !route.is_empty() {
                route.push(Seg::Key("metadata"));
                routes.push(route);
            }
        }
        let mut out = Vec::new();
        for mut route in routes {
            route.push(Seg::Key("annotations"));
            let Some(annotations) = resolve(self.node, &route) else {
                continue;
            };
            let Some(value) = annotations.get(IGNORE_ANNOTATION) else {
                continue;
            };
            let Some(list) = value.as_str() else { continue };
            let raw = text.get(value.span.clone()).unwrap_or("");
            let mut search_from = 0;
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let span = match raw[search_from..].find(name) {
                    Some(pos) => {
                        let start = value.span.start + search_from + pos;
                        search_from += pos + name.len();
                        start..start + name.len()
                    }
                    None => value.span.clone(),
                };
                out.push((name.to_string(), span));
            }
        }
        out
    }
}

/// Decodes an object as `T`, leaving out values of the wrong type
/// ([`yaml::from_node_recovering`]): the object, if the rest decodes, and the first error.
fn decode<T: serde::de::DeserializeOwned>(
    node: &Node,
    wrap: impl FnOnce(T) -> Typed,
) -> (Option<Typed>, Option<yaml::DeError>) {
    let (value, error) = yaml::from_node_recovering(node);
    (value.map(wrap), error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replication_controllers_and_beta_workloads_are_workloads() {
        let text = "apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: {name: a}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n---\napiVersion: apps/v1beta1\nkind: StatefulSet\nmetadata: {name: b}\nspec:\n  serviceName: b\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n";
        let file = parse(text);
        assert!(file.errors.is_empty(), "{:?}", file.errors);
        let kinds: Vec<&str> = file.objects.iter().map(|o| o.kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["Deployment", "StatefulSet", "ReplicationController"]
        );
        for o in file.objects() {
            assert_eq!(o.containers().len(), 1, "{}", o.kind());
        }
    }

    const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: app\n          image: app:1.0\n";

    #[test]
    fn typed_objects_and_exact_spans() {
        let f = parse(DEPLOY);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let obj = f.objects().next().unwrap();
        let c = &obj.containers()[0];
        assert_eq!(c.spec.name, "app");
        let mut r = c.route.clone();
        r.push(Seg::Key("name"));
        assert_eq!(&DEPLOY[obj.span(&r, Part::Entry)], "name: app");
        let mut r = c.route.clone();
        r.push(Seg::Key("image"));
        assert_eq!(&DEPLOY[obj.span(&r, Part::Value)], "app:1.0");
        let mut r = c.route.clone();
        r.extend([Seg::Key("resources"), Seg::Key("limits")]);
        // A missing field resolves to the deepest existing entry: the container.
        assert!(DEPLOY[obj.span(&r, Part::Entry)].starts_with("name: app"));
    }

    #[test]
    fn list_items_and_multi_documents() {
        let text = format!("---\n{DEPLOY}---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {{name: nightly}}\n  spec:\n    schedule: '@daily'\n    jobTemplate:\n      spec:\n        template:\n          spec:\n            containers: [{{name: job, image: j}}]\n");
        let f = parse(&text);
        assert!(f.errors.is_empty(), "{:?}", f.errors);
        let objs: Vec<_> = f.objects().collect();
        assert_eq!(objs.len(), 2);
        assert_eq!(objs[1].kind(), "CronJob");
        let c = &objs[1].containers()[0];
        let mut r = c.route.clone();
        r.push(Seg::Key("name"));
        assert_eq!(&text[objs[1].span(&r, Part::Entry)], "name: job");
    }

    #[test]
    fn schema_mismatch_is_located() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: [3]\n  template: {}\n";
        let f = parse(text);
        assert_eq!(f.errors.len(), 1);
        assert_eq!(&text[f.errors[0].1.clone()], "[3]");
    }

    #[test]
    fn helm_templates_detected_but_quoted_templates_are_data() {
        let helm =
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n";
        assert!(parse(helm).helm.is_some());
        let helm2 = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Service\n{{- end }}\n";
        assert!(may_be_kubernetes(helm2));
        assert!(!may_be_kubernetes(
            "# apiVersion and kind in a comment\nname: x\n"
        ));
        assert!(parse(helm2).helm.is_some());
        let data = "apiVersion: v1\nkind: ConfigMap\ndata:\n  rule: \"{{ $labels.instance }} down\"\n  tpl: |\n    {{ .Foo }}\n";
        assert!(parse(data).helm.is_none());
    }

    #[test]
    fn crds_and_unknown_kinds_are_skipped() {
        let f = parse("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec: {x: 1}\n");
        assert!(f.objects.is_empty() && f.errors.is_empty() && f.is_kubernetes);
    }

    #[test]
    fn ignore_annotation_on_the_pod_template() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata:\n      annotations:\n        prodlint.dev/ignore: missing-prestop-hook\n    spec:\n      containers: []\n";
        let f = parse(text);
        let obj = f.objects().next().unwrap();
        let names: Vec<String> = obj
            .ignore_annotations(text)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names, ["missing-prestop-hook"]);
    }

    #[test]
    fn services_select_workloads_by_labels_and_namespace() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: api, tier: web}}\n    spec: {containers: []}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: shop}\nspec: {selector: {app: api}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: other, namespace: shop}\nspec: {selector: {app: api, tier: db}}\n";
        let f = parse(text);
        let facts = f.facts();
        let w = f.objects().next().unwrap().workload().unwrap();
        assert_eq!(facts.services.len(), 2);
        assert!(facts.services[0].selects(&w));
        assert!(!facts.services[1].selects(&w));
        let mut elsewhere = w.clone();
        elsewhere.namespace = Some("dev".into());
        assert!(!facts.services[0].selects(&elsewhere));
    }

    #[test]
    fn ignore_annotation_spans() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    prodlint.dev/ignore: \"missing-liveness-probe, missing-memory-limit\"\nspec:\n  containers: []\n";
        let f = parse(text);
        let obj = f.objects().next().unwrap();
        let names = obj.ignore_annotations(text);
        assert_eq!(names.len(), 2);
        assert_eq!(&text[names[1].1.clone()], "missing-memory-limit");
    }
}
