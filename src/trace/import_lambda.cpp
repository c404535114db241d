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

// An invocation as kept until the end (grouping and ordering need them all): 48 bytes, its
// stream and status as indexes into tables of the distinct ones.
struct Kept {
  double timestamp_ms, duration_ms, max_used_bytes, memory_size_bytes, init_ms;
  std::uint32_t stream, status;
};

struct Collector {
  std::vector<Kept> invocations;
  std::vector<std::string> streams, statuses;  // distinct values; statuses[0] = ""
  std::unordered_map<std::string, std::uint32_t> stream_index, status_index;
  SkipTally skips;
  std::uint64_t ignored = 0;  // START, END, application logs
  bool any_stream = false;

  std::uint32_t intern(std::vector<std::string>& table,
                       std::unordered_map<std::string, std::uint32_t>& index, std::string& value) {
    auto [it, inserted] = index.try_emplace(value, static_cast<std::uint32_t>(table.size()));
    if (inserted) table.push_back(std::move(value));
    return it->second;
  }
  void add(Invocation& inv) {
    if (statuses.empty()) {
      std::string none;
      intern(statuses, status_index, none);
    }
    invocations.push_back(Kept{
        inv.timestamp_ms, inv.duration_ms, inv.max_used_bytes, inv.memory_size_bytes, inv.init_ms,
        intern(streams, stream_index, inv.stream), intern(statuses, status_index, inv.status)});
  }
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
  // A label written twice (two REPORT lines glued together, an edited log) leaves it unknown
  // which figure is the invocation's.
  bool max_seen = false, size_seen = false, duration_seen = false;
  auto label_at = [&](std::size_t i, std::initializer_list<std::string_view> label) {
    if (i + label.size() > words.size()) return false;
    std::size_t k = i;
    for (auto w : label)
      if (words[k++] != w) return false;
    return true;
  };
  for (std::size_t i = 0; i < words.size();) {
    if (label_at(i, {"Max", "Memory", "Used:"})) {
      if (std::exchange(max_seen, true))
        return *why = "Max Memory Used appears twice", std::nullopt;
      auto v = value_with_unit(words, i + 3, "MB");
      if (!v) return *why = "Max Memory Used is not a number of MB", std::nullopt;
      inv.max_used_bytes = *v * kLambdaMB;
      i += 5;
    } else if (label_at(i, {"Memory", "Size:"})) {
      if (std::exchange(size_seen, true)) return *why = "Memory Size appears twice", std::nullopt;
      auto v = value_with_unit(words, i + 2, "MB");
      if (!v) return *why = "Memory Size is not a number of MB", std::nullopt;
      if (*v != 0) inv.memory_size_bytes = *v * kLambdaMB;  // 0: no figure, not a limit
      i += 4;
    } else if (label_at(i, {"Init", "Duration:"}) || label_at(i, {"Restore", "Duration:"})) {
      if (auto v = value_with_unit(words, i + 2, "ms")) inv.init_ms = *v;
      if (!present(inv.init_ms)) inv.init_ms = 0;  // marked a cold start even if unreadable
      i += 4;
    } else if (label_at(i, {"Billed", "Duration:"})) {
      i += 4;
    } else if (label_at(i, {"Duration:"})) {
      if (std::exchange(duration_seen, true)) return *why = "Duration appears twice", std::nullopt;
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
  // A metric of another type ("maxMemoryUsedMB": "400") is mangled, not absent.
  const char* mistyped = nullptr;
  auto number = [&](const char* key) {
    auto it = metrics->find(key);
    if (it == metrics->end() || it->is_null()) return kAbsent;
    if (it->is_number()) return it->get<double>();
    if (!mistyped) mistyped = key;
    return kAbsent;
  };
  Invocation inv;
  inv.max_used_bytes = number("maxMemoryUsedMB") * kLambdaMB;
  inv.memory_size_bytes = number("memorySizeMB") * kLambdaMB;
  if (inv.memory_size_bytes == 0) inv.memory_size_bytes = kAbsent;  // no figure, not a limit
  inv.duration_ms = number("durationMs");
  inv.init_ms = number("initDurationMs");
  if (!present(inv.init_ms)) inv.init_ms = number("restoreDurationMs");
  if (auto status = record->find("status"); status != record->end() && status->is_string())
    inv.status = status->get<std::string>();
  if (auto type = record->find("errorType"); type != record->end() && type->is_string())
    inv.status += " (" + type->get<std::string>() + ")";
  if (mistyped) return *why = fmt::format("metrics.{} is not a number", mistyped), std::nullopt;
  if (!present(inv.max_used_bytes))
    return *why = "platform.report without metrics.maxMemoryUsedMB", std::nullopt;
  return inv;
}

// "" when every figure of an invocation is absent or plausible: its byte figures obey the rule
// every importer shares (byte_figure_problem), its times are finite numbers of sane size.
std::string implausible(const Invocation& inv) {
  for (auto [name, bytes] : {std::pair{"Max Memory Used", inv.max_used_bytes},
                             std::pair{"Memory Size", inv.memory_size_bytes}})
    if (present(bytes))
      if (const char* problem = byte_figure_problem(bytes))
        return fmt::format("{} {} ({} MB)", name, problem, bytes / kLambdaMB);
  for (double v : {inv.timestamp_ms, inv.duration_ms, inv.init_ms})
    if (present(v) && !(std::fabs(v) <= 1e24)) return "a time out of range";
  return "";
}

// `text` as JSON (discarded when it is not); *duplicate names a key that one of its objects has
// twice, "" when none: the parser keeps the last, so the figure under it cannot be trusted.
nlohmann::json parse_json(std::string_view text, std::string* duplicate) {
  using json = nlohmann::json;
  std::vector<std::vector<std::string>> open;  // the keys of each object being read
  duplicate->clear();
  return json::parse(
      text,
      [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
          open.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
          if (!open.empty()) open.pop_back();
        } else if (event == json::parse_event_t::key && !open.empty() && parsed.is_string()) {
          auto& keys = open.back();
          const auto& key = parsed.get_ref<const std::string&>();
          if (std::find(keys.begin(), keys.end(), key) == keys.end())
            keys.push_back(key);
          else if (duplicate->empty())
            *duplicate = key;
        }
        return true;
      },
      /*allow_exceptions=*/false);
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
    std::string duplicate;
    auto j = parse_json(trimmed, &duplicate);
    if (!duplicate.empty()) {
      why = fmt::format("key \"{}\" appears twice", excerpt(duplicate));
    } else if (j.is_object() && j.value("type", "") == "platform.report") {
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
  if (auto problem = implausible(*inv); !problem.empty())
    return c.skips.skip_record(where, problem);
  c.any_stream = c.any_stream || !inv->stream.empty();
  c.add(*inv);
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

// Builds each event of a JSON document's event list as a value of its own and hands it on, so
// that memory holds one event at a time, not the document. The lists: the document itself when
// it is an array; its "events" (filter-log-events) or "logEvents" (a subscription payload, whose
// "logStream" names the stream) when it is an object.
class EventSax : public nlohmann::json::json_sax_t {
 public:
  using json = nlohmann::json;
  explicit EventSax(Collector& c) : c_(c) {}
  std::size_t events = 0;
  bool is_document = false;
  std::string error;

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(std::move(v))); }
  bool binary(binary_t& v) override { return value(json::binary(std::move(v))); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }

 private:
  enum class Outer { kEvents, kTop, kIgnored };

  // Where a value starting now goes: into the event being built, or it is an event, or it is
  // part of the document around the events.
  json* place(json&& v, bool container) {
    if (!building_.empty()) {
      json& parent = *building_.back();
      json* slot = nullptr;
      if (parent.is_object()) {
        if (parent.contains(key_) && duplicate_.empty()) duplicate_ = key_;
        slot = &(parent[key_] = std::move(v));
      } else {
        parent.push_back(std::move(v));
        slot = &parent.back();
      }
      if (container) building_.push_back(slot);
      return slot;
    }
    if (outer_.empty()) {
      if (v.is_array()) {
        outer_.push_back(Outer::kEvents);
        is_document = true;
      } else if (v.is_object()) {
        outer_.push_back(Outer::kTop);
      }
      return nullptr;
    }
    if (outer_.back() == Outer::kEvents) {
      event_ = std::move(v);
      if (container)
        building_.push_back(&event_);
      else
        take();
      return nullptr;
    }
    if (outer_.back() == Outer::kTop && outer_.size() == 1) {
      if (v.is_array() && (key_ == "events" || key_ == "logEvents")) {
        outer_.push_back(Outer::kEvents);
        is_document = true;
        return nullptr;
      }
      if (v.is_string() && key_ == "logStream") stream_ = v.get<std::string>();
    }
    if (container) outer_.push_back(Outer::kIgnored);
    return nullptr;
  }
  bool value(json&& v) {
    place(std::move(v), false);
    return true;
  }
  bool open(json&& v) {
    place(std::move(v), true);
    return true;
  }
  bool close() {
    if (!building_.empty()) {
      building_.pop_back();
      if (building_.empty()) take();
    } else if (!outer_.empty()) {
      outer_.pop_back();
    }
    return true;
  }
  void take() {
    ++events;
    const std::string where = fmt::format("event {}", events);
    if (!duplicate_.empty())
      c_.skips.skip_record(where, fmt::format("key \"{}\" appears twice", excerpt(duplicate_)));
    else
      take_event(c_, event_, stream_, where);
    event_ = nullptr;
    duplicate_.clear();
  }

  Collector& c_;
  std::vector<Outer> outer_;
  std::vector<json*> building_;  // the path from the event to the container being filled
  json event_;
  std::string key_, stream_;
  std::string duplicate_;  // a key the event being built has twice
};

// The whole input as one JSON document of log events. Returns the number of events; nullopt
// with the parser's message in *error when it is not valid JSON.
std::optional<std::size_t> take_json_document(Collector& c, std::istream& in, std::string* error) {
  EventSax sax(c);
  if (!nlohmann::json::sax_parse(in, &sax)) {
    *error = sax.error.empty() ? "not valid JSON" : sax.error;
    return std::nullopt;
  }
  return sax.events;
}

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
