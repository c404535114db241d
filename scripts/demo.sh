#!/usr/bin/env bash
# make demo: generate the default model (a ~64 MiB transformer) and run the main job on it.
set -euo pipefail
BUILD=${1:-build}
MODEL="$BUILD/models/demo-transformer.onnx"
mkdir -p "$BUILD/models"
if [ ! -s "$MODEL" ]; then
  "$BUILD/infermem" gen-model --kind transformer --weights 64MiB --seed 1 -o "$MODEL"
fi
"$BUILD/infermem" inspect "$MODEL"
