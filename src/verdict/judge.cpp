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
#include "verdict/patterns.h"
#include "verdict/stats.h"

namespace infermem {
namespace {

constexpr std::size_t kMinJudgedPoints = 10;
constexpr double kWarmupMinFraction = 0.10;  // always dropped: the arena is still filling
constexpr double kWarmupMaxFraction = 0.50;  // never dropped: at least half the series is judged
constexpr double kTrendZ = 1.96;             // Mann-Kendall, two-sided 5%
constexpr double kDetectSigmas = 3.0;        // a detectable rise over the judged window
constexpr double kMeaningfulBytes = 1024.0 * 1024;  // smaller rises/retentions are not reported
constexpr std::size_t kMaxBlocks = 20;
constexpr std::size_t kMinTrendBlocks = 6;
constexpr double kStepFitRatio = 0.8;  // a two-level fit this much tighter than the line: a step
// Fragmentation must be material: the memory the allocator holds beyond live allocations (or that
// malloc_trim gives back) must exceed max(8 MiB, 10% of the running level: the larger of the
// loaded level and the judged series' median). Smaller effects (+2-3 MiB arena steps) are normal
// for a healthy process.
constexpr double kMaterialBytes = 8.0 * 1024 * 1024;
constexpr double kMaterialFraction = 0.10;
// Anonymous memory that is not malloc's: thread stacks, the runtime's own small mappings.
constexpr double kFirstTouchSlackBytes = 4.0 * 1024 * 1024;

using stats::BlockStat;
using stats::SlopeFit;
using stats::TrendTest;

std::string per(double bytes, const char* unit) {
  return present(bytes) ? format_bytes(bytes) + "/" + unit : "n/a";
}

template <class T>
std::span<const T> tail(const std::vector<T>& v, std::size_t from) {
  return std::span<const T>(v).subspan(std::min(from, v.size()));
}

// The points with a current figure, after the phase cut, on every axis the engine can use.
struct Points {
  std::vector<double> current, hwm, in_use, anon;  // hwm / in_use / anon hold NaN where absent
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

// MSER-5 (White 1997): the truncation d that minimises the variance of the remaining batch
// means over (batches left)^2, i.e. the cut that best trades bias for lost data.
std::size_t mser_cut(const std::vector<double>& values, std::size_t max_cut) {
  constexpr std::size_t kBatch = 5;
  std::size_t batches = values.size() / kBatch;
  if (batches < 4) return 0;
  std::vector<double> means(batches);
  for (std::size_t b = 0; b < batches; ++b) {
    double sum = 0;
    for (std::size_t k = 0; k < kBatch; ++k) sum += values[b * kBatch + k];
    means[b] = sum / kBatch;
  }
  // Suffix sums of the batch means (centred on the last one, for precision).
  std::vector<double> sum(batches + 1, 0.0), sum_sq(batches + 1, 0.0);
  for (std::size_t b = batches; b-- > 0;) {
    double z = means[b] - means.back();
    sum[b] = sum[b + 1] + z;
    sum_sq[b] = sum_sq[b + 1] + z * z;
  }
  std::vector<double> scores;
  for (std::size_t d = 0; d * kBatch <= max_cut && batches - d >= 2; ++d) {
    double left = static_cast<double>(batches - d);
    scores.push_back((sum_sq[d] - sum[d] * sum[d] / left) / (left * left));
  }
  // The earliest cut within rounding of the minimum: on a noise-free series many cuts tie.
  double best_score = *std::min_element(scores.begin(), scores.end());
  double tolerance = 1e-9 * scores.front();
  std::size_t best = 0;
  while (scores[best] > best_score + tolerance) ++best;
  return best * kBatch;
}

// Warm-up: the first points until the running level stabilises (MSER-5 on the series detrended
// by the slope of its last half, so a steady leak is not mistaken for warm-up), clamped to
// [10%, 50%] of the points.
std::size_t warmup_points(const std::vector<double>& x, const std::vector<double>& y) {
  std::size_t n = y.size();
  auto min_cut = static_cast<std::size_t>(std::ceil(kWarmupMinFraction * static_cast<double>(n)));
  auto max_cut = static_cast<std::size_t>(kWarmupMaxFraction * static_cast<double>(n));
  std::size_t half = n / 2;
  SlopeFit late = stats::theil_sen(tail(x, half), tail(y, half));
  double late_slope = late.valid ? late.slope : 0.0;
  std::vector<double> detrended(n);
  for (std::size_t i = 0; i < n; ++i) detrended[i] = y[i] - late_slope * x[i];
  // Half as much again as MSER keeps: a slope is more sensitive to leftover warm-up at the start
  // of the window than a mean is.
  return std::clamp(mser_cut(detrended, max_cut) * 3 / 2, min_cut, max_cut);
}

// What the current-memory series says after warm-up.
struct Growth {
  std::size_t warmup = 0, judged = 0;
  SlopeFit fit, fit_minutes, last_half;
  double sigma = 0;  // robust residual spread around the Theil-Sen line
  double lag1 = 0;   // lag-1 autocorrelation of the block residuals (interval correction)
  double span = 0, span_minutes = 0;
  double min_detectable = kAbsent, min_detectable_minutes = kAbsent;
  TrendTest block_max, block_min;
  std::size_t blocks = 0;
  bool step_like = false;
  std::size_t step_at = 0;  // index into the whole (phase-cut) series
  double level_start = 0, level_end = 0, rise = 0;
  bool significant_slope = false;
  bool leak = false, grew = false;
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
  g.min_detectable = detectable(g.sigma, g.span, g.fit);
  if (pts.has_time) {
    g.fit_minutes = stats::theil_sen_blocked(minutes, y);
    g.span_minutes = minutes.back() - minutes.front();
    g.min_detectable_minutes = detectable(g.sigma, g.span_minutes, g.fit_minutes);
  }
  g.last_half = stats::theil_sen_blocked(x.subspan(g.judged / 2), y.subspan(g.judged / 2));
  auto bounds = stats::block_bounds(g.judged, std::min(kMaxBlocks, g.judged / 5));
  g.blocks = bounds.size() - 1;
  if (g.blocks >= kMinTrendBlocks) {
    g.block_max = stats::mann_kendall(stats::block_summary(y, bounds, BlockStat::kMax));
    g.block_min = stats::mann_kendall(stats::block_summary(y, bounds, BlockStat::kMin));
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

  g.significant_slope = g.fit.valid && g.fit.ci_low > 0 && g.fit.slope >= g.min_detectable &&
                        g.block_max.valid && g.block_min.valid && g.block_max.z > kTrendZ &&
                        g.block_min.z > kTrendZ;
  bool sustained =
      g.last_half.valid && g.last_half.ci_low > 0 && g.last_half.slope >= 0.5 * g.fit.slope;
  g.leak = g.significant_slope && sustained && !g.step_like;
  g.grew = g.rise > std::max(kDetectSigmas * g.sigma, kMeaningfulBytes);
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

// Churn: one figure per load/infer/unload cycle.
struct Churn {
  std::vector<double> per_cycle;
  std::string what;
  double slope_per_cycle = 0;
  bool growing = false;
  double retained = kAbsent;  // after unload minus baseline
};

std::optional<Churn> analyse_churn(const Series& series, const SeriesContext& context,
                                   double threshold) {
  Churn c;
  std::vector<double> unloads;
  for (double v : context.after_unload_per_cycle_bytes)
    if (std::isfinite(v)) unloads.push_back(v);
  if (unloads.size() >= 2) {
    c.per_cycle = unloads;
    c.what = "RSS after unload, per cycle";
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

void fill_catalogue(Verdict& v) {
  const Pattern& p = pattern_for(v.kind);
  v.causes = p.causes;
  v.remediations = p.remediations;
  std::string arms;
  for (const auto& a : p.arms) arms += (arms.empty() ? "" : ",") + a;
  v.remediations.push_back(
      fmt::format("See the effect on your model: infermem soak MODEL.onnx --arms {}", arms));
}

Verdict judge_hwm_only(const Series& series, std::size_t current_points) {
  Verdict v;
  v.kind = "hwm-artifact";
  std::vector<double> hwm;
  for (const auto& p : series.points)
    if (std::isfinite(p.hwm_bytes)) hwm.push_back(p.hwm_bytes);
  std::size_t decreases = 0;
  for (std::size_t i = 1; i < hwm.size(); ++i) decreases += hwm[i] < hwm[i - 1];
  std::string source = series.hwm_source.empty() ? "hwm_bytes" : series.hwm_source;
  v.evidence.push_back(fmt::format(
      "Only a high-water mark is available ({}): {} points from {} to {}, {}.", source, hwm.size(),
      format_bytes(hwm.front()), format_bytes(hwm.back()),
      decreases == 0 ? "never decreasing" : fmt::format("decreasing {} times", decreases)));
  if (current_points > 0)
    v.evidence.push_back(
        fmt::format("Only {} points carry current memory: too few to judge a trend (need {}).",
                    current_points, kMinJudgedPoints));
  v.evidence.push_back(
      "A high-water mark only records the largest value so far: it cannot show a leak or its "
      "absence, and no growth rate can be estimated from it.");
  v.evidence.push_back(
      "To judge a leak, record current memory over time: VmRSS per request or per invocation "
      "(from inside the function), `infermem watch`, or `infermem soak` with the same model.");
  fill_catalogue(v);
  return v;
}

Verdict judge_too_few(const Series& series, std::size_t points) {
  Verdict v;
  v.kind = "stable";
  v.evidence.push_back(fmt::format(
      "Could not judge '{}': {} points carry current memory after the warm phase, {} are needed. "
      "Reported as stable with no detectable rate: record a longer series.",
      series.name, points, kMinJudgedPoints));
  fill_catalogue(v);
  return v;
}

void describe_growth(const Points& pts, const Growth& g, const std::string& source,
                     std::vector<std::string>& out) {
  const char* unit = pts.unit();
  out.push_back(fmt::format(
      "Judged {} of {} points of current memory ({}): {} before the first 'infer' phase and {} "
      "warm-up points dropped (until the level stabilised; at least 10%, at most half).",
      g.judged, pts.with_current, source, pts.dropped_before_infer, g.warmup));
  out.push_back(fmt::format(
      "Growth after warm-up: {} (95% CI {} .. {}) by Theil-Sen over {:.0f} {}s{}. The interval "
      "is Sen's on {} block medians{}, so autocorrelated readings do not narrow it.",
      per(g.fit.slope, unit), format_bytes(g.fit.ci_low), format_bytes(g.fit.ci_high), g.span, unit,
      pts.per_request && pts.has_time
          ? fmt::format("; {} over {}", per(g.fit_minutes.slope, "minute"),
                        g.span_minutes < 1 ? fmt::format("{:.1f} s", 60 * g.span_minutes)
                                           : fmt::format("{:.1f} minutes", g.span_minutes))
          : std::string(),
      std::min(stats::kIntervalBlocks, g.judged / 3),
      g.lag1 > 1.96 / std::sqrt(static_cast<double>(std::min(stats::kIntervalBlocks, g.judged / 3)))
          ? fmt::format(", widened for their lag-1 autocorrelation {:.2f}", std::min(g.lag1, 0.9))
          : std::string()));
  if (g.blocks >= kMinTrendBlocks)
    out.push_back(fmt::format(
        "Mann-Kendall on {} block maxima: z = {:.2f}; on block minima: z = {:.2f} (a trend needs "
        "both above {:.2f}, so allocator sawtooth does not read as growth).",
        g.blocks, g.block_max.z, g.block_min.z, kTrendZ));
  out.push_back(fmt::format(
      "Noise: {} residual sigma around the line; the smallest detectable growth is {} (the "
      "largest of: a rise of {:.0f} sigma over the judged window, the CI half-width, and a rise of "
      "{} over the window, below which growth is not called a leak).",
      format_bytes(g.sigma), per(g.min_detectable, unit), kDetectSigmas,
      format_bytes(kMeaningfulBytes)));
}

}  // namespace

Verdict judge(const Series& series, const SeriesContext& context) {
  Points pts = extract(series);
  bool has_hwm = std::any_of(series.points.begin(), series.points.end(),
                             [](const SeriesPoint& p) { return std::isfinite(p.hwm_bytes); });
  if (pts.current.size() < kMinJudgedPoints) {
    return has_hwm ? judge_hwm_only(series, pts.current.size())
                   : judge_too_few(series, pts.current.size());
  }
  std::string source = series.current_source.empty() ? "current_bytes" : series.current_source;
  Growth g = analyse_growth(pts);
  // A leak of live allocations that RSS does not show yet (freed heap being reused).
  std::optional<Growth> in_use_leak;
  if (!g.leak)
    if (auto iu = in_use_points(pts)) {
      Growth gi = analyse_growth(*iu);
      if (gi.leak) in_use_leak = gi;
    }
  const Growth& rep = in_use_leak ? *in_use_leak : g;  // the figures the verdict reports
  Verdict v;
  describe_growth(pts, g, source, v.evidence);
  if (pts.per_request) {
    v.growth_bytes_per_request = rep.fit.slope;
    v.growth_ci_low_bytes_per_request = rep.fit.ci_low;
    v.growth_ci_high_bytes_per_request = rep.fit.ci_high;
    v.min_detectable_bytes_per_request = rep.min_detectable;
  }
  if (pts.has_time) {
    v.growth_bytes_per_minute = rep.fit_minutes.slope;
    v.growth_ci_low_bytes_per_minute = rep.fit_minutes.ci_low;
    v.growth_ci_high_bytes_per_minute = rep.fit_minutes.ci_high;
    v.min_detectable_bytes_per_minute = rep.min_detectable_minutes;
  }
  double meaningful = std::max(kDetectSigmas * g.sigma, kMeaningfulBytes);

  // 1. The series itself: leak, plateau (grew then flattened, or a one-time step), or stable.
  if (g.leak) {
    v.kind = "leak";
    v.evidence.push_back(fmt::format(
        "The growth is sustained: the last half grows at {} ({:.0f}% of the whole window's rate).",
        per(g.last_half.slope, pts.unit()), 100.0 * g.last_half.slope / g.fit.slope));
  } else if (in_use_leak) {
    const Growth& gi = *in_use_leak;
    const char* unit = pts.unit();
    v.kind = "leak";
    v.evidence.push_back(fmt::format(
        "The leak is in the allocator's in-use bytes (live allocations): they grow at {} (95% CI "
        "{} .. {}) by Theil-Sen over {:.0f} {}s after {} warm-up points, +{} over the judged "
        "window; block maxima and minima trend up (z = {:.2f}, {:.2f}); the last half grows at "
        "{}; not a step. The reported growth figures are the in-use bytes' rates.",
        per(gi.fit.slope, unit), format_bytes(gi.fit.ci_low), format_bytes(gi.fit.ci_high), gi.span,
        unit, gi.warmup, format_bytes(gi.fit.slope * gi.span), gi.block_max.z, gi.block_min.z,
        per(gi.last_half.slope, unit)));
    v.evidence.push_back(fmt::format(
        "Current memory ({}) has not followed yet ({}): freed heap the process already holds is "
        "being reused for the leaked allocations, so RSS stays flat until that free heap is used "
        "up, then rises at the leak's rate.",
        source, per(g.fit.slope, unit)));
    double gap = g.level_end - gi.level_end;
    if (gi.fit.slope > 0 && gap > 0)
      v.evidence.push_back(fmt::format(
          "Current memory ({}) is {} above the in-use bytes ({}): at {} RSS must start rising "
          "within at most ~{:.0f} more {}s. An upper bound: that gap also holds code, stacks and "
          "other memory that is not free heap (malloc's free bytes are not in this series).",
          format_bytes(g.level_end), format_bytes(gap), format_bytes(gi.level_end),
          per(gi.fit.slope, unit), gap / gi.fit.slope, unit));
    else
      v.evidence.push_back(fmt::format(
          "The in-use bytes ({}) already exceed current memory ({}: allocated pages not all "
          "touched yet), so RSS can start rising at any time; no estimate of when.",
          format_bytes(gi.level_end), format_bytes(g.level_end)));
  } else if (g.grew) {
    v.kind = "plateau";
    v.plateau_level_bytes = g.level_end;
    v.evidence.push_back(fmt::format(
        "The level rose from {} to {} (+{}) and then flattened: plateau at {} (median of the last "
        "third; {}).",
        format_bytes(g.level_start), format_bytes(g.level_end), format_bytes(g.rise),
        format_bytes(g.level_end), source));
  } else {
    v.kind = "stable";
  }
  if (g.significant_slope && !g.leak)
    v.evidence.push_back(
        g.step_like
            ? fmt::format("The rise is a one-time step near point {} (a two-level fit explains it "
                          "better than a line), not sustained growth.",
                          g.step_at)
            : fmt::format("The growth decelerates: the last half grows at only {}.",
                          per(g.last_half.slope, pts.unit())));

  // 2. Churn: growth from cycle to cycle is a leak; a bounded offset above baseline is retention.
  if (auto churn = analyse_churn(series, context, meaningful)) {
    v.evidence.push_back(
        fmt::format("{} over {} cycles: {} .. {}; {} per cycle by Theil-Sen.", churn->what,
                    churn->per_cycle.size(), format_bytes(churn->per_cycle.front()),
                    format_bytes(churn->per_cycle.back()), format_bytes(churn->slope_per_cycle)));
    if (churn->growing) {
      v.kind = "leak";
      v.evidence.push_back("Memory grows from cycle to cycle: unloading does not give it back.");
    } else if (present(churn->retained) && churn->retained > meaningful && v.kind != "leak") {
      v.kind = "unload-retention";
      v.evidence.push_back(fmt::format(
          "After unload memory sits {} above the baseline ({}), but per-cycle growth is not "
          "significant (bounded).",
          format_bytes(churn->retained), format_bytes(context.baseline_bytes)));
    }
  }

  // 3. Fragmentation: the allocator handed out no more, or malloc_trim gives it back; either
  // must be material.
  // The level the process runs at: the larger of the loaded level and the judged median.
  double reference_level = stats::median(tail(pts.current, g.warmup));
  if (present(context.loaded_bytes))
    reference_level = std::max(reference_level, context.loaded_bytes);
  double material = std::max(kMaterialBytes, kMaterialFraction * reference_level);
  std::string material_basis =
      fmt::format("max(8 MiB, 10% of the running level {})", format_bytes(reference_level));
  std::vector<double> in_use_x, in_use_y;
  const auto& axis = pts.axis();
  for (std::size_t i = g.warmup; i < pts.in_use.size(); ++i)
    if (present(pts.in_use[i])) {
      in_use_x.push_back(axis[i]);
      in_use_y.push_back(pts.in_use[i]);
    }
  if (!in_use_leak && in_use_y.size() >= std::max(kMinJudgedPoints, g.judged * 4 / 5) &&
      (v.kind == "leak" || v.kind == "plateau")) {
    SlopeFit in_use_fit = stats::theil_sen(in_use_x, in_use_y);
    double current_growth = v.kind == "leak" ? g.fit.slope * g.span : g.rise;
    double in_use_growth = in_use_y.back() - in_use_y.front();
    if (in_use_fit.valid) in_use_growth = in_use_fit.slope * g.span;
    if (v.kind == "plateau") {
      std::vector<double> head;
      for (std::size_t i = 0;
           i < std::min(pts.in_use.size(), std::max<std::size_t>(3, g.warmup / 2)); ++i)
        if (present(pts.in_use[i])) head.push_back(pts.in_use[i]);
      if (!head.empty())
        in_use_growth =
            stats::median(tail(in_use_y, in_use_y.size() * 2 / 3)) - stats::median(head);
    }
    if (in_use_growth < 0.25 * current_growth) {
      double unexplained = current_growth - std::max(0.0, in_use_growth);
      // First touch is not fragmentation: when the anonymous resident memory is still within
      // what the allocator has handed out (an arena reserved at warm-up, then written into by
      // larger shapes), RSS rose by touching allocated pages, not by holding freed ones.
      std::vector<double> anon_last, in_use_last;
      for (std::size_t i = pts.current.size() - std::max<std::size_t>(1, g.judged / 3);
           i < pts.current.size(); ++i)
        if (present(pts.anon[i]) && present(pts.in_use[i])) {
          anon_last.push_back(pts.anon[i]);
          in_use_last.push_back(pts.in_use[i]);
        }
      bool first_touch =
          anon_last.size() >= kMinJudgedPoints / 2 &&
          stats::median(anon_last) <= stats::median(in_use_last) + kFirstTouchSlackBytes;
      if (unexplained > material && first_touch) {
        v.evidence.push_back(fmt::format(
            "Current memory rose {} while the allocator's in-use bytes rose {}, but anonymous "
            "resident memory ({}) stays within what is allocated ({}): pages of allocated "
            "buffers (e.g. an arena reserved during warm-up) touched for the first time by "
            "larger inputs, not freed memory held by the allocator.",
            format_bytes(current_growth), format_bytes(in_use_growth),
            format_bytes(stats::median(anon_last)), format_bytes(stats::median(in_use_last))));
      } else if (unexplained > material) {
        v.kind = "fragmentation";
        v.evidence.push_back(fmt::format(
            "Current memory rose {} while the allocator's in-use bytes rose {}: the growth is "
            "held by the allocator, not by live allocations ({} unexplained, above the {} "
            "materiality threshold: {}).",
            format_bytes(current_growth), format_bytes(in_use_growth), format_bytes(unexplained),
            format_bytes(material), material_basis));
      } else {
        v.evidence.push_back(fmt::format(
            "Current memory rose {} while the allocator's in-use bytes rose {}; the {} the "
            "allocator holds beyond live allocations is below the {} materiality threshold for "
            "fragmentation ({}).",
            format_bytes(current_growth), format_bytes(in_use_growth), format_bytes(unexplained),
            format_bytes(material), material_basis));
      }
    }
  }
  if (present(context.baseline_bytes) && present(context.after_unload_bytes) &&
      present(context.after_trim_bytes)) {
    double retained = context.after_unload_bytes - context.baseline_bytes;
    double given_back = context.after_unload_bytes - context.after_trim_bytes;
    double left = context.after_trim_bytes - context.baseline_bytes;
    bool trim_explains =
        retained > meaningful && given_back >= 0.5 * retained && given_back > material;
    if (v.kind == "leak") trim_explains = trim_explains && left < 0.5 * rep.fit.slope * rep.span;
    if (trim_explains && v.kind != "fragmentation") {
      v.kind = "fragmentation";
      v.evidence.push_back(fmt::format(
          "After unload {} stayed above the baseline; malloc_trim gave back {} ({:.0f}%): freed "
          "memory the allocator kept, not live objects.",
          format_bytes(retained), format_bytes(given_back), 100.0 * given_back / retained));
    } else if (!trim_explains && retained > meaningful && given_back >= 0.5 * retained &&
               given_back <= material) {
      v.evidence.push_back(fmt::format(
          "After unload {} stayed above the baseline and malloc_trim gave back {}: below the {} "
          "materiality threshold for fragmentation ({}).",
          format_bytes(retained), format_bytes(given_back), format_bytes(material),
          material_basis));
    }
  }

  // 4. A high-water mark that climbs while current memory does not.
  if ((v.kind == "stable" || v.kind == "plateau") && has_hwm) {
    std::vector<double> hwm;
    for (std::size_t i = g.warmup; i < pts.hwm.size(); ++i)
      if (present(pts.hwm[i])) hwm.push_back(pts.hwm[i]);
    if (hwm.size() >= kMinJudgedPoints) {
      std::size_t decreases = 0;
      for (std::size_t i = 1; i < hwm.size(); ++i) decreases += hwm[i] < hwm[i - 1];
      auto bounds = stats::block_bounds(hwm.size(), 10);
      auto maxima = stats::block_summary(hwm, bounds, BlockStat::kMax);
      std::size_t rising = 0;
      for (std::size_t k = 1; k < maxima.size(); ++k) rising += maxima[k] > maxima[k - 1];
      double hwm_rise = hwm.back() - hwm.front();
      double current_rise = std::max(0.0, g.fit.slope * g.span);
      if (decreases == 0 && maxima.size() >= 2 && 10 * rising >= 6 * (maxima.size() - 1) &&
          hwm_rise > meaningful && current_rise < 0.5 * hwm_rise) {
        v.kind = "hwm-artifact";
        v.plateau_level_bytes = kAbsent;
        v.evidence.push_back(fmt::format(
            "The high-water mark ({}) rose {} and never fell, while current memory rose {}: a "
            "high-water mark cannot show a leak or its absence; judge current memory.",
            series.hwm_source.empty() ? "hwm_bytes" : series.hwm_source, format_bytes(hwm_rise),
            format_bytes(current_rise)));
      }
    }
  }
  if (context.injected_leak)
    v.evidence.push_back("This run injected a leak on purpose (soak --inject-leak).");
  fill_catalogue(v);
  return v;
}

}  // namespace infermem
