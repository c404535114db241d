#pragma once
// Importers: memory recorded by other tools (CSV, psrecord logs, AWS Lambda REPORT lines exported
// from CloudWatch) and infermem's own trace.jsonl, turned into Series the verdict engine judges.
// Malformed lines are skipped and counted, never fatal; an input with nothing usable is an
// InputError naming the input and what was wrong.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/series.h"

namespace infermem {

struct ImportOptions {
  std::string format = "auto";  // auto | trace | csv | psrecord | lambda
  std::string unit;           // CSV memory unit, overriding the header: B, KiB, MiB, GiB (K, M, G)
  std::string time_column;    // CSV: the time column's header name ("" = detect)
  std::string memory_column;  // CSV: the current-memory column's header name ("" = detect)
  std::string source_name = "input";  // how messages name the input; import_file uses the path
};

struct ImportedSeries {
  Series series;
  SeriesContext context;
  double limit_bytes = kAbsent;    // a memory limit recorded with the series (Lambda Memory Size)
  std::vector<std::string> notes;  // facts about this series a reader should see
};

struct Imported {
  std::string format;  // the format that was read: trace | csv | psrecord | lambda
  std::vector<ImportedSeries> series;
  std::uint64_t lines = 0;          // lines in the input
  std::uint64_t skipped_lines = 0;  // malformed lines, skipped
  std::vector<std::string> notes;   // how the input was read, what was skipped and why
};

// The formats import_text reads, for --format help and validation ("auto" aside).
inline constexpr std::string_view kImportFormats[] = {"trace", "csv", "psrecord", "lambda"};

// Guesses the format from the content: "trace", "csv", "psrecord", "lambda", or "" when unknown.
std::string detect_format(std::string_view text);

// Reads `text` as options.format (or the detected format). Throws InputError naming
// options.source_name when the input is empty, of an unknown format, or has no usable rows.
Imported import_text(std::string_view text, const ImportOptions& options);

// Reads the file at `path` (InputError when missing or unreadable) and imports it.
Imported import_file(const std::string& path, const ImportOptions& options);

}  // namespace infermem
