// The series analysis under the verdict rules: see series_analysis.h and docs/verdicts.md.
#include "verdict/series_analysis.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace infermem::analysis {

Points extract(const Series& series) {
  std::vector<const SeriesPoint*> with_current;
  for (const auto& p : series.points)
    if (std::isfinite(p.current_bytes)) with_current.push_back(&p);
  Points pts;
  pts.with_current = with_current.size();
  auto first_infer = std::find_if(with_current.begin(), with_current.end(),
                                  [](const SeriesPoint* p) { return p->phase == Phase::infer; });
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

namespace {

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

}  // namespace

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

}  // namespace infermem::analysis
