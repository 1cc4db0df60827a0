use std::path::Path;

use crate::lang::dockerfile::Dockerfile;
use crate::lang::image;
use crate::rules::{rule_doc, Check, Ctx, Rule};

pub static RULE: Rule = Rule {
    name: "build-image-used-at-runtime",
    doc: rule_doc!("build-image-used-at-runtime"),
    checks: &[Check::Dockerfile(check)],
    options: None,
};

fn check(file: &Dockerfile, cx: &mut Ctx) {
    if is_tooling_dockerfile(&file.path) {
        return;
    }
    let Some(last) = file.stages.len().checked_sub(1) else {
        return;
    };
    let Some(reference) = file.base_image(last) else {
        return;
    };
    let Some(what) = toolchain(&reference) else {
        return;
    };
    // An image that says how it starts is meant to run something; one without ENTRYPOINT or CMD
    // is a tool image used with a command (code generation, CI helpers).
    if file.effective(last, "ENTRYPOINT").is_none() && file.effective(last, "CMD").is_none() {
        return;
    }
    let Some(from) = file.from_of(last) else {
        return;
    };
    cx.report(
        from.span.clone(),
        format!("the final image is built on `{reference}`, {what}: the whole toolchain ships and runs in production"),
    )
    .help("build in a stage `FROM <toolchain> AS build` and copy only the artifact into a small runtime image (`gcr.io/distroless/static`, `debian:12-slim`, a `-jre` or `-slim` variant)");
}

/// What a toolchain image is, by repository and tag.
fn toolchain(reference: &str) -> Option<&'static str> {
    let name = image::name(reference);
    let repo = image::repository(reference);
    let tag = image::tag(reference).unwrap_or_default();
    let slim = ["slim", "alpine"].iter().any(|v| tag.contains(v));
    Some(match name {
        "golang" => "the Go toolchain image",
        "rust" => "the Rust toolchain image",
        "maven" => "a Maven build image",
        "gradle" => "a Gradle build image",
        "gcc" => "the GCC toolchain image",
        "buildpack-deps" => "a compiler-and-headers image",
        "node" if !slim => "the full Node.js image (compilers, headers, git)",
        "sdk" if repo.ends_with("dotnet/sdk") => "the .NET SDK image",
        "eclipse-temurin" | "openjdk" | "amazoncorretto" if tag.contains("jdk") => "a JDK image",
        _ => return None,
    })
}

/// Images that are meant to hold tools: dev containers, CI and test images.
fn is_tooling_dockerfile(path: &Path) -> bool {
    let tooling_word = |s: &str| {
        s.to_ascii_lowercase().split(['.', '-', '_']).any(|w| {
            matches!(
                w,
                "dev"
                    | "devcontainer"
                    | "ci"
                    | "test"
                    | "tests"
                    | "e2e"
                    | "builder"
                    | "build"
                    | "tools"
            )
        })
    };
    path.components().any(|c| {
        let c = c.as_os_str().to_string_lossy();
        c == ".devcontainer" || c == "tests" || c == "test" || c == "e2e" || c == "ci"
    }) || path
        .file_name()
        .is_some_and(|n| tooling_word(&n.to_string_lossy()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toolchains() {
        assert!(toolchain("golang:1.23").is_some());
        assert!(toolchain("docker.io/library/rust:1.83-slim").is_some());
        assert!(toolchain("node:22").is_some());
        assert!(toolchain("node").is_some());
        assert!(toolchain("node:22-slim").is_none());
        assert!(toolchain("node:22-alpine").is_none());
        assert!(toolchain("mcr.microsoft.com/dotnet/sdk:8.0").is_some());
        assert!(toolchain("mcr.microsoft.com/dotnet/aspnet:8.0").is_none());
        assert!(toolchain("eclipse-temurin:21-jdk").is_some());
        assert!(toolchain("eclipse-temurin:21-jre").is_none());
        assert!(toolchain("python:3.12").is_none());
        assert!(is_tooling_dockerfile(Path::new(
            "repo/.devcontainer/Dockerfile"
        )));
        assert!(is_tooling_dockerfile(Path::new("repo/Dockerfile.dev")));
        assert!(is_tooling_dockerfile(Path::new(
            "repo/tests/integration/Dockerfile"
        )));
        assert!(!is_tooling_dockerfile(Path::new(
            "repo/services/api/Dockerfile"
        )));
    }
}
