// CSV with a header naming a time column and a memory column (and optionally a high-water mark,
// allocator in-use bytes and a request count). Units come from the header names ("time_ms",
// "rss_mb", "memory (KiB)"), else seconds and bytes; --unit overrides the memory unit.
#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "infermem/error.h"
#include "interpret/import_util.h"

namespace infermem::import_detail {
namespace {

// "Real (MB)" -> {"real", "mb"}; "VmHWM" -> {"vmhwm"}; "time_ms" -> {"time", "ms"}.
std::vector<std::string> name_tokens(std::string_view header_name) {
  std::vector<std::string> tokens;
  std::string current;
  for (char c : header_name) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      current.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!current.empty()) {
      tokens.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) tokens.push_back(std::move(current));
  return tokens;
}

std::string normalized(std::string_view header_name) {
  std::string out;
  for (const auto& t : name_tokens(header_name)) out += (out.empty() ? "" : "_") + t;
  return out;
}

bool has_any(const std::vector<std::string>& tokens,
             std::initializer_list<std::string_view> words) {
  return std::any_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
    return std::find(words.begin(), words.end(), t) != words.end();
  });
}

// Milliseconds per unit named in a time column's tokens; 0 when none is named.
double ms_per_time_unit(const std::vector<std::string>& tokens) {
  if (has_any(tokens, {"ms", "msec", "millis", "milliseconds"})) return 1.0;
  if (has_any(tokens, {"us", "usec", "micros", "microseconds"})) return 1e-3;
  if (has_any(tokens, {"ns", "nsec", "nanos", "nanoseconds"})) return 1e-6;
  if (has_any(tokens, {"s", "sec", "secs", "second", "seconds"})) return 1000.0;
  if (has_any(tokens, {"min", "mins", "minute", "minutes"})) return 60'000.0;
  if (has_any(tokens, {"h", "hr", "hrs", "hour", "hours"})) return 3'600'000.0;
  return 0;
}

// Bytes per unit named in a memory column's tokens ("rss_mb", "memory_kib"); 0 when none.
double bytes_per_memory_unit(const std::vector<std::string>& tokens) {
  if (has_any(tokens, {"b", "byte", "bytes"})) return 1.0;
  if (has_any(tokens, {"kb", "kib", "k", "kbytes"})) return 1024.0;
  if (has_any(tokens, {"mb", "mib", "m", "mbytes"})) return 1024.0 * 1024;
  if (has_any(tokens, {"gb", "gib", "g", "gbytes"})) return 1024.0 * 1024 * 1024;
  return 0;
}

std::string_view time_unit_name(double ms_per_unit) {
  if (ms_per_unit == 1.0) return "ms";
  if (ms_per_unit == 1e-3) return "us";
  if (ms_per_unit == 1e-6) return "ns";
  if (ms_per_unit == 60'000.0) return "min";
  if (ms_per_unit == 3'600'000.0) return "h";
  return "s";
}

enum class Role { kNone, kTime, kCurrent, kHwm, kAllocator, kRequest };

Role classify(const std::vector<std::string>& t) {
  if (has_any(t, {"time", "t", "elapsed", "timestamp", "ts", "date", "datetime", "clock", "uptime",
                  "seconds", "secs", "sec"}))
    return Role::kTime;
  if (has_any(t,
              {"virtual", "virt", "vms", "vsz", "swap", "cpu", "limit", "size", "total", "free"}))
    return Role::kNone;
  if (has_any(t, {"req", "reqs", "request", "requests", "iteration", "iter", "invocation",
                  "invocations", "step"}))
    return Role::kRequest;
  if (has_any(t, {"hwm", "vmhwm", "max", "peak", "maxrss", "highwater", "watermark"}))
    return Role::kHwm;
  if (has_any(t, {"allocated", "inuse", "malloc", "heap"}) ||
      (has_any(t, {"in"}) && has_any(t, {"use"})))
    return Role::kAllocator;
  if (has_any(t, {"rss", "vmrss", "mem", "memory", "resident", "used", "usage", "current", "real",
                  "pss", "wss", "working"}) ||
      bytes_per_memory_unit(t) != 0)
    return Role::kCurrent;
  return Role::kNone;
}

bool is_timestamp_name(const std::vector<std::string>& t) {
  return has_any(t, {"timestamp", "ts", "date", "datetime", "clock"});
}

// One data row's fields, split without allocating once warm: views into the line when it has no
// quotes, else into unquoted copies kept between rows.
class Fields {
 public:
  void split(std::string_view line, char delimiter) {
    views_.clear();
    // One pass over the (short) line: a call to memchr per field costs more than the loop.
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (c == delimiter) {
        views_.push_back(line.substr(start, i - start));
        start = i + 1;
      } else if (c == '"') {
        quoted = true;
        break;
      }
    }
    if (!quoted) {
      views_.push_back(line.substr(start));
      return;
    }
    views_.clear();
    quoted_ = split_csv(line, delimiter);
    for (const auto& f : quoted_) views_.push_back(f);
  }
  std::size_t size() const { return views_.size(); }
  std::string_view operator[](std::size_t i) const { return views_[i]; }

 private:
  std::vector<std::string_view> views_;
  std::vector<std::string> quoted_;
};

char detect_delimiter(std::string_view header) {
  char best = ',';
  std::size_t best_count = 0;
  for (char d : {',', ';', '\t'}) {
    auto n = static_cast<std::size_t>(std::count(header.begin(), header.end(), d));
    if (n > best_count) best = d, best_count = n;
  }
  return best;
}

struct Column {
  int index = -1;
  std::string name;
  double scale = 1.0;  // to bytes (memory) or milliseconds (time)
};

struct Layout {
  char delimiter = ',';
  std::vector<std::string> names;
  Column time, current, hwm, allocator, request;
  bool time_is_timestamp = false;  // epoch numbers of unknown unit, or ISO-8601 strings
};

int find_named(const std::vector<std::string>& names, const std::string& wanted,
               const std::string& flag, const std::string& source) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (lower(trim(names[i])) == lower(trim(wanted)) || normalized(names[i]) == normalized(wanted))
      return static_cast<int>(i);
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + std::string(trim(n));
  throw InputError(
      fmt::format("{}: {} '{}' is not a column of the header ({})", source, flag, wanted, all));
}

Layout read_header(std::string_view header, const ImportOptions& options,
                   std::vector<std::string>& notes) {
  Layout layout;
  layout.delimiter = detect_delimiter(header);
  layout.names = split_csv(header, layout.delimiter);
  const std::string& source = options.source_name;
  auto assign = [&](Column& column, int index) {
    column.index = index;
    column.name = std::string(trim(layout.names[static_cast<std::size_t>(index)]));
  };
  if (!options.time_column.empty())
    assign(layout.time, find_named(layout.names, options.time_column, "--time-column", source));
  if (!options.memory_column.empty())
    assign(layout.current,
           find_named(layout.names, options.memory_column, "--memory-column", source));
  for (std::size_t i = 0; i < layout.names.size(); ++i) {
    const int index = static_cast<int>(i);
    if (index == layout.time.index || index == layout.current.index) continue;
    Column* slot = nullptr;
    switch (classify(name_tokens(layout.names[i]))) {
      case Role::kTime:
        slot = &layout.time;
        break;
      case Role::kCurrent:
        slot = &layout.current;
        break;
      case Role::kHwm:
        slot = &layout.hwm;
        break;
      case Role::kAllocator:
        slot = &layout.allocator;
        break;
      case Role::kRequest:
        slot = &layout.request;
        break;
      case Role::kNone:
        break;
    }
    if (slot && slot->index < 0) assign(*slot, index);
  }
  std::string all;
  for (const auto& n : layout.names) all += (all.empty() ? "" : ", ") + std::string(trim(n));
  if (layout.time.index < 0)
    throw InputError(
        fmt::format("{}: the CSV header ({}) names no time column (e.g. time, time_ms, elapsed_s, "
                    "timestamp); pass --time-column",
                    source, all));
  if (layout.current.index < 0 && layout.hwm.index < 0)
    throw InputError(
        fmt::format("{}: the CSV header ({}) names no memory column (e.g. rss, rss_bytes, rss_mb, "
                    "memory_mib, vmhwm); pass --memory-column",
                    source, all));

  const auto time_tokens = name_tokens(layout.time.name);
  layout.time.scale = ms_per_time_unit(time_tokens);
  layout.time_is_timestamp = layout.time.scale == 0 && is_timestamp_name(time_tokens);
  if (layout.time.scale == 0) layout.time.scale = 1000.0;  // seconds unless named otherwise

  const double unit_override = options.unit.empty() ? 0 : bytes_per_unit(options.unit, "--unit");
  bool some_unit_assumed = false;
  for (Column* c : {&layout.current, &layout.hwm, &layout.allocator}) {
    if (c->index < 0) continue;
    const double named = bytes_per_memory_unit(name_tokens(c->name));
    if (unit_override != 0 && named != 0 && named != unit_override)
      notes.push_back(
          fmt::format("--unit {} overrides the unit column '{}' names", options.unit, c->name));
    c->scale = unit_override != 0 ? unit_override : named != 0 ? named : 1.0;
    some_unit_assumed = some_unit_assumed || (unit_override == 0 && named == 0);
  }
  if (some_unit_assumed)
    notes.push_back(
        "memory read as bytes: a memory column's name gives no unit (pass --unit "
        "KiB|MiB|GiB if it is not bytes)");
  notes.push_back(fmt::format(
      "columns: time '{}'{}{}{}{}{}", layout.time.name,
      layout.time_is_timestamp ? " (timestamps)"
                               : fmt::format(" (in {})", time_unit_name(layout.time.scale)),
      layout.current.index >= 0 ? fmt::format(", current '{}'", layout.current.name) : "",
      layout.hwm.index >= 0 ? fmt::format(", high-water mark '{}'", layout.hwm.name) : "",
      layout.allocator.index >= 0 ? fmt::format(", allocator '{}'", layout.allocator.name) : "",
      layout.request.index >= 0 ? fmt::format(", requests '{}'", layout.request.name) : ""));
  return layout;
}

// The time cell in milliseconds into `out`; false when it is neither a number nor an ISO-8601
// date-time. (A status, not std::optional<double>: see read_bytes.)
bool read_time_ms(std::string_view cell, const Layout& layout, double& out) {
  double value = 0;
  if (!parse_simple_decimal(cell, value)) {
    if (auto number = parse_number(cell)) {
      value = *number;
    } else if (auto iso = parse_iso8601_ms(cell)) {
      out = *iso;
      return true;
    } else {
      return false;
    }
  }
  out = layout.time_is_timestamp ? epoch_to_ms(value) : value * layout.time.scale;
  return true;
}

// A memory cell into `out`, in bytes: kAbsent when empty or not in the row; false (malformed)
// when not a number. Whether the number is a byte figure the importer may keep (not negative,
// not beyond 2^63 once scaled) is keep_point's rule, shared by every importer. A status and an
// out-parameter rather than std::optional<double>: GCC returns the optional through memory with
// a byte store read back as a word, a store-forwarding stall that cost a third of analyze's time
// on a long CSV.
bool read_bytes(const Fields& fields, const Column& column, double& out) {
  out = kAbsent;
  if (column.index < 0 || static_cast<std::size_t>(column.index) >= fields.size()) return true;
  std::string_view cell = fields[static_cast<std::size_t>(column.index)];
  double value = 0;
  if (parse_simple_decimal(cell, value)) {
    out = value * column.scale;
    return true;
  }
  if (trim(cell).empty()) return true;
  auto parsed = parse_number(cell);
  if (!parsed) return false;
  out = *parsed * column.scale;
  return true;
}

// A row with more fields than the header, past those it names, has a stray delimiter (an
// unquoted "1,000", a value with a comma): which field is which column cannot be told. Empty
// trailing fields (a delimiter at the end of each row) are harmless.
bool has_stray_fields(const Fields& fields, std::size_t header_fields) {
  for (std::size_t i = header_fields; i < fields.size(); ++i)
    if (!trim(fields[i]).empty()) return true;
  return false;
}

// The series of an import whose rows are read: its figures, the points in time order, its name
// and sources, and the skips' notes.
void finish_csv(Imported& result, SeriesBuilder& builder, const Layout& layout, SkipTally& skips,
                const ImportOptions& options) {
  result.skipped_lines = skips.count();
  skips.add_notes(result.notes);
  if (builder.figures().points == 0)
    throw InputError(fmt::format(
        "{}: no usable rows under the CSV header ({} lines, {} malformed{}{})", options.source_name,
        result.lines, skips.count(), skips.count() ? "; " : "", skips.first_reason()));
  ImportedSeries imported;
  Series& series = imported.series;
  imported.figures = builder.figures();
  const bool out_of_order = builder.out_of_order();
  if (builder.merged()) imported.notes.push_back(merged_note(builder));
  series.points = builder.take_points(/*sort_by_time=*/true);
  if (out_of_order) {
    const double earliest = imported.figures.min_t_ms;
    for (auto& p : series.points) p.t_ms -= earliest;
    result.notes.push_back("rows were not in time order; sorted by time");
  }
  series.name = base_name(options.source_name);
  if (layout.current.index >= 0)
    series.current_source = fmt::format("CSV column '{}'", layout.current.name);
  if (layout.hwm.index >= 0)
    series.hwm_source = fmt::format("CSV column '{}' (a high-water mark)", layout.hwm.name);
  result.series.push_back(std::move(imported));
}

}  // namespace

Imported import_csv(trace::Source& source, const ImportOptions& options) {
  Imported result;
  result.format = "csv";
  SkipTally skips;
  std::optional<Layout> layout;
  SeriesBuilder builder(options.max_points);
  std::optional<double> first_time_ms;
  Fields fields;

  while (auto line = source.next_line()) {
    ++result.lines;
    const std::uint64_t number = line->number;
    if (line->too_long) {
      skips.skip(number, "longer than 1 MiB");
      continue;
    }
    std::string_view t = trim(line->text);
    if (t.empty() || t.front() == '#') continue;
    if (!layout) {
      layout = read_header(line->text, options, result.notes);
      continue;
    }
    fields.split(line->text, layout->delimiter);
    if (fields.size() > layout->names.size() && has_stray_fields(fields, layout->names.size())) {
      skips.skip(number, fmt::format("{} fields where the header names {}: a stray '{}' shifts "
                                     "the columns",
                                     fields.size(), layout->names.size(), layout->delimiter));
      continue;
    }
    const auto time_index = static_cast<std::size_t>(layout->time.index);
    if (time_index >= fields.size()) {
      skips.skip(number, "too few fields");
      continue;
    }
    double time_ms = 0;
    if (!read_time_ms(fields[time_index], *layout, time_ms)) {
      skips.skip(number, fmt::format("'{}' is not a time", layout->time.name));
      continue;
    }
    SeriesPoint p;
    bool numbers = true;
    for (auto [column, bytes] :
         {std::pair{&layout->current, &p.current_bytes}, std::pair{&layout->hwm, &p.hwm_bytes},
          std::pair{&layout->allocator, &p.allocator_in_use_bytes}})
      if (numbers && !read_bytes(fields, *column, *bytes)) {
        skips.skip(number, fmt::format("'{}' is not a number ('{}')", column->name,
                                       excerpt(fields[static_cast<std::size_t>(column->index)])));
        numbers = false;
      }
    if (!numbers) continue;
    if (!present(p.current_bytes) && !present(p.hwm_bytes)) {
      skips.skip(number, "no memory value");
      continue;
    }
    if (layout->request.index >= 0) {
      double req = kAbsent;
      if (read_bytes(fields, layout->request, req) && req >= 0 && req < 9e15)
        p.req = static_cast<std::int64_t>(req);
    }
    p.t_ms = time_ms - (first_time_ms ? *first_time_ms : time_ms);
    const FigureNames names{layout->current.name, layout->hwm.name, layout->allocator.name};
    if (!keep_point(builder, p, skips, number, names)) continue;
    if (!first_time_ms) first_time_ms = time_ms;
  }
  if (!layout) {
    result.skipped_lines = skips.count();
    skips.add_notes(result.notes);
    throw InputError(fmt::format("{}: no CSV header line", options.source_name));
  }
  finish_csv(result, builder, *layout, skips, options);
  return result;
}

}  // namespace infermem::import_detail

namespace infermem {

std::vector<std::string> split_csv(std::string_view line, char delimiter) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == delimiter) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

double epoch_to_ms(double value) {
  if (value > 1e17) return value / 1e6;
  if (value > 1e14) return value / 1e3;
  if (value > 1e11) return value;
  return value * 1000.0;
}

}  // namespace infermem
