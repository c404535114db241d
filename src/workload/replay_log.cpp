// infermem replay's request log (infermem/replay_log.h): CSV, JSON Lines, CloudWatch exports.
#include "infermem/replay_log.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "infermem/error.h"
#include "infermem/importers.h"
#include "infermem/text.h"
#include "infermem/trace.h"

namespace infermem {
namespace {

constexpr std::size_t kMaxSkipExamples = 3;
constexpr std::int64_t kMaxDim = 1'000'000'000;

// Why a line is skipped; thrown inside the parser of one line and counted by the caller.
struct Malformed {
  std::string reason;
};

// A timestamp cell: epoch seconds or milliseconds (by size, as the importers read them), or
// ISO-8601.
double timestamp_ms(std::string_view cell) {
  cell = trim(cell);
  double value = 0;
  const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), value);
  if (ec == std::errc() && end == cell.data() + cell.size() && std::isfinite(value) && value >= 0)
    return epoch_to_ms(value);
  if (auto iso = parse_iso8601_ms(cell)) return *iso;
  throw Malformed{
      fmt::format("timestamp '{}' is neither ISO-8601 nor epoch seconds or "
                  "milliseconds",
                  cell.substr(0, 60))};
}

// A model id names a file in --models DIR: a plain file name, nothing that leaves it.
std::string model_id(std::string_view text, const std::string& field) {
  std::string id(trim(text));
  if (id.empty()) throw Malformed{fmt::format("no model id (field '{}')", field)};
  if (id.find('/') != std::string::npos || id == "." || id == ".." ||
      id.find('\0') != std::string::npos)
    throw Malformed{fmt::format("model id '{}' is not a file name", id.substr(0, 60))};
  return id;
}

std::vector<std::int64_t> shape_of(std::string_view text) {
  if (trim(text).empty()) return {};
  auto shape = parse_shape_text(text);
  if (shape.empty())
    throw Malformed{fmt::format("shape '{}' is not like 1x3x224x224", text.substr(0, 60))};
  return shape;
}

// The fields of one JSON object (a JSONL line, or a CloudWatch message) into `ev`.
void read_object(const nlohmann::json& j, const ReplayLogOptions& o, ReplayEvent& ev,
                 bool need_time) {
  if (!j.is_object()) throw Malformed{"not a JSON object"};
  if (need_time) {
    auto t = j.find("timestamp");
    if (t == j.end()) throw Malformed{"no 'timestamp' field"};
    if (t->is_number())
      ev.t_ms = timestamp_ms(t->dump());
    else if (t->is_string())
      ev.t_ms = timestamp_ms(t->get_ref<const std::string&>());
    else
      throw Malformed{"'timestamp' is neither a number nor a string"};
  }
  auto m = j.find(o.model_field);
  if (m == j.end() || !m->is_string())
    throw Malformed{fmt::format("no string field '{}' (the model id)", o.model_field)};
  ev.model = model_id(m->get_ref<const std::string&>(), o.model_field);
  if (auto s = j.find("shape"); s != j.end()) {
    if (s->is_string()) {
      ev.shape = shape_of(s->get_ref<const std::string&>());
    } else if (s->is_array()) {
      for (const auto& d : *s) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 1 || d.get<std::int64_t>() > kMaxDim)
          throw Malformed{"'shape' holds something other than dimensions from 1 to 10^9"};
        ev.shape.push_back(d.get<std::int64_t>());
      }
    } else if (!s->is_null()) {
      throw Malformed{"'shape' is neither a string nor an array"};
    }
  }
  if (auto in = j.find("input"); in != j.end() && in->is_string())
    ev.input = std::string(trim(in->get_ref<const std::string&>()));
}

nlohmann::json parse_json(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Malformed{"not valid JSON"};
  return j;
}

// Column positions of a CSV header.
struct Columns {
  int time = -1, model = -1, shape = -1, input = -1, message = -1;
  std::size_t count = 0;
};

Columns read_header(std::string_view header, const ReplayLogOptions& o, std::string& format) {
  Columns c;
  const auto names = split_csv(header, ',');
  c.count = names.size();
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string name(trim(names[k]));
    const int at = static_cast<int>(k);
    if (name == "timestamp" || name == "@timestamp") c.time = at;
    if (name == o.model_field) c.model = at;
    if (name == "shape") c.shape = at;
    if (name == "input") c.input = at;
    if (name == "@message") c.message = at;
  }
  format = c.message >= 0 ? "cloudwatch" : "csv";
  const bool has_model = c.message >= 0 || c.model >= 0;
  if (c.time < 0 || !has_model)
    throw InputError(fmt::format(
        "{}: the header '{}' has no {} column: a CSV log needs `timestamp` and `{}` (optional "
        "`shape`, `input`); a CloudWatch export needs `@timestamp` and `@message`",
        o.source_name, std::string(header.substr(0, 120)), c.time < 0 ? "timestamp" : "model",
        o.model_field));
  return c;
}

ReplayEvent read_csv_row(std::string_view line, const Columns& c, const ReplayLogOptions& o) {
  const auto cells = split_csv(line, ',');
  if (cells.size() != c.count)
    throw Malformed{fmt::format("{} fields where the header has {}", cells.size(), c.count)};
  ReplayEvent ev;
  ev.t_ms = timestamp_ms(cells[static_cast<std::size_t>(c.time)]);
  if (c.message >= 0 && c.model < 0) {
    read_object(parse_json(cells[static_cast<std::size_t>(c.message)]), o, ev, false);
    return ev;
  }
  ev.model = model_id(cells[static_cast<std::size_t>(c.model)], o.model_field);
  if (c.shape >= 0) ev.shape = shape_of(cells[static_cast<std::size_t>(c.shape)]);
  if (c.input >= 0) ev.input = std::string(trim(cells[static_cast<std::size_t>(c.input)]));
  return ev;
}

void skip(ReplayLog& log, std::uint64_t line, const std::string& reason) {
  ++log.skipped;
  if (log.skip_examples.size() < kMaxSkipExamples)
    log.skip_examples.push_back(fmt::format("line {}: {}", line, reason));
}

ReplayLog parse_source(trace::Source& source, const ReplayLogOptions& o) {
  ReplayLog log;
  std::optional<Columns> columns;
  bool decided = false;
  while (auto line = source.next_line()) {
    log.lines = line->number;
    if (line->too_long) {
      skip(log, line->number, "longer than 1 MiB");
      continue;
    }
    const std::string_view text = trim(line->text);
    if (text.empty()) continue;
    if (!decided) {
      decided = true;
      if (text.front() != '{') {
        columns = read_header(text, o, log.format);
        continue;
      }
      log.format = "jsonl";
    }
    try {
      ReplayEvent ev;
      if (columns)
        ev = read_csv_row(text, *columns, o);
      else
        read_object(parse_json(text), o, ev, true);
      ev.line = line->number;
      log.events.push_back(std::move(ev));
    } catch (const Malformed& m) {
      skip(log, line->number, m.reason);
    }
  }
  if (log.events.empty())
    throw InputError(fmt::format(
        "{}: no request line could be read{}", o.source_name,
        log.skip_examples.empty()
            ? std::string(" (it is empty, or holds only a header)")
            : fmt::format(" ({} malformed; {})", log.skipped, log.skip_examples.front())));
  return log;
}

}  // namespace

std::vector<std::int64_t> parse_shape_text(std::string_view text) {
  text = trim(text);
  std::vector<std::int64_t> dims;
  while (!text.empty()) {
    const auto x = text.find_first_of("xX");
    const std::string_view part = text.substr(0, x);
    std::int64_t d = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), d);
    if (ec != std::errc() || end != part.data() + part.size() || d < 1 || d > kMaxDim) return {};
    dims.push_back(d);
    if (x == std::string_view::npos) break;
    text = text.substr(x + 1);
    if (text.empty()) return {};  // "1x"
  }
  return dims;
}

ReplayLog parse_replay_log(std::string_view text, const ReplayLogOptions& options) {
  trace::Source source = trace::Source::from_text(text, options.source_name);
  return parse_source(source, options);
}

ReplayLog read_replay_log(const std::string& path, const ReplayLogOptions& options) {
  trace::Source source = trace::Source::open(path, "log");
  ReplayLogOptions o = options;
  if (o.source_name == "log") o.source_name = path;
  return parse_source(source, o);
}

std::string ReplaySpeed::text() const {
  return max ? std::string("max") : fmt::format("{:g}x", factor);
}

ReplaySpeed parse_replay_speed(std::string_view text, std::string_view flag) {
  ReplaySpeed speed;
  const std::string_view t = trim(text);
  if (t == "max") {
    speed.max = true;
    return speed;
  }
  double factor = 0;
  const bool suffixed = t.size() >= 2 && (t.back() == 'x' || t.back() == 'X');
  const std::string_view number = suffixed ? t.substr(0, t.size() - 1) : std::string_view();
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), factor);
  if (!suffixed || ec != std::errc() || end != number.data() + number.size() ||
      !std::isfinite(factor) || factor <= 0 || factor > 1e6)
    throw InputError(fmt::format(
        "{} {}: expected a factor above 0 and at most 1000000 followed by x (1x: the log's own "
        "pace, 10x: ten times faster) or max (as fast as requests can be served)",
        flag, text));
  speed.factor = factor;
  return speed;
}

double replay_due_ms(const std::vector<ReplayEvent>& events, std::size_t from, std::size_t i,
                     const ReplaySpeed& speed) {
  if (speed.max || i <= from || i >= events.size()) return 0;
  // The latest time among events[from..i]: a clock that steps back never reorders the log.
  double latest = events[from].t_ms;
  for (std::size_t k = from + 1; k <= i; ++k) latest = std::max(latest, events[k].t_ms);
  return (latest - events[from].t_ms) / speed.factor;
}

std::size_t replay_events(const std::vector<ReplayEvent>& events, std::size_t from,
                          const ReplaySpeed& speed, const ReplayServe& serve) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::size_t served = 0;
  double latest = from < events.size() ? events[from].t_ms : 0;
  for (std::size_t i = from; i < events.size(); ++i) {
    Clock::time_point due = Clock::now();
    if (!speed.max) {
      latest = std::max(latest, events[i].t_ms);  // replay_due_ms, kept in one pass
      const double offset = (latest - events[from].t_ms) / speed.factor;
      due = start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double, std::milli>(offset));
      std::this_thread::sleep_until(due);
    }
    if (!serve(i, due)) break;
    ++served;
  }
  return served;
}

}  // namespace infermem
