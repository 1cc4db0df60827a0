//! Kustomize overlays: which files a `kustomization.yaml` applies as patches, which objects its
//! resources hold, and the strategic-merge result of a patch over the object it targets.
//!
//! A patch file is a fragment (`metadata.name` and the fields it changes, usually no `image:`):
//! checked alone it looks like a broken workload. What is deployed is the base object with the
//! patch merged in, so that is what the rules read ([`overlays_of`]). The merged tree keeps
//! the patch's own nodes, and every node that comes from the base takes the span of the patch
//! node it merged into: all spans of the result point into the patch file, where a finding
//! about the overlay belongs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::kubernetes;
use super::yaml::{self, Document, Node, NodeKind};
use crate::engine::normalized;

/// The kinds of file names kustomize reads as a kustomization.
pub fn is_kustomization(file: &Path) -> bool {
    matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("kustomization.yaml" | "kustomization.yml" | "Kustomization")
    )
}

/// A patch file as a kustomization lists it, with the objects it is applied to when the entry
/// says (`target:`); otherwise it patches the object its own `kind` and `metadata.name` name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRef {
    pub path: String,
    pub target_kind: Option<String>,
    pub target_name: Option<String>,
}

/// The files a kustomization applies as patches: `patchesStrategicMerge: [file]`,
/// `patches: [{path: file, target: {...}}]` (or a plain string) and `patchesJson6902: [{path:
/// file}]`. Inline patches (`patch: |`) have no file.
pub fn patch_refs(text: &str) -> Vec<PatchRef> {
    let stream = yaml::parse_stream_lenient(text);
    let mut out = Vec::new();
    for doc in &stream.documents {
        for key in ["patchesStrategicMerge", "patches", "patchesJson6902"] {
            let Some(NodeKind::Seq(items)) = doc.root.get(key).map(|n| &n.kind) else {
                continue;
            };
            for item in items {
                let path = item
                    .as_str()
                    .or_else(|| item.get("path").and_then(Node::as_str));
                // A strategic-merge entry may be an inline patch (a multi-line string).
                let Some(path) = path.filter(|p| !p.contains('\n')) else {
                    continue;
                };
                let target = item.get("target");
                let field = |name: &str| {
                    target
                        .and_then(|t| t.get(name))
                        .and_then(Node::as_str)
                        .map(str::to_string)
                };
                out.push(PatchRef {
                    path: path.to_string(),
                    target_kind: field("kind"),
                    target_name: field("name"),
                });
            }
        }
    }
    out
}

/// What a kustomization builds from: the local files its `resources:` (and the older `bases:`)
/// hold, following directories into their own kustomization, and the image overrides
/// (`images:`) of every kustomization on the way, innermost first (the order kustomize applies
/// them). Remote resources (URLs, `github.com/...`) are not read. Each kustomization is visited
/// once, at most 16 deep.
#[derive(Debug, Default)]
pub struct Resources {
    pub files: Vec<PathBuf>,
    pub images: Vec<ImageOverride>,
}

/// An entry of a kustomization's `images:`: the image named `name` gets `new_name`, `new_tag`
/// or `digest` in its place.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageOverride {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

pub fn resources(kustomization: &Path) -> Resources {
    let mut out = Resources::default();
    let mut seen = HashSet::new();
    collect_resources(kustomization, 0, &mut seen, &mut out);
    out
}

fn collect_resources(
    kustomization: &Path,
    depth: usize,
    seen: &mut HashSet<PathBuf>,
    out: &mut Resources,
) {
    if depth > 16 || !seen.insert(kustomization.to_path_buf()) {
        return;
    }
    let Ok(text) = std::fs::read_to_string(kustomization) else {
        return;
    };
    let dir = kustomization.parent().unwrap_or(Path::new(""));
    let stream = yaml::parse_stream_lenient(&text);
    for doc in &stream.documents {
        for key in ["resources", "bases"] {
            let Some(NodeKind::Seq(items)) = doc.root.get(key).map(|n| &n.kind) else {
                continue;
            };
            for entry in items.iter().filter_map(Node::as_str) {
                if entry.contains("://") || entry.starts_with("github.com/") {
                    continue;
                }
                let path = normalized(&dir.join(entry));
                if path.is_dir() {
                    let nested = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
                        .iter()
                        .map(|name| path.join(name))
                        .find(|p| p.is_file());
                    if let Some(nested) = nested {
                        collect_resources(&nested, depth + 1, seen, out);
                    }
                } else if path.is_file() && !out.files.contains(&path) {
                    out.files.push(path);
                }
            }
        }
        // After the resources': an outer kustomization's override applies to what the inner
        // ones made.
        out.images.extend(image_overrides(&doc.root));
    }
}

/// The images a kustomization gives a tag or digest (`images: [{name, newTag | digest}]`), by the
/// name it gives them.
pub fn tagged_images(kustomization: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(kustomization) else {
        return Vec::new();
    };
    let stream = yaml::parse_stream_lenient(&text);
    let overrides = stream
        .documents
        .iter()
        .flat_map(|d| image_overrides(&d.root));
    overrides
        // `newTag: latest` pins nothing.
        .filter(|o| o.digest.is_some() || o.new_tag.as_deref().is_some_and(|t| t != "latest"))
        .flat_map(|o| [o.new_name.unwrap_or_else(|| o.name.clone()), o.name])
        .collect()
}

/// A kustomization's `images:` entries.
fn image_overrides(root: &Node) -> Vec<ImageOverride> {
    let Some(NodeKind::Seq(items)) = root.get("images").map(|n| &n.kind) else {
        return Vec::new();
    };
    let overrides = items.iter().filter_map(|item| {
        let field = |k: &str| item.get(k).and_then(Node::as_str).map(str::to_string);
        Some(ImageOverride {
            name: field("name")?,
            new_name: field("newName"),
            new_tag: field("newTag"),
            digest: field("digest"),
        })
    });
    overrides.collect()
}

/// An image reference after the overrides: `name[:tag][@digest]` with the entry's new name,
/// tag or digest, as kustomize's image transformer writes it.
pub fn override_image(image: &str, overrides: &[ImageOverride]) -> String {
    let mut image = image.to_string();
    for o in overrides {
        let (rest, digest) = match image.split_once('@') {
            Some((r, d)) => (r.to_string(), Some(d.to_string())),
            None => (image.clone(), None),
        };
        // A `:` after the last `/` starts the tag (one before it is a registry's port).
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].find(':') {
            Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
            None => (rest.as_str(), None),
        };
        if name != o.name {
            continue;
        }
        let name = o.new_name.as_deref().unwrap_or(name);
        image = match (&o.digest, &o.new_tag, tag, &digest) {
            (Some(d), ..) => format!("{name}@{d}"),
            (None, Some(t), ..) => format!("{name}:{t}"),
            (None, None, Some(t), Some(d)) => format!("{name}:{t}@{d}"),
            (None, None, Some(t), None) => format!("{name}:{t}"),
            (None, None, None, Some(d)) => format!("{name}@{d}"),
            (None, None, None, None) => name.to_string(),
        };
    }
    image
}

/// Applies the overrides to every container's `image:` of an object (the value keeps its span).
fn override_images(node: &mut Node, overrides: &[ImageOverride]) {
    match &mut node.kind {
        NodeKind::Map(entries) => {
            for (key, value) in entries {
                if key.as_str() == Some("image") {
                    if let NodeKind::Scalar { text, .. } = &mut value.kind {
                        *text = override_image(text, overrides);
                    }
                } else {
                    override_images(value, overrides);
                }
            }
        }
        NodeKind::Seq(items) => items.iter_mut().for_each(|n| override_images(n, overrides)),
        NodeKind::Scalar { .. } => {}
    }
}

/// One patch document merged over one base object.
pub struct Overlay {
    /// The merged object; its spans point into the patch file.
    pub merged: Document,
    /// The base object alone (spans into `base_file`): what the overlay's findings are compared
    /// with, so that a finding the base already carries is not repeated.
    pub base: Document,
    pub base_file: PathBuf,
    pub kustomization: PathBuf,
}

/// The overlays a patch file makes: each of its documents that names a Kubernetes object,
/// merged over each object of the kustomization's resources it targets (by the entry's
/// `target:`, else by the patch's own `kind` and `metadata.name`). A patch whose target is not
/// among the local resources makes none: the fragment alone is never checked.
pub fn overlays_of(
    patch_file: &Path,
    patch_docs: &[Document],
    kustomizations: &[PathBuf],
) -> Vec<Overlay> {
    let mut out = Vec::new();
    for kustomization in kustomizations {
        let Ok(text) = std::fs::read_to_string(kustomization) else {
            continue;
        };
        let dir = kustomization.parent().unwrap_or(Path::new(""));
        let patch_file = normalized(patch_file);
        let same_file = |p: &PatchRef| normalized(&dir.join(&p.path)) == patch_file;
        let Some(entry) = patch_refs(&text).into_iter().find(same_file) else {
            continue;
        };
        let resources = resources(kustomization);
        let mut bases: Vec<(PathBuf, Vec<Document>)> = Vec::new();
        for file in resources.files {
            if let Ok(base_text) = std::fs::read_to_string(&file) {
                bases.push((file, object_documents(&base_text)));
            }
        }
        for patch in patch_docs {
            let kind = entry
                .target_kind
                .as_deref()
                .or_else(|| patch.root.get("kind").and_then(Node::as_str));
            let name = entry.target_name.as_deref().or_else(|| {
                (entry.target_kind.is_none())
                    .then(|| meta_name(&patch.root))
                    .flatten()
            });
            let Some(kind) = kind else { continue };
            for (file, objects) in &bases {
                for base in objects {
                    let base_kind = base.root.get("kind").and_then(Node::as_str);
                    let matches = base_kind == Some(kind)
                        && name.is_none_or(|n| meta_name(&base.root) == Some(n));
                    if !matches {
                        continue;
                    }
                    let mut merged = merge(&base.root, &patch.root);
                    override_images(&mut merged, &resources.images);
                    // The base is compared under the same overrides: an image the overlay
                    // pins for both is not a finding of the overlay's.
                    let mut base = base.clone();
                    override_images(&mut base.root, &resources.images);
                    out.push(Overlay {
                        merged: Document {
                            root: merged,
                            span: patch.span.clone(),
                        },
                        base,
                        base_file: file.clone(),
                        kustomization: kustomization.clone(),
                    });
                }
            }
        }
    }
    out
}

/// `to` as written from directory `from` (`../../base/deployment.yaml`), both made absolute and
/// lexically normal first: what a message shows next to the file it is about.
pub fn relative(from: &Path, to: &Path) -> String {
    let (from, to) = (normalized(from), normalized(to));
    let common = (from.components())
        .zip(to.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = from.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        to.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn meta_name(root: &Node) -> Option<&str> {
    root.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
}

/// The objects of a manifest (the items of a `List` each on its own), as documents.
fn object_documents(text: &str) -> Vec<Document> {
    let file = kubernetes::parse(text);
    file.objects()
        .map(|o| Document {
            root: o.node.clone(),
            span: o.node.span.clone(),
        })
        .collect()
}

/// The key a list of this name merges its elements by in a strategic-merge patch (the API's
/// `patchMergeKey`), for the lists the rules read; other lists are replaced whole.
fn merge_key(list: &str, items: &[Node]) -> Option<&'static str> {
    Some(match list {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        // A container's ports merge by `containerPort`, a Service's by `port`.
        "ports" if items.iter().any(|i| i.get("containerPort").is_some()) => "containerPort",
        "ports" => "port",
        _ => return None,
    })
}

/// A strategic merge of `patch` over `base` (what `kubectl patch --type strategic` and kustomize
/// do for the fields the rules read): maps merge key by key, a `null` removes a key, lists with
/// a merge key merge element by element (`$patch: delete` removes one), other lists and scalars
/// are replaced. Directives (`$patch`, `$setElementOrder/...`, `$retainKeys`) are not copied.
/// Nodes from the base take the span of the patch node they merged into.
fn merge(base: &Node, patch: &Node) -> Node {
    let (NodeKind::Map(base_entries), NodeKind::Map(patch_entries)) = (&base.kind, &patch.kind)
    else {
        return strip_directives(patch);
    };
    if directive(patch) == Some("replace") {
        return strip_directives(patch);
    }
    let mut entries = Vec::new();
    for (key, value) in base_entries {
        let name = key.as_str().unwrap_or("");
        match patch_entries.iter().find(|(k, _)| k.as_str() == Some(name)) {
            // `key: null` (or `key: ~`) removes it.
            Some((_, v)) if v.is_null() => {}
            Some((k, v)) => entries.push((k.clone(), merge_value(name, value, v))),
            None => entries.push((anchored(key, &patch.span), anchored(value, &patch.span))),
        }
    }
    for (key, value) in patch_entries {
        let name = key.as_str().unwrap_or("");
        let in_base = base_entries.iter().any(|(k, _)| k.as_str() == Some(name));
        if !in_base && !name.starts_with('$') && !value.is_null() {
            entries.push((key.clone(), strip_directives(value)));
        }
    }
    Node {
        span: patch.span.clone(),
        kind: NodeKind::Map(entries),
    }
}

fn merge_value(name: &str, base: &Node, patch: &Node) -> Node {
    match (&base.kind, &patch.kind) {
        (NodeKind::Map(_), NodeKind::Map(_)) => merge(base, patch),
        (NodeKind::Seq(base_items), NodeKind::Seq(patch_items)) => {
            let Some(key) = merge_key(name, base_items) else {
                return strip_directives(patch);
            };
            let key_of = |n: &Node| n.get(key).and_then(Node::as_str).map(str::to_string);
            let mut items = Vec::new();
            for item in base_items {
                let k = key_of(item);
                let patched = patch_items.iter().find(|p| k.is_some() && key_of(p) == k);
                match patched {
                    Some(p) if directive(p) == Some("delete") => {}
                    Some(p) => items.push(merge(item, p)),
                    None => items.push(anchored(item, &patch.span)),
                }
            }
            for p in patch_items {
                let k = key_of(p);
                let in_base = base_items.iter().any(|b| k.is_some() && key_of(b) == k);
                if !in_base && directive(p) != Some("delete") && !is_order_only(p) {
                    items.push(strip_directives(p));
                }
            }
            Node {
                span: patch.span.clone(),
                kind: NodeKind::Seq(items),
            }
        }
        _ => strip_directives(patch),
    }
}

/// The `$patch` directive of a map (`replace`, `delete`, `merge`).
fn directive(node: &Node) -> Option<&str> {
    node.get("$patch").and_then(Node::as_str)
}

/// A list element that only carries directives (nothing to add).
fn is_order_only(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .all(|(k, _)| k.as_str().is_some_and(|k| k.starts_with('$'))),
        _ => false,
    }
}

/// A copy without `$`-keys (directives are not part of the object).
fn strip_directives(node: &Node) -> Node {
    match &node.kind {
        NodeKind::Map(entries) => Node {
            span: node.span.clone(),
            kind: NodeKind::Map(
                entries
                    .iter()
                    .filter(|(k, _)| !k.as_str().is_some_and(|k| k.starts_with('$')))
                    .map(|(k, v)| (k.clone(), strip_directives(v)))
                    .collect(),
            ),
        },
        NodeKind::Seq(items) => Node {
            span: node.span.clone(),
            kind: NodeKind::Seq(items.iter().map(strip_directives).collect()),
        },
        NodeKind::Scalar { .. } => node.clone(),
    }
}

/// A copy of a base node with every span set to `anchor` (a span of the patch file).
fn anchored(node: &Node, anchor: &std::ops::Range<usize>) -> Node {
    let kind = match &node.kind {
        NodeKind::Scalar { .. } => node.kind.clone(),
        NodeKind::Seq(items) => NodeKind::Seq(items.iter().map(|n| anchored(n, anchor)).collect()),
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .iter()
                .map(|(k, v)| (anchored(k, anchor), anchored(v, anchor)))
                .collect(),
        ),
    };
    Node {
        span: anchor.clone(),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        yaml::parse_stream_lenient(text)
            .documents
            .into_iter()
            .next()
            .map(|d| d.root)
            .unwrap_or(Node {
                span: 0..0,
                kind: NodeKind::Seq(Vec::new()),
            })
    }

    const BASE: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: app
        image: web:1.0
        env:
        - name: A
          value: a
      - name: proxy
        image: envoy:1.0
";

    #[test]
    fn containers_merge_by_name_and_other_fields_are_kept() {
        let patch = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  template:
    spec:
      containers:
      - name: app
        resources:
          limits:
            memory: 1Gi
        env:
        - name: B
          value: b
";
        let merged = merge(&root(BASE), &root(patch));
        let spec = merged.get("spec").expect("spec");
        assert_eq!(spec.get("replicas").and_then(Node::as_str), Some("3"));
        let containers = spec
            .get("template")
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .expect("containers");
        let app = containers.index(0).expect("app");
        assert_eq!(app.get("image").and_then(Node::as_str), Some("web:1.0"));
        let limit = app
            .get("resources")
            .and_then(|r| r.get("limits"))
            .and_then(|l| l.get("memory"));
        assert_eq!(limit.and_then(Node::as_str), Some("1Gi"));
        // env merges by name: A from the base, B from the patch.
        let env = app.get("env").expect("env");
        assert!(env.index(0).is_some() && env.index(1).is_some());
        // The container only the base has stays, anchored in the patch file.
        let proxy = containers.index(1).expect("proxy");
        assert_eq!(proxy.get("name").and_then(Node::as_str), Some("proxy"));
        assert_eq!(proxy.span, containers.span);
        // The base's image value takes the span of the patch's container.
        let image = app.get("image").expect("image");
        assert_eq!(image.span, app.span);
    }

    #[test]
    fn null_removes_a_key_and_delete_removes_an_element() {
        let patch = "\
kind: Deployment
metadata:
  name: web
spec:
  replicas: null
  template:
    spec:
      containers:
      - name: proxy
        $patch: delete
";
        let merged = merge(&root(BASE), &root(patch));
        let spec = merged.get("spec").expect("spec");
        assert!(spec.get("replicas").is_none());
        let containers = spec
            .get("template")
            .and_then(|t| t.get("spec"))
            .and_then(|s| s.get("containers"))
            .expect("containers");
        assert!(containers.index(0).is_some());
        assert!(containers.index(1).is_none(), "proxy was deleted");
    }

    #[test]
    fn image_overrides_as_kustomize_writes_them() {
        let o = |name: &str, new_name: Option<&str>, tag: Option<&str>, digest: Option<&str>| {
            ImageOverride {
                name: name.into(),
                new_name: new_name.map(Into::into),
                new_tag: tag.map(Into::into),
                digest: digest.map(Into::into),
            }
        };
        let pin = [o("ghcr.io/acme/kfam", None, Some("v1.10.0"), None)];
        assert_eq!(
            override_image("ghcr.io/acme/kfam", &pin),
            "ghcr.io/acme/kfam:v1.10.0"
        );
        assert_eq!(
            override_image("ghcr.io/acme/kfam:latest", &pin),
            "ghcr.io/acme/kfam:v1.10.0"
        );
        assert_eq!(
            override_image("ghcr.io/acme/other", &pin),
            "ghcr.io/acme/other"
        );
        let moved = [o(
            "localhost:5000/app",
            Some("registry/app"),
            None,
            Some("sha256:ab"),
        )];
        assert_eq!(
            override_image("localhost:5000/app:1", &moved),
            "registry/app@sha256:ab"
        );
        let renamed = [o("app", Some("registry/app"), None, None)];
        assert_eq!(override_image("app:2", &renamed), "registry/app:2");
    }

    #[test]
    fn paths_relative_to_the_patch() {
        let at = |from: &str, to: &str| relative(Path::new(from), Path::new(to));
        assert_eq!(
            at("/r/overlays/prod", "/r/base/deployment.yaml"),
            "../../base/deployment.yaml"
        );
        assert_eq!(
            at("/r/overlays/prod", "/r/overlays/prod/kustomization.yaml"),
            "kustomization.yaml"
        );
        assert_eq!(at("/r/a", "/r/a/../b/x.yaml"), "../b/x.yaml");
    }

    #[test]
    fn patch_entries_with_targets() {
        let text = "\
resources: [../base]
patchesStrategicMerge:
- replicas.yaml
patches:
- path: svc.yaml
  target:
    kind: Service
- inline.yaml
- patch: |-
    kind: Deployment
patchesJson6902:
- target: {kind: Service}
  path: svc.json
";
        let refs = patch_refs(text);
        let paths: Vec<&str> = refs.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            ["replicas.yaml", "svc.yaml", "inline.yaml", "svc.json"]
        );
        assert_eq!(refs[1].target_kind.as_deref(), Some("Service"));
        assert_eq!(refs[1].target_name, None);
    }
}
