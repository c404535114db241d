// Fuzz target: any bytes given to format detection and whichever importer it picks either import
// (every point's figures are non-negative or absent, skipped lines never exceed the lines read) or
// throw InputError.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/error.h"
#include "infermem/importers.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  infermem::ImportOptions options;
  options.format = "auto";
  try {
    auto imported =
        infermem::import_text(std::string_view(reinterpret_cast<const char*>(data), size), options);
    if (imported.series.empty() || imported.skipped_lines > imported.lines) std::abort();
    for (const auto& s : imported.series)
      for (const auto& p : s.series.points) {
        if (!std::isfinite(p.t_ms)) std::abort();
        for (double v : {p.current_bytes, p.hwm_bytes, p.allocator_in_use_bytes})
          if (infermem::present(v) && !(v >= 0 && std::isfinite(v))) std::abort();
      }
  } catch (const infermem::InputError&) {
  }
  return 0;
}
