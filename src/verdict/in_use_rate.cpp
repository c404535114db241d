#include "verdict/in_use_rate.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "verdict/stats.h"

namespace infermem::in_use {
namespace {

constexpr double kStepSigmas = 6.0;
// An increment deviating less than this from the median is never a step: glibc's and jemalloc's
// counters move by a few KiB between requests that keep nothing (per-shape caches, thread
// buffers); an arena extension is at least 1 MiB.
constexpr double kStepFloorBytes = 32.0 * 1024;
constexpr double kMaxLag1 = 0.98;

struct Increment {
  double dx = 0, dy = 0;
  double rate() const { return dy / dx; }
};

std::vector<Increment> increments(std::span<const double> x, std::span<const double> y) {
  std::vector<Increment> out;
  for (std::size_t i = 1; i < y.size(); ++i)
    if (x[i] > x[i - 1]) out.push_back({x[i] - x[i - 1], y[i] - y[i - 1]});
  return out;
}

// The centre (the median increment per unit of x) and the step threshold (bytes) of increments.
struct StepRule {
  double centre = 0, threshold = 0;
  double residual(const Increment& d) const { return d.dy - centre * d.dx; }
  bool is_step(const Increment& d) const { return std::abs(residual(d)) > threshold; }
};

StepRule step_rule(std::span<const Increment> d) {
  std::vector<double> rates(d.size()), residuals(d.size());
  for (std::size_t i = 0; i < d.size(); ++i) rates[i] = d[i].rate();
  StepRule rule;
  rule.centre = stats::median(rates);
  for (std::size_t i = 0; i < d.size(); ++i) residuals[i] = rule.residual(d[i]);
  rule.threshold = std::max(kStepSigmas * stats::robust_sigma(residuals), kStepFloorBytes);
  return rule;
}

// Student's t, two-sided 95%, for df degrees of freedom (within 0.2% for df >= 5).
double t95(std::size_t df) {
  double v = static_cast<double>(std::max<std::size_t>(df, 1));
  return 1.96 + 2.37 / v + 2.8 / (v * v);
}

// The common slope of segments that each have their own level (OLS with one level per segment,
// the within-segment estimator): a step between segments moves no slope. Fills the interval from
// the residuals' variance, inflated by (1 + r1) / (1 - r1) for their positive lag-1
// autocorrelation r1 (a counter read after every request wanders), with Student's t.
void fit_segments(std::span<const double> x, std::span<const double> y,
                  const std::vector<std::size_t>& starts, RateFit& fit) {
  std::vector<double> mx, my;
  double sxx = 0, sxy = 0;
  for (std::size_t k = 0; k < starts.size(); ++k) {
    std::size_t from = starts[k], to = k + 1 < starts.size() ? starts[k + 1] : y.size();
    double n = static_cast<double>(to - from), ax = 0, ay = 0;
    for (std::size_t i = from; i < to; ++i) ax += x[i], ay += y[i];
    mx.push_back(ax / n);
    my.push_back(ay / n);
    for (std::size_t i = from; i < to; ++i) {
      sxx += (x[i] - mx.back()) * (x[i] - mx.back());
      sxy += (x[i] - mx.back()) * (y[i] - my.back());
    }
  }
  if (!(sxx > 0)) return;
  fit.slope = sxy / sxx;
  fit.valid = true;
  std::vector<double> residuals(y.size());
  double sse = 0, lagged = 0;
  for (std::size_t k = 0, i = 0; i < y.size(); ++i) {
    while (k + 1 < starts.size() && i >= starts[k + 1]) ++k;
    residuals[i] = y[i] - (my[k] + fit.slope * (x[i] - mx[k]));
    sse += residuals[i] * residuals[i];
    if (i > 0) lagged += residuals[i] * residuals[i - 1];
  }
  std::size_t df = y.size() > starts.size() + 1 ? y.size() - starts.size() - 1 : 1;
  fit.lag1 = sse > 0 ? std::clamp(lagged / sse, 0.0, kMaxLag1) : 0.0;
  double variance = sse / static_cast<double>(df) / sxx * (1 + fit.lag1) / (1 - fit.lag1);
  double half = t95(df) * std::sqrt(variance);
  fit.ci_low = fit.slope - half;
  fit.ci_high = fit.slope + half;
}

}  // namespace

std::size_t warmup_cut(std::span<const double> x, std::span<const double> y) {
  auto d = increments(x, y);
  if (d.size() < kMinPoints) return 0;
  // Steps are clipped (not dropped) to the threshold of the second half, which is past the
  // warm-up by assumption: one late arena extension must not decide the cut, while the many
  // early ones still raise the early batch means.
  StepRule rule = step_rule(std::span<const Increment>(d).subspan(d.size() / 2));
  std::vector<double> clipped(d.size());
  for (std::size_t i = 0; i < d.size(); ++i)
    clipped[i] = std::clamp(rule.residual(d[i]), -rule.threshold, rule.threshold) / d[i].dx;
  // Increment i runs from point i to point i + 1: cutting k increments drops k points. Half as
  // much again as MSER keeps, as for RSS's warm-up: a slope is more sensitive than a mean to what
  // is left of a fill at the start of the window.
  return std::min(stats::mser_cut(clipped, d.size() / 2) * 3 / 2, d.size() / 2);
}

RateFit estimate_rate(std::span<const double> x, std::span<const double> y) {
  RateFit fit;
  fit.points = y.size();
  if (y.size() < kMinPoints || x.size() != y.size()) return fit;
  fit.warmup = warmup_cut(x, y);
  auto xs = x.subspan(fit.warmup);
  auto ys = y.subspan(fit.warmup);
  auto d = increments(xs, ys);
  if (d.size() + 1 != ys.size() || d.size() < kMinPoints / 2) return fit;
  // A one-time step starts a new segment with its own level.
  StepRule rule = step_rule(d);
  std::vector<std::size_t> starts = {0};
  for (std::size_t i = 0; i < d.size(); ++i)
    if (rule.is_step(d[i])) starts.push_back(i + 1);
  fit.steps = starts.size() - 1;
  fit.increments = d.size() - fit.steps;
  fit_segments(xs, ys, starts, fit);
  return fit;
}

}  // namespace infermem::in_use
