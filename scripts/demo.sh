#!/usr/bin/env bash
# make demo: generate the default model (a ~64 MiB transformer) and run the main job on it:
# five configuration arms, each in a fresh process, mixed shapes, then the comparison table.
set -euo pipefail
BUILD=${1:-build}
REQUESTS=${DEMO_REQUESTS:-120}
MODEL="$BUILD/models/demo-transformer.onnx"
mkdir -p "$BUILD/models"
if [ ! -s "$MODEL" ]; then
  "$BUILD/infermem" gen-model --kind transformer --weights 64MiB --seed 1 -o "$MODEL"
fi
"$BUILD/infermem" inspect "$MODEL"
echo
"$BUILD/infermem" soak "$MODEL" --scenario mixed \
  --arms ort-default,no-arena,no-arena-trim,jemalloc,lean \
  --requests "$REQUESTS" --dim sequence=16..256 --out "$BUILD/demo-run"
