//! The floor a linter that parses every Rust file cannot go below: read and `syn`-parse every
//! `.rs` file under the given directories (gitignore-aware, like prodlint's walk), on every core,
//! and nothing else. `scripts/bench.sh` compares prodlint's cold run with it.
//!
//! `cargo bench --bench syn_baseline -- DIR...`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

fn main() {
    let dirs: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let start = Instant::now();
    let mut files = Vec::new();
    for dir in &dirs {
        for entry in ignore::WalkBuilder::new(dir)
            .hidden(false)
            .build()
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "rs") {
                files.push(entry.into_path());
            }
        }
    }
    let next = AtomicUsize::new(0);
    let totals = Mutex::new((0usize, 0usize, 0usize));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let _ = std::thread::Builder::new()
                .stack_size(64 << 20)
                .spawn_scoped(scope, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = files.get(i) else { break };
                    let Ok(text) = std::fs::read_to_string(path) else {
                        continue;
                    };
                    let parsed = syn::parse_file(&text).is_ok();
                    proc_macro2::extra::invalidate_current_thread_spans();
                    let mut t = totals.lock().unwrap_or_else(|e| e.into_inner());
                    t.0 += 1;
                    t.1 += text.len();
                    t.2 += usize::from(!parsed);
                });
        }
    });
    let (n, bytes, failed) = *totals.lock().unwrap_or_else(|e| e.into_inner());
    let secs = start.elapsed().as_secs_f64();
    println!(
        "syn-parsed {n} files, {:.1} MB ({failed} did not parse) in {secs:.2} s on {threads} threads: {:.1} MB/s",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / secs
    );
}
