#!/usr/bin/env bash
# The prebuilt pre-commit path, end to end: builds the wheel with maturin, makes a git repository of
# pre-commit-mirror/ tagged v0.1.0 (as the release publishes it), and runs real pre-commit (from
# PyPI) with that hook on a project with a bad Dockerfile, on a PATH without a Rust toolchain.
# pip takes the unpublished prodlint wheel from the local build (PIP_FIND_LINKS); setuptools and
# pre-commit come from PyPI.
#
#   scripts/test_pre_commit_mirror.sh        # WORK=/tmp/prodlint-pre-commit by default
#   WHEEL_DIR=/tmp/prodlint-wheel/dist scripts/test_pre_commit_mirror.sh   # reuse a built wheel
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
WORK=${WORK:-/tmp/prodlint-pre-commit}
rm -rf "$WORK" && mkdir -p "$WORK"
if [ -z "${WHEEL_DIR:-}" ]; then
  python3 -m venv "$WORK/build-env"
  "$WORK/build-env/bin/pip" install -q "maturin>=1.7,<2"
  "$WORK/build-env/bin/maturin" build --release --out "$WORK/dist" --quiet
  WHEEL_DIR=$WORK/dist
fi
ls "$WHEEL_DIR"/prodlint-*.whl >/dev/null

python3 -m venv "$WORK/tools"
"$WORK/tools/bin/pip" install -q "pre-commit>=3,<5"

git_in() { git -C "$1" -c user.name=test -c user.email=test@example.com "${@:2}"; }

# The mirror repository, as the release workflow publishes it.
cp -r "$repo/pre-commit-mirror" "$WORK/mirror"
git init -q "$WORK/mirror"
git_in "$WORK/mirror" add -A
git_in "$WORK/mirror" commit -q -m "prodlint 0.1.0"
git_in "$WORK/mirror" tag v0.1.0

# A project that uses it.
mkdir -p "$WORK/project"
git init -q "$WORK/project"
cat > "$WORK/project/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $WORK/mirror
    rev: v0.1.0
    hooks:
      - id: prodlint
YAML
printf 'FROM debian:12\nRUN curl -fsSL https://example.com/install.sh | sh\n' > "$WORK/project/Dockerfile"
git_in "$WORK/project" add -A

clean_path="$WORK/tools/bin:/usr/local/bin:/usr/bin:/bin"
if PATH="$clean_path" command -v cargo >/dev/null || PATH="$clean_path" command -v rustc >/dev/null; then
  echo "a Rust toolchain is on the clean PATH ($clean_path); the test would prove nothing" >&2
  exit 1
fi
run() {
  (cd "$WORK/project" && PATH="$clean_path" PRE_COMMIT_HOME="$WORK/cache" \
    PIP_FIND_LINKS="$WHEEL_DIR" pre-commit run --all-files --color never)
}
set +e
run > "$WORK/bad.txt" 2>&1
code=$?
set -e
cat "$WORK/bad.txt"
[ "$code" = 1 ] || { echo "expected the hook to fail on the bad Dockerfile, got exit $code" >&2; exit 1; }
grep -q 'curl-pipe-shell' "$WORK/bad.txt" || { echo "the hook did not report curl-pipe-shell" >&2; exit 1; }

printf 'FROM debian:12\nUSER 10001\n' > "$WORK/project/Dockerfile"
git_in "$WORK/project" add -A
run > "$WORK/good.txt" 2>&1 || { cat "$WORK/good.txt"; echo "the hook failed on a clean Dockerfile" >&2; exit 1; }
echo "pre-commit ran the prebuilt hook: it failed on the bad Dockerfile and passed on the fixed one"
