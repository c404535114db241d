// Fuzz target: any bytes as /proc/PID/smaps parse into mappings whose categories add up to the
// total, and summing them (the no-smaps_rollup fallback) never crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/categorize.h"
#include "probe/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermem::probe;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto mappings = parse_smaps(text);
  CategoryUsage categories[kCategoryCount];
  CategoryUsage total;
  tally_mappings(mappings, categories, total);
  std::uint64_t count = 0;
  for (const auto& c : categories) count += c.mappings_count;
  if (count != mappings.size() || total.mappings_count != mappings.size()) std::abort();
  for (const auto& m : mappings)
    if (m.end < m.start) std::abort();
  Values values;
  sum_smaps(mappings, values);
  return 0;
}
