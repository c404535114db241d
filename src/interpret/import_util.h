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

class SkipTally;

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

// The whole of `s` (trimmed) as a number of magnitude at most 1e20; nullopt otherwise (NaN,
// infinities, "1e400" and anything larger than 1e20 included).
std::optional<double> parse_number(std::string_view s);

// The one rule for every byte figure an importer keeps, whatever the format: a number of bytes
// from 0 to 2^63 (8 EiB; no process or log reports more, and beyond it an integer byte count no
// longer fits an int64 and a double figure has lost the unit it was scaled from). A figure that
// breaks it (negative, NaN, infinite, overflowing) makes its line skipped and counted, never
// kept: kAbsent means "not measured", not "measured as nonsense".
inline constexpr double kMaxBytes = 9223372036854775808.0;  // 2^63
// nullptr when `bytes` obeys the rule, else what is wrong with it ("is negative", ...).
const char* byte_figure_problem(double bytes);
// "" when a point can be kept: its time finite and each byte figure absent or obeying the rule;
// else why not, naming the figure ("rss_bytes is negative (-1000)"). `names` says how the input
// names current_bytes, hwm_bytes and allocator_in_use_bytes (anon and file keep their own).
struct FigureNames {
  std::string_view current = "current_bytes", hwm = "hwm_bytes",
                   allocator = "allocator_in_use_bytes";
};
std::string point_problem(const SeriesPoint& p, const FigureNames& names = {});
// Every importer passes the point it is about to keep through here: true when `builder` took
// it, false when `skips` counted its line instead (with point_problem's reason).
bool keep_point(SeriesBuilder& builder, const SeriesPoint& p, SkipTally& skips,
                std::uint64_t line_number, const FigureNames& names = {});

// The common cell, digits with at most one '.', at most 15 digits and nothing else (no sign, no
// spaces, no exponent): its value in `out`, exactly as from_chars gives it (N and 10^k are exact
// doubles, so N / 10^k is correctly rounded: Clinger's fast path). false when the cell needs
// parse_number. Inline: it runs once per cell of a long CSV.
inline bool parse_simple_decimal(std::string_view s, double& out) noexcept {
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t n = 0;
  int digits = 0, fraction_digits = -1;
  for (char c : s) {
    const auto d = static_cast<unsigned>(c - '0');
    if (d <= 9) {
      n = n * 10 + d;
      ++digits;
      fraction_digits += fraction_digits >= 0;
    } else if (c == '.' && fraction_digits < 0) {
      fraction_digits = 0;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > 15) return false;
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  out = fraction_digits <= 0 ? static_cast<double>(n)
                             : static_cast<double>(n) / kPow10[fraction_digits];
  return true;
}

using infermem::epoch_to_ms;  // infermem/importers.h
using infermem::parse_iso8601_ms;
using infermem::split_csv;

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
