# prodlint as a container image: a static (musl) binary on distroless, running as a non-root user.
#   docker build -t prodlint .
#   docker run --rm -v "$PWD:/work" prodlint check .
# The release workflow builds the same binary for its archives; this file is for those who run
# linters as images (a CI job's `image:`, a pre-commit `language: docker_image` hook).

FROM rust:1.88-slim-bookworm AS build
# musl-gcc: mimalloc's build script compiles C for the musl target.
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The build platform's own architecture (amd64 or arm64), linked statically.
RUN target="$(uname -m)-unknown-linux-musl" \
    && rustup target add "$target" \
    && cargo build --release --locked --target "$target" \
    && cp "target/$target/release/prodlint" /prodlint

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /prodlint /usr/local/bin/prodlint
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/prodlint"]
CMD ["check", "."]
