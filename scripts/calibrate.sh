#!/usr/bin/env bash
# Calibration of the leak detector on real soak runs (docs/calibration.md).
#   scripts/calibrate.sh [BUILD_DIR] [calibration_bench options...]
# e.g. scripts/calibrate.sh build --quick        (smoke run, ~1 minute)
#      scripts/calibrate.sh build --jobs 2       (the full run, ~25-40 minutes on 2 cores)
# Knobs: calibration_bench --help (flags, or CAL_* environment variables).
set -euo pipefail
BUILD=build
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then BUILD=$1; shift; fi
cmake --build "$BUILD" --target calibration_bench -j"${JOBS:-2}"
exec "$BUILD/calibration_bench" "$@"
