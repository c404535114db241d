// The JSON reporter: summary.json, the report model as JSON (field names as docs/soak.md and
// docs/watch.md list them), and back for a soak run.
#include <fmt/format.h>
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "infermem/error.h"
#include "infermem/input_file.h"
#include "infermem/numbers.h"
#include "infermem/report_figures.h"
#include "infermem/summary.h"
#include "report/json_fields.h"
#include "report/renderers.h"

namespace infermem {
namespace {

using report::shown;
using report::SoakFigure;
using report::WatchFigure;

// summary.json is the report model itself: every figure, so `infermem report` can re-render.
constexpr std::array kSoak{
    shown(SoakFigure::run_facts),       shown(SoakFigure::interrupted),
    shown(SoakFigure::notes),           shown(SoakFigure::baseline),
    shown(SoakFigure::loaded),          shown(SoakFigure::peak),
    shown(SoakFigure::after_unload),    shown(SoakFigure::after_trim),
    shown(SoakFigure::retained),        shown(SoakFigure::retained_anon),
    shown(SoakFigure::retained_file),   shown(SoakFigure::latency_p50),
    shown(SoakFigure::latency_p95),     shown(SoakFigure::latency_p99),
    shown(SoakFigure::throughput),      shown(SoakFigure::requests),
    shown(SoakFigure::status),          shown(SoakFigure::arm_setup),
    shown(SoakFigure::verdict),         shown(SoakFigure::evidence),
    shown(SoakFigure::time_to_verdict), shown(SoakFigure::repeat_spread),
    shown(SoakFigure::cache_totals),    shown(SoakFigure::checks),
    shown(SoakFigure::charts),          shown(SoakFigure::attribution),
    shown(SoakFigure::replay_policies),
};
static_assert(report::covers_each_once(kSoak), "summary.json of a soak: every SoakFigure, once");

constexpr std::array kWatch{
    shown(WatchFigure::watched),     shown(WatchFigure::sampling),
    shown(WatchFigure::ended),       shown(WatchFigure::exit),
    shown(WatchFigure::oom),         shown(WatchFigure::memory_limit),
    shown(WatchFigure::interrupted), shown(WatchFigure::notes),
    shown(WatchFigure::last),        shown(WatchFigure::peak),
    shown(WatchFigure::last_anon),   shown(WatchFigure::hwm),
    shown(WatchFigure::processes),   shown(WatchFigure::window_peak),
    shown(WatchFigure::verdict),     shown(WatchFigure::growth),
    shown(WatchFigure::evidence),    shown(WatchFigure::checks),
    shown(WatchFigure::cache_stats), shown(WatchFigure::charts),
};
static_assert(report::covers_each_once(kWatch), "summary.json of a watch: every WatchFigure, once");

nlohmann::json num(double v) {
  return json_number(v);
}
double num_back(const nlohmann::json& j, const char* key) {
  return json_number_at(j, key);
}

nlohmann::json checks_json(const std::vector<CheckResult>& checks) {
  auto arr = nlohmann::json::array();
  for (const auto& c : checks)
    arr.push_back(
        {{"check", c.check}, {"passed", c.passed}, {"skipped", c.skipped}, {"message", c.message}});
  return arr;
}

// The byte figures of MemoryFigures, named as MemoryFigure names them (null when absent).
nlohmann::json memory_json(const MemoryFigures& m) {
  nlohmann::json j = nlohmann::json::object();
  for (MemoryFigure f : kMemoryFigures) j[std::string(name(f))] = num(m.*field(f));
  return j;
}

MemoryFigures memory_from_json(const nlohmann::json& m) {
  MemoryFigures f;
  for (MemoryFigure figure : kMemoryFigures) f.*field(figure) = json_number_at(m, name(figure));
  f.peak_method = m.value("peak_method", "");
  return f;
}

nlohmann::json spread_json(const std::map<MemoryFigure, Spread>& spread) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [figure, range] : spread) j[std::string(name(figure))] = {range.lo, range.hi};
  return j;
}

// memory_spread: each key a MemoryFigure, each value [min, max]. Versions before 2026-12-08 took
// min and max with absent repeats among them and could write min > max: that is no spread.
std::map<MemoryFigure, Spread> spread_from_json(const nlohmann::json& j, const std::string& arm) {
  std::map<MemoryFigure, Spread> out;
  if (!j.is_object())
    throw InputError(fmt::format("arm {}: \"memory_spread\" is not an object", arm));
  for (const auto& [key, range] : j.items()) {
    auto figure = parse_memory_figure(key);
    if (!figure)
      throw InputError(
          fmt::format("arm {}: memory_spread: \"{}\" is not a memory figure", arm, key));
    if (!range.is_array() || range.size() != 2 || !range[0].is_number() || !range[1].is_number())
      throw InputError(fmt::format("arm {}: memory_spread: \"{}\" is not [min, max]", arm, key));
    if (range[0].get<double>() > range[1].get<double>()) continue;
    out[*figure] = {range[0].get<double>(), range[1].get<double>()};
  }
  return out;
}

using report::required;

ArmStatus status_from_json(const nlohmann::json& a, const std::string& arm) {
  const std::string status = required<std::string>(a, "status", "arm " + arm);
  if (auto parsed = parse_arm_status(status)) return *parsed;
  throw InputError(fmt::format("arm {}: unknown status '{}'", arm, status));
}

}  // namespace

nlohmann::json RunSummary::to_json() const {
  nlohmann::json j;
  j["tool"] = "infermem";
  j["tool_version"] = tool_version;
  j["ort_version"] = ort_version;
  j["model"] = {{"path", model_path}, {"sha256", model_sha256}};
  j["scenario"] = scenario;
  j["seed"] = seed;
  j["host"] = host;
  j["started_at"] = started_at;
  j["options"] = options;
  j["notes"] = notes;
  j["interrupted"] = interrupted;
  auto arr = nlohmann::json::array();
  for (const auto& a : arms) {
    nlohmann::json m = memory_json(a.memory);
    m["peak_method"] = a.memory.peak_method;
    nlohmann::json l = {{"mean", num(a.latency_ms.mean)},
                        {"p50", num(a.latency_ms.p50)},
                        {"p95", num(a.latency_ms.p95)},
                        {"p99", num(a.latency_ms.p99)}};
    arr.push_back({{"name", a.name},
                   {"config", a.config},
                   {"ort_version", a.ort_version},
                   {"pid", a.pid},
                   {"status", name(a.status)},
                   {"status_detail", a.status_detail},
                   {"requests_done", a.requests_done},
                   {"memory", m},
                   {"latency_ms", l},
                   {"throughput_rps", num(a.throughput_rps)},
                   {"verdict", a.verdict.to_json()},
                   {"phases", infermem::to_json(a.phases)},
                   {"checks", checks_json(a.checks)},
                   {"last_rss_bytes", num(a.last_rss_bytes)}});
    if (!a.charts.empty()) arr.back()["charts"] = a.charts.to_json();
    if (a.until_confident) arr.back()["until_confident"] = a.until_confident->to_json();
    if (!a.repeats.empty()) {
      auto reps = nlohmann::json::array();
      for (const auto& r : a.repeats)
        reps.push_back({{"pid", r.pid},
                        {"status", name(r.status)},
                        {"status_detail", r.status_detail},
                        {"requests_done", r.requests_done},
                        {"memory", memory_json(r.memory)},
                        {"latency_ms", {{"p50", num(r.latency_ms.p50)}}},
                        {"verdict", name(r.verdict.kind)},
                        {"phases", infermem::to_json(r.phases)}});
      arr.back()["repeats"] = reps;
      arr.back()["memory_spread"] = spread_json(a.memory_spread);
    }
  }
  j["arms"] = arr;
  if (attribution) j["attribution"] = attribution->to_json();
  if (replay) j["replay"] = replay->to_json();
  return j;
}

std::string report::summary_json(const RunSummary& run) {
  return run.to_json().dump(2) + "\n";
}

RunSummary RunSummary::from_json(const nlohmann::json& j) {
  RunSummary s;
  s.tool_version = j.value("tool_version", "");
  s.ort_version = j.value("ort_version", "");
  if (j.contains("model") && j["model"].is_object()) {
    s.model_path = j["model"].value("path", "");
    s.model_sha256 = j["model"].value("sha256", "");
  }
  s.scenario = j.value("scenario", "");
  s.seed = j.value("seed", std::uint64_t{0});
  s.host = j.value("host", "");
  s.started_at = j.value("started_at", "");
  s.options = j.value("options", nlohmann::json::object());
  s.notes = j.value("notes", std::vector<std::string>{});
  s.interrupted = j.value("interrupted", false);
  for (const auto& a : j.value("arms", nlohmann::json::array())) {
    ArmSummary r;
    r.name = required<std::string>(a, "name", "an arm");
    r.config = a.value("config", std::map<std::string, std::string>{});
    r.pid = a.value("pid", 0);
    r.ort_version = a.value("ort_version", "");
    r.status = status_from_json(a, r.name);
    r.status_detail = a.value("status_detail", "");
    r.requests_done = a.value("requests_done", std::int64_t{0});
    r.memory = memory_from_json(a.value("memory", nlohmann::json::object()));
    const auto l = a.value("latency_ms", nlohmann::json::object());
    r.latency_ms.mean = num_back(l, "mean");
    r.latency_ms.p50 = num_back(l, "p50");
    r.latency_ms.p95 = num_back(l, "p95");
    r.latency_ms.p99 = num_back(l, "p99");
    r.throughput_rps = num_back(a, "throughput_rps");
    if (a.contains("verdict") && a["verdict"].is_object())
      r.verdict = Verdict::from_json(a["verdict"]);
    if (a.contains("phases")) r.phases = phase_ends_from_json(a["phases"], "arm " + r.name);
    for (const auto& c : a.value("checks", nlohmann::json::array()))
      r.checks.push_back({r.name, required<std::string>(c, "check", "a check of arm " + r.name),
                          required<bool>(c, "passed", "a check of arm " + r.name),
                          c.value("message", ""), c.value("skipped", false)});
    r.last_rss_bytes = num_back(a, "last_rss_bytes");
    if (a.contains("memory_spread")) r.memory_spread = spread_from_json(a["memory_spread"], r.name);
    if (a.contains("charts")) r.charts = ArmCharts::from_json(a["charts"]);
    if (a.contains("until_confident") && a["until_confident"].is_object())
      r.until_confident = TimeToVerdict::from_json(a["until_confident"]);
    for (const auto& rep : a.value("repeats", nlohmann::json::array())) {
      ArmSummary k;
      k.name = r.name;
      k.pid = rep.value("pid", 0);
      k.status = status_from_json(rep, r.name);
      k.status_detail = rep.value("status_detail", "");
      k.requests_done = rep.value("requests_done", std::int64_t{0});
      k.memory = memory_from_json(rep.value("memory", nlohmann::json::object()));
      k.latency_ms.p50 = num_back(rep.value("latency_ms", nlohmann::json::object()), "p50");
      // Each repeat's phase ends (diff's noise model reads malloc's free heap from them).
      if (rep.contains("phases"))
        k.phases = phase_ends_from_json(rep["phases"], "a repeat of arm " + r.name);
      const std::string kind = required<std::string>(rep, "verdict", "a repeat of arm " + r.name);
      if (auto parsed = parse_verdict_kind(kind))
        k.verdict.kind = *parsed;
      else
        throw InputError(fmt::format("arm {}: unknown verdict '{}' in a repeat", r.name, kind));
      r.repeats.push_back(std::move(k));
    }
    s.arms.push_back(std::move(r));
  }
  if (j.contains("attribution") && !j["attribution"].is_null())
    s.attribution = Attribution::from_json(j["attribution"]);
  if (j.contains("replay")) s.replay = ReplayTable::from_json(j["replay"]);
  return s;
}

RunSummary RunSummary::load(const std::string& run_dir) {
  const std::string path = run_dir + "/summary.json";
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0)
    throw InputError(
        fmt::format("{}: no summary.json here (is it a soak --out directory?)", run_dir));
  // A FIFO or a device in place of summary.json is refused at once, and its size is bounded.
  constexpr std::uint64_t kMaxSummaryBytes = 256ull << 20;
  const std::string text = read_regular_file(path, "run summary", kMaxSummaryBytes);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("arms"))
    throw InputError(fmt::format("{}: not an infermem summary (no \"arms\")", path));
  try {
    return from_json(j);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: {}", path, e.what()));
  }
}

nlohmann::json WatchSummary::to_json() const {
  nlohmann::json j;
  j["tool"] = "infermem";
  j["command"] = "watch";
  j["tool_version"] = tool_version;
  j["host"] = host;
  j["started_at"] = started_at;
  j["mode"] = mode;
  j["pid"] = pid;
  j["argv"] = command;
  j["options"] = {{"interval_ms", interval_ms},
                  {"window_ms", window_ms},
                  {"memory_limit_bytes", json_number(memory_limit_bytes)}};
  j["cgroup_dir"] = cgroup_dir;
  j["elapsed_ms"] = elapsed_ms;
  j["samples_count"] = samples;
  j["ended"] = ended;
  j["status"] = std::string(name(status));
  j["status_detail"] = status_detail;
  j["exit_code"] = exit_code ? nlohmann::json(*exit_code) : nlohmann::json();
  j["signal"] = signal.empty() ? nlohmann::json() : nlohmann::json(signal);
  j["oom"] = {{"at_ms", json_number(oom_at_ms)},
              {"last_rss_bytes", json_number(oom_last_rss_bytes)},
              {"cgroup_peak_bytes", json_number(oom_cgroup_peak_bytes)}};
  j["memory"] = {{"last_rss_bytes", json_number(last_rss_bytes)},
                 {"peak_rss_bytes", json_number(peak_rss_bytes)},
                 {"last_anon_bytes", json_number(last_anon_bytes)},
                 {"hwm_bytes", json_number(hwm_bytes)}};
  auto procs = nlohmann::json::array();
  for (const auto& p : processes)
    procs.push_back({{"pid", p.pid},
                     {"ppid", p.ppid},
                     {"name", p.name},
                     {"first_seen_ms", json_number(p.first_seen_ms)},
                     {"last_seen_ms", json_number(p.last_seen_ms)},
                     {"last_rss_bytes", json_number(p.last_rss_bytes)},
                     {"peak_rss_bytes", json_number(p.peak_rss_bytes)},
                     {"hwm_bytes", json_number(p.hwm_bytes)},
                     {"exited", p.exited}});
  j["processes"] = procs;
  auto wins = nlohmann::json::array();
  for (const auto& w : windows)
    wins.push_back({{"start_ms", w.start_ms},
                    {"end_ms", w.end_ms},
                    {"peak_rss_bytes", json_number(w.peak_rss_bytes)},
                    {"lifetime_hwm_bytes", json_number(w.lifetime_hwm_bytes)}});
  j["windows"] = wins;
  j["windows_count"] = windows_total;
  j["verdict"] = verdict.to_json();
  j["series_source"] = series_source;
  auto checks_json = nlohmann::json::array();
  for (const auto& c : checks)
    checks_json.push_back(
        {{"check", c.check}, {"passed", c.passed}, {"skipped", c.skipped}, {"message", c.message}});
  j["checks"] = checks_json;
  j["notes"] = notes;
  j["interrupted"] = interrupted;
  if (cache) j["cache"] = cache->to_json();
  if (!charts.empty()) j["charts"] = charts.to_json();
  return j;
}

}  // namespace infermem
