//! Build descriptions: the files that say which Dockerfile builds which image — Compose files,
//! skaffold configs and Tiltfiles. Read for the service map only; nothing in them is checked.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::lang::yaml::{self, Node, NodeKind};

/// One image build a description declares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BuildEntry {
    /// The image reference it builds (variables expanded where the `.env` file defines them).
    pub image: Option<String>,
    /// The Compose service's name (a Compose build without `image:` is known only by it).
    pub service: Option<String>,
    pub context: PathBuf,
    pub dockerfile: PathBuf,
    /// Where it is declared, for `--explain-services`: `compose.yaml service `cart``.
    pub declared: String,
}

/// Reads every build description; the second list says which could not be read and why.
pub fn read_all(paths: &[PathBuf], max_size: u64) -> (Vec<BuildEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let shown = crate::discover::display_path(path);
        let too_big = std::fs::metadata(path).is_ok_and(|m| m.len() > max_size);
        if too_big {
            problems.push(format!("`{shown}` is over the size limit and was not read"));
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            problems.push(format!("`{shown}` could not be read as UTF-8 text"));
            continue;
        };
        let dir = path.parent().unwrap_or(Path::new(""));
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let found = if name == "Tiltfile" {
            Ok(tiltfile(&text, dir, &shown))
        } else if name.starts_with("skaffold") {
            skaffold(&text, dir, &shown)
        } else {
            compose(&text, dir, &shown)
        };
        match found {
            Ok(found) => entries.extend(found),
            Err(e) => problems.push(format!("`{shown}`: {e}")),
        }
    }
    (entries, problems)
}

/// Build descriptions are read as kubectl reads YAML (`yaml::parse_stream_lenient`).
fn parse_lenient(text: &str) -> yaml::Stream {
    yaml::parse_stream_lenient(text)
}

fn scalar<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    node.get(key).and_then(Node::as_str)
}

/// Compose: `services.<name>.build` (a context string, or `context` and `dockerfile`, the latter
/// relative to the context) and `image`. `${VAR}`, `${VAR:-default}` and `$VAR` are expanded from
/// the `.env` file beside the Compose file (not from the environment of the run, so results do
/// not depend on the shell prodlint runs in).
fn compose(text: &str, dir: &Path, shown: &str) -> Result<Vec<BuildEntry>, String> {
    let stream = parse_lenient(text);
    if let Some(e) = stream.error {
        return Err(format!("not valid YAML: {}", e.message));
    }
    let env = dot_env(dir);
    let expand = |s: &str| expand_vars(s, &env);
    let mut out = Vec::new();
    for doc in &stream.documents {
        let Some(NodeKind::Map(services)) = doc.root.get("services").map(|n| &n.kind) else {
            continue;
        };
        for (name, service) in services {
            let Some(name) = name.as_str() else { continue };
            let Some(build) = service.get("build") else {
                continue;
            };
            let (context, dockerfile) = match build.as_str() {
                Some(context) => (expand(context), None),
                None => (
                    scalar(build, "context").map_or(Some(".".into()), expand),
                    scalar(build, "dockerfile").map(expand),
                ),
            };
            // A context that is a URL or an unknown variable cannot be followed.
            let Some(context) = context.filter(|c| !c.contains("://") && !c.starts_with("git@"))
            else {
                continue;
            };
            let context = dir.join(context);
            let dockerfile = match dockerfile {
                Some(Some(d)) => context.join(d),
                Some(None) => continue,
                None => context.join("Dockerfile"),
            };
            out.push(BuildEntry {
                image: scalar(service, "image").and_then(expand),
                service: Some(name.to_string()),
                context: crate::engine::normalized(&context),
                dockerfile: crate::engine::normalized(&dockerfile),
                declared: format!("{shown} service `{name}`"),
            });
        }
    }
    Ok(out)
}

/// `KEY=VALUE` lines of the `.env` file in `dir` (quotes removed, comments skipped).
fn dot_env(dir: &Path) -> HashMap<String, String> {
    let Ok(text) = std::fs::read_to_string(dir.join(".env")) else {
        return HashMap::new();
    };
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            if l.starts_with('#') {
                return None;
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

/// Compose interpolation: [`crate::lang::dockerfile::expand`] (`${VAR}`, `${VAR:-default}`,
/// `${VAR-default}`, `$VAR`), plus Compose's `$$` for a literal `$`; `None` when a variable is unknown
/// and has no default. A `.env` value that refers to other entries is expanded once.
fn expand_vars(s: &str, env: &HashMap<String, String>) -> Option<String> {
    use crate::lang::dockerfile::expand;
    let plain = |name: &str| env.get(name).cloned();
    let lookup = |name: &str| {
        env.get(name)
            .map(|v| expand(v, &plain).unwrap_or_else(|| v.clone()))
    };
    let parts: Option<Vec<String>> = s.split("$$").map(|part| expand(part, &lookup)).collect();
    Some(parts?.join("$"))
}

/// skaffold: `build.artifacts[]` with `image`, `context` (default `.`) and `docker.dockerfile`
/// (default `Dockerfile`, relative to the context). Artifacts built by ko, jib, buildpacks, bazel
/// or a custom script have no Dockerfile and are left out.
fn skaffold(text: &str, dir: &Path, shown: &str) -> Result<Vec<BuildEntry>, String> {
    let stream = parse_lenient(text);
    if let Some(e) = stream.error {
        return Err(format!("not valid YAML: {}", e.message));
    }
    let mut out = Vec::new();
    for doc in &stream.documents {
        let artifacts = doc.root.get("build").and_then(|b| b.get("artifacts"));
        let Some(NodeKind::Seq(artifacts)) = artifacts.map(|a| &a.kind) else {
            continue;
        };
        for a in artifacts {
            let Some(image) = scalar(a, "image") else {
                continue;
            };
            if ["ko", "jib", "buildpacks", "bazel", "custom"]
                .iter()
                .any(|k| a.get(k).is_some())
            {
                continue;
            }
            let context = dir.join(scalar(a, "context").unwrap_or("."));
            let dockerfile = a
                .get("docker")
                .and_then(|d| scalar(d, "dockerfile"))
                .unwrap_or("Dockerfile");
            out.push(BuildEntry {
                image: Some(image.to_string()),
                service: None,
                dockerfile: crate::engine::normalized(&context.join(dockerfile)),
                context: crate::engine::normalized(&context),
                declared: format!("{shown} artifact `{image}`"),
            });
        }
    }
    Ok(out)
}

/// Tiltfile (Starlark): `docker_build('ref', 'context', dockerfile='…')`, with string literals
/// only; a call whose reference or context is computed is left out.
fn tiltfile(text: &str, dir: &Path, shown: &str) -> Vec<BuildEntry> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find("docker_build(").map(|i| i + from) {
        from = at + "docker_build(".len();
        let preceded_by_word = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
        let commented = text[..at]
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.contains('#'));
        if preceded_by_word || commented {
            continue;
        }
        let Some(args) = call_args(&text[from..]) else {
            continue;
        };
        let mut positional = Vec::new();
        let mut named = HashMap::new();
        for arg in args {
            match arg.split_once('=').filter(|(k, _)| is_ident(k.trim())) {
                Some((k, v)) => {
                    named.insert(k.trim().to_string(), string_literal(v.trim()));
                }
                None => positional.push(string_literal(arg.trim())),
            }
        }
        let pick = |i: usize, key: &str| -> Option<String> {
            match named.get(key) {
                Some(v) => v.clone(),
                None => positional.get(i).cloned().flatten(),
            }
        };
        let (Some(image), Some(context)) = (pick(0, "ref"), pick(1, "context")) else {
            continue;
        };
        let context = dir.join(&context);
        let dockerfile = match named.get("dockerfile") {
            // Tilt resolves `dockerfile` against the Tiltfile's directory.
            Some(Some(d)) => dir.join(d),
            Some(None) => continue,
            None => context.join("Dockerfile"),
        };
        out.push(BuildEntry {
            declared: format!("{shown} docker_build(`{image}`)"),
            image: Some(image),
            service: None,
            context: crate::engine::normalized(&context),
            dockerfile: crate::engine::normalized(&dockerfile),
        });
    }
    out
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `'x'` or `"x"` → `x`; anything else (a variable, a call) → `None`.
fn string_literal(s: &str) -> Option<String> {
    let quote = s.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    let inner = s.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.contains(quote)).then(|| inner.to_string())
}

/// The top-level comma-separated arguments up to the closing parenthesis.
fn call_args(text: &str) -> Option<Vec<&str>> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    let mut out = Vec::new();
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => depth += 1,
            (None, ')') if depth == 0 => {
                let last = text[start..i].trim();
                if !last.is_empty() {
                    out.push(last);
                }
                return Some(out);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_builds_with_env_file_variables() {
        let dir = std::env::temp_dir().join(format!("prodlint-compose-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(".env"), "IMAGE_NAME=ghcr.io/acme/demo\nDEMO_VERSION=latest\nCART_DOCKERFILE=./src/cart/Dockerfile\n").unwrap();
        let text = "services:\n  cart:\n    image: ${IMAGE_NAME}:${DEMO_VERSION}-cart\n    build:\n      context: ./\n      dockerfile: ${CART_DOCKERFILE}\n  api:\n    build: ./api\n  db:\n    image: postgres:16\n  gone:\n    build:\n      dockerfile: ${UNSET}\n";
        let found = compose(text, &dir, "compose.yaml").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            found[0].image.as_deref(),
            Some("ghcr.io/acme/demo:latest-cart")
        );
        assert!(found[0].dockerfile.ends_with("src/cart/Dockerfile"));
        assert_eq!(found[1].service.as_deref(), Some("api"));
        assert!(found[1].dockerfile.ends_with("api/Dockerfile"));
    }

    #[test]
    fn flow_sequence_closed_at_key_indentation() {
        let text = "services:\n  a:\n    command: [\n      \"start\"\n    ]\n    build: ./a\n";
        let found = compose(text, Path::new("/r"), "compose.yaml").unwrap();
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn variables() {
        let env: HashMap<String, String> = [("A".to_string(), "x".to_string())].into();
        assert_eq!(
            expand_vars("${A}-$A-${B:-d}-$$", &env).as_deref(),
            Some("x-x-d-$")
        );
        assert_eq!(expand_vars("${B}", &env), None);
    }

    #[test]
    fn skaffold_artifacts() {
        let text = "apiVersion: skaffold/v3\nkind: Config\nbuild:\n  artifacts:\n  - image: emailservice\n    context: src/emailservice\n  - image: cartservice\n    context: src/cartservice/src\n    docker:\n      dockerfile: Dockerfile.debug\n  - image: jibbed\n    jib: {}\n";
        let found = skaffold(text, Path::new("/r"), "skaffold.yaml").unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0].dockerfile,
            Path::new("/r/src/emailservice/Dockerfile")
        );
        assert_eq!(
            found[1].dockerfile,
            Path::new("/r/src/cartservice/src/Dockerfile.debug")
        );
    }

    #[test]
    fn tilt_docker_build_calls() {
        let text = "# docker_build('commented', '.')\ndocker_build('ghcr.io/kube-rs/version-rs:local', '.', dockerfile='Dockerfile')\ndocker_build(ref=img, context='.')\ncustom_docker_build('x', '.')\ndocker_build('api', 'services/api', build_args={'a': 'b'})\n";
        let found = tiltfile(text, Path::new("/r"), "Tiltfile");
        let images: Vec<_> = found.iter().map(|b| b.image.clone().unwrap()).collect();
        assert_eq!(images, ["ghcr.io/kube-rs/version-rs:local", "api"]);
        assert_eq!(found[1].dockerfile, Path::new("/r/services/api/Dockerfile"));
    }
}
