//! What a Dockerfile tells cross-file rules about the image it builds: what it runs, the `ENV` it
//! sets, and which Cargo package or Go program it compiles. Plain data, joined by the service map
//! (`src/services.rs`) with the manifests that deploy the image and the code it is built from.

use std::ops::Range;

use crate::lang::dockerfile::{env_pairs, CopyArgs, Dockerfile, EntrypointScript};
use crate::lang::image;

#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    /// The script the image starts with, if the Dockerfile copies one in.
    pub entrypoint: Option<EntrypointScript>,
    /// The last name of the program `ENTRYPOINT` (or else `CMD`) runs (`/app/version` → `version`).
    pub program: Option<String>,
    /// The final stage's `FROM` instruction.
    pub final_from: Range<usize>,
    /// `ENV` of the final stage and the stages it builds on: name, value, span of the name.
    pub env: Vec<(String, String, Range<usize>)>,
    /// `cargo build`/`cargo install` commands of any stage.
    pub cargo: Vec<CargoBuild>,
    /// A `go build` in a stage built on a `golang` image.
    pub go_build: Option<Range<usize>>,
    /// That `golang` image's Go version (`golang:1.15-alpine` → 1.15), when its tag says.
    pub go_version: Option<(u32, u32)>,
    /// `COPY`/`ADD` sources taken from the build context (not `--from` a stage or image).
    pub copies: Vec<String>,
    /// Who the image runs as, when the Dockerfile says (`None`: a `USER` from a variable with no
    /// default).
    pub user: Option<ImageUser>,
}

/// Who a Dockerfile's image runs as: its final stage's last `USER` (through the stages it builds
/// on), or its base image's user when there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageUser {
    /// `USER root`/`USER 0` (`user` as written, expanded), or no `USER` on a base image that
    /// runs as root (`user` is `None`); `span` is the `USER` or the final `FROM`.
    Root {
        user: Option<String>,
        span: Range<usize>,
    },
    /// An unprivileged user: `USER 10001`, `USER app`, or a `:nonroot` base image (its user is
    /// the numeric 65532). `numeric` tells whether the kubelet can verify it is not root.
    NonRoot {
        user: String,
        numeric: bool,
        span: Range<usize>,
    },
}

impl Dockerfile {
    /// Who the image runs as ([`ImageUser`]); `None` when a variable with no value decides.
    pub fn image_user(&self) -> Option<ImageUser> {
        let last = self.stages.len().checked_sub(1)?;
        let lineage = self.lineage(last);
        if let Some(user) = lineage.iter().find_map(|&s| self.last_in_stage(s, "USER")) {
            let vars = self.stage_vars(last);
            let raw = (user.args.words().into_iter().next())
                .map(|(w, _)| w)
                .unwrap_or_default();
            let value = crate::lang::dockerfile::expand(&raw, &|n| vars.get(n).cloned())?;
            let name = value.split(':').next().unwrap_or(&value).to_string();
            let span = user.span.clone();
            return Some(if name == "root" || name == "0" {
                ImageUser::Root {
                    user: Some(value),
                    span,
                }
            } else {
                ImageUser::NonRoot {
                    numeric: !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()),
                    user: value,
                    span,
                }
            });
        }
        let span = self.from_of(last).map_or(0..0, |i| i.span.clone());
        let nonroot_base = (self.base_image(last).as_deref())
            .and_then(image::tag)
            .is_some_and(|t| t.contains("nonroot"));
        Some(if nonroot_base {
            ImageUser::NonRoot {
                user: "65532".into(),
                numeric: true,
                span,
            }
        } else {
            ImageUser::Root { user: None, span }
        })
    }
}

/// `cargo build --release -p api --bin api`, `cargo install --path crates/api`.
#[derive(Debug, Clone, Default)]
pub struct CargoBuild {
    pub span: Range<usize>,
    /// `-p`/`--package` operands.
    pub packages: Vec<String>,
    /// `--bin` operands.
    pub bins: Vec<String>,
    /// `--path` of `cargo install`, or the directory of `--manifest-path`, relative to the
    /// working directory of the `RUN` (taken as the build context).
    pub paths: Vec<String>,
    /// Built for a musl target (`--target x86_64-unknown-linux-musl`, or in an Alpine or
    /// musl-cross stage), where jemalloc keeps its symbol prefix.
    pub musl: bool,
}

impl Dockerfile {
    pub fn image_facts(&self) -> ImageFacts {
        let Some(last) = self.stages.len().checked_sub(1) else {
            return ImageFacts::default();
        };
        let mut facts = ImageFacts {
            entrypoint: self.entrypoint_script(),
            user: self.image_user(),
            final_from: self.from_of(last).map_or(0..0, |i| i.span.clone()),
            ..ImageFacts::default()
        };
        let lineage = self.lineage(last);
        for &stage in lineage.iter().rev() {
            let Some(body) = self.stages.get(stage).map(|s| s.body.clone()) else {
                continue;
            };
            for ins in self.instructions.get(body).unwrap_or_default() {
                if ins.keyword == "ENV" {
                    for (name, value, span) in env_pairs(&ins.args) {
                        facts.env.retain(|(n, _, _)| *n != name);
                        facts.env.push((name, value, ins.args.source_span(span)));
                    }
                }
            }
        }
        if let Some((_, words)) = self.start_command() {
            facts.program = words
                .iter()
                .find(|w| !matches!(w.as_str(), "exec" | "tini" | "--" | "/tini" | "dumb-init"))
                .map(|w| w.rsplit('/').next().unwrap_or(w).to_string())
                .filter(|w| !w.is_empty());
        }
        for ins in &self.instructions {
            if let Some(CopyArgs {
                from: None,
                sources,
                ..
            }) = ins.copy_args()
            {
                facts.copies.extend(sources);
            }
        }
        for run in self.run_scripts() {
            let stage = self.stages.iter().position(|s| s.body.contains(&run.index));
            let base = stage.and_then(|s| self.base_image(s));
            let golang = base
                .as_ref()
                .is_some_and(|b| image::name(b).rsplit('/').next() == Some("golang"));
            let musl_base = base
                .as_ref()
                .is_some_and(|b| b.contains("alpine") || b.contains("musl"));
            for c in &run.located.script.commands {
                let Some(name) = c.program_name() else {
                    continue;
                };
                let args = c.program_args();
                let span = run.located.source_span(c.span_to(c.program() + 1));
                let sub = args.first().map(|w| w.text.as_str());
                if name == "go" && sub == Some("build") && golang {
                    if facts.go_build.is_none() {
                        facts.go_version = base.as_deref().and_then(go_version);
                    }
                    facts.go_build.get_or_insert(span);
                } else if name == "cargo" {
                    // `cargo build`, `cargo install`, `cargo zigbuild`, `cargo auditable build`.
                    let at = args
                        .iter()
                        .position(|w| matches!(w.text.as_str(), "build" | "install" | "zigbuild"));
                    if let Some(at) = at {
                        let mut build = cargo_build(&args[at + 1..], span);
                        build.musl |= musl_base;
                        facts.cargo.push(build);
                    }
                }
            }
        }
        facts
    }
}

/// The Go version a `golang` image's tag names: `1.15-alpine` → (1, 15); `latest`, `alpine` → none.
fn go_version(reference: &str) -> Option<(u32, u32)> {
    let tag = image::tag(reference)?;
    let mut parts = tag.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn cargo_build(args: &[crate::lang::shell::Word], span: Range<usize>) -> CargoBuild {
    let mut out = CargoBuild {
        span,
        ..CargoBuild::default()
    };
    let mut words = args.iter().map(|w| w.text.as_str());
    while let Some(w) = words.next() {
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (w, None),
        };
        if flag == "--target" {
            let target = inline.or_else(|| words.next().map(str::to_string));
            out.musl |= target.is_some_and(|t| t.contains("musl"));
            continue;
        }
        let list = match flag {
            "-p" | "--package" => &mut out.packages,
            "--bin" => &mut out.bins,
            "--path" | "--manifest-path" => &mut out.paths,
            _ => continue,
        };
        let Some(value) = inline.or_else(|| words.next().map(str::to_string)) else {
            break;
        };
        let value = if flag == "--manifest-path" {
            value
                .strip_suffix("Cargo.toml")
                .unwrap_or(&value)
                .trim_end_matches('/')
                .to_string()
        } else {
            value
        };
        list.push(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lang::dockerfile::parse;

    #[test]
    fn builds_program_and_env() {
        let d = parse(
            "FROM rust:1.80 AS build\nRUN cargo build --release -p api --bin=api-server && cargo install --path crates/tool\nFROM debian:12\nENV A=1 \\\n    MALLOC_CONF=x\nCOPY --from=build /app /app\nCOPY conf/ /etc/conf/\nENTRYPOINT [\"tini\", \"--\", \"/usr/local/bin/api-server\"]\n",
        );
        let f = d.image_facts();
        assert_eq!(f.program.as_deref(), Some("api-server"));
        assert_eq!(f.cargo.len(), 2);
        assert_eq!(f.cargo[0].packages, ["api"]);
        assert_eq!(f.cargo[0].bins, ["api-server"]);
        assert_eq!(f.cargo[1].paths, ["crates/tool"]);
        assert_eq!(f.copies, ["conf/"]);
        let names: Vec<&str> = f.env.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(names, ["A", "MALLOC_CONF"]);
        let text = "FROM x\nENV A=1 \\\n    MALLOC_CONF=x\n";
        let f = parse(text).image_facts();
        assert_eq!(&text[f.env[1].2.clone()], "MALLOC_CONF");
        assert!(f.go_build.is_none());
    }

    #[test]
    fn musl_builds() {
        let musl = |text: &str| -> Vec<bool> {
            parse(text)
                .image_facts()
                .cargo
                .iter()
                .map(|c| c.musl)
                .collect()
        };
        assert_eq!(
            musl(
                "FROM rust:1.83
RUN cargo build --release --target x86_64-unknown-linux-musl
"
            ),
            [true]
        );
        assert_eq!(
            musl(
                "FROM rust:1.83
RUN cargo build --target=aarch64-unknown-linux-musl
"
            ),
            [true]
        );
        assert_eq!(
            musl(
                "FROM rust:1.83-alpine3.20
RUN cargo build --release
"
            ),
            [true]
        );
        assert_eq!(
            musl(
                "FROM rust:1.83
RUN cargo build --release --target x86_64-unknown-linux-gnu
"
            ),
            [false]
        );
    }

    #[test]
    fn go_build_only_in_a_golang_stage() {
        let f = parse("FROM golang:1.23 AS b\nRUN CGO_ENABLED=0 go build -o /s ./cmd/s\nFROM scratch\nCOPY --from=b /s /s\n").image_facts();
        assert!(f.go_build.is_some());
        let f = parse("FROM node:20\nRUN echo go build\n").image_facts();
        assert!(f.go_build.is_none());
    }
}
