// Fuzz target: any bytes as /proc/PID/status, statm or smaps_rollup give only finite, non-negative
// values (absent when unreadable), never a crash.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "probe/proc_parse.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  infermem::probe::Values values;
  infermem::probe::parse_status(text, values);
  infermem::probe::parse_smaps_rollup(text, values);
  infermem::probe::Values statm;
  infermem::probe::parse_statm(text, 4096, statm);
  for (const auto& [key, v] : statm.to_reading().values)
    if (!std::isfinite(v) || v < 0) std::abort();
  for (const auto& [key, v] : values.to_reading().values)
    if (!std::isfinite(v) || v < 0) std::abort();
  return 0;
}
