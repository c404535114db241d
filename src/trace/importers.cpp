// Format detection and dispatch for the importers; reading the file.
#include "infermem/importers.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/trace.h"
#include "trace/import_util.h"

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

Imported import_text(std::string_view text, const ImportOptions& options) {
  const std::string& name = options.source_name;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  if (trim(text).empty()) throw InputError(fmt::format("{}: the file is empty", name));
  std::string format = options.format.empty() ? "auto" : lower(options.format);
  if (format == "auto") {
    format = detect_format(text);
    if (format.empty())
      throw InputError(fmt::format(
          "{}: cannot tell its format (not an infermem trace, a CSV with a time and a memory "
          "column in its header, a psrecord log, or Lambda REPORT lines); pass --format",
          name));
  }
  if (format == "trace") return import_detail::import_trace(text, options);
  if (format == "csv") return import_detail::import_csv(text, options);
  if (format == "psrecord") return import_detail::import_psrecord(text, options);
  if (format == "lambda") return import_detail::import_lambda(text, options);
  throw InputError(
      fmt::format("--format: unknown format '{}' (use auto, trace, csv, psrecord, "
                  "lambda)",
                  options.format));
}

Imported import_file(const std::string& path, const ImportOptions& options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw InputError(fmt::format("{}: is a directory, not a file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw InputError(fmt::format("{}: read error", path));
  ImportOptions named = options;
  named.source_name = path;
  return import_text(content.str(), named);
}

}  // namespace infermem
