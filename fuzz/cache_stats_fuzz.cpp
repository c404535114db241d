// Fuzz target: any bytes as a ModelCache stats file (what `watch` reads from a file another
// process writes) are either refused with InputError or parse to counters that write and read
// back the same.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/cache_stats_file.h"
#include "infermem/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermem;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  CacheStatsFile file;
  try {
    file = parse_cache_stats(text);
  } catch (const InputError&) {
    return 0;
  }
  const CacheStatsFile again = parse_cache_stats(cache_stats_text(file));
  if (again.pid != file.pid || again.seq != file.seq ||
      again.stats.to_json() != file.stats.to_json())
    std::abort();
  return 0;
}
