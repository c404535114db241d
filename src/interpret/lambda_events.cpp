// Lambda REPORT lines and CloudWatch events -> invocations: see lambda_events.h.
#include "interpret/lambda_events.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "infermem/error.h"

namespace infermem::import_detail::lambda {
namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

namespace {

std::string string_field(const nlohmann::json& event, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto it = event.find(k); it != event.end() && it->is_string())
      return it->get<std::string>();
  return "";
}

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace infermem::import_detail::lambda
