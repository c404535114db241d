#pragma once
// Pieces the importers share: line splitting, strict number and timestamp parsing, and the tally
// of skipped lines with the first few reasons, so every format reports its skips the same way.
// Each importer reads its trace::Source line by line and feeds a SeriesBuilder per series.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/importers.h"
#include "infermem/series_builder.h"
#include "infermem/trace.h"

#include "infermem/text.h"

namespace infermem::import_detail {

// Calls `each(line_number, line)` for every line (1-based), without the "\n" or "\r\n".
void for_each_line(std::string_view text,
                   const std::function<void(std::uint64_t, std::string_view)>& each);
std::uint64_t count_lines(std::string_view text);

using infermem::lower;  // infermem/text.h
using infermem::trim;
// Splits on runs of spaces and tabs.
std::vector<std::string_view> split_whitespace(std::string_view s);
// The same into `words` (cleared first), so that a loop over lines reuses one vector.
void split_whitespace(std::string_view s, std::vector<std::string_view>& words);

// The whole of `s` (trimmed) as a number of magnitude at most 1e20; nullopt otherwise.
std::optional<double> parse_number(std::string_view s);

// ISO-8601 date-time ("2024-05-01T12:00:00.123Z", "2024-05-01 12:00:00", "+02:00" offsets; no
// zone means UTC) as milliseconds since the Unix epoch; nullopt otherwise.
std::optional<double> parse_iso8601_ms(std::string_view s);

// Bytes in one `unit` as a user writes it (B, KiB, MiB, GiB, K, M, G, KB, MB, GB; MB = MiB as in
// units.h). Throws InputError naming `what` on an unknown unit.
double bytes_per_unit(std::string_view unit, std::string_view what);

// Counts malformed lines and keeps the first few reasons for the notes.
class SkipTally {
 public:
  void skip(std::uint64_t line_number, std::string_view reason);
  // The same for a record that is not a line of its own ("event 3" of a JSON export).
  void skip_record(std::string_view where, std::string_view reason);
  std::uint64_t count() const { return count_; }
  // Appends "skipped N malformed lines; line 3: <reason>; ..." to `notes` when any were skipped.
  void add_notes(std::vector<std::string>& notes) const;
  // "line 3: <reason>" for error messages; "" when nothing was skipped.
  std::string first_reason() const;

 private:
  std::uint64_t count_ = 0;
  std::vector<std::string> examples_;
};

// At most 60 characters of `s`, for quoting input in messages.
std::string excerpt(std::string_view s);

// The file name without directories, for naming a series after its input.
std::string base_name(std::string_view path);

// "300000 points read; the verdict judged 9375 of them, ..." for a series whose points were merged.
std::string merged_note(const SeriesBuilder& builder);

Imported import_trace(trace::Source& source, const ImportOptions& options);
Imported import_csv(trace::Source& source, const ImportOptions& options);
Imported import_psrecord(trace::Source& source, const ImportOptions& options);
Imported import_lambda(trace::Source& source, const ImportOptions& options);

}  // namespace infermem::import_detail
