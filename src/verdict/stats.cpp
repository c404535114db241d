#include "verdict/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace infermem::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kZ95 = 1.959964;

// The k-th smallest (0-based) of values, reordering values.
double kth(std::vector<double>& values, std::size_t k) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

}  // namespace

double quantile(std::span<const double> values, double q) {
  if (values.empty()) return kNaN;
  std::vector<double> v(values.begin(), values.end());
  double pos = std::clamp(q, 0.0, 1.0) * static_cast<double>(v.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  double lo_value = kth(v, lo);
  if (lo + 1 >= v.size()) return lo_value;
  double hi_value = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(lo) + 1, v.end());
  return lo_value + (pos - static_cast<double>(lo)) * (hi_value - lo_value);
}

double median(std::span<const double> values) {
  return quantile(values, 0.5);
}

double robust_sigma(std::span<const double> values) {
  if (values.empty()) return kNaN;
  double m = median(values);
  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double v : values) deviations.push_back(std::abs(v - m));
  return 1.4826 * median(deviations);
}

std::vector<std::size_t> block_bounds(std::size_t n, std::size_t blocks) {
  blocks = std::max<std::size_t>(1, std::min(blocks, n));
  std::vector<std::size_t> bounds;
  bounds.reserve(blocks + 1);
  for (std::size_t b = 0; b <= blocks; ++b) bounds.push_back(n * b / blocks);
  return bounds;
}

std::vector<double> block_summary(std::span<const double> values,
                                  const std::vector<std::size_t>& bounds, BlockStat stat) {
  std::vector<double> out;
  for (std::size_t b = 0; b + 1 < bounds.size(); ++b) {
    auto block = values.subspan(bounds[b], bounds[b + 1] - bounds[b]);
    if (block.empty()) continue;
    switch (stat) {
      case BlockStat::kMin:
        out.push_back(*std::min_element(block.begin(), block.end()));
        break;
      case BlockStat::kMax:
        out.push_back(*std::max_element(block.begin(), block.end()));
        break;
      case BlockStat::kMedian:
        out.push_back(median(block));
        break;
    }
  }
  return out;
}

namespace {

SlopeFit sen_fit(const std::vector<double>& x, const std::vector<double>& y,
                 double variance_factor);

}  // namespace

SlopeFit theil_sen(std::span<const double> x_in, std::span<const double> y_in,
                   std::size_t max_points) {
  std::size_t n_in = std::min(x_in.size(), y_in.size());
  std::vector<double> x, y;
  if (n_in > max_points && max_points >= 3) {
    auto bounds = block_bounds(n_in, max_points);
    x = block_summary(x_in.first(n_in), bounds, BlockStat::kMedian);
    y = block_summary(y_in.first(n_in), bounds, BlockStat::kMedian);
  } else {
    x.assign(x_in.begin(), x_in.begin() + static_cast<std::ptrdiff_t>(n_in));
    y.assign(y_in.begin(), y_in.begin() + static_cast<std::ptrdiff_t>(n_in));
  }
  return sen_fit(x, y, 1.0);
}

SlopeFit theil_sen_blocked(std::span<const double> x, std::span<const double> y, std::size_t blocks,
                           double* lag1_autocorrelation) {
  if (lag1_autocorrelation) *lag1_autocorrelation = 0;
  SlopeFit fit = theil_sen(x, y);
  std::size_t n = std::min(x.size(), y.size());
  if (!fit.valid || n < 3 * kMinIntervalBlocks) return fit;
  blocks = std::clamp<std::size_t>(std::min(blocks, n / 3), kMinIntervalBlocks, n);
  auto bounds = block_bounds(n, blocks);
  auto xb = block_summary(x.first(n), bounds, BlockStat::kMedian);
  auto yb = block_summary(y.first(n), bounds, BlockStat::kMedian);
  SlopeFit on_blocks = sen_fit(xb, yb, 1.0);
  if (!on_blocks.valid) return fit;
  // Lag-1 autocorrelation of the ranks of the block residuals (Hamed & Rao 1998, first lag).
  std::size_t b = yb.size();
  std::vector<double> residuals(b);
  for (std::size_t i = 0; i < b; ++i)
    residuals[i] = yb[i] - (on_blocks.intercept + on_blocks.slope * xb[i]);
  std::vector<std::size_t> order(b);
  for (std::size_t i = 0; i < b; ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](std::size_t l, std::size_t r) { return residuals[l] < residuals[r]; });
  std::vector<double> ranks(b);
  for (std::size_t k = 0; k < b;) {  // ties share their average rank
    std::size_t end = k;
    while (end < b && residuals[order[end]] == residuals[order[k]]) ++end;
    for (std::size_t t = k; t < end; ++t)
      ranks[order[t]] = (static_cast<double>(k) + static_cast<double>(end - 1)) / 2;
    k = end;
  }
  double mean = (static_cast<double>(b) - 1) / 2, num = 0, den = 0;
  for (std::size_t i = 0; i < b; ++i) {
    den += (ranks[i] - mean) * (ranks[i] - mean);
    if (i + 1 < b) num += (ranks[i] - mean) * (ranks[i + 1] - mean);
  }
  double r1 = den > 0 ? num / den : 0.0;
  if (lag1_autocorrelation) *lag1_autocorrelation = r1;
  double factor = 1.0;
  if (r1 > kZ95 / std::sqrt(static_cast<double>(b))) {
    r1 = std::min(r1, 0.9);
    factor = (1 + r1) / (1 - r1);
  }
  if (factor != 1.0) on_blocks = sen_fit(xb, yb, factor);
  fit.ci_low = std::min(on_blocks.ci_low, fit.slope);
  fit.ci_high = std::max(on_blocks.ci_high, fit.slope);
  return fit;
}

namespace {

SlopeFit sen_fit(const std::vector<double>& x, const std::vector<double>& y,
                 double variance_factor) {
  SlopeFit fit;
  std::size_t n = x.size();
  fit.points = n;
  if (n < 3) return fit;
  std::vector<double> slopes;
  slopes.reserve(n * (n - 1) / 2);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j)
      if (x[j] != x[i]) slopes.push_back((y[j] - y[i]) / (x[j] - x[i]));
  if (slopes.empty()) return fit;
  std::size_t pairs = slopes.size();
  fit.slope = median(slopes);
  // Sen (1968): ranks (N -+ C) / 2 of the ordered slopes bound the 95% interval.
  double nd = static_cast<double>(n);
  double c = kZ95 * std::sqrt(variance_factor * nd * (nd - 1) * (2 * nd + 5) / 18.0);
  double pd = static_cast<double>(pairs);
  auto lower_rank = static_cast<std::size_t>(std::clamp(std::floor((pd - c) / 2.0), 0.0, pd - 1));
  auto upper_rank = static_cast<std::size_t>(std::clamp(std::ceil((pd + c) / 2.0), 0.0, pd - 1));
  fit.ci_low = kth(slopes, lower_rank);
  fit.ci_high = kth(slopes, upper_rank);
  std::vector<double> offsets;
  offsets.reserve(n);
  for (std::size_t i = 0; i < n; ++i) offsets.push_back(y[i] - fit.slope * x[i]);
  fit.intercept = median(offsets);
  fit.valid = true;
  return fit;
}

}  // namespace

TrendTest mann_kendall(std::span<const double> values) {
  TrendTest t;
  std::size_t n = values.size();
  if (n < 4) return t;
  double s = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) s += (values[j] > values[i]) - (values[j] < values[i]);
  std::map<double, int> tie_groups;
  for (double v : values) ++tie_groups[v];
  double nd = static_cast<double>(n);
  double var = nd * (nd - 1) * (2 * nd + 5);
  for (const auto& [value, count] : tie_groups) {
    double tc = count;
    var -= tc * (tc - 1) * (2 * tc + 5);
  }
  var /= 18.0;
  t.s = s;
  if (var <= 0) return t;  // every value equal: no trend, and no test
  t.z = s > 0 ? (s - 1) / std::sqrt(var) : s < 0 ? (s + 1) / std::sqrt(var) : 0.0;
  t.valid = true;
  return t;
}

std::size_t best_step_split(std::span<const double> values) {
  std::size_t n = values.size();
  if (n < 4) return 0;
  // Least squares on two levels: maximise k (n-k) (mean_right - mean_left)^2, via prefix sums.
  std::vector<double> prefix(n + 1, 0.0);
  double offset = values[0];  // keeps the sums small for large byte counts
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + (values[i] - offset);
  std::size_t best = 0;
  double best_gain = -1;
  for (std::size_t k = 2; k + 2 <= n; ++k) {
    double left = prefix[k] / static_cast<double>(k);
    double right = (prefix[n] - prefix[k]) / static_cast<double>(n - k);
    double gain =
        static_cast<double>(k) * static_cast<double>(n - k) * (right - left) * (right - left);
    if (gain > best_gain) {
      best_gain = gain;
      best = k;
    }
  }
  return best;
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

}  // namespace infermem::stats
