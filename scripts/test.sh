#!/usr/bin/env bash
# `make test`: every phase in turn, each timed, then a table of the phase times and one closing
# line with the counts of all phases. Stops at the first phase that fails (after the table).
#
#   set-up                Debian packages, ONNX Runtime and the test model (scripts/setup.sh)
#   tsan build / tests    the model cache's tests under ThreadSanitizer
#   sanitizer build/tests ASan + LSan + UBSan: labels unit, fuzz and e2e (the short smoke set)
#   normal build / tests  every test: unit, e2e and e2e-long
set -uo pipefail
cd "$(dirname "$0")/.."
make_cmd=${MAKE:-make}

names=()
seconds=()
passed=0
failed=0
status=0

fmt_time() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

table() {
  echo
  echo "make test: phase times"
  local total=0 i
  for i in "${!names[@]}"; do
    printf '  %-22s %8s\n' "${names[$i]}" "$(fmt_time "${seconds[$i]}")"
    total=$((total + seconds[i]))
  done
  printf '  %-22s %8s\n' "total" "$(fmt_time "$total")"
}

# phase NAME COMMAND...: runs it, records its time, and counts ctest's summary if it printed one.
phase() {
  local name=$1
  shift
  local start log rc
  start=$(date +%s)
  log=$(mktemp)
  echo "== make test: $name"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  names+=("$name")
  seconds+=($(($(date +%s) - start)))
  # ctest: "100% tests passed, 0 tests failed out of 123"
  local line
  line=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -n "$line" ]; then
    local total fail
    fail=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests? failed out of ([0-9]+).*/\2/' <<<"$line")
    passed=$((passed + total - fail))
    failed=$((failed + fail))
  fi
  rm -f "$log"
  if [ "$rc" -ne 0 ]; then
    status=$rc
    table
    echo "make test: phase '$name' failed (exit $rc)"
    echo "make-test: $passed passed, $((failed > 0 ? failed : 1)) failed"
    exit "$rc"
  fi
}

phase "set-up" scripts/setup.sh
phase "tsan build" "$make_cmd" --no-print-directory build-tsan
phase "tsan tests" "$make_cmd" --no-print-directory run-test-tsan
phase "sanitizer build" "$make_cmd" --no-print-directory build-san
phase "sanitizer tests" "$make_cmd" --no-print-directory run-test-san
phase "normal build" "$make_cmd" --no-print-directory build
phase "normal tests" "$make_cmd" --no-print-directory run-test-normal
table
echo "make-test: $passed passed, $failed failed"
exit "$status"
