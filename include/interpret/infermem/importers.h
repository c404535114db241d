#pragma once
// Importers: memory recorded by other tools (CSV, psrecord logs, AWS Lambda REPORT lines exported
// from CloudWatch) and infermem's own trace.jsonl, turned into Series the verdict engine judges.
// An input is read once, line by line, from a trace::Source (a file, standard input, a string);
// each series is built point by point in a SeriesBuilder, so memory does not grow with the
// input's length (Lambda keeps 48 bytes per REPORT line to order and group them). Malformed lines
// are skipped and counted, never fatal; an input with nothing usable is an InputError naming the
// input and what was wrong.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/series.h"
#include "infermem/series_builder.h"
#include "infermem/trace.h"

namespace infermem {

struct ImportOptions {
  std::string format = "auto";  // auto | trace | csv | psrecord | lambda
  std::string unit;           // CSV memory unit, overriding the header: B, KiB, MiB, GiB (K, M, G)
  std::string time_column;    // CSV: the time column's header name ("" = detect)
  std::string memory_column;  // CSV: the current-memory column's header name ("" = detect)
  std::string source_name = "input";  // how messages name the input; import_file uses the path
  std::size_t max_points = kDefaultMaxSeriesPoints;  // points kept per series (SeriesBuilder)
};

struct ImportedSeries {
  Series series;  // the points kept (at most ImportOptions::max_points, except a soak arm's)
  SeriesFigures figures;  // exact over every point read: count, peaks, first/last time
  SeriesContext context;
  double limit_bytes = kAbsent;    // a memory limit recorded with the series (Lambda Memory Size)
  std::vector<std::string> notes;  // facts about this series a reader should see
  // A soak arm of an infermem trace: its cache scenario events and when its child began.
  std::vector<CacheEvent> cache_events;
  double arm_begin_ms = kAbsent;
};

struct Imported {
  std::string format;  // the format that was read: trace | csv | psrecord | lambda
  std::vector<ImportedSeries> series;
  std::uint64_t lines = 0;          // lines in the input
  std::uint64_t skipped_lines = 0;  // malformed lines, skipped
  std::vector<std::string> notes;   // how the input was read, what was skipped and why
};

// The formats import_source reads, for --format help and validation ("auto" aside).
inline constexpr std::string_view kImportFormats[] = {"trace", "csv", "psrecord", "lambda"};

// How much of the start of an input format detection looks at.
inline constexpr std::size_t kDetectBytes = std::size_t{1} << 20;

// Guesses the format from the start of the content: "trace", "csv", "psrecord", "lambda", or ""
// when unknown.
std::string detect_format(std::string_view head);

// Reads `source` as options.format (or the format detected from its first kDetectBytes). Throws
// InputError naming the input (options.source_name, or the source's name when that is left at
// "input") when it is empty, of an unknown format, or has no usable rows.
Imported import_source(trace::Source& source, const ImportOptions& options);

// The same over text in memory.
Imported import_text(std::string_view text, const ImportOptions& options);

// Opens `path` (a regular file, or "-" for standard input; anything else is an InputError at
// once, see input_file.h) and imports it, naming the input by its path.
Imported import_file(const std::string& path, const ImportOptions& options);

// Pieces of the importers other readers of users' logs share (replay's request log):
// ISO-8601 date-time ("2024-05-01T12:00:00.123Z", "2024-05-01 12:00:00", "+02:00" offsets; no
// zone means UTC) as milliseconds since the Unix epoch; nullopt otherwise.
std::optional<double> parse_iso8601_ms(std::string_view s);
// Epoch numbers of unknown unit: seconds, milliseconds, microseconds or nanoseconds by size.
double epoch_to_ms(double value);
// Splits one CSV record on `delimiter`, honouring double quotes ("a,b" and "" inside quotes).
std::vector<std::string> split_csv(std::string_view line, char delimiter);

}  // namespace infermem
