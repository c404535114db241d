// The Prometheus reporter: a finished run's figures in the text exposition format (for a
// node_exporter textfile collector, or a push to a Pushgateway). A watch's families are the live
// endpoint's (metric_families.h), labelled the same way; a soak's are one series per arm.
// Figures are in base units: bytes, seconds.
#include <fmt/format.h>
#include <array>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "infermem/metric_families.h"
#include "infermem/report_figures.h"
#include "report/renderers.h"

namespace infermem::report {
namespace {

constexpr std::string_view kText = "text, not a figure: report.md and summary.json carry it";
constexpr std::string_view kNoCharts = "a series of points is the trace's, not a scrape's";

constexpr std::array kSoak{
    shown(SoakFigure::run_facts),
    shown(SoakFigure::interrupted),
    omitted(SoakFigure::notes, kText),
    shown(SoakFigure::baseline),
    shown(SoakFigure::loaded),
    shown(SoakFigure::peak),
    shown(SoakFigure::after_unload),
    shown(SoakFigure::after_trim),
    shown(SoakFigure::retained),
    shown(SoakFigure::retained_anon),
    shown(SoakFigure::retained_file),
    shown(SoakFigure::latency_p50),
    shown(SoakFigure::latency_p95),
    shown(SoakFigure::latency_p99),
    shown(SoakFigure::throughput),
    shown(SoakFigure::requests),
    shown(SoakFigure::status),
    omitted(SoakFigure::arm_setup, "free-form config, unbounded as labels: summary.json has it"),
    shown(SoakFigure::verdict),
    omitted(SoakFigure::evidence, kText),
    shown(SoakFigure::time_to_verdict),
    omitted(SoakFigure::repeat_spread, "the medians are exposed; summary.json has the spread"),
    shown(SoakFigure::cache_totals),
    shown(SoakFigure::checks),
    omitted(SoakFigure::charts, kNoCharts),
    omitted(SoakFigure::attribution, "call stacks are text: report.md and summary.json"),
    omitted(SoakFigure::replay_policies, "a replay is judged once: summary.json and report.md"),
};
static_assert(covers_each_once(kSoak), "the Prometheus exposition of a soak: every SoakFigure");

constexpr std::array kWatch{
    shown(WatchFigure::watched),
    shown(WatchFigure::sampling),
    omitted(WatchFigure::ended, "the status and elapsed time say it; summary.json names it"),
    shown(WatchFigure::exit),
    omitted(WatchFigure::oom, "the status says oom-killed; summary.json has when and how much"),
    shown(WatchFigure::memory_limit),
    shown(WatchFigure::interrupted),
    omitted(WatchFigure::notes, kText),
    shown(WatchFigure::last),
    shown(WatchFigure::peak),
    shown(WatchFigure::last_anon),
    shown(WatchFigure::hwm),
    shown(WatchFigure::processes),
    omitted(WatchFigure::window_peak, "a series per window is unbounded; scrape the live endpoint"),
    shown(WatchFigure::verdict),
    shown(WatchFigure::growth),
    omitted(WatchFigure::evidence, kText),
    shown(WatchFigure::checks),
    shown(WatchFigure::cache_stats),
    omitted(WatchFigure::charts, kNoCharts),
};
static_assert(covers_each_once(kWatch), "the Prometheus exposition of a watch: every WatchFigure");

using Labels = std::vector<std::pair<std::string, std::string>>;

// A label value: backslash, double quote and line feed escaped (the exposition format's rule).
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += {'\\', c};
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

// The exposition, one family after another: its HELP and TYPE, then its samples, each with the
// labels every sample has (`common`) first. Values are written as the shortest text that reads
// back to the same double.
class Exposition {
 public:
  explicit Exposition(Labels common) : common_(std::move(common)) {}
  // The family of the samples that follow; its HELP and TYPE are written with the first (a
  // family without samples is left out).
  void family(const metrics::Family& f) {
    name_ = f.name;
    header_ = fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
  }
  void sample(double value, const Labels& labels = {}) {
    out_ += std::exchange(header_, std::string());
    std::string all;
    for (const Labels* set : {static_cast<const Labels*>(&common_), &labels})
      for (const auto& [k, v] : *set)
        all += fmt::format("{}{}=\"{}\"", all.empty() ? "" : ",", k, label_value(v));
    out_ += fmt::format("{}{}{}{} {}\n", name_, all.empty() ? "" : "{", all, all.empty() ? "" : "}",
                        number(value));
  }
  std::string str() const { return out_; }

 private:
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    return fmt::format("{}", v);
  }
  Labels common_;
  std::string_view name_;
  std::string header_, out_;
};

void cache_families(Exposition& e, const CacheStatsSnapshot& snap) {
  if (snap.last) {
    const ModelCacheStats& c = snap.last->stats;
    for (const auto& counter : metrics::kCacheCounters) {
      e.family(counter.family);
      e.sample(static_cast<double>(c.*counter.field));
    }
    e.family(metrics::kCacheRefusals);
    for (std::string_view reason : metrics::kCacheRefusalReasons)
      e.sample(metrics::count_by_reason(c.refusals_by_reason, reason),
               {{"reason", std::string(reason)}});
    const std::pair<const metrics::Family*, double> gauges[] = {
        {&metrics::kCacheResidentBytes, static_cast<double>(c.bytes_resident)},
        {&metrics::kCachePeakResidentBytes, static_cast<double>(c.peak_bytes_resident)},
        {&metrics::kCacheResidentModels, static_cast<double>(c.models_resident)},
        {&metrics::kCacheBudgetBytes, metrics::cache_size_or_none(c.budget_bytes)},
        {&metrics::kCacheLimitBytes, metrics::cache_size_or_none(c.limit_bytes)}};
    for (const auto& [family, value] : gauges) {
      e.family(*family);
      e.sample(value);
    }
    for (const auto* family : {&metrics::kCacheModelCost, &metrics::kCacheModelResident}) {
      e.family(*family);
      for (const auto& [path, m] : c.models)
        e.sample(family == &metrics::kCacheModelCost ? static_cast<double>(m.cost.total())
                                                     : (m.resident ? 1 : 0),
                 {{"model_path", path}});
    }
  }
  e.family(metrics::kCacheReadErrors);
  for (std::string_view reason : metrics::kCacheReadErrorReasons)
    e.sample(metrics::count_by_reason(snap.read_errors, reason), {{"reason", std::string(reason)}});
}

void watch_memory(Exposition& e, const WatchSummary& w) {
  e.family(metrics::kWatchMemoryBytes);
  e.sample(w.last_rss_bytes, {{"kind", "rss"}});
  e.sample(w.last_anon_bytes, {{"kind", "anon"}});
  e.family(metrics::kWatchHwmBytes);
  e.sample(w.hwm_bytes);
  e.family(metrics::kWatchPeakBytes);
  e.sample(w.peak_rss_bytes);
  e.family(metrics::kWatchCgroupLimitBytes);
  e.sample(w.memory_limit_bytes);
  e.family(metrics::kWatchProcessMemory);
  for (const auto& p : w.processes) {
    const Labels who = {{"process_pid", std::to_string(p.pid)}, {"name", p.name}};
    const std::pair<const char*, double> figures[] = {
        {"last", p.last_rss_bytes}, {"peak", p.peak_rss_bytes}, {"hwm", p.hwm_bytes}};
    for (const auto& [figure, v] : figures) {
      Labels l = who;
      l.emplace_back("figure", figure);
      e.sample(v, l);
    }
  }
}

}  // namespace

std::string watch_prometheus(const WatchSummary& w) {
  Exposition e({{"pid", std::to_string(w.pid)}, {"command", watch_command_line(w)}});
  watch_memory(e, w);
  // Prometheus's unit is the second: the verdict's per-minute growth, per second.
  e.family(metrics::kWatchGrowth);
  e.sample(per_second_from_per_minute(w.verdict.growth_bytes_per_minute), {{"bound", "estimate"}});
  e.sample(per_second_from_per_minute(w.verdict.growth_ci_low_bytes_per_minute),
           {{"bound", "low"}});
  e.sample(per_second_from_per_minute(w.verdict.growth_ci_high_bytes_per_minute),
           {{"bound", "high"}});
  e.family(metrics::kWatchSamples);
  e.sample(static_cast<double>(w.samples));
  e.family(metrics::kWatchElapsed);
  e.sample(seconds_from_ms(w.elapsed_ms));
  e.family(metrics::kWatchVerdict);
  for (VerdictKind k : kVerdictKinds)
    e.sample(k == w.verdict.kind ? 1 : 0, {{"kind", std::string(name(k))}});
  e.family(metrics::kWatchStatus);
  e.sample(1, {{"status", std::string(name(w.status))}});
  if (w.exit_code) {
    e.family(metrics::kWatchExitCode);
    e.sample(*w.exit_code);
  }
  e.family(metrics::kWatchCheck);
  for (const auto& c : w.checks) e.sample(c.passed ? 1 : 0, {{"check", c.check}});
  if (w.cache) cache_families(e, *w.cache);
  return e.str();
}

namespace {

void soak_memory(Exposition& e, const RunSummary& run) {
  e.family(metrics::kSoakMemory);
  for (const auto& a : run.arms) {
    const MemoryFigures& m = a.memory;
    const std::pair<const char*, double> figures[] = {{"baseline", m.baseline_bytes},
                                                      {"loaded", m.loaded_bytes},
                                                      {"peak", m.peak_bytes},
                                                      {"after_unload", m.after_unload_bytes},
                                                      {"after_trim", m.after_trim_bytes},
                                                      {"retained", m.retained_bytes},
                                                      {"retained_anon", m.retained_anon_bytes},
                                                      {"retained_file", m.retained_file_bytes}};
    for (const auto& [figure, v] : figures) e.sample(v, {{"arm", a.name}, {"figure", figure}});
  }
  // Prometheus's unit is the second: the model's milliseconds, in seconds.
  e.family(metrics::kSoakLatency);
  for (const auto& a : run.arms) {
    const std::pair<const char*, double> percentiles[] = {
        {"50", a.latency_ms.p50}, {"95", a.latency_ms.p95}, {"99", a.latency_ms.p99}};
    for (const auto& [p, v] : percentiles)
      e.sample(seconds_from_ms(v), {{"arm", a.name}, {"percentile", p}});
  }
  e.family(metrics::kSoakThroughput);
  for (const auto& a : run.arms) e.sample(a.throughput_rps, {{"arm", a.name}});
  e.family(metrics::kSoakRequests);
  for (const auto& a : run.arms) e.sample(static_cast<double>(a.requests_done), {{"arm", a.name}});
}

void soak_cache(Exposition& e, const RunSummary& run) {
  e.family(metrics::kSoakCacheEvents);
  for (const auto& a : run.arms)
    if (const auto& c = a.charts.cache) {
      const std::pair<const char*, std::uint64_t> events[] = {
          {"load", c->total_loads}, {"evict", c->total_evictions}, {"refused", c->total_refusals}};
      for (const auto& [event, n] : events)
        e.sample(static_cast<double>(n), {{"arm", a.name}, {"event", event}});
    }
  e.family(metrics::kSoakCacheMaxResident);
  for (const auto& a : run.arms)
    if (const auto& c = a.charts.cache)
      e.sample(static_cast<double>(c->max_resident), {{"arm", a.name}});
}

}  // namespace

std::string soak_prometheus(const RunSummary& run) {
  Exposition e({});
  e.family(metrics::kSoakInfo);
  e.sample(1, {{"model_path", run.model_path},
               {"model_sha256", run.model_sha256},
               {"scenario", run.scenario},
               {"seed", std::to_string(run.seed)},
               {"tool_version", run.tool_version},
               {"ort_version", run.ort_version}});
  e.family(metrics::kSoakInterrupted);
  e.sample(run.interrupted ? 1 : 0);
  soak_memory(e, run);
  e.family(metrics::kSoakStatus);
  for (const auto& a : run.arms)
    e.sample(1, {{"arm", a.name}, {"status", std::string(name(a.status))}});
  e.family(metrics::kSoakVerdict);
  for (const auto& a : run.arms)
    for (VerdictKind k : kVerdictKinds)
      e.sample(k == a.verdict.kind ? 1 : 0, {{"arm", a.name}, {"kind", std::string(name(k))}});
  e.family(metrics::kSoakTimeToVerdict);
  for (const auto& a : run.arms)
    if (a.until_confident)
      e.sample(a.until_confident->seconds,
               {{"arm", a.name}, {"stopped_by", a.until_confident->stopped_by}});
  soak_cache(e, run);
  e.family(metrics::kSoakCheck);
  for (const auto& a : run.arms)
    for (const auto& c : a.checks)
      e.sample(c.passed ? 1 : 0, {{"arm", a.name}, {"check", c.check}});
  return e.str();
}

}  // namespace infermem::report
