#!/usr/bin/env bash
# Compile and link a RequestScope program with only the flags a pkg-config file of an installed
# infermem gives, and run it. Used by run.sh (infermem) and run_client.sh (infermem-client).
# Usage: check_pkgconfig.sh PREFIX PACKAGE WORK_DIR
set -euo pipefail
prefix=$1 package=$2 work=$3
cat >"$work/pc.cpp" <<'CPP'
#include <infermem/request_scope.h>
#include <cstdio>
int main() {
  infermem::RequestScope scope;
  auto f = scope.close();
  std::printf("%s\n", f.rss_end_bytes > 0 ? "ok" : "no reading");
  return f.rss_end_bytes > 0 ? 0 : 1;
}
CPP
# shellcheck disable=SC2046
c++ -std=c++20 "$work/pc.cpp" -o "$work/pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs "$package")
"$work/pc" | grep -q ok
