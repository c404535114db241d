#pragma once
// Shared body of the importer fuzz targets: any bytes given to an importer either import (every
// point's figures are finite and non-negative or absent, skipped lines never exceed the lines
// read) or throw InputError. Anything else aborts, which libFuzzer reports.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/error.h"
#include "infermem/importers.h"

inline int fuzz_import(const std::uint8_t* data, std::size_t size, const char* format) {
  infermem::ImportOptions options;
  options.format = format;
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
