// Fuzz target: any bytes as a cgroup memory file (memory.current, memory.max, memory.stat,
// memory.events, memory.oom_control) give a finite number or nothing.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermem::probe;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto check = [](std::optional<double> v) {
    if (v && (!std::isfinite(*v) || *v < 0)) std::abort();
  };
  check(parse_cgroup_number(text));
  for (const char* key : {"anon", "file", "total_rss", "total_cache", "oom_kill"})
    check(parse_keyed_number(text, key));
  return 0;
}
