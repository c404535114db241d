#!/usr/bin/env bash
# One fuzz target as ctest runs it: the same inputs on every run, nothing written into the tree.
#
#   ctest_fuzz.sh replay TARGET SOURCE_DIR
#     every committed input once, read-only: fuzz/corpus/TARGET (seeds) and
#     fuzz/regressions/TARGET (each an input that once crashed or broke an invariant).
#   ctest_fuzz.sh seeded TARGET SOURCE_DIR SCRATCH SEED RUNS
#     a fixed-seed libFuzzer run of RUNS inputs mutated from those committed inputs. libFuzzer
#     keeps what it finds in its first corpus folder: that is SCRATCH (in the build tree), made
#     empty before and removed after, so every run starts from the same committed inputs.
#     No time cap: a time cap would make a slow machine test a shorter prefix of the sequence.
#
# Exploring with fresh seeds, which grows the committed corpus, is `make fuzz`.
set -euo pipefail
mode=$1 target=$2 src=$3
inputs=()
for dir in "$src/fuzz/corpus/${target##*/}" "$src/fuzz/regressions/${target##*/}"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' f; do inputs+=("$f"); done < <(find "$dir" -type f -print0 | sort -z)
done
# -timeout and -rss_limit_mb catch a hang or a blow-up in one input, with room for a slow machine.
limits=(-timeout=120 -rss_limit_mb=2048)
case "$mode" in
  replay)
    if [ ${#inputs[@]} -eq 0 ]; then
      echo "no committed inputs for ${target##*/}"
      exit 0
    fi
    # Given files, libFuzzer runs each once and mutates nothing.
    exec "$target" "${limits[@]}" "${inputs[@]}"
    ;;
  seeded)
    scratch=$4 seed=$5 runs=$6
    rm -rf "$scratch"
    mkdir -p "$scratch/corpus" "$scratch/artifacts"
    dirs=()
    for dir in "$src/fuzz/corpus/${target##*/}" "$src/fuzz/regressions/${target##*/}"; do
      [ -d "$dir" ] && dirs+=("$dir")
    done
    status=0
    "$target" "${limits[@]}" -seed="$seed" -runs="$runs" -artifact_prefix="$scratch/artifacts/" \
      "$scratch/corpus" "${dirs[@]}" || status=$?
    if [ "$status" -ne 0 ]; then
      echo "fuzz: ${target##*/} failed; the input is kept in $scratch/artifacts/ (commit it to" \
        "fuzz/regressions/${target##*/}/ with the fix)" >&2
      exit "$status"
    fi
    rm -rf "$scratch"
    ;;
  *)
    echo "usage: $0 replay|seeded TARGET SOURCE_DIR [SCRATCH SEED RUNS]" >&2
    exit 2
    ;;
esac
