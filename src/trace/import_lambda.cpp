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
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "infermem/error.h"
#include "trace/import_util.h"

namespace infermem::import_detail {
namespace {

constexpr double kLambdaMB = 1024.0 * 1024.0;
constexpr std::string_view kReportMarker = "REPORT RequestId";

struct Invocation {
  std::string stream;
  double timestamp_ms = kAbsent;
  double duration_ms = kAbsent;
  double max_used_bytes = kAbsent;
  double memory_size_bytes = kAbsent;
  double init_ms = kAbsent;  // Init Duration or Restore Duration: a new environment
  std::string status;        // "" or "success" when it went well
};

struct Collector {
  std::vector<Invocation> invocations;
  SkipTally skips;
  std::uint64_t ignored = 0;  // START, END, application logs
  bool any_stream = false;
};

// A number followed by its unit word ("400 MB", "12.34 ms").
std::optional<double> value_with_unit(const std::vector<std::string_view>& words, std::size_t i,
                                      std::string_view unit) {
  if (i + 1 >= words.size() || lower(words[i + 1]) != lower(unit)) return std::nullopt;
  return parse_number(words[i]);
}

// Parses "REPORT RequestId: ... Duration: 12.34 ms ... Max Memory Used: 400 MB ...".
std::optional<Invocation> parse_report_text(std::string_view report, std::string* why) {
  const auto words = split_whitespace(report);
  Invocation inv;
  auto label_at = [&](std::size_t i, std::initializer_list<std::string_view> label) {
    if (i + label.size() > words.size()) return false;
    std::size_t k = i;
    for (auto w : label)
      if (words[k++] != w) return false;
    return true;
  };
  for (std::size_t i = 0; i < words.size();) {
    if (label_at(i, {"Max", "Memory", "Used:"})) {
      auto v = value_with_unit(words, i + 3, "MB");
      if (!v || *v < 0) return *why = "Max Memory Used is not a number of MB", std::nullopt;
      inv.max_used_bytes = *v * kLambdaMB;
      i += 5;
    } else if (label_at(i, {"Memory", "Size:"})) {
      if (auto v = value_with_unit(words, i + 2, "MB"); v && *v > 0)
        inv.memory_size_bytes = *v * kLambdaMB;
      i += 4;
    } else if (label_at(i, {"Init", "Duration:"}) || label_at(i, {"Restore", "Duration:"})) {
      if (auto v = value_with_unit(words, i + 2, "ms")) inv.init_ms = *v;
      if (!present(inv.init_ms)) inv.init_ms = 0;  // marked a cold start even if unreadable
      i += 4;
    } else if (label_at(i, {"Billed", "Duration:"})) {
      i += 4;
    } else if (label_at(i, {"Duration:"})) {
      if (auto v = value_with_unit(words, i + 1, "ms")) inv.duration_ms = *v;
      i += 3;
    } else if (label_at(i, {"Status:"}) && i + 1 < words.size()) {
      inv.status = std::string(words[i + 1]);
      i += 2;
    } else if (label_at(i, {"Error", "Type:"}) && i + 2 < words.size()) {
      inv.status += " (" + std::string(words[i + 2]) + ")";
      i += 3;
    } else {
      ++i;
    }
  }
  if (!present(inv.max_used_bytes))
    return *why = "REPORT line without Max Memory Used", std::nullopt;
  return inv;
}

// Lambda's JSON log format: {"type": "platform.report", "record": {"metrics": {...}}}.
std::optional<Invocation> parse_platform_report(const nlohmann::json& j, std::string* why) {
  const auto record = j.find("record");
  if (record == j.end() || !record->is_object()) return *why = "no \"record\"", std::nullopt;
  const auto metrics = record->find("metrics");
  if (metrics == record->end() || !metrics->is_object())
    return *why = "no \"record.metrics\"", std::nullopt;
  auto number = [&](const char* key) {
    auto it = metrics->find(key);
    return it != metrics->end() && it->is_number() ? it->get<double>() : kAbsent;
  };
  Invocation inv;
  inv.max_used_bytes = number("maxMemoryUsedMB") * kLambdaMB;
  inv.memory_size_bytes = number("memorySizeMB") * kLambdaMB;
  inv.duration_ms = number("durationMs");
  inv.init_ms = number("initDurationMs");
  if (!present(inv.init_ms)) inv.init_ms = number("restoreDurationMs");
  if (auto status = record->find("status"); status != record->end() && status->is_string())
    inv.status = status->get<std::string>();
  if (auto type = record->find("errorType"); type != record->end() && type->is_string())
    inv.status += " (" + type->get<std::string>() + ")";
  if (!present(inv.max_used_bytes) || inv.max_used_bytes < 0)
    return *why = "platform.report without metrics.maxMemoryUsedMB", std::nullopt;
  return inv;
}

// Every figure of an invocation is absent or a plausible finite number.
bool plausible(const Invocation& inv) {
  for (double v :
       {inv.timestamp_ms, inv.duration_ms, inv.max_used_bytes, inv.memory_size_bytes, inv.init_ms})
    if (present(v) && !(std::fabs(v) <= 1e24)) return false;
  return true;
}

double timestamp_of(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();  // CloudWatch: epoch milliseconds
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (auto n = parse_number(s)) return *n;
    if (auto iso = parse_iso8601_ms(s)) return *iso;
  }
  return kAbsent;
}

bool looks_like_stream(std::string_view token) {
  // Lambda log streams: "2024/05/01/[$LATEST]0123abcd" or "2024/05/01/my-fn[1]0123abcd".
  return token.size() > 11 && token[4] == '/' && token[7] == '/' &&
         token.find('[') != std::string_view::npos && token.find(']') != std::string_view::npos;
}

// What precedes "REPORT" on an exported text line: a timestamp and/or a log stream name.
void read_prefix(std::string_view prefix, Invocation& inv) {
  std::vector<std::string_view> tokens;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= prefix.size(); ++i) {
    bool separator = i == prefix.size() || prefix[i] == ' ' || prefix[i] == '\t' ||
                     prefix[i] == ',' || prefix[i] == '"' || prefix[i] == '|';
    if (!separator) continue;
    if (i > start) tokens.push_back(prefix.substr(start, i - start));
    start = i + 1;
  }
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (looks_like_stream(tokens[i])) {
      inv.stream = std::string(tokens[i]);
    } else if (!present(inv.timestamp_ms)) {
      if (i + 1 < tokens.size())
        if (auto both = parse_iso8601_ms(std::string(tokens[i]) + " " + std::string(tokens[i + 1])))
          inv.timestamp_ms = *both, ++i;
      if (!present(inv.timestamp_ms))
        if (auto iso = parse_iso8601_ms(tokens[i])) inv.timestamp_ms = *iso;
      if (!present(inv.timestamp_ms))
        if (auto n = parse_number(tokens[i]); n && *n > 1e11) inv.timestamp_ms = *n;
    }
  }
}

// One log message (text or Lambda JSON log) with what the event around it said.
void take_message(Collector& c, std::string_view message, const std::string& stream,
                  double timestamp_ms, std::string_view where) {
  std::string why;
  std::optional<Invocation> inv;
  std::string_view trimmed = trim(message);
  if (!trimmed.empty() && trimmed.front() == '{' &&
      trimmed.find("platform.report") != std::string_view::npos) {
    auto j = nlohmann::json::parse(trimmed, nullptr, false);
    if (j.is_object() && j.value("type", "") == "platform.report") {
      inv = parse_platform_report(j, &why);
      if (inv && !present(timestamp_ms))
        if (auto t = j.find("time"); t != j.end()) timestamp_ms = timestamp_of(*t);
    } else {
      why = "not a platform.report record";
    }
  } else {
    const std::size_t at = message.find(kReportMarker);
    if (at == std::string_view::npos) {
      ++c.ignored;
      return;
    }
    inv = parse_report_text(message.substr(at), &why);
    if (inv) read_prefix(message.substr(0, at), *inv);
  }
  if (!inv) return c.skips.skip_record(where, why);
  if (!stream.empty()) inv->stream = stream;
  if (present(timestamp_ms)) inv->timestamp_ms = timestamp_ms;
  if (!plausible(*inv)) return c.skips.skip_record(where, "a number out of range");
  c.any_stream = c.any_stream || !inv->stream.empty();
  c.invocations.push_back(std::move(*inv));
}

std::string string_field(const nlohmann::json& event, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto it = event.find(k); it != event.end() && it->is_string())
      return it->get<std::string>();
  return "";
}

// A CloudWatch event: {"logStreamName", "timestamp", "message"} (or Insights' @-names).
void take_event(Collector& c, const nlohmann::json& event, const std::string& stream_default,
                std::string_view where) {
  if (!event.is_object()) return c.skips.skip_record(where, "event is not a JSON object");
  if (event.value("type", "") == "platform.report")  // a Lambda JSON log line on its own
    return take_message(c, event.dump(), stream_default, kAbsent, where);
  const auto message =
      event.find("message") != event.end() ? event.find("message") : event.find("@message");
  if (message == event.end()) return c.skips.skip_record(where, "event without \"message\"");
  std::string stream = string_field(event, {"logStreamName", "@logStream", "logStream"});
  if (stream.empty()) stream = stream_default;
  double timestamp_ms = kAbsent;
  for (const char* k : {"timestamp", "@timestamp"})
    if (auto it = event.find(k); it != event.end() && !present(timestamp_ms))
      timestamp_ms = timestamp_of(*it);
  if (message->is_string())
    take_message(c, message->get_ref<const std::string&>(), stream, timestamp_ms, where);
  else if (message->is_object())
    take_message(c, message->dump(), stream, timestamp_ms, where);
  else
    c.skips.skip_record(where, "\"message\" is not text");
}

// The whole input as one JSON document: filter-log-events output, an array of events, or a
// subscription payload. Returns the number of events, or nullopt when the input is not one such
// JSON document.
std::optional<std::size_t> take_json_document(Collector& c, std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty() || (t.front() != '{' && t.front() != '[')) return std::nullopt;
  auto doc = nlohmann::json::parse(t, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  const nlohmann::json* events = nullptr;
  std::string stream;
  if (doc.is_array()) {
    events = &doc;
  } else if (doc.is_object() && doc.contains("events") && doc["events"].is_array()) {
    events = &doc["events"];
  } else if (doc.is_object() && doc.contains("logEvents") && doc["logEvents"].is_array()) {
    events = &doc["logEvents"];
    stream = string_field(doc, {"logStream"});
  } else {
    return std::nullopt;  // one object: treat it as a single JSON line
  }
  std::size_t index = 0;
  for (const auto& event : *events) {
    ++index;
    take_event(c, event, stream, fmt::format("event {}", index));
  }
  return index;
}

struct Environment {
  std::string name;
  std::vector<Invocation> invocations;
};

// Groups by log stream (first appearance order), orders each by time, splits at cold starts.
std::vector<Environment> environments_of(std::vector<Invocation> all) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<Invocation>> by_stream;
  for (auto& inv : all) {
    auto [it, inserted] = by_stream.try_emplace(inv.stream);
    if (inserted) order.push_back(inv.stream);
    it->second.push_back(std::move(inv));
  }
  std::vector<Environment> out;
  int unnamed = 0;
  for (const auto& stream : order) {
    auto& list = by_stream[stream];
    if (std::all_of(list.begin(), list.end(), [](auto& i) { return present(i.timestamp_ms); }))
      std::stable_sort(list.begin(), list.end(),
                       [](auto& a, auto& b) { return a.timestamp_ms < b.timestamp_ms; });
    std::vector<Environment> parts;
    for (auto& inv : list) {
      if (parts.empty() || (present(inv.init_ms) && !parts.back().invocations.empty()))
        parts.emplace_back();
      parts.back().invocations.push_back(std::move(inv));
    }
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

ImportedSeries to_series(const Environment& env) {
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
  for (std::size_t i = 0; i < invs.size(); ++i) {
    SeriesPoint p;
    p.t_ms = timed ? invs[i].timestamp_ms - invs.front().timestamp_ms : busy_ms;
    p.req = static_cast<std::int64_t>(i + 1);
    p.hwm_bytes = invs[i].max_used_bytes;
    if (present(invs[i].duration_ms) && invs[i].duration_ms > 0) busy_ms += invs[i].duration_ms;
    if (i > 0 && p.hwm_bytes > s.points.back().hwm_bytes) ++rises;
    if (i > 0 && p.hwm_bytes < s.points.back().hwm_bytes) ++falls;
    if (present(invs[i].memory_size_bytes)) imported.limit_bytes = invs[i].memory_size_bytes;
    if (!invs[i].status.empty() && invs[i].status != "success") ++statuses[invs[i].status];
    s.points.push_back(std::move(p));
  }
  auto& notes = imported.notes;
  const double first = s.points.front().hwm_bytes, last = s.points.back().hwm_bytes;
  double peak = first;
  for (const auto& p : s.points) peak = std::max(peak, p.hwm_bytes);
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
  return imported;
}

}  // namespace

Imported import_lambda(std::string_view text, const ImportOptions& options) {
  Imported result;
  result.format = "lambda";
  Collector c;
  if (auto events = take_json_document(c, text)) {
    result.lines = *events;
    result.notes.push_back(fmt::format(
        "one JSON document of {} log events: lines and skipped lines count events", *events));
  } else {
    result.lines = count_lines(text);
    for_each_line(text, [&](std::uint64_t number, std::string_view line) {
      std::string_view t = trim(line);
      if (t.empty()) return;
      const std::string where = fmt::format("line {}", number);
      if (t.front() == '{' && t.find(kReportMarker) == std::string_view::npos &&
          t.find("platform.report") == std::string_view::npos) {
        ++c.ignored;  // a JSON event that is not a REPORT (START, END, application logs)
        return;
      }
      if (t.front() == '{') {
        auto j = nlohmann::json::parse(t, nullptr, false);
        if (j.is_object()) return take_event(c, j, "", where);
      }
      take_message(c, line, "", kAbsent, where);
    });
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
  for (const auto& env : environments_of(std::move(c.invocations)))
    result.series.push_back(to_series(env));
  return result;
}

}  // namespace infermem::import_detail
