#pragma once
// Shared body of the importer fuzz targets: any bytes given to an importer, read as a stream
// through trace::Source, either import (every kept point's byte figures are absent or from 0 to
// 2^63 bytes, its time finite, no series keeps more points than it read or than its cap, skipped
// lines never exceed the lines read) or throw InputError. Anything else aborts, which libFuzzer
// reports. The cap is small so that inputs of a few hundred lines already exercise the merging
// of points.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/error.h"
#include "infermem/importers.h"
#include "infermem/trace.h"

inline int fuzz_import(const std::uint8_t* data, std::size_t size, const char* format) {
  infermem::ImportOptions options;
  options.format = format;
  options.max_points = 16;
  try {
    auto source = infermem::trace::Source::from_text(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
    auto imported = infermem::import_source(source, options);
    if (imported.series.empty() || imported.skipped_lines > imported.lines) std::abort();
    for (const auto& s : imported.series) {
      if (s.series.points.size() > s.figures.points) std::abort();
      if (imported.format != "trace" && s.series.points.size() > options.max_points) std::abort();
      for (const auto& p : s.series.points) {
        if (!std::isfinite(p.t_ms)) std::abort();
        // The importers' one rule for a byte figure: 0 to 2^63 bytes (a NaN fails the test).
        for (double v :
             {p.current_bytes, p.hwm_bytes, p.allocator_in_use_bytes, p.anon_bytes, p.file_bytes})
          if (infermem::present(v) && !(v >= 0 && v <= 9223372036854775808.0)) std::abort();
      }
    }
  } catch (const infermem::InputError&) {
  }
  return 0;
}
