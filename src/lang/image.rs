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

#[cfg(test)]
mod tests {
    use super::*;

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
