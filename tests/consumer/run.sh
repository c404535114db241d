#!/usr/bin/env bash
# ctest "consumer.installed_package": install infermem into a fresh prefix under the build tree,
# build tests/consumer (a user's project) against it with find_package, and check that the
# example test fails on the loop that leaks 16 KiB an iteration and passes on the clean one.
# Also runs a ModelCache program linked against the cache stage alone (no ONNX Runtime) and links
# a program through pkg-config against the same prefix.
# Usage: run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work="$build/consumer"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --prefix "$prefix" >"$work/install.log"
test -f "$prefix/include/infermem/request_scope.h"
test -f "$prefix/include/infermem/gtest.hpp"
test -x "$prefix/bin/infermem"
test -f "$prefix/lib/cmake/infermem/infermemConfig.cmake"
test -f "$prefix/lib/pkgconfig/infermem.pc"
"$prefix/bin/infermem" --version >/dev/null

# Only the installed prefix: nothing from the build tree or the repository's include folders.
cmake -S "$src/tests/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLES_DIR="$src/examples" \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} \
  >"$work/configure.log"
cmake --build "$work/build" -j 1 >"$work/build.log" || { cat "$work/build.log"; exit 1; }
if grep -rq -- "$src/include" "$work/build/compile_commands.json" 2>/dev/null; then
  echo "consumer: compiled against the source tree's headers" >&2; exit 1
fi

example="$work/build/gtest_example"
"$example" --gtest_filter='Handler.*' >"$work/clean.log" 2>&1 || {
  cat "$work/clean.log"; echo "consumer: the clean loop failed" >&2; exit 1; }
if "$example" --gtest_filter='LeakDemo.*' >"$work/leak.log" 2>&1; then
  cat "$work/leak.log"; echo "consumer: the loop leaking 16 KiB an iteration passed" >&2; exit 1
fi
for line in "verdict: FAIL: memory grows per iteration" "rate: " "95% interval" "peak: " \
  "kind: leak"; do
  grep -q -- "$line" "$work/leak.log" || {
    cat "$work/leak.log"; echo "consumer: the failure lacks '$line'" >&2; exit 1; }
done

# The cache stage alone: ModelCache runs with the user's loader, and no ONNX Runtime is loaded.
"$work/build/cache_only" >"$work/cache_only.log" 2>&1 || {
  cat "$work/cache_only.log"; echo "consumer: the cache-only program failed" >&2; exit 1; }
if ldd "$work/build/cache_only" | grep -q onnxruntime; then
  echo "consumer: a program linking infermem::infermem_cache alone loads ONNX Runtime" >&2; exit 1
fi

# pkg-config: compile and link a RequestScope program with the flags the .pc file gives.
"$src/tests/consumer/check_pkgconfig.sh" "$prefix" infermem "$work"
echo "consumer: installed package found, example built; leak fails, clean passes; cache alone runs without ORT; pkg-config links"
