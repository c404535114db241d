// Format detection and dispatch for the importers; reading the file.
#include "infermem/importers.h"

#include <fmt/format.h>

#include "infermem/error.h"
#include "infermem/trace.h"
#include "interpret/import_util.h"

namespace infermem {
namespace {

using import_detail::for_each_line;
using import_detail::lower;
using import_detail::trim;

// The first line that is neither blank nor (unless keep_comments) a '#' comment.
std::string_view first_content_line(std::string_view text, bool keep_comments) {
  std::string_view found;
  bool done = false;
  for_each_line(text, [&](std::uint64_t, std::string_view line) {
    if (done) return;
    std::string_view t = trim(line);
    if (t.empty() || (!keep_comments && t.front() == '#')) return;
    found = t;
    done = true;
  });
  return found;
}

bool looks_like_psrecord_header(std::string_view line) {
  std::string l = lower(line);
  return !l.empty() && l.front() == '#' && l.find("elapsed") != std::string::npos &&
         l.find("real") != std::string::npos;
}

bool looks_like_csv_header(std::string_view line) {
  if (line.find_first_of(",;\t") == std::string_view::npos) return false;
  std::string l = lower(line);
  bool has_time = l.find("time") != std::string::npos || l.find("elapsed") != std::string::npos ||
                  l.find("ts") != std::string::npos || l.find("date") != std::string::npos;
  bool has_memory = l.find("rss") != std::string::npos || l.find("mem") != std::string::npos ||
                    l.find("hwm") != std::string::npos || l.find("bytes") != std::string::npos ||
                    l.find("peak") != std::string::npos || l.find("used") != std::string::npos;
  return has_time && has_memory;
}

}  // namespace

std::string detect_format(std::string_view text) {
  std::string_view first = first_content_line(text, /*keep_comments=*/true);
  if (first.empty()) return "";
  if (first.front() == '{' && trace::parse_line(first)) return "trace";
  // CloudWatch exports: text lines, filter-log-events JSON, one event a line, Lambda JSON logs.
  if (text.find("REPORT RequestId") != std::string_view::npos ||
      text.find("platform.report") != std::string_view::npos)
    return "lambda";
  if (looks_like_psrecord_header(first)) return "psrecord";
  if (looks_like_csv_header(first_content_line(text, /*keep_comments=*/false))) return "csv";
  return "";
}

Imported import_source(trace::Source& source, const ImportOptions& options) {
  ImportOptions named = options;
  if (named.source_name.empty() || named.source_name == "input") named.source_name = source.name();
  const std::string& name = named.source_name;
  // The start of the input tells its format; the importers then read it line by line.
  std::string_view head = source.peek(kDetectBytes);
  if (head.size() >= 3 && head.substr(0, 3) == "\xEF\xBB\xBF") {  // BOM
    source.skip(3);
    head = source.peek(kDetectBytes);
  }
  if (trim(head).empty() && head.size() < kDetectBytes)
    throw InputError(fmt::format("{}: the file is empty", name));
  std::string format = named.format.empty() ? "auto" : lower(named.format);
  if (format == "auto") {
    format = detect_format(head);
    if (format.empty())
      throw InputError(fmt::format(
          "{}: cannot tell its format (not an infermem trace, a CSV with a time and a memory "
          "column in its header, a psrecord log, or Lambda REPORT lines); pass --format",
          name));
  }
  if (format == "trace") return import_detail::import_trace(source, named);
  if (format == "csv") return import_detail::import_csv(source, named);
  if (format == "psrecord") return import_detail::import_psrecord(source, named);
  if (format == "lambda") return import_detail::import_lambda(source, named);
  throw InputError(
      fmt::format("--format: unknown format '{}' (use auto, trace, csv, psrecord, "
                  "lambda)",
                  options.format));
}

Imported import_text(std::string_view text, const ImportOptions& options) {
  trace::Source source = trace::Source::from_text(text, options.source_name);
  return import_source(source, options);
}

Imported import_file(const std::string& path, const ImportOptions& options) {
  trace::Source source = trace::Source::open(path, "input");
  ImportOptions named = options;
  named.source_name = path;
  return import_source(source, named);
}

}  // namespace infermem
