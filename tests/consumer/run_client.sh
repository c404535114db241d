#!/usr/bin/env bash
# ctest "consumer.client_package": install only the client component of infermem into a fresh
# prefix, then build the example GoogleTest file against it with find_package and with
# pkg-config, and check that: the prefix holds no header or library beyond the client's; the
# compile and link lines name nothing but the prefix, GoogleTest and pthreads; the program needs
# no shared library beyond libc/libstdc++/libgcc/libm (and gtest's); the leaking loop fails and
# the clean one passes.
# Usage: run_client.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
work="$build/consumer-client"
prefix="$work/prefix"
rm -rf "$work"
mkdir -p "$work"

cmake --install "$build" --component client --prefix "$prefix" >"$work/install.log"
test -f "$prefix/lib/libinfermem_client.a"
test -f "$prefix/include/infermem/gtest.hpp"
test -f "$prefix/lib/cmake/infermem_client/infermem_clientConfig.cmake"
# Nothing of the full package: no stage libraries, no ONNX Runtime headers, no CLI.
if ls "$prefix/lib" | grep -v -e '^libinfermem_client.a$' -e '^cmake$' -e '^pkgconfig$' | grep -q .; then
  ls -R "$prefix"; echo "consumer-client: the client install holds more than the client" >&2; exit 1
fi
test ! -e "$prefix/bin/infermem"

# Every installed header includes only the standard library, GoogleTest (gtest.hpp) and the
# client's own headers: each compiles alone with nothing but the prefix on the include path.
for h in "$prefix"/include/infermem/*; do
  name=$(basename "$h")
  printf '#include <infermem/%s>\n' "$name" >"$work/one.cpp"
  c++ -std=c++20 -fsyntax-only -Wall -Wextra -Wpedantic -Werror -I"$prefix/include" \
    "$work/one.cpp" || { echo "consumer-client: $name does not compile alone" >&2; exit 1; }
done

cmake -S "$src/tests/consumer/client" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLES_DIR="$src/examples" \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  ${CMAKE_CXX_COMPILER_LAUNCHER:+-DCMAKE_CXX_COMPILER_LAUNCHER=$CMAKE_CXX_COMPILER_LAUNCHER} \
  >"$work/configure.log"
cmake --build "$work/build" -j 1 -v >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
for dep in onnxruntime libfmt fmt/ nlohmann protobuf libcrypto ssl toml prometheus "$src/include"; do
  if grep -q -- "$dep" "$work/build.log"; then
    grep -- "$dep" "$work/build.log" | head -3
    echo "consumer-client: the build names $dep" >&2; exit 1
  fi
done

example="$work/build/gtest_example"
if ldd "$example" | grep -v -E 'linux-vdso|ld-linux|libc\.so|libstdc\+\+|libgcc_s|libm\.so|libgtest|libpthread' | grep -q .; then
  ldd "$example"; echo "consumer-client: the example needs another shared library" >&2; exit 1
fi
"$example" --gtest_filter='Handler.*' >"$work/clean.log" 2>&1 || {
  cat "$work/clean.log"; echo "consumer-client: the clean loop failed" >&2; exit 1; }
if "$example" --gtest_filter='LeakDemo.*' >"$work/leak.log" 2>&1; then
  cat "$work/leak.log"; echo "consumer-client: the loop leaking 16 KiB an iteration passed" >&2
  exit 1
fi
grep -q "kind: leak" "$work/leak.log" || {
  cat "$work/leak.log"; echo "consumer-client: the failure does not say leak" >&2; exit 1; }

# pkg-config: a RequestScope program with only the flags infermem-client.pc gives.
"$src/tests/consumer/check_pkgconfig.sh" "$prefix" infermem-client "$work"
echo "consumer-client: client-only install; example built on it alone; leak fails, clean passes; pkg-config links"
