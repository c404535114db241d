#pragma once
// What the charts of report.html draw, as figures in the report model (summary.json keeps them,
// so `infermem report RUN_DIR` re-renders the page). Built once, when an arm is judged; the HTML
// renderer only draws them.
//
// A long series is downsampled into at most max_windows windows of equal point count; each
// window keeps the minimum and the maximum of every figure, so no spike disappears from the page.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem {

// Enough windows for a chart as wide as a screen; with 5 figures a window is about 130 bytes of
// JSON, so an arm's memory chart stays near 130 KiB whatever the run's length.
inline constexpr std::size_t kDefaultChartWindows = 1000;

// One figure over the windows: [min, max] per window (NaN where the window had no reading).
struct ChartBand {
  std::string key;    // "rss", "anon", "file", "hwm", "in_use"
  std::string label;  // "VmRSS", ...
  std::vector<double> min, max;
};

// A run of consecutive points in one phase (and churn cycle), on the request axis and in seconds
// since the arm began.
struct PhaseSpan {
  Named<Phase> phase;
  int cycle = -1;
  double x_from = 0, x_to = 0;
  double t_from = kAbsent, t_to = kAbsent;
};

struct MemoryChart {
  std::uint64_t raw_points = 0;     // the arm's per-request readings
  std::uint64_t window_points = 1;  // readings per window (the last may hold fewer)
  // Per window, of its first reading: requests done in the arm (churn cycles add up), seconds
  // since the run began and seconds since the arm began (the page's time axis).
  std::vector<double> x_request, t_s, t_arm_s;
  std::vector<ChartBand> bands;  // only the figures the arm recorded
  std::vector<PhaseSpan> spans;
  // The verdict's fitted growth line after warm-up, on the request axis (absent when the verdict
  // fitted no line per request): from (fit_x_from, fit_y_from) to (fit_x_to, fit_y_to).
  // fit_x_from is the warm-up cut.
  double fit_x_from = kAbsent, fit_x_to = kAbsent;
  double fit_y_from = kAbsent, fit_y_to = kAbsent;

  std::size_t windows() const { return x_request.size(); }
};

// The cache scenario over the arm's requests: models resident and the cumulative count of loads,
// evictions and refusals, after each per-request reading (an event is counted at the first
// reading after it; events after the last reading add one point). Downsampled like the memory
// chart: resident models keep each window's min and max; the counts never fall, so a window's
// max (its last value) loses nothing.
struct CacheChart {
  std::uint64_t raw_points = 0;
  std::uint64_t window_points = 1;
  std::vector<double> x_request, t_arm_s;  // per window, of its first point
  std::vector<double> resident_min, resident_max;
  std::vector<double> loads, evictions, refusals;  // cumulative, at each window's end
  // The whole arm's totals (what report.md says in words).
  std::uint64_t total_loads = 0, total_evictions = 0, total_refusals = 0, max_resident = 0;

  std::size_t windows() const { return x_request.size(); }
};

struct ArmCharts {
  MemoryChart memory;
  std::optional<CacheChart> cache;  // the cache scenario's arms (any cache event in the trace)
  std::vector<double> after_unload_per_cycle_bytes;  // churn: VmRSS after each unload
  std::vector<double> latency_quantiles_ms;          // nearest-rank percentiles 0, 1, ..., 100

  bool empty() const {
    return memory.windows() == 0 && after_unload_per_cycle_bytes.empty() &&
           latency_quantiles_ms.empty() && !cache;
  }
  nlohmann::json to_json() const;
  static ArmCharts from_json(const nlohmann::json& j);  // InputError on a malformed section
};

// The charts of one series (analyze): the verdict on it, the per-cycle figures of its context and
// its latency quantiles. Seconds since the arm began count from the series' first point.
ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          std::size_t max_windows = kDefaultChartWindows);

// The same with a soak arm's cache events (analyze of an infermem trace); seconds count from
// arm_begin_ms (the first point or event when absent).
ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          const std::vector<CacheEvent>& cache_events, double arm_begin_ms,
                          std::size_t max_windows = kDefaultChartWindows);

// The charts of one soak arm from its records: its chart series (ArmAccumulator::chart_series),
// its latency quantiles, its cache events, seconds counted from the child's arm begin record.
ArmCharts make_arm_charts(const ArmAccumulator& records, const std::string& name,
                          const Verdict& verdict, const SeriesContext& context,
                          std::size_t max_windows = kDefaultChartWindows);

// The cache chart alone: `points` are the arm's per-request readings (their request axis and
// time), `events` its cache events; seconds count from arm_begin_ms. nullopt without events.
std::optional<CacheChart> make_cache_chart(const std::vector<SeriesPoint>& points,
                                           const std::vector<CacheEvent>& events,
                                           double arm_begin_ms,
                                           std::size_t max_windows = kDefaultChartWindows);

}  // namespace infermem
