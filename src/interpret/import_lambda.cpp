// AWS Lambda REPORT lines as exported from CloudWatch Logs -> one Series per execution
// environment. Accepts text lines (optionally prefixed by a timestamp and/or the log stream name,
// as `aws logs tail` prints them), `aws logs filter-log-events` JSON ({"events": [...]}), one
// event a line, subscription payloads ({"logStream", "logEvents"}), and Lambda's JSON log format
// ("type": "platform.report"). A log stream is an execution environment; a second cold start
// (Init Duration or Restore Duration) in one stream starts a new series.
//
// Max Memory Used is a high-water mark of the environment's whole lifetime, so it lands in
// hwm_bytes and current_bytes stays absent. Lambda's "MB" is read as MiB: Memory Size 1024 MB is
// 1 GiB of memory, and Max Memory Used is reported on the same scale.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <streambuf>
#include <unordered_map>
#include <utility>
#include <vector>

#include "infermem/error.h"
#include "infermem/series_builder.h"
#include "interpret/import_util.h"
#include "interpret/lambda_events.h"

namespace infermem::import_detail {
namespace {

using namespace lambda;

struct Environment {
  std::string name;
  std::vector<Kept> invocations;
};

// Groups by log stream (first appearance order), orders each by time, splits at cold starts.
std::vector<Environment> environments_of(Collector& c) {
  std::vector<std::vector<Kept>> by_stream(c.streams.size());
  std::vector<std::uint32_t> order;  // streams in order of first appearance
  for (const Kept& inv : c.invocations) {
    if (by_stream[inv.stream].empty()) order.push_back(inv.stream);
    by_stream[inv.stream].push_back(inv);
  }
  c.invocations.clear();
  c.invocations.shrink_to_fit();
  std::vector<Environment> out;
  int unnamed = 0;
  for (const std::uint32_t index : order) {
    const std::string& stream = c.streams[index];
    auto& list = by_stream[index];
    if (std::all_of(list.begin(), list.end(), [](auto& i) { return present(i.timestamp_ms); }))
      std::stable_sort(list.begin(), list.end(),
                       [](auto& a, auto& b) { return a.timestamp_ms < b.timestamp_ms; });
    std::vector<Environment> parts;
    for (auto& inv : list) {
      if (parts.empty() || (present(inv.init_ms) && !parts.back().invocations.empty()))
        parts.emplace_back();
      parts.back().invocations.push_back(inv);
    }
    list = {};
    for (std::size_t k = 0; k < parts.size(); ++k) {
      if (stream.empty())
        parts[k].name = fmt::format("environment {}", ++unnamed);
      else
        parts[k].name =
            parts.size() == 1 ? stream : fmt::format("{} (environment {})", stream, k + 1);
      out.push_back(std::move(parts[k]));
    }
  }
  return out;
}

std::string mib(double bytes) {
  return fmt::format("{:.0f} MiB", bytes / kLambdaMB);
}

ImportedSeries to_series(const Environment& env, const Collector& c, std::size_t max_points) {
  ImportedSeries imported;
  Series& s = imported.series;
  s.name = env.name;
  s.hwm_source =
      "Lambda Max Memory Used: a high-water mark of the whole execution environment's lifetime, "
      "not a per-invocation figure";
  const auto& invs = env.invocations;
  const bool timed =
      std::all_of(invs.begin(), invs.end(), [](auto& i) { return present(i.timestamp_ms); });
  double busy_ms = 0;
  std::size_t rises = 0, falls = 0;
  std::map<std::string, int> statuses;
  SeriesBuilder builder(max_points);
  for (std::size_t i = 0; i < invs.size(); ++i) {
    SeriesPoint p;
    p.t_ms = timed ? invs[i].timestamp_ms - invs.front().timestamp_ms : busy_ms;
    p.req = static_cast<std::int64_t>(i + 1);
    p.hwm_bytes = invs[i].max_used_bytes;
    if (present(invs[i].duration_ms) && invs[i].duration_ms > 0) busy_ms += invs[i].duration_ms;
    if (i > 0 && p.hwm_bytes > invs[i - 1].max_used_bytes) ++rises;
    if (i > 0 && p.hwm_bytes < invs[i - 1].max_used_bytes) ++falls;
    if (present(invs[i].memory_size_bytes)) imported.limit_bytes = invs[i].memory_size_bytes;
    const std::string& status = c.statuses[invs[i].status];
    if (!status.empty() && status != "success") ++statuses[status];
    builder.add(p);
  }
  imported.figures = builder.figures();
  const std::string merged = builder.merged() ? merged_note(builder) : "";
  s.points = builder.take_points();
  auto& notes = imported.notes;
  const double first = invs.front().max_used_bytes, last = invs.back().max_used_bytes;
  const double peak = imported.figures.peak_hwm_bytes;
  notes.push_back(
      fmt::format("{} invocation{}; Max Memory Used {} at the first, {} at the last, peak {}{}",
                  invs.size(), invs.size() == 1 ? "" : "s", mib(first), mib(last), mib(peak),
                  present(imported.limit_bytes)
                      ? fmt::format(" = {:.0f}% of Memory Size {}",
                                    100.0 * peak / imported.limit_bytes, mib(imported.limit_bytes))
                      : ""));
  if (invs.size() > 1)
    notes.push_back(
        falls == 0
            ? fmt::format("it rose at {} of {} invocations and never went down: a high-water mark "
                          "cannot, whatever the process frees",
                          rises, invs.size() - 1)
            : fmt::format("it rose at {} and went down at {} of {} invocations: a high-water mark "
                          "cannot go down, so more than one environment shares this log stream",
                          rises, falls, invs.size() - 1));
  notes.push_back(
      present(invs.front().init_ms)
          ? fmt::format("starts with a cold start (Init Duration {:.0f} ms)", invs.front().init_ms)
          : "its cold start is not in the input: the environment began earlier");
  if (!timed)
    notes.push_back("no timestamps: time is the sum of Duration so far, not wall-clock time");
  for (const auto& [status, n] : statuses)
    notes.push_back(
        fmt::format("{} invocation{} ended with Status: {}", n, n == 1 ? "" : "s", status));
  if (!merged.empty()) notes.push_back(merged);
  return imported;
}

// How the input is laid out: one JSON document (filter-log-events output, an array of events, a
// subscription payload), or lines (text REPORT lines, or one JSON event or log record a line).
bool is_json_document(trace::Source& source) {
  std::string_view head = source.peek(trace::Source::kMaxLineBytes);
  const std::size_t start = head.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) return false;
  if (head[start] == '[') return true;
  if (head[start] != '{') return false;
  std::string_view first = head.substr(start);
  first = first.substr(0, first.find('\n'));
  auto j = nlohmann::json::parse(first, nullptr, false);
  if (j.is_discarded()) return true;  // an object spread over lines: pretty-printed JSON
  return j.is_object() && ((j.contains("events") && j["events"].is_array()) ||
                           (j.contains("logEvents") && j["logEvents"].is_array()));
}

// A std::streambuf over a Source's bytes, so that the JSON parser reads it as it goes.
class SourceBuf : public std::streambuf {
 public:
  explicit SourceBuf(trace::Source& source) : source_(source) {}

 protected:
  int_type underflow() override {
    std::string_view chunk = source_.next_chunk();
    if (chunk.empty()) return traits_type::eof();
    char* p = const_cast<char*>(chunk.data());
    setg(p, p, p + chunk.size());
    return traits_type::to_int_type(*p);
  }

 private:
  trace::Source& source_;
};

}  // namespace

Imported import_lambda(trace::Source& source, const ImportOptions& options) {
  Imported result;
  result.format = "lambda";
  Collector c;
  if (is_json_document(source)) {
    SourceBuf buffer(source);
    std::istream in(&buffer);
    std::string error;
    auto events = take_json_document(c, in, &error);
    if (!events)
      throw InputError(fmt::format("{}: not valid JSON: {}", options.source_name, error));
    result.lines = *events;
    result.notes.push_back(fmt::format(
        "one JSON document of {} log events: lines and skipped lines count events", *events));
  } else {
    while (auto line = source.next_line()) {
      const std::string where = fmt::format("line {}", line->number);
      if (line->too_long) {
        c.skips.skip_record(where, "longer than 1 MiB");
        continue;
      }
      std::string_view t = trim(line->text);
      if (t.empty()) continue;
      if (t.front() == '{' && t.find(kReportMarker) == std::string_view::npos &&
          t.find("platform.report") == std::string_view::npos) {
        ++c.ignored;  // a JSON event that is not a REPORT (START, END, application logs)
        continue;
      }
      if (t.front() == '{') {
        std::string duplicate;
        auto j = parse_json(t, &duplicate);
        if (!duplicate.empty()) {
          c.skips.skip_record(where, fmt::format("key \"{}\" appears twice", excerpt(duplicate)));
          continue;
        }
        if (j.is_object()) {
          take_event(c, j, "", where);
          continue;
        }
      }
      take_message(c, line->text, "", kAbsent, where);
    }
    result.lines = source.lines();
  }
  result.skipped_lines = c.skips.count();
  c.skips.add_notes(result.notes);
  if (c.invocations.empty())
    throw InputError(fmt::format("{}: no usable Lambda REPORT lines ({} lines, {} malformed{}{})",
                                 options.source_name, result.lines, c.skips.count(),
                                 c.skips.count() ? "; " : "", c.skips.first_reason()));
  result.notes.push_back(
      "Max Memory Used and Memory Size read as MiB (Lambda's MB: Memory Size 1024 MB is 1 GiB)");
  if (c.ignored > 0)
    result.notes.push_back(fmt::format(
        "{} log message{} that are not REPORT lines (START, END, application logs) ignored",
        c.ignored, c.ignored == 1 ? "" : "s"));
  if (!c.any_stream)
    result.notes.push_back(
        "no log stream names in the input: concurrent execution environments cannot be told "
        "apart; series split only at cold starts");
  for (const auto& env : environments_of(c))
    result.series.push_back(to_series(env, c, options.max_points));
  return result;
}

}  // namespace infermem::import_detail
