// Fuzz target: any bytes as heaptrack_print's report give sites with sizes that are finite and
// not negative, each with its call stack, never more than asked for.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/heaptrack.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sites = infermem::parse_heaptrack_print(text, 5);
  if (sites.size() > 5) std::abort();
  for (const auto& s : sites) {
    for (double v : {s.peak_bytes, s.leaked_bytes})
      if (!std::isnan(v) && (!std::isfinite(v) || v < 0)) std::abort();
  }
  return 0;
}
