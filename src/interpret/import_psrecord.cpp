// psrecord's --log file: "# Elapsed time   CPU (%)     Real (MB)      Virtual (MB)" then
// whitespace-separated rows. Real (MB) is psutil's memory_info().rss / 1024**2, i.e. RSS in MiB.
#include <fmt/format.h>
#include <algorithm>

#include "infermem/error.h"
#include "interpret/import_util.h"

namespace infermem::import_detail {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Column names of the "# ..." header, separated by two or more spaces (names contain one).
std::vector<std::string> header_columns(std::string_view header) {
  header.remove_prefix(1);  // '#'
  std::vector<std::string> names;
  std::string current;
  int spaces = 0;
  for (char c : trim(header)) {
    if (c == ' ' || c == '\t') {
      spaces += c == '\t' ? 2 : 1;
      continue;
    }
    if (spaces >= 2 && !current.empty()) names.push_back(std::move(current)), current.clear();
    if (spaces == 1 && !current.empty()) current.push_back(' ');
    spaces = 0;
    current.push_back(c);
  }
  if (!current.empty()) names.push_back(std::move(current));
  return names;
}

int index_of(const std::vector<std::string>& names, std::string_view prefix) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (lower(names[i]).rfind(prefix, 0) == 0) return static_cast<int>(i);
  return -1;
}

}  // namespace

Imported import_psrecord(trace::Source& source, const ImportOptions& options) {
  Imported result;
  result.format = "psrecord";
  SkipTally skips;
  std::size_t time_index = 0, real_index = 2;  // psrecord's fixed layout, unless the header says
  bool header_seen = false;
  std::size_t header_fields = 0;  // columns the header names; 0 without one
  SeriesBuilder builder(options.max_points);
  std::vector<std::string_view> fields;

  while (auto line = source.next_line()) {
    ++result.lines;
    const std::uint64_t number = line->number;
    if (line->too_long) {
      skips.skip(number, "longer than 1 MiB");
      continue;
    }
    std::string_view t = trim(line->text);
    if (t.empty()) continue;
    if (t.front() == '#') {
      auto names = header_columns(t);
      int time = index_of(names, "elapsed"), real = index_of(names, "real");
      if (!header_seen && time >= 0 && real >= 0) {
        time_index = static_cast<std::size_t>(time);
        real_index = static_cast<std::size_t>(real);
        header_fields = names.size();
        header_seen = true;
      }
      continue;
    }
    split_whitespace(t, fields);
    if (fields.size() <= std::max(time_index, real_index)) {
      skips.skip(number, "too few columns");
      continue;
    }
    // psrecord writes every column of its header on every row: a row with more or fewer has a
    // column lost or glued to another, so which one is Real (MB) cannot be told.
    if (header_seen && fields.size() != header_fields) {
      skips.skip(number,
                 fmt::format("{} columns where the header names {}", fields.size(), header_fields));
      continue;
    }
    auto elapsed_s = parse_number(fields[time_index]);
    auto real_mib = parse_number(fields[real_index]);
    if (!elapsed_s || !real_mib) {
      skips.skip(number, fmt::format("{} is not a number ('{}')",
                                     elapsed_s ? "Real (MB)" : "the elapsed time",
                                     excerpt(fields[elapsed_s ? real_index : time_index])));
      continue;
    }
    SeriesPoint p;
    p.t_ms = *elapsed_s * 1000.0;
    p.current_bytes = *real_mib * kMiB;
    keep_point(builder, p, skips, number, {.current = "Real (MB)"});
  }
  result.skipped_lines = skips.count();
  skips.add_notes(result.notes);
  if (!header_seen)
    result.notes.push_back(
        "no psrecord header line; read column 1 as elapsed seconds and column 3 as Real (MB)");
  if (builder.figures().points == 0)
    throw InputError(fmt::format("{}: no usable psrecord rows ({} lines, {} malformed{}{})",
                                 options.source_name, result.lines, skips.count(),
                                 skips.count() ? "; " : "", skips.first_reason()));
  ImportedSeries imported;
  Series& series = imported.series;
  imported.figures = builder.figures();
  if (builder.merged()) imported.notes.push_back(merged_note(builder));
  series.points = builder.take_points();
  series.name = base_name(options.source_name);
  series.current_source = "RSS sampled by psrecord (psutil rss, 'Real (MB)' = MiB)";
  result.notes.push_back("Real (MB) read as MiB (psrecord divides psutil's rss by 1024**2)");
  result.series.push_back(std::move(imported));
  return result;
}

}  // namespace infermem::import_detail
