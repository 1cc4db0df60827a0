//! A short, deterministic version of the fuzz targets in `fuzz/`, run with every `cargo test`:
//! each fixture is mutated many times (bytes flipped, inserted, deleted, spliced with another
//! fixture, lines duplicated) and the mutants are checked like `prodlint check -` would. No mutant
//! may make a parser or rule panic (the engine turns a panic into an `internal-error` finding),
//! and every finding's span must lie on the text.

use std::path::{Path, PathBuf};

use prodlint::config::Config;
use prodlint::engine::{check_text, INTERNAL_ERROR};

/// xorshift64*: deterministic, so a failure reproduces from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that mean something to one of the parsers.
const INTERESTING: &[&[u8]] = &[
    b"\\\n",
    b"\n",
    b"\r\n",
    b"\"",
    b"'",
    b"{",
    b"}",
    b"[",
    b"]",
    b"(",
    b")",
    b"<<EOF\n",
    b"EOF\n",
    b"&a ",
    b"*a",
    b"<<: ",
    b"- ",
    b": ",
    b"# prodlint: ignore[",
    b"// prodlint: ignore-file[",
    b"${",
    b"$",
    b"\t",
    b"\xc3\xa9",
    b"\xe2\x80\xa8",
    b"\0",
    b"---\n",
    b"async ",
    b"move ",
    b".await",
    b"tokio::spawn(",
    b"select! {",
    b"::",
    b"#[cfg(test)]",
    b"r#\"",
    b"\"#",
    b"ENTRYPOINT ",
    b"FROM ",
    b"AS ",
    b"ARG ",
    b"ENV ",
    b"kind: Deployment\n",
    b"apiVersion: v1\n",
    b"    ",
];

fn mutate(rng: &mut Rng, base: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = base.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(out.len() + 1);
        match rng.below(7) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                out.splice(at..at, piece.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (at + rng.below(64)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 if !other.is_empty() => {
                let from = rng.below(other.len());
                let to = (from + rng.below(256)).min(other.len());
                out.splice(at..at, other[from..to].iter().copied());
            }
            4 => {
                // Duplicate a line many times: repetition finds non-linear paths.
                let start = out[..at]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let end = out[at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(out.len(), |p| at + p + 1);
                let line = out[start..end].to_vec();
                // Without a newline the "line" is the whole text: repeating it at every step
                // would grow the mutant exponentially, so growth stops at 1 MiB.
                for _ in 0..rng.below(50) {
                    if out.len() + line.len() > 1 << 20 {
                        break;
                    }
                    out.splice(end..end, line.iter().copied());
                }
            }
            5 => out.truncate(at),
            _ => {
                let i = rng.below(out.len() + 1);
                out.insert(i.min(out.len()), rng.next() as u8);
            }
        }
    }
    out
}

fn fixtures(wanted: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![PathBuf::from("fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if wanted(&path) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn fuzz_kind(name: &str, wanted: impl Fn(&Path) -> bool, rounds: usize, seed: u64) {
    let seeds: Vec<Vec<u8>> = fixtures(wanted)
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    assert!(seeds.len() > 5, "{name}: too few fixtures to mutate");
    let mut rng = Rng(seed);
    for round in 0..rounds {
        let base = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let state = rng.0;
        let mutant = mutate(&mut rng, base, other);
        let text = String::from_utf8_lossy(&mutant).into_owned();
        let report = check_text(name, &text, Config::default());
        for d in &report.diagnostics {
            assert!(
                d.rule != INTERNAL_ERROR,
                "{name}: round {round} (rng state {state:#x}) hit an internal error: {}\n--- input ---\n{text}",
                d.message
            );
            assert!(
                d.primary.span.end <= text.len() && d.primary.span.start <= d.primary.span.end,
                "{name}: round {round}: span {:?} outside a {}-byte text",
                d.primary.span,
                text.len()
            );
        }
    }
}

#[test]
fn mutated_dockerfiles_never_break_the_checker() {
    let is_dockerfile = |p: &Path| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        n.contains("Dockerfile") && !n.ends_with(".snap")
    };
    fuzz_kind("Dockerfile", is_dockerfile, 6000, 0x5EED_D0C4);
}

#[test]
fn mutated_manifests_never_break_the_checker() {
    let is_yaml = |p: &Path| p.extension().is_some_and(|e| e == "yaml" || e == "yml");
    fuzz_kind("mutant.yaml", is_yaml, 4000, 0x5EED_4A81);
}

/// Workflows are mutated from workflow and manifest fixtures (both YAML), and read as workflows.
#[test]
fn mutated_workflows_never_break_the_checker() {
    let is_yaml = |p: &Path| p.extension().is_some_and(|e| e == "yaml" || e == "yml");
    fuzz_kind(".github/workflows/mutant.yml", is_yaml, 3000, 0x5EED_3F10);
}

/// Scripts are mutated from script, Makefile, justfile and Dockerfile fixtures (shell text all),
/// and read both as a shell script and as a Makefile.
#[test]
fn mutated_scripts_never_break_the_checker() {
    let is_shellish = |p: &Path| {
        let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        (n.ends_with(".sh") || n == "Makefile" || n == "justfile" || n.contains("Dockerfile"))
            && !n.ends_with(".snap")
    };
    fuzz_kind("mutant.sh", is_shellish, 3000, 0x5EED_5C01);
    fuzz_kind("Makefile", is_shellish, 1500, 0x5EED_3A4E);
    fuzz_kind("justfile", is_shellish, 1500, 0x5EED_1057);
}

#[test]
fn mutated_rust_never_breaks_the_checker() {
    let is_rust = |p: &Path| p.extension().is_some_and(|e| e == "rs");
    fuzz_kind("mutant.rs", is_rust, 3000, 0x5EED_2057);
}

#[test]
fn mutated_configs_are_accepted_or_rejected_never_crash() {
    let seeds: Vec<String> = fixtures(|p| p.file_name().is_some_and(|n| n == "prodlint.toml"))
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(!seeds.is_empty());
    let mut rng = Rng(0x5EED_C0F6);
    for _ in 0..10_000 {
        let base = seeds[rng.below(seeds.len())].as_bytes();
        let other = seeds[rng.below(seeds.len())].as_bytes();
        let mutant = mutate(&mut rng, base, other);
        let text = String::from_utf8_lossy(&mutant);
        if let Err(e) = Config::parse(&text, Path::new("prodlint.toml"), Path::new("/repo")) {
            assert!(!e.message.is_empty());
        }
    }
}
