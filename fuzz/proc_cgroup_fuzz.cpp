// Fuzz target: any bytes as /proc/PID/cgroup give at most one v1 memory path and one v2 path,
// each absolute; resolving them against a directory that does not exist finds nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/proc_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermem::probe;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  CgroupRef ref = parse_proc_cgroup(text);
  for (const auto& path : {ref.v1_memory_path, ref.v2_path})
    if (path && (path->empty() || path->front() != '/')) std::abort();
  if (!find_memory_cgroup(text, "/nonexistent-infermem-fuzz-root").dir.empty()) std::abort();
  return 0;
}
