// The verdict engine. The rules and their thresholds are documented in docs/verdicts.md; keep the
// two in step.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <span>

#include "infermem/units.h"
#include "infermem/verdict.h"
#include "verdict/fragmentation.h"
#include "verdict/in_use_rate.h"
#include "verdict/limits.h"
#include "verdict/patterns.h"
#include "verdict/stats.h"

namespace infermem {
namespace {

// Fewer points than this: too-short, unless they already show a sustained rise.
constexpr std::size_t kMinJudgedPoints = 10;
constexpr std::size_t kMinFitPoints = 3;     // a slope (and a smallest detectable rate)
constexpr double kWarmupMinFraction = 0.10;  // always dropped: the arena is still filling
constexpr double kWarmupMaxFraction = 0.50;  // never dropped: at least half the series is judged
constexpr double kTrendZ = 1.96;             // Mann-Kendall, two-sided 5%
constexpr double kShortTrendZ = 2.58;        // on the points of a short window: two-sided 1%
constexpr double kDetectSigmas = 3.0;        // a detectable rise over the judged window
constexpr double kMeaningfulBytes = 1024.0 * 1024;  // smaller rises/retentions are not reported
constexpr std::size_t kMaxBlocks = 20;
// A short window's rise flattened when the last half cannot have risen (upper bound of its
// interval over its span) by more than this fraction of the whole rise.
constexpr double kFlattenedFraction = 0.5;
constexpr double kStepFitRatio = 0.8;  // a two-level fit this much tighter than the line: a step
// Fragmentation must be material: the memory the allocator holds beyond live allocations (or that
// malloc_trim gives back) must exceed max(8 MiB, 10% of the running level: the larger of the
// loaded level and the judged series' median). Smaller effects (+2-3 MiB arena steps) are normal
// for a healthy process.
constexpr double kMaterialBytes = 8.0 * 1024 * 1024;
constexpr double kMaterialFraction = 0.10;
// Anonymous memory that is not malloc's: thread stacks, the runtime's own small mappings.
constexpr double kFirstTouchSlackBytes = 4.0 * 1024 * 1024;

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

Points extract(const Series& series) {
  std::vector<const SeriesPoint*> with_current;
  for (const auto& p : series.points)
    if (std::isfinite(p.current_bytes)) with_current.push_back(&p);
  Points pts;
  pts.with_current = with_current.size();
  auto first_infer = std::find_if(with_current.begin(), with_current.end(),
                                  [](const SeriesPoint* p) { return p->phase == "infer"; });
  if (first_infer == with_current.end()) first_infer = with_current.begin();
  pts.dropped_before_infer = static_cast<std::size_t>(first_infer - with_current.begin());
  bool requests_known = true, times_known = true;
  double offset = 0, previous = -1;
  for (auto it = first_infer; it != with_current.end(); ++it) {
    const SeriesPoint& p = **it;
    auto finite_or_absent = [](double v) { return std::isfinite(v) ? v : kAbsent; };
    pts.current.push_back(p.current_bytes);
    pts.hwm.push_back(finite_or_absent(p.hwm_bytes));
    pts.in_use.push_back(finite_or_absent(p.allocator_in_use_bytes));
    pts.anon.push_back(finite_or_absent(p.anon_bytes));
    pts.free.push_back(finite_or_absent(p.allocator_free_bytes));
    if (!std::isfinite(p.t_ms)) times_known = false;
    pts.x_minutes.push_back(std::isfinite(p.t_ms) ? p.t_ms / 60000.0 : 0.0);
    pts.x_index.push_back(static_cast<double>(pts.x_index.size()));
    if (p.req < 0) requests_known = false;
    double req = static_cast<double>(p.req);
    if (req < previous) offset += previous;  // the counter restarted (a churn cycle)
    previous = req;
    pts.x_requests.push_back(req + offset);
  }
  auto spans = [](const std::vector<double>& x) { return !x.empty() && x.back() > x.front(); };
  pts.per_request = requests_known && spans(pts.x_requests);
  pts.has_time = times_known && spans(pts.x_minutes);
  return pts;
}

// Warm-up: the first points until the running level stabilises (MSER-5 on the series detrended
// by the slope of its last half, so a steady leak is not mistaken for warm-up), clamped to
// [10%, 50%] of the points.
std::size_t warmup_points(const std::vector<double>& x, const std::vector<double>& y) {
  std::size_t n = y.size();
  auto min_cut = static_cast<std::size_t>(std::ceil(kWarmupMinFraction * static_cast<double>(n)));
  auto max_cut = static_cast<std::size_t>(kWarmupMaxFraction * static_cast<double>(n));
  min_cut = std::min(min_cut, max_cut);
  std::size_t half = n / 2;
  SlopeFit late = stats::theil_sen(tail(x, half), tail(y, half));
  double late_slope = late.valid ? late.slope : 0.0;
  std::vector<double> detrended(n);
  for (std::size_t i = 0; i < n; ++i) detrended[i] = y[i] - late_slope * x[i];
  // Half as much again as MSER keeps: a slope is more sensitive to leftover warm-up at the start
  // of the window than a mean is.
  return std::clamp(stats::mser_cut(detrended, max_cut) * 3 / 2, min_cut, max_cut);
}

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

double residual_sigma(std::span<const double> x, std::span<const double> y, const SlopeFit& f) {
  std::vector<double> r(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) r[i] = y[i] - (f.intercept + f.slope * x[i]);
  return stats::robust_sigma(r);
}

// The smallest rate this run could call a leak: it must rise 3 noise sigmas over the judged
// window, lie outside the interval's half-width, and add up to kMeaningfulBytes in the window.
double detectable(double sigma, double span, const SlopeFit& fit) {
  if (!fit.valid || span <= 0) return kAbsent;
  return std::max(
      {kDetectSigmas * sigma / span, (fit.ci_high - fit.ci_low) / 2.0, kMeaningfulBytes / span});
}

double mean_abs(const std::vector<double>& r) {
  double sum = 0;
  for (double v : r) sum += std::abs(v);
  return r.empty() ? 0.0 : sum / static_cast<double>(r.size());
}

// A one-time jump: a two-level fit leaves clearly smaller residuals than the line. Mean absolute
// residuals (not MAD) so that a short segment after a late step still counts.
bool looks_like_step(std::span<const double> x, std::span<const double> y, const SlopeFit& line,
                     std::size_t& split) {
  split = stats::best_step_split(y);
  if (split == 0) return false;
  double left = stats::median(y.first(split)), right = stats::median(y.subspan(split));
  std::vector<double> step_residuals(y.size()), line_residuals(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    step_residuals[i] = y[i] - (i < split ? left : right);
    line_residuals[i] = y[i] - (line.intercept + line.slope * x[i]);
  }
  return mean_abs(step_residuals) < kStepFitRatio * mean_abs(line_residuals);
}

Growth analyse_growth(const Points& pts) {
  Growth g;
  const auto& x_all = pts.axis();
  g.warmup = warmup_points(x_all, pts.current);
  auto x = tail(x_all, g.warmup);
  auto y = tail(pts.current, g.warmup);
  auto minutes = tail(pts.x_minutes, g.warmup);
  g.judged = y.size();
  g.fit = stats::theil_sen_blocked(x, y, stats::kIntervalBlocks, &g.lag1);
  g.sigma = residual_sigma(x, y, g.fit);
  g.span = x.back() - x.front();
  g.x_from = x.front();
  g.x_to = x.back();
  g.min_detectable = detectable(g.sigma, g.span, g.fit);
  if (pts.has_time) {
    g.fit_minutes = stats::theil_sen_blocked(minutes, y);
    g.span_minutes = minutes.back() - minutes.front();
    g.min_detectable_minutes = detectable(g.sigma, g.span_minutes, g.fit_minutes);
  }
  g.last_half = stats::theil_sen_blocked(x.subspan(g.judged / 2), y.subspan(g.judged / 2));
  auto bounds = stats::block_bounds(g.judged, std::min(kMaxBlocks, g.judged / 5));
  g.blocks = bounds.size() - 1;
  g.short_window = g.blocks < kMinTrendBlocks;
  if (!g.short_window) {
    g.block_max = stats::mann_kendall(stats::block_summary(y, bounds, BlockStat::kMax));
    g.block_min = stats::mann_kendall(stats::block_summary(y, bounds, BlockStat::kMin));
  } else {
    // Too few points for block extremes: the test on the points themselves (a short window has
    // little room for the autocorrelation that makes it too eager on long series).
    g.block_max = g.block_min = stats::mann_kendall(y);
    g.trend_on_points = g.block_max.valid;
  }
  std::size_t split = 0;
  g.step_like = looks_like_step(x, y, g.fit, split);
  g.step_at = g.warmup + split;

  std::size_t head = std::max<std::size_t>(3, g.warmup / 2);
  g.level_start =
      stats::median(std::span<const double>(pts.current).first(std::min(head, pts.current.size())));
  g.level_end = stats::median(y.subspan(g.judged - std::max<std::size_t>(1, g.judged / 3)));
  // A recent step: the level is the one after it (the last third may still be mostly before).
  std::size_t after_step = g.judged - split;
  if (g.step_like && after_step >= std::max<std::size_t>(kMinJudgedPoints, g.judged / 20))
    g.level_end = stats::median(y.subspan(split));
  g.rise = g.level_end - g.level_start;

  // On the points of a short window the test is two-sided 1%: at 5% one flat 10-point series in
  // 10 read as a leak.
  double trend_z = g.short_window ? kShortTrendZ : kTrendZ;
  g.significant_slope = g.fit.valid && g.fit.ci_low > 0 && g.fit.slope >= g.min_detectable &&
                        g.block_max.valid && g.block_min.valid && g.block_max.z > trend_z &&
                        g.block_min.z > trend_z;
  bool sustained =
      g.last_half.valid && g.last_half.ci_low > 0 && g.last_half.slope >= 0.5 * g.fit.slope;
  // A short window's last half has too few points for its own interval to exclude 0 (5 points:
  // the second-smallest of 10 pairwise slopes); its rate must still be comparable.
  if (g.short_window) sustained = g.last_half.valid && g.last_half.slope >= 0.5 * g.fit.slope;
  g.leak = g.significant_slope && sustained && !g.step_like;
  g.grew = g.rise > std::max(kDetectSigmas * g.sigma, kMeaningfulBytes);
  // On a short window a step inflates the noise around the line as much as the step itself.
  if (g.short_window && g.step_like && g.rise > kMeaningfulBytes) {
    std::vector<double> around_levels(y.begin(), y.end());
    double left = stats::median(y.first(split)), right = stats::median(y.subspan(split));
    for (std::size_t i = 0; i < around_levels.size(); ++i)
      around_levels[i] -= i < split ? left : right;
    g.grew = g.rise > kDetectSigmas * stats::robust_sigma(around_levels);
  }
  if (g.short_window) {
    double last_span = g.last_half.valid ? x.back() - x[g.judged / 2] : 0.0;
    g.flattened = g.step_like || (g.last_half.valid &&
                                  g.last_half.ci_high * last_span < kFlattenedFraction * g.rise);
  }
  return g;
}

// The allocator's in-use bytes as a series of their own (on the same axes), when present for at
// least 80% of the points: a leak of live allocations shows there before RSS, which lags while
// freed heap is reused.
std::optional<Points> in_use_points(const Points& pts) {
  Points iu;
  for (std::size_t i = 0; i < pts.in_use.size(); ++i) {
    if (!present(pts.in_use[i])) continue;
    iu.current.push_back(pts.in_use[i]);
    iu.hwm.push_back(kAbsent);
    iu.in_use.push_back(pts.in_use[i]);
    iu.x_requests.push_back(pts.x_requests[i]);
    iu.x_minutes.push_back(pts.x_minutes[i]);
    iu.x_index.push_back(pts.x_index[i]);
  }
  if (iu.current.size() < std::max(kMinJudgedPoints, pts.current.size() * 4 / 5))
    return std::nullopt;
  auto spans = [](const std::vector<double>& x) { return !x.empty() && x.back() > x.front(); };
  iu.per_request = pts.per_request && spans(iu.x_requests);
  iu.has_time = pts.has_time && spans(iu.x_minutes);
  if (pts.per_request != iu.per_request || pts.has_time != iu.has_time) return std::nullopt;
  iu.with_current = iu.current.size();
  iu.dropped_before_infer = pts.dropped_before_infer;
  return iu;
}

// A leak's rate refined from the allocator's in-use bytes (in_use_rate.h), used when they grow
// with current memory (between 0.25x and 4x its Theil-Sen rate: at 1,000 requests RSS's own rate
// was off by up to 112% on real runs) or when the leak is theirs. Else nullopt.
constexpr double kMinRateRatio = 0.25, kMaxRateRatio = 4.0;
struct RefinedRate {
  in_use::RateFit per_x, per_minute;
};
std::optional<RefinedRate> refine_rate(const Points& pts, const Growth& rss, bool in_use_leak) {
  std::vector<double> x, minutes, y;
  for (std::size_t i = 0; i < pts.in_use.size(); ++i)
    if (present(pts.in_use[i])) {
      x.push_back(pts.axis()[i]);
      minutes.push_back(pts.x_minutes[i]);
      y.push_back(pts.in_use[i]);
    }
  if (y.size() < std::max(kMinJudgedPoints, pts.current.size() * 4 / 5)) return std::nullopt;
  RefinedRate r{in_use::estimate_rate(x, y), {}};
  if (!r.per_x.valid || !(r.per_x.ci_low > 0)) return std::nullopt;
  double ratio = r.per_x.slope / rss.fit.slope;
  if (!in_use_leak && !(ratio >= kMinRateRatio && ratio <= kMaxRateRatio)) return std::nullopt;
  if (pts.has_time) r.per_minute = in_use::estimate_rate(minutes, y);
  return r;
}

// Churn: one figure per load/infer/unload cycle.
struct ChurnAnalysis {
  std::vector<double> per_cycle;
  std::string what;
  double slope_per_cycle = 0;
  bool growing = false;
  double retained = kAbsent;  // after unload minus baseline
};

std::optional<ChurnAnalysis> analyse_churn(const Series& series, const SeriesContext& context,
                                           double threshold) {
  ChurnAnalysis c;
  std::vector<double> unloads;
  for (double v : context.after_unload_per_cycle_bytes)
    if (std::isfinite(v)) unloads.push_back(v);
  if (unloads.size() >= 2) {
    c.per_cycle = unloads;
    c.what = context.trim_by_arm ? "RSS after unload and the arm's own trim, per cycle"
                                 : "RSS after unload, per cycle";
  } else {
    std::map<int, std::vector<double>> by_cycle;
    for (const auto& p : series.points)
      if (p.cycle >= 0 && present(p.current_bytes)) by_cycle[p.cycle].push_back(p.current_bytes);
    if (by_cycle.size() < 2) return std::nullopt;
    for (const auto& [cycle, values] : by_cycle) c.per_cycle.push_back(stats::median(values));
    c.what = "median current memory while loaded, per cycle";
  }
  std::size_t k = c.per_cycle.size();
  std::vector<double> index(k);
  for (std::size_t i = 0; i < k; ++i) index[i] = static_cast<double>(i);
  SlopeFit fit = stats::theil_sen(index, c.per_cycle);
  c.slope_per_cycle = fit.valid ? fit.slope : c.per_cycle.back() - c.per_cycle.front();
  std::size_t rises = 0;
  for (std::size_t i = 1; i < k; ++i) rises += c.per_cycle[i] > c.per_cycle[i - 1];
  c.growing = k >= 3 && c.slope_per_cycle * static_cast<double>(k - 1) > threshold &&
              3 * rises >= 2 * (k - 1);
  double after = unloads.size() >= 2 ? stats::median(unloads) : context.after_unload_bytes;
  if (present(context.baseline_bytes) && present(after))
    c.retained = after - context.baseline_bytes;
  return c;
}

// ---- the rules: each appends findings; `implies` marks the ones that decide a kind ------------

struct Findings {
  std::vector<Finding> list;
  void add(FindingDetail detail, std::optional<VerdictKind> implies = std::nullopt) {
    list.push_back({std::move(detail), implies});
  }
  // The kind so far: the last finding that decides one (later rules refine earlier ones).
  VerdictKind kind() const {
    for (auto it = list.rbegin(); it != list.rend(); ++it)
      if (it->implies) return *it->implies;
    return VerdictKind::stable;
  }
};

// The phase and warm-up cut, the slope with its interval, the trend test and the noise.
void rule_growth(const Points& pts, const Growth& g, const std::string& source, Findings& f) {
  f.add(finding::PointsJudged{g.judged, pts.with_current, pts.dropped_before_infer, g.warmup,
                              source});
  finding::GrowthFit fit{g.fit.slope, g.fit.ci_low, g.fit.ci_high, g.span, pts.unit()};
  if (pts.per_request && pts.has_time) {
    fit.slope_per_minute = g.fit_minutes.slope;
    fit.span_minutes = g.span_minutes;
  }
  fit.interval_blocks = std::min(stats::kIntervalBlocks, g.judged / 3);
  fit.intercept = g.fit.intercept;
  fit.x_from = g.x_from;
  fit.x_to = g.x_to;
  if (g.lag1 > 1.96 / std::sqrt(static_cast<double>(std::max<std::size_t>(1, fit.interval_blocks))))
    fit.widened_lag1 = std::min(g.lag1, 0.9);
  f.add(fit);
  if (g.block_max.valid || g.trend_on_points)
    f.add(finding::Trend{g.trend_on_points, g.trend_on_points ? g.judged : g.blocks, g.block_max.z,
                         g.block_min.z, kTrendZ});
  f.add(finding::Noise{g.sigma, g.min_detectable, kDetectSigmas, kMeaningfulBytes, pts.unit()});
}

// The series itself: leak (of current memory, or of live allocations RSS has not followed yet),
// plateau (grew, then flattened, or a one-time step), or nothing (stable). A short window that
// rose but cannot tell a leak from a plateau is too-short.
void rule_series(const Points& pts, const Growth& g, const std::optional<Growth>& in_use_leak,
                 const std::string& source, const std::string& name, Findings& f) {
  const char* unit = pts.unit();
  if (g.leak) {
    f.add(finding::Sustained{g.last_half.slope, g.fit.slope, unit}, VerdictKind::leak);
  } else if (in_use_leak) {
    const Growth& gi = *in_use_leak;
    f.add(finding::InUseLeak{gi.fit.slope, gi.fit.ci_low, gi.fit.ci_high, gi.span,
                             gi.fit.slope * gi.span, gi.block_max.z, gi.block_min.z,
                             gi.last_half.slope, gi.warmup, unit},
          VerdictKind::leak);
    f.add(finding::InUseLag{g.fit.slope, unit, source});
    f.add(finding::InUseHeadroom{g.level_end, gi.level_end, gi.fit.slope, unit});
  } else if (g.grew && g.short_window && !g.flattened) {
    finding::TooShort t{g.judged,
                        kMinTrendPoints,
                        g.level_start,
                        g.level_end,
                        g.min_detectable,
                        unit,
                        source + " of '" + name + "'"};
    t.rose_undecided = true;
    f.add(t, VerdictKind::too_short);
  } else if (g.grew) {
    f.add(finding::PlateauLevel{g.level_start, g.level_end, g.rise, source}, VerdictKind::plateau);
  }
  if (g.significant_slope && !g.leak) {
    if (g.step_like)
      f.add(finding::Step{g.step_at});
    else
      f.add(finding::Decelerating{g.last_half.slope, unit});
  }
}

// Churn: growth from cycle to cycle is a leak; a bounded offset above baseline is retention.
void rule_churn(const Series& series, const SeriesContext& context, double meaningful,
                Findings& f) {
  auto churn = analyse_churn(series, context, meaningful);
  if (!churn) return;
  f.add(finding::Churn{churn->what, churn->per_cycle.size(), churn->per_cycle.front(),
                       churn->per_cycle.back(), churn->slope_per_cycle});
  if (churn->growing)
    f.add(finding::ChurnGrowing{}, VerdictKind::leak);
  else if (present(churn->retained) && churn->retained > meaningful &&
           f.kind() != VerdictKind::leak)
    f.add(finding::ChurnRetention{churn->retained, context.baseline_bytes},
          VerdictKind::unload_retention);
}

// Fragmentation from the allocator's in-use bytes: current memory rose, live allocations did
// not; the unexplained rise must be material and not first touch of allocated pages.
void rule_allocator_held(const Points& pts, const Growth& g, double material, double running_level,
                         Findings& f) {
  VerdictKind kind = f.kind();
  if (kind != VerdictKind::leak && kind != VerdictKind::plateau) return;
  std::vector<double> in_use_x, in_use_y;
  const auto& axis = pts.axis();
  for (std::size_t i = g.warmup; i < pts.in_use.size(); ++i)
    if (present(pts.in_use[i])) {
      in_use_x.push_back(axis[i]);
      in_use_y.push_back(pts.in_use[i]);
    }
  if (in_use_y.size() < std::max(kMinJudgedPoints, g.judged * 4 / 5)) return;
  SlopeFit in_use_fit = stats::theil_sen(in_use_x, in_use_y);
  double current_growth = kind == VerdictKind::leak ? g.fit.slope * g.span : g.rise;
  double in_use_growth = in_use_y.back() - in_use_y.front();
  if (in_use_fit.valid) in_use_growth = in_use_fit.slope * g.span;
  if (kind == VerdictKind::plateau) {
    std::vector<double> head;
    for (std::size_t i = 0; i < std::min(pts.in_use.size(), std::max<std::size_t>(3, g.warmup / 2));
         ++i)
      if (present(pts.in_use[i])) head.push_back(pts.in_use[i]);
    if (!head.empty())
      in_use_growth = stats::median(tail(in_use_y, in_use_y.size() * 2 / 3)) - stats::median(head);
  }
  if (in_use_growth >= 0.25 * current_growth) return;
  finding::AllocatorHeld held;
  held.current_growth = current_growth;
  held.in_use_growth = in_use_growth;
  held.unexplained = current_growth - std::max(0.0, in_use_growth);
  held.material = material;
  held.running_level = running_level;
  // First touch is not fragmentation: when the anonymous resident memory is still within what
  // the allocator has handed out (an arena reserved at warm-up, then written into by larger
  // shapes), RSS rose by touching allocated pages, not by holding freed ones.
  std::vector<double> anon_last, in_use_last;
  for (std::size_t i = pts.current.size() - std::max<std::size_t>(1, g.judged / 3);
       i < pts.current.size(); ++i)
    if (present(pts.anon[i]) && present(pts.in_use[i])) {
      anon_last.push_back(pts.anon[i]);
      in_use_last.push_back(pts.in_use[i]);
    }
  bool first_touch = anon_last.size() >= kMinJudgedPoints / 2 &&
                     stats::median(anon_last) <= stats::median(in_use_last) + kFirstTouchSlackBytes;
  using Outcome = finding::AllocatorHeld::Outcome;
  if (held.unexplained > material && first_touch) {
    held.outcome = Outcome::first_touch;
    held.anon_level = stats::median(anon_last);
    held.in_use_level = stats::median(in_use_last);
    f.add(held);
  } else if (held.unexplained > material) {
    held.outcome = Outcome::fragmentation;
    f.add(held, VerdictKind::fragmentation);
  } else {
    held.outcome = Outcome::below_threshold;
    f.add(held);
  }
}

// Fragmentation from unload and malloc_trim: what unload kept, trim gave back.
void rule_trim(const SeriesContext& context, const Growth& rep, double meaningful, double material,
               double running_level, bool decides, Findings& f) {
  if (!present(context.baseline_bytes) || !present(context.after_unload_bytes) ||
      !present(context.after_trim_bytes))
    return;
  double retained = context.after_unload_bytes - context.baseline_bytes;
  double given_back = context.after_unload_bytes - context.after_trim_bytes;
  double left = context.after_trim_bytes - context.baseline_bytes;
  // !decides: the free bytes decide fragmentation (rule_free_held); a trim is evidence only.
  if (!decides || (context.trim_by_arm && f.kind() != VerdictKind::leak)) {
    // The arm's trim is its remedy: judge it on what it leaves; say what the trim returned. (A
    // growth the trim gives back still reads as fragmentation below, never as a leak.)
    if (context.trim_by_arm && retained > meaningful && given_back > 0)
      f.add(
          finding::TrimGaveBack{retained, given_back, material, running_level, false, true, left});
    return;
  }
  VerdictKind kind = f.kind();
  bool trim_explains =
      retained > meaningful && given_back >= 0.5 * retained && given_back > material;
  if (kind == VerdictKind::leak)
    trim_explains = trim_explains && left < 0.5 * rep.fit.slope * rep.span;
  if (trim_explains && kind != VerdictKind::fragmentation)
    f.add(finding::TrimGaveBack{retained, given_back, material, running_level, true},
          VerdictKind::fragmentation);
  else if (!trim_explains && retained > meaningful && given_back >= 0.5 * retained &&
           given_back <= material)
    f.add(finding::TrimGaveBack{retained, given_back, material, running_level, false});
}

// Fragmentation on the allocator's free bytes, judged on their own (src/verdict/fragmentation.cpp).
// Returns whether they were known well enough to judge; then they decide fragmentation, never
// replacing a leak of live allocations, and replacing a leak of current memory only when the free
// bytes' rise is at least half of it.
bool rule_free_held(const Points& pts, const Growth& g, bool in_use_leak, double material,
                    const SeriesContext& context, Findings& f) {
  fragmentation::Window w{tail(pts.axis(), g.warmup), tail(pts.free, g.warmup),
                          tail(pts.in_use, g.warmup), pts.unit(), material};
  auto held = fragmentation::analyse(w, context);
  if (!held) return false;
  bool decides = fragmentation::fragmenting(*held) && !in_use_leak;
  if (decides && f.kind() == VerdictKind::leak) {
    held->replaces_leak = held->rise >= 0.5 * g.fit.slope * g.span;
    decides = held->replaces_leak;
  }
  f.add(*held, decides ? std::optional(VerdictKind::fragmentation) : std::nullopt);
  return true;
}

// A high-water mark that climbs while current memory does not.
void rule_hwm(const Series& series, const Points& pts, const Growth& g, double meaningful,
              Findings& f) {
  VerdictKind kind = f.kind();
  if (kind != VerdictKind::stable && kind != VerdictKind::plateau) return;
  std::vector<double> hwm;
  for (std::size_t i = g.warmup; i < pts.hwm.size(); ++i)
    if (present(pts.hwm[i])) hwm.push_back(pts.hwm[i]);
  if (hwm.size() < kMinJudgedPoints) return;
  std::size_t decreases = 0;
  for (std::size_t i = 1; i < hwm.size(); ++i) decreases += hwm[i] < hwm[i - 1];
  auto bounds = stats::block_bounds(hwm.size(), 10);
  auto maxima = stats::block_summary(hwm, bounds, BlockStat::kMax);
  std::size_t rising = 0;
  for (std::size_t k = 1; k < maxima.size(); ++k) rising += maxima[k] > maxima[k - 1];
  double hwm_rise = hwm.back() - hwm.front();
  double current_rise = std::max(0.0, g.fit.slope * g.span);
  if (decreases == 0 && maxima.size() >= 2 && 10 * rising >= 6 * (maxima.size() - 1) &&
      hwm_rise > meaningful && current_rise < 0.5 * hwm_rise)
    f.add(finding::HwmRising{series.hwm_source.empty() ? "hwm_bytes" : series.hwm_source, hwm_rise,
                             current_rise},
          VerdictKind::hwm_artifact);
}

void fill_catalogue(Verdict& v) {
  const Pattern& p = pattern_for(v.kind);
  v.causes = p.causes;
  v.remediations = remediation_texts(v.kind);
}

// Decides the kind from the findings (the last one that decides a kind; stable when none does,
// quoting the growth fit) and renders the evidence from them.
Verdict conclude(Findings&& f) {
  Verdict v;
  v.findings = std::move(f.list);
  for (std::size_t i = v.findings.size(); i-- > 0;)
    if (v.findings[i].implies) {
      v.kind = *v.findings[i].implies;
      v.decisive = i;
      break;
    }
  if (v.decisive == Verdict::kNoFinding)
    for (std::size_t i = 0; i < v.findings.size(); ++i)
      if (std::holds_alternative<finding::GrowthFit>(v.findings[i].detail)) v.decisive = i;
  for (const auto& finding : v.findings) v.evidence.push_back(render_finding(finding));
  fill_catalogue(v);
  return v;
}

Verdict judge_hwm_only(const Series& series, std::size_t current_points,
                       const SeriesContext& context) {
  finding::HwmOnly h;
  h.source = series.hwm_source.empty() ? "hwm_bytes" : series.hwm_source;
  std::vector<double> hwm;
  for (const auto& p : series.points)
    if (std::isfinite(p.hwm_bytes)) hwm.push_back(p.hwm_bytes);
  for (std::size_t i = 1; i < hwm.size(); ++i) h.decreases += hwm[i] < hwm[i - 1];
  h.points = hwm.size();
  h.first_bytes = hwm.front();
  h.last_bytes = hwm.back();
  h.current_points = current_points;
  h.needed = kMinJudgedPoints;
  Findings f;
  f.add(h, VerdictKind::hwm_artifact);
  if (context.injected_leak) f.add(finding::InjectedLeak{});
  return conclude(std::move(f));
}

void set_growth_figures(Verdict& v, const Points& pts, const Growth& rep) {
  if (pts.per_request) {
    v.growth_bytes_per_request = rep.fit.valid ? rep.fit.slope : kAbsent;
    v.growth_ci_low_bytes_per_request = rep.fit.valid ? rep.fit.ci_low : kAbsent;
    v.growth_ci_high_bytes_per_request = rep.fit.valid ? rep.fit.ci_high : kAbsent;
    v.min_detectable_bytes_per_request = rep.min_detectable;
  }
  if (pts.has_time) {
    v.growth_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.slope : kAbsent;
    v.growth_ci_low_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.ci_low : kAbsent;
    v.growth_ci_high_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.ci_high : kAbsent;
    v.min_detectable_bytes_per_minute = rep.min_detectable_minutes;
  }
}

// The growth figures from the in-use rate (refine_rate); the smallest detectable rate stays the
// series' own.
void set_refined_figures(Verdict& v, const Points& pts, const RefinedRate& r) {
  if (pts.per_request) {
    v.growth_bytes_per_request = r.per_x.slope;
    v.growth_ci_low_bytes_per_request = r.per_x.ci_low;
    v.growth_ci_high_bytes_per_request = r.per_x.ci_high;
  }
  const in_use::RateFit& m = pts.per_request ? r.per_minute : r.per_x;
  if (pts.has_time && m.valid) {
    v.growth_bytes_per_minute = m.slope;
    v.growth_ci_low_bytes_per_minute = m.ci_low;
    v.growth_ci_high_bytes_per_minute = m.ci_high;
  }
}

}  // namespace

Verdict judge(const Series& series, const SeriesContext& context) {
  Points pts = extract(series);
  bool has_hwm = std::any_of(series.points.begin(), series.points.end(),
                             [](const SeriesPoint& p) { return std::isfinite(p.hwm_bytes); });
  std::size_t n = pts.current.size();
  if (n < kMinJudgedPoints && has_hwm) return judge_hwm_only(series, n, context);
  std::string source = series.current_source.empty() ? "current_bytes" : series.current_source;
  std::optional<Growth> growth;
  if (n >= kMinFitPoints) growth = analyse_growth(pts);
  // Too short: fewer points than a verdict needs, unless they already show a sustained rise.
  if (n < kMinJudgedPoints && !(growth && growth->leak)) {
    finding::TooShort t;
    t.points = n;
    t.needed = kMinJudgedPoints;
    t.unit = pts.unit();
    t.source = fmt::format("'{}' ({})", series.name, source);
    if (n > 0) {
      t.first_bytes = pts.current.front();
      t.last_bytes = pts.current.back();
    }
    if (growth && growth->fit.valid) t.min_detectable = growth->min_detectable;
    Findings f;
    f.add(t, VerdictKind::too_short);
    if (context.injected_leak) f.add(finding::InjectedLeak{});
    Verdict v = conclude(std::move(f));
    if (growth) set_growth_figures(v, pts, *growth);
    return v;
  }
  const Growth& g = *growth;
  // A leak of live allocations that RSS does not show yet (freed heap being reused).
  std::optional<Growth> in_use_leak;
  if (!g.leak)
    if (auto iu = in_use_points(pts)) {
      Growth gi = analyse_growth(*iu);
      if (gi.leak) in_use_leak = gi;
    }
  const Growth& rep = in_use_leak ? *in_use_leak : g;  // the figures the verdict reports
  double meaningful = std::max(kDetectSigmas * g.sigma, kMeaningfulBytes);
  // Fragmentation must be material; the level the process runs at is the larger of the loaded
  // level and the judged median.
  double running_level = stats::median(tail(pts.current, g.warmup));
  if (present(context.loaded_bytes)) running_level = std::max(running_level, context.loaded_bytes);
  double material = std::max(kMaterialBytes, kMaterialFraction * running_level);

  Findings f;
  rule_growth(pts, g, source, f);
  rule_series(pts, g, in_use_leak, source, series.name, f);
  rule_churn(series, context, meaningful, f);
  const bool free_known = rule_free_held(pts, g, in_use_leak.has_value(), material, context, f);
  if (!in_use_leak && !free_known) rule_allocator_held(pts, g, material, running_level, f);
  rule_trim(context, rep, meaningful, material, running_level, !free_known, f);
  if (has_hwm) rule_hwm(series, pts, g, meaningful, f);
  std::optional<RefinedRate> refined;
  if (g.leak || in_use_leak) refined = refine_rate(pts, g, in_use_leak.has_value());
  if (refined) {
    const in_use::RateFit& r = refined->per_x;
    f.add(finding::InUseRate{r.slope, r.ci_low, r.ci_high, rep.fit.slope, r.warmup, r.increments,
                             r.steps, r.lag1, pts.unit(), source});
  }
  if (context.injected_leak) f.add(finding::InjectedLeak{});
  bool plateau_found = std::any_of(f.list.begin(), f.list.end(), [](const Finding& x) {
    return std::holds_alternative<finding::PlateauLevel>(x.detail);
  });
  Verdict v = conclude(std::move(f));
  set_growth_figures(v, pts, rep);
  if (refined) set_refined_figures(v, pts, *refined);
  if (plateau_found && v.kind != VerdictKind::hwm_artifact) v.plateau_level_bytes = g.level_end;
  return v;
}

}  // namespace infermem
