#!/usr/bin/env bash
# Builds the Python wheel with maturin and runs the installed `prodlint` from a fresh virtual
# environment whose PATH holds no Rust toolchain, on the demo; then checks that it finds what the
# source build finds. Needs python3 (venv) and a Rust toolchain to build; maturin comes from PyPI.
#
#   scripts/test_wheel.sh            # WORK=/tmp/prodlint-wheel by default
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-/tmp/prodlint-wheel}
rm -rf "$WORK" && mkdir -p "$WORK"
python3 -m venv "$WORK/build-env"
"$WORK/build-env/bin/pip" install -q "maturin>=1.7,<2"
"$WORK/build-env/bin/maturin" build --release --out "$WORK/dist" --quiet
wheel=$(ls "$WORK"/dist/prodlint-*.whl)
echo "built $(basename "$wheel")"

python3 -m venv "$WORK/user-env"
"$WORK/user-env/bin/pip" install -q "$wheel"
# The user's PATH: the virtual environment and the system, nothing from ~/.cargo or rustup.
clean_path="$WORK/user-env/bin:/usr/local/bin:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null || PATH="$clean_path" command -v rustc >/dev/null; then
  echo "a Rust toolchain is on the clean PATH ($clean_path); the test would prove nothing" >&2
  exit 1
fi
set +e
PATH="$clean_path" prodlint check --no-cache fixtures/demo --format concise > "$WORK/wheel.txt"
code=$?
set -e
cargo run --release --quiet -- check --no-cache fixtures/demo --format concise > "$WORK/source.txt" || true
# The summary line carries the elapsed time; compare the findings.
if ! diff <(grep -v '^Found' "$WORK/wheel.txt") <(grep -v '^Found' "$WORK/source.txt"); then
  echo "the installed wheel's findings differ from the source build's" >&2
  exit 1
fi
echo "installed prodlint (exit $code) reports what the source build reports: $(tail -1 "$WORK/wheel.txt")"
[ "$code" = 1 ] || { echo "expected exit 1 (findings) on the demo, got $code" >&2; exit 1; }
