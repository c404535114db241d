#pragma once
// The series analysis under the verdict rules (src/verdict/judge.cpp): the points a verdict is
// judged on, the warm-up cut, the growth fit with its interval, trend and noise, the in-use rate
// and the per-cycle figures of churn. Private to src/verdict; docs/verdicts.md sections 1-2.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "infermem/series.h"
#include "infermem/verdict.h"
#include "verdict/in_use_rate.h"
#include "verdict/limits.h"
#include "verdict/stats.h"

namespace infermem::analysis {

// Fewer points than this: too-short, unless they already show a sustained rise.
inline constexpr std::size_t kMinJudgedPoints = 10;
inline constexpr std::size_t kMinFitPoints = 3;     // a slope (and a smallest detectable rate)
inline constexpr double kWarmupMinFraction = 0.10;  // always dropped: the arena is still filling
inline constexpr double kWarmupMaxFraction =
    0.50;                                     // never dropped: at least half the series is judged
inline constexpr double kTrendZ = 1.96;       // Mann-Kendall, two-sided 5%
inline constexpr double kShortTrendZ = 2.58;  // on the points of a short window: two-sided 1%
inline constexpr double kDetectSigmas = 3.0;  // a detectable rise over the judged window
inline constexpr double kMeaningfulBytes =
    1024.0 * 1024;  // smaller rises/retentions are not reported
inline constexpr std::size_t kMaxBlocks = 20;
// A short window's rise flattened when the last half cannot have risen (upper bound of its
// interval over its span) by more than this fraction of the whole rise.
inline constexpr double kFlattenedFraction = 0.5;
inline constexpr double kStepFitRatio =
    0.8;  // a two-level fit this much tighter than the line: a step
// Fragmentation must be material: the memory the allocator holds beyond live allocations (or that
// malloc_trim gives back) must exceed max(8 MiB, 10% of the running level: the larger of the
// loaded level and the judged series' median). Smaller effects (+2-3 MiB arena steps) are normal
// for a healthy process.
inline constexpr double kMaterialBytes = 8.0 * 1024 * 1024;
inline constexpr double kMaterialFraction = 0.10;
// Anonymous memory that is not malloc's: thread stacks, the runtime's own small mappings.
inline constexpr double kFirstTouchSlackBytes = 4.0 * 1024 * 1024;
using limits::kMinTrendBlocks;
using limits::kMinTrendPoints;
using stats::BlockStat;
using stats::SlopeFit;
using stats::TrendTest;
template <class T>
std::span<const T> tail(const std::vector<T>& v, std::size_t from) {
  return std::span<const T>(v).subspan(std::min(from, v.size()));
}

// The points with a current figure, after the phase cut, on every axis the engine can use.
struct Points {
  std::vector<double> current, hwm, in_use, anon;  // hwm / in_use / anon hold NaN where absent
  std::vector<double> free;                        // allocator free bytes, NaN where absent
  std::vector<double> x_requests, x_minutes, x_index;
  bool per_request = false;
  bool has_time = false;
  std::size_t with_current = 0;          // before the phase cut
  std::size_t dropped_before_infer = 0;  // points before the first "infer" phase
  const std::vector<double>& axis() const {
    return per_request ? x_requests : has_time ? x_minutes : x_index;
  }
  const char* unit() const { return per_request ? "request" : has_time ? "minute" : "sample"; }
};

// What the current-memory series says after warm-up.
struct Growth {
  std::size_t warmup = 0, judged = 0;
  SlopeFit fit, fit_minutes, last_half;
  double sigma = 0;  // robust residual spread around the Theil-Sen line
  double lag1 = 0;   // lag-1 autocorrelation of the block residuals (interval correction)
  double span = 0, span_minutes = 0;
  double x_from = 0, x_to = 0;  // the judged window on the fit's axis
  double min_detectable = kAbsent, min_detectable_minutes = kAbsent;
  TrendTest block_max, block_min;
  std::size_t blocks = 0;
  bool step_like = false;
  std::size_t step_at = 0;  // index into the whole (phase-cut) series
  double level_start = 0, level_end = 0, rise = 0;
  bool significant_slope = false;
  bool leak = false, grew = false;
  bool short_window = false;     // fewer than kMinTrendPoints judged
  bool trend_on_points = false;  // Mann-Kendall ran on the points (block_max = block_min)
  bool flattened = false;        // short window: the rise is a step or its last half is flat
};

// A leak's rate refined from the allocator's in-use bytes (in_use_rate.h), used when they grow
// with current memory (between 0.25x and 4x its Theil-Sen rate: at 1,000 requests RSS's own rate
// was off by up to 112% on real runs) or when the leak is theirs. Else nullopt.
inline constexpr double kMinRateRatio = 0.25, kMaxRateRatio = 4.0;
struct RefinedRate {
  in_use::RateFit per_x, per_minute;
};

// Churn: one figure per load/infer/unload cycle.
struct ChurnAnalysis {
  std::vector<double> per_cycle;
  std::string what;
  double slope_per_cycle = 0;
  bool growing = false;
  double retained = kAbsent;  // after unload minus baseline
};

Points extract(const Series& series);
// The warm-up cut, the slope with its interval, the trend tests, the noise and the step test.
Growth analyse_growth(const Points& pts);
// The judged points of the allocator's in-use bytes, when present for enough of them.
std::optional<Points> in_use_points(const Points& pts);
std::optional<RefinedRate> refine_rate(const Points& pts, const Growth& rss, bool in_use_leak);
std::optional<ChurnAnalysis> analyse_churn(const Series& series, const SeriesContext& context,
                                           double threshold);

}  // namespace infermem::analysis
