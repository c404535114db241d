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
#include <string>
#include <vector>

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

// A run of consecutive points in one phase (and churn cycle), on the request axis.
struct PhaseSpan {
  std::string phase;
  int cycle = -1;
  double x_from = 0, x_to = 0;
};

struct MemoryChart {
  std::uint64_t raw_points = 0;     // the arm's per-request readings
  std::uint64_t window_points = 1;  // readings per window (the last may hold fewer)
  // Per window, of its first reading: requests done in the arm (churn cycles add up) and seconds
  // since the run began.
  std::vector<double> x_request, t_s;
  std::vector<ChartBand> bands;  // only the figures the arm recorded
  std::vector<PhaseSpan> spans;
  // The verdict's fitted growth line after warm-up, on the request axis (absent when the verdict
  // fitted no line per request): from (fit_x_from, fit_y_from) to (fit_x_to, fit_y_to).
  // fit_x_from is the warm-up cut.
  double fit_x_from = kAbsent, fit_x_to = kAbsent;
  double fit_y_from = kAbsent, fit_y_to = kAbsent;

  std::size_t windows() const { return x_request.size(); }
};

struct ArmCharts {
  MemoryChart memory;
  std::vector<double> after_unload_per_cycle_bytes;  // churn: VmRSS after each unload
  std::vector<double> latency_quantiles_ms;          // nearest-rank percentiles 0, 1, ..., 100

  bool empty() const {
    return memory.windows() == 0 && after_unload_per_cycle_bytes.empty() &&
           latency_quantiles_ms.empty();
  }
  nlohmann::json to_json() const;
  static ArmCharts from_json(const nlohmann::json& j);  // InputError on a malformed section
};

// The charts of one arm: its chart series (ArmAccumulator::chart_series), the verdict on it, the
// per-cycle figures of its context and its latency quantiles.
ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          std::size_t max_windows = kDefaultChartWindows);

}  // namespace infermem
