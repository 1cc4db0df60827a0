#!/usr/bin/env bash
# Seeds each target's corpus from the rule fixtures and the demo (corpora are not committed).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/dockerfile corpus/kubernetes corpus/rust corpus/config corpus/scripts
i=0
while IFS= read -r -d '' f; do
  i=$((i + 1))
  case "$f" in
    *.rs) cp "$f" "corpus/rust/seed-$i" ;;
    */.github/*|*action.yml) cp "$f" "corpus/scripts/seed-$i" ;;
    *.yaml|*.yml) cp "$f" "corpus/kubernetes/seed-$i" ;;
    *.sh|*Makefile|*justfile) cp "$f" "corpus/scripts/seed-$i" ;;
    *prodlint.toml) cp "$f" "corpus/config/seed-$i" ;;
    *Dockerfile*|*Containerfile*|*.dockerfile) cp "$f" "corpus/dockerfile/seed-$i"; cp "$f" "corpus/scripts/seed-$i-d" ;;
  esac
done < <(find ../fixtures -type f ! -name '*.snap' -print0)
cp ../docs/configuration.md corpus/config/seed-docs
