#!/usr/bin/env bash
# Installs a released prodlint binary: downloads the asset for this machine and its SHA-256
# checksum, verifies it, and unpacks the executable into DEST/bin.
#
#   scripts/install.sh VERSION DEST [BASE_URL]
#
# BASE_URL defaults to https://github.com/prodlint/prodlint/releases/download; the asset is
# BASE_URL/vVERSION/prodlint-TARGET.tar.gz (.zip on Windows) with prodlint-TARGET.tar.gz.sha256
# beside it, as .github/workflows/release.yml publishes them.
#
# Exit codes: 0 installed; 3 no release asset for this version and machine (the caller may build
# from source instead); 4 the checksum does not match (never fall back: something is wrong);
# 2 usage or tool errors.
set -euo pipefail
version=${1:?usage: install.sh VERSION DEST [BASE_URL]}
dest=${2:?usage: install.sh VERSION DEST [BASE_URL]}
base=${3:-https://github.com/prodlint/prodlint/releases/download}

case "$(uname -s)" in
  Linux) os=unknown-linux-musl ;;
  Darwin) os=apple-darwin ;;
  MINGW* | MSYS* | CYGWIN* | Windows_NT) os=pc-windows-msvc ;;
  *) echo "install.sh: no prodlint release for $(uname -s)" >&2; exit 3 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) echo "install.sh: no prodlint release for $(uname -m)" >&2; exit 3 ;;
esac
target="$arch-$os"
if [ "$os" = pc-windows-msvc ]; then ext=zip; else ext=tar.gz; fi
asset="prodlint-$target.$ext"
url="$base/v$version/$asset"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! curl --fail --silent --show-error --location --retry 3 --output "$work/$asset" "$url"; then
  echo "install.sh: no asset $asset for prodlint $version at $base" >&2
  exit 3
fi
if ! curl --fail --silent --show-error --location --retry 3 --output "$work/$asset.sha256" "$url.sha256"; then
  echo "install.sh: the release has $asset but no $asset.sha256 beside it; not installing an unverified binary" >&2
  exit 4
fi
expected=$(awk '{print $1; exit}' "$work/$asset.sha256")
if command -v sha256sum >/dev/null; then
  actual=$(sha256sum "$work/$asset" | awk '{print $1}')
else
  actual=$(shasum -a 256 "$work/$asset" | awk '{print $1}')
fi
if [ "$expected" != "$actual" ]; then
  echo "install.sh: checksum mismatch for $asset: expected $expected, got $actual" >&2
  exit 4
fi
mkdir -p "$dest/bin"
if [ "$ext" = zip ]; then
  unzip -q -o "$work/$asset" -d "$work/unpacked"
else
  mkdir -p "$work/unpacked"
  tar -xzf "$work/$asset" -C "$work/unpacked"
fi
bin=$(find "$work/unpacked" -type f \( -name prodlint -o -name prodlint.exe \) | head -1)
if [ -z "$bin" ]; then
  echo "install.sh: $asset holds no prodlint executable" >&2
  exit 4
fi
install -m 755 "$bin" "$dest/bin/"
echo "installed prodlint $version ($target) into $dest/bin"
