#!/usr/bin/env python3
"""Generates the benchmark corpora of scripts/bench.sh, deterministically (fixed seeds).

usage: gen_corpus.py OUT_DIR

OUT_DIR/docker-small/   200 Dockerfiles of 8 to 30 instructions
OUT_DIR/docker-large/   one Dockerfile of 2,000 instructions
OUT_DIR/k8s/            1,000 manifest files of 3 documents each
OUT_DIR/rust-N/         Cargo packages with N Rust files of about 200 lines (N = 250, 500, 1000)
OUT_DIR/mixed/          a repository of 10,000 files: Rust, manifests, Dockerfiles and files prodlint skips
OUT_DIR/pairs-N/        N services, each a Dockerfile and the manifest that deploys its image (N = 1000,
                        2000, 4000): the service map's joins grow with N
"""

import os
import random
import shutil
import sys

BASES = ["debian:12-slim", "rust:1.85", "golang:1.23", "node:22-alpine", "python:3.12-slim",
         "ubuntu:24.04", "alpine:3.20", "nginx:latest", "gcr.io/distroless/cc-debian12", "redis"]


def dockerfile(rng, instructions):
    lines = [f"FROM {rng.choice(BASES)} AS build", "WORKDIR /src"]
    kinds = ["run", "copy", "env", "arg", "label", "expose", "run-long"]
    while len(lines) < instructions - 3:
        k = rng.choice(kinds)
        n = len(lines)
        if k == "run":
            lines.append(f"RUN apt-get update && apt-get install -y --no-install-recommends pkg{n} && rm -rf /var/lib/apt/lists/*")
        elif k == "run-long":
            lines.append("RUN set -eux; \\\n    for i in 1 2 3; do \\\n      echo step$i; \\\n    done; \\\n    make -j4 all")
        elif k == "copy":
            lines.append(f"COPY src/part{n} /src/part{n}")
        elif k == "env":
            lines.append(f"ENV VAR_{n}=value{n} PATH=/opt/bin:$PATH")
        elif k == "arg":
            lines.append(f"ARG VERSION_{n}=1.{n}")
        elif k == "label":
            lines.append(f'LABEL org.example.part{n}="part {n}"')
        else:
            lines.append(f"EXPOSE {8000 + n % 1000}")
    lines.append(f"FROM {rng.choice(BASES)}")
    lines.append("COPY --from=build /src/app /usr/local/bin/app")
    lines.append(rng.choice(['CMD ["/usr/local/bin/app"]', "CMD /usr/local/bin/app", 'ENTRYPOINT ["/usr/local/bin/app"]']))
    return "\n".join(lines) + "\n"


def manifest(rng, i):
    replicas = rng.choice([1, 2, 3])
    probes = rng.random() < 0.5
    limits = rng.random() < 0.5
    parts = [f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc{i}
  labels: {{app: svc{i}}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: svc{i}}}
  template:
    metadata:
      labels: {{app: svc{i}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/svc{i}:{rng.choice(['1.2.3', 'latest', 'main'])}
          ports:
            - {{name: http, containerPort: 8080}}
          env:
            - {{name: LOG_LEVEL, value: info}}
            - {{name: DATABASE_URL, valueFrom: {{secretKeyRef: {{name: db, key: url}}}}}}
"""]
    if probes:
        parts[0] += """          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /live, port: http}
"""
    if limits:
        parts[0] += """          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
"""
    parts.append(f"""apiVersion: v1
kind: Service
metadata:
  name: svc{i}
spec:
  selector: {{app: svc{i}}}
  ports:
    - {{port: 80, targetPort: http}}
""")
    parts.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: svc{i}-config
data:
  settings.toml: |
    [server]
    port = 8080
    workers = {rng.randint(1, 16)}
""")
    return "---\n".join(parts)


RUST_SNIPPETS = [
    """pub async fn fetch_{n}(client: &reqwest::Client, id: u64) -> Result<String, reqwest::Error> {{
    let url = format!("https://api.example.com/items/{{id}}");
    let response = client.get(&url).send().await?;
    let body = response.text().await?;
    tracing::info!(id, len = body.len(), "fetched item");
    Ok(body)
}}
""",
    """pub fn client_{n}() -> reqwest::Client {{
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs({n} % 30 + 1))
        .build()
        .unwrap_or_default()
}}
""",
    """pub async fn handler_{n}(
    axum::extract::Path(id): axum::extract::Path<u64>,
) -> Result<axum::Json<Item>, StatusCode> {{
    let item = Item {{ id, name: format!("item-{{id}}"), tags: vec![] }};
    if item.name.is_empty() {{
        return Err(StatusCode::NOT_FOUND);
    }}
    Ok(axum::Json(item))
}}
""",
    """pub fn spawn_worker_{n}(rx: tokio::sync::mpsc::Receiver<Job>) -> tokio::task::JoinHandle<()> {{
    tokio::spawn(async move {{
        let mut rx = rx;
        while let Some(job) = rx.recv().await {{
            if let Err(e) = job.run().await {{
                tracing::warn!(error = %e, "job {n} failed");
            }}
        }}
    }})
}}
""",
    """#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record{n} {{
    pub id: u64,
    pub name: String,
    pub values: Vec<f64>,
    pub labels: std::collections::BTreeMap<String, String>,
}}

impl Record{n} {{
    pub fn total(&self) -> f64 {{
        self.values.iter().copied().filter(|v| v.is_finite()).sum()
    }}

    pub fn label(&self, key: &str) -> Option<&str> {{
        self.labels.get(key).map(String::as_str)
    }}
}}
""",
    """pub fn parse_{n}(input: &str) -> Vec<(String, u32)> {{
    let mut out = Vec::new();
    for line in input.lines() {{
        let mut parts = line.splitn(2, '=');
        match (parts.next(), parts.next()) {{
            (Some(k), Some(v)) => {{
                if let Ok(n) = v.trim().parse::<u32>() {{
                    out.push((k.trim().to_string(), n));
                }}
            }}
            _ => continue,
        }}
    }}
    out.sort();
    out
}}
""",
    """pub async fn load_{n}(pool: &sqlx::PgPool, id: i64) -> Result<Option<String>, sqlx::Error> {{
    let row: Option<(String,)> = sqlx::query_as("SELECT name FROM items WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(row.map(|r| r.0))
}}
""",
]

RUST_HEADER = """use axum::http::StatusCode;
use std::time::Duration;

pub struct Item {
    pub id: u64,
    pub name: String,
    pub tags: Vec<String>,
}

pub struct Job;

impl Job {
    pub async fn run(&self) -> Result<(), std::io::Error> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        Ok(())
    }
}

"""

CARGO_TOML = """[package]
name = "{name}"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
reqwest = {{ version = "0.12", features = ["json"] }}
serde = {{ version = "1", features = ["derive"] }}
sqlx = {{ version = "0.8", features = ["postgres", "runtime-tokio"] }}
tokio = {{ version = "1", features = ["full"] }}
tracing = "0.1"
"""

MAIN_RS = """use std::time::Duration;

#[tokio::main]
async fn main() {
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
    axum::serve(listener, app).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
}
"""


def rust_file(rng, n, target_lines=200):
    parts = [RUST_HEADER]
    lines = RUST_HEADER.count("\n")
    k = 0
    while lines < target_lines:
        snippet = rng.choice(RUST_SNIPPETS).format(n=n * 1000 + k)
        parts.append(snippet + "\n")
        lines += snippet.count("\n") + 1
        k += 1
    return "".join(parts)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def rust_package(out, files, seed, per_package=100, lines=200):
    rng = random.Random(seed)
    for p in range((files + per_package - 1) // per_package):
        root = os.path.join(out, f"crates/pkg{p}")
        write(os.path.join(root, "Cargo.toml"), CARGO_TOML.format(name=f"pkg{p}"))
        count = min(per_package, files - p * per_package)
        mods = [f"m{i}" for i in range(count - 1)]
        write(os.path.join(root, "src/main.rs"), "".join(f"mod {m};\n" for m in mods) + MAIN_RS)
        for i, m in enumerate(mods):
            write(os.path.join(root, f"src/{m}.rs"), rust_file(rng, p * per_package + i, lines))


def main():
    out = sys.argv[1]
    if os.path.exists(out):
        shutil.rmtree(out)
    rng = random.Random(1)
    for i in range(200):
        write(os.path.join(out, f"docker-small/svc{i}/Dockerfile"), dockerfile(rng, rng.randint(8, 30)))
    write(os.path.join(out, "docker-large/Dockerfile"), dockerfile(random.Random(2), 2000))
    rng = random.Random(3)
    for i in range(1000):
        write(os.path.join(out, f"k8s/svc{i}.yaml"), manifest(rng, i))
    for n in (250, 500, 1000):
        rust_package(os.path.join(out, f"rust-{n}"), n, seed=4)
    mixed = os.path.join(out, "mixed")
    rust_package(mixed, 6000, seed=5, lines=80)
    rng = random.Random(6)
    for i in range(2000):
        write(os.path.join(mixed, f"deploy/svc{i}.yaml"), manifest(rng, i))
    for i in range(500):
        write(os.path.join(mixed, f"docker/svc{i}/Dockerfile"), dockerfile(rng, rng.randint(8, 30)))
    for i in range(1500):
        ext = ["md", "json", "txt", "sql", "proto"][i % 5]
        write(os.path.join(mixed, f"other/file{i}.{ext}"), f"content {i}\n" * 20)
    for n in (1000, 2000, 4000):
        for i in range(n):
            svc = os.path.join(out, f"pairs-{n}/svc{i}")
            write(os.path.join(svc, "Dockerfile"),
                  f"FROM debian:12-slim\nCOPY svc{i} /usr/local/bin/svc{i}\nUSER 10001\nCMD [\"/usr/local/bin/svc{i}\"]\n")
            write(os.path.join(svc, "deploy.yaml"), pair_manifest(i))


def pair_manifest(i):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: svc{i}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: svc{i}}}
  template:
    metadata:
      labels: {{app: svc{i}}}
    spec:
      containers:
        - name: svc{i}
          image: registry.example.com/svc{i}:1.0.{i}
          ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata:
  name: svc{i}
spec:
  selector: {{app: svc{i}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


if __name__ == "__main__":
    main()
