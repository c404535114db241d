#pragma once
// Robust statistics for the verdict engine: quantiles, MAD, Theil-Sen slope with Sen's confidence
// interval, the Mann-Kendall trend test, and block summaries. Private to src/verdict.
#include <cstddef>
#include <span>
#include <vector>

namespace infermem::stats {

// Linear-interpolated quantile (q in [0, 1]) of values; NaN when empty. Copies (does not reorder).
double quantile(std::span<const double> values, double q);
double median(std::span<const double> values);
// 1.4826 x median absolute deviation from the median: a robust sigma for normal noise.
double robust_sigma(std::span<const double> values);

struct SlopeFit {
  double slope = 0;      // Theil-Sen: median of pairwise slopes
  double intercept = 0;  // median of y - slope * x
  double ci_low = 0;     // Sen's interval from Kendall's variance (95%)
  double ci_high = 0;
  std::size_t points = 0;  // points the fit used (after binning)
  bool valid = false;      // false when fewer than 3 points or all x equal
};

// Theil-Sen fit of y on x (x non-decreasing). Above `max_points` the series is first reduced to
// that many consecutive bins (median x, median y), so the cost stays O(max_points^2).
SlopeFit theil_sen(std::span<const double> x, std::span<const double> y,
                   std::size_t max_points = 1500);

// Theil-Sen with an interval that is honest under autocorrelated noise (memory read after every
// request is strongly autocorrelated, and Sen's interval assumes independence). The slope and
// intercept are theil_sen()'s; the interval is Sen's interval of the Theil-Sen fit on `blocks`
// consecutive block medians (median x, median y), with Kendall's variance inflated by the
// effective-sample-size factor (1 + r1) / (1 - r1) when the lag-1 autocorrelation r1 of the ranks
// of the block residuals is significantly positive (r1 > 1.96 / sqrt(blocks); r1 capped at 0.9),
// then widened to contain the slope. Fewer than 3 x kMinIntervalBlocks points: Sen's interval on
// the points themselves. `lag1_autocorrelation` (out) receives r1 (0 when not computed).
inline constexpr std::size_t kIntervalBlocks = 30;
inline constexpr std::size_t kMinIntervalBlocks = 6;
SlopeFit theil_sen_blocked(std::span<const double> x, std::span<const double> y,
                           std::size_t blocks = kIntervalBlocks,
                           double* lag1_autocorrelation = nullptr);

struct TrendTest {
  double s = 0;  // Kendall's S
  double z = 0;  // normal score with continuity and tie corrections
  bool valid = false;
};

// Mann-Kendall test on values in order. Positive z = rising; |z| > 1.96 is significant at 5%.
TrendTest mann_kendall(std::span<const double> values);

// Splits [0, n) into `blocks` consecutive ranges of (almost) equal size; returns the boundaries
// (blocks + 1 values, first 0, last n). Fewer blocks when n < blocks.
std::vector<std::size_t> block_bounds(std::size_t n, std::size_t blocks);

enum class BlockStat { kMin, kMax, kMedian };
std::vector<double> block_summary(std::span<const double> values,
                                  const std::vector<std::size_t>& bounds, BlockStat stat);

// The single change point that best splits values into two constant levels (least squares).
// Returns the first index of the second level; 0 when values has fewer than 4 points.
std::size_t best_step_split(std::span<const double> values);

// MSER-5 (White 1997): the warm-up truncation, a multiple of 5 points and at most max_cut, that
// minimises the variance of the remaining 5-point batch means over (batches left)^2.
std::size_t mser_cut(const std::vector<double>& values, std::size_t max_cut);

}  // namespace infermem::stats
