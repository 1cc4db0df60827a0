//! Container image references (`registry:5000/team/app:1.2@sha256:…`).

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `@sha256:…`: immutable.
    Digest,
    /// A tag other than `latest`.
    Tag(String),
    /// `:latest`.
    Latest,
    /// No tag at all (Docker then pulls `latest`).
    Untagged,
}

pub fn pin(reference: &str) -> Pin {
    if reference.contains('@') {
        return Pin::Digest;
    }
    // A `:` before the last `/` is a registry port, not a tag.
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.split_once(':') {
        Some((_, "latest")) => Pin::Latest,
        Some((_, "")) | None => Pin::Untagged,
        Some((_, tag)) => Pin::Tag(tag.to_string()),
    }
}

/// The tag of a reference, if it has one.
pub fn tag(reference: &str) -> Option<String> {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split_once(':').map(|(_, t)| t.to_string())
}

/// The image's name: its last path segment without tag or digest (`golang` for
/// `docker.io/library/golang:1.23@sha256:…`).
pub fn name(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// The repository without tag or digest (`mcr.microsoft.com/dotnet/sdk`).
pub fn repository(reference: &str) -> &str {
    let without_digest = reference.split('@').next().unwrap_or(reference);
    match without_digest.rfind(':') {
        Some(i) if !without_digest[i..].contains('/') => &without_digest[..i],
        _ => without_digest,
    }
}

/// What is wrong with a reference that does not parse as the distribution reference grammar
/// (`[domain/]path[:tag][@digest]`) the kubelet and Docker use, or `None` when it parses. Only
/// the mistakes that happen are told apart: a digest after `:` instead of `@`, upper case in the
/// repository path, an empty or malformed tag, a malformed digest.
pub fn invalid(reference: &str) -> Option<String> {
    let (name_and_tag, digest) = match reference.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (reference, None),
    };
    if let Some(d) = digest {
        let valid = d.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty()
                && algorithm
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b))
                && hex.len() >= 32
                && hex.bytes().all(|b| b.is_ascii_hexdigit())
        });
        if !valid {
            return Some(format!(
                "its digest `{d}` is not `algorithm:hex` (`sha256:` and 64 hex digits)"
            ));
        }
    }
    // The tag is after the last `:` that follows the last `/` (an earlier `:` is a port).
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_and_tag[last_slash..].find(':') {
        Some(i) => (
            &name_and_tag[..last_slash + i],
            Some(&name_and_tag[last_slash + i + 1..]),
        ),
        None => (name_and_tag, None),
    };
    if let Some(tag) = tag {
        if let Some((algorithm, hex)) = tag.split_once(':') {
            if algorithm.starts_with("sha") && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Some(format!(
                    "a digest is written after `:`: write `{name}@{tag}`"
                ));
            }
        }
        if tag.is_empty() {
            return Some("its tag is empty (a `:` with nothing after it)".into());
        }
        let valid = tag.len() <= 128
            && tag
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
        if !valid {
            return Some(format!("its tag `{tag}` has characters a tag cannot have (letters, digits, `_`, `.`, `-`; at most 128)"));
        }
    }
    // The first component is a registry when it has a `.` or a `:`, is `localhost`, or has
    // upper case (Docker's rule); the rest is the repository path, lower case only.
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 {
        let first = components[0];
        if first.contains(['.', ':'])
            || first == "localhost"
            || first.bytes().any(|b| b.is_ascii_uppercase())
        {
            components.remove(0);
        }
    }
    if components.iter().any(|c| c.is_empty()) {
        return Some("its repository has an empty path component".into());
    }
    if let Some(c) = components
        .iter()
        .find(|c| c.bytes().any(|b| b.is_ascii_uppercase()))
    {
        return Some(format!(
            "its repository path `{c}` has upper case letters; repository names are lower case"
        ));
    }
    let component_ok = |c: &str| {
        c.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            && c.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric())
    };
    if let Some(c) = components.iter().find(|c| !component_ok(c)) {
        return Some(format!("its repository path `{c}` has characters a repository name cannot have (lower-case letters, digits, and `.`, `_`, `-` between them)"));
    }
    None
}

/// A value written to be replaced before use: a variable or template (`${IMAGE}`, `{{ .Values.image }}`,
/// `<your-image>`), or one with an upper-case identifier standing for a part of it
/// (`CONTAINER_IMAGE`, `REGION-docker.pkg.dev/PROJECT_ID/app`): three or more capitals, digits
/// and underscores between separators.
pub fn is_placeholder(reference: &str) -> bool {
    reference.contains(['$', '{', '<', '>'])
        || reference
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| {
                word.len() >= 3
                    && word.bytes().next().is_some_and(|b| b.is_ascii_uppercase())
                    && word
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_references() {
        for ok in [
            "nginx",
            "nginx:1.27",
            "localhost:5000/app",
            "registry.example.com:5000/team/app:1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "MyRegistry/app:1",
            "gcr.io/google_containers/pause-amd64:3.1",
            "ghcr.io/o/a__b:v1.0_rc-2",
        ] {
            assert_eq!(invalid(ok), None, "{ok}");
        }
        let digest_after_colon =
            "nginx:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        assert!(invalid(digest_after_colon).is_some_and(|m| m.contains("nginx@sha256:")));
        assert!(invalid("nginx:").is_some_and(|m| m.contains("empty")));
        assert!(invalid("acme/MyApp:1.0").is_some_and(|m| m.contains("upper case")));
        assert!(invalid("app:v1+2").is_some());
        assert!(invalid("app@sha256:xyz").is_some_and(|m| m.contains("digest")));
        assert!(is_placeholder("CONTAINER_IMAGE"));
        assert!(is_placeholder("${REGISTRY}/app:1"));
        assert!(!is_placeholder("nginx"));
    }

    #[test]
    fn pins() {
        assert_eq!(pin("nginx"), Pin::Untagged);
        assert_eq!(pin("nginx:latest"), Pin::Latest);
        assert_eq!(pin("localhost:5000/app"), Pin::Untagged);
        assert_eq!(pin("localhost:5000/app:1.2"), Pin::Tag("1.2".into()));
        assert_eq!(pin("app@sha256:abc"), Pin::Digest);
        assert_eq!(pin("app:latest@sha256:abc"), Pin::Digest);
        assert_eq!(
            tag("gcr.io/distroless/static:nonroot@sha256:ab").as_deref(),
            Some("nonroot")
        );
        assert_eq!(name("docker.io/library/golang:1.23@sha256:ab"), "golang");
        assert_eq!(name("localhost:5000/app"), "app");
        assert_eq!(
            repository("localhost:5000/team/app:1.2"),
            "localhost:5000/team/app"
        );
        assert_eq!(repository("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(
            repository("mcr.microsoft.com/dotnet/sdk:8.0"),
            "mcr.microsoft.com/dotnet/sdk"
        );
    }
}
