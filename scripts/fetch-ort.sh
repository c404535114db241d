#!/usr/bin/env bash
# Fetches one ONNX Runtime version for soak's `ort=VERSION` arm key: Microsoft's official Linux x64
# libonnxruntime, as shipped in the onnxruntime-node@VERSION npm package (npm checks the
# package's integrity), into third_party/ort-versions/VERSION/. Records the library's sha256
# beside it; soak checks the library against that record before any child starts. Idempotent.
#
#   scripts/fetch-ort.sh 1.22.0 [EXPECTED_SHA256]
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:-}"
expected="${2:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "fetch-ort: give a version as MAJOR.MINOR.PATCH, e.g. scripts/fetch-ort.sh 1.22.0" >&2
  exit 2
fi
dir="third_party/ort-versions/$version"
lib="$dir/libonnxruntime.so.1"

verify() {
  [ -f "$lib" ] && [ -f "$dir/sha256" ] && (cd "$dir" && sha256sum --check --status sha256) &&
    { [ -z "$expected" ] || [ "$(cut -d' ' -f1 "$dir/sha256")" = "$expected" ]; }
}
if verify; then exit 0; fi

echo "fetch-ort: fetching ONNX Runtime $version (onnxruntime-node@$version from npm)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && npm pack --silent "onnxruntime-node@$version" >/dev/null); then
  echo "fetch-ort: npm has no onnxruntime-node@$version (see: npm view onnxruntime-node versions)" >&2
  exit 2
fi
# The library sits under bin/napi-v*/linux/x64/, named libonnxruntime.so.1 or .so.1.X.Y by version.
member=$(tar -tzf "$tmp"/*.tgz | grep -E '^package/bin/napi-v[0-9]+/linux/x64/libonnxruntime\.so\.1' |
  head -n 1 || true)
if [ -z "$member" ]; then
  echo "fetch-ort: onnxruntime-node@$version carries no Linux x64 libonnxruntime.so" >&2
  exit 2
fi
tar -xzf "$tmp"/*.tgz -C "$tmp" "$member"
got=$(sha256sum "$tmp/$member" | cut -d' ' -f1)
if [ -n "$expected" ] && [ "$got" != "$expected" ]; then
  echo "fetch-ort: $member of onnxruntime-node@$version has sha256 $got, expected $expected" >&2
  exit 1
fi
rm -rf "$dir" && mkdir -p "$dir"
cp "$tmp/$member" "$lib"
echo "$got  libonnxruntime.so.1" >"$dir/sha256"
echo "onnxruntime-node@$version $member" >"$dir/source"
rm -rf "$tmp"; trap - EXIT
verify
echo "fetch-ort: ONNX Runtime $version in $dir (sha256 $got)"
