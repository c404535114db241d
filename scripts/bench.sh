#!/usr/bin/env bash
# make bench: run every benchmark in bench/ and print its figures. Benchmarks measure and print;
# they never fail a build. The leak-detector calibration is long (tens of minutes) and runs only
# when asked: BENCH_CALIBRATION=1 make bench (or scripts/calibrate.sh).
set -euo pipefail
BUILD=${1:-build}
for b in "$BUILD"/*_bench; do
  name=$(basename "$b")
  if [ "$name" = calibration_bench ] && [ "${BENCH_CALIBRATION:-0}" != 1 ]; then
    echo "== $name: skipped (long); BENCH_CALIBRATION=1 make bench runs it"
    continue
  fi
  echo "== $name"
  "$b"
done
