// The verdict engine's robust statistics (src/verdict/stats.h) on inputs whose answer is known:
// quantiles of small hand-made sets, Theil-Sen on exact lines, with outliers and on seeded noise,
// the Mann-Kendall score, block summaries, the step split, and every degenerate input (empty, one
// point, all x equal). The noise is built from mt19937's raw output (fully specified by the
// standard), not from std::normal_distribution (whose values differ between standard libraries).
#include "verdict/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

using namespace infermem::stats;

namespace {

// Roughly normal noise of standard deviation `sigma`: the Irwin-Hall sum of 12 uniforms, from the
// engine's raw 32-bit output, so the same on every platform.
class Noise {
 public:
  explicit Noise(std::uint32_t seed) : rng_(seed) {}
  double operator()(double sigma) {
    double sum = 0;
    for (int k = 0; k < 12; ++k) sum += static_cast<double>(rng_()) / 4294967296.0;
    return sigma * (sum - 6.0);
  }

 private:
  std::mt19937 rng_;
};

std::vector<double> iota_x(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i);
  return x;
}

std::vector<double> line(const std::vector<double>& x, double slope, double intercept) {
  std::vector<double> y;
  for (double v : x) y.push_back(intercept + slope * v);
  return y;
}

}  // namespace

// --- quantile, median, robust_sigma -------------------------------------------------------------

TEST(Quantile, InterpolatesLinearlyBetweenOrderedValues) {
  const std::vector<double> v = {4, 1, 3, 2};  // unordered on purpose
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 4);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(quantile(v, 0.25), 1.75);  // position 0.75 between 1 and 2
  EXPECT_DOUBLE_EQ(quantile(v, 0.9), 3.7);    // position 2.7 between 3 and 4
  EXPECT_EQ(v, (std::vector<double>{4, 1, 3, 2})) << "the input is not reordered";
}

TEST(Quantile, PercentilesOfOneToHundred) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 50.5);
  EXPECT_NEAR(quantile(v, 0.95), 95.05, 1e-9);
  EXPECT_NEAR(quantile(v, 0.99), 99.01, 1e-9);
}

TEST(Quantile, OutOfRangeQIsClampedAndDegenerateInputsAreHandled) {
  const std::vector<double> v = {5, 7, 9};
  EXPECT_DOUBLE_EQ(quantile(v, -1), 5);
  EXPECT_DOUBLE_EQ(quantile(v, 2), 9);
  EXPECT_TRUE(std::isnan(quantile(std::vector<double>{}, 0.5)));
  EXPECT_TRUE(std::isnan(median(std::vector<double>{})));
  EXPECT_DOUBLE_EQ(quantile(std::vector<double>{42}, 0.0), 42);
  EXPECT_DOUBLE_EQ(quantile(std::vector<double>{42}, 0.7), 42);
  EXPECT_DOUBLE_EQ(quantile(std::vector<double>{3, 3, 3, 3}, 0.3), 3);
}

TEST(Median, OddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median(std::vector<double>{9, 1, 5}), 5);
  EXPECT_DOUBLE_EQ(median(std::vector<double>{9, 1, 5, 3}), 4);
}

TEST(RobustSigma, IsScaledMadAndIgnoresAnOutlier) {
  // Median 3, absolute deviations {2, 1, 0, 1, 97}: MAD 1.
  EXPECT_DOUBLE_EQ(robust_sigma(std::vector<double>{1, 2, 3, 4, 100}), 1.4826);
  EXPECT_DOUBLE_EQ(robust_sigma(std::vector<double>{7, 7, 7}), 0);
  EXPECT_TRUE(std::isnan(robust_sigma(std::vector<double>{})));
}

TEST(RobustSigma, EstimatesTheSigmaOfNormalNoise) {
  Noise noise(3);
  std::vector<double> v;
  for (int i = 0; i < 20000; ++i) v.push_back(100 + noise(2.0));
  EXPECT_NEAR(robust_sigma(v), 2.0, 0.1);
}

// --- Theil-Sen ----------------------------------------------------------------------------------

TEST(TheilSen, RecoversAnExactLine) {
  const auto x = iota_x(10);
  const SlopeFit fit = theil_sen(x, line(x, 3.0, 5.0));
  ASSERT_TRUE(fit.valid);
  EXPECT_DOUBLE_EQ(fit.slope, 3.0);
  EXPECT_DOUBLE_EQ(fit.intercept, 5.0);
  EXPECT_DOUBLE_EQ(fit.ci_low, 3.0) << "every pairwise slope is 3: the interval is the point";
  EXPECT_DOUBLE_EQ(fit.ci_high, 3.0);
  EXPECT_EQ(fit.points, 10u);
}

TEST(TheilSen, RecoversANegativeSlopeOnUnevenX) {
  const std::vector<double> x = {0, 0.5, 2, 2, 7, 11, 30};  // a repeated x is skipped in pairs
  const SlopeFit fit = theil_sen(x, line(x, -0.25, 100));
  ASSERT_TRUE(fit.valid);
  EXPECT_DOUBLE_EQ(fit.slope, -0.25);
  EXPECT_DOUBLE_EQ(fit.intercept, 100);
}

TEST(TheilSen, IsRobustToAFifthOfWildOutliers) {
  const auto x = iota_x(20);
  auto y = line(x, 2.0, 1.0);
  // 4 of 20 points far off in both directions: least squares would be pulled far from 2.
  y[3] += 1e6;
  y[9] -= 5e5;
  y[15] += 2e6;
  y[19] += 1e6;
  const SlopeFit fit = theil_sen(x, y);
  ASSERT_TRUE(fit.valid);
  // 120 of the 190 pairwise slopes are exactly 2, at most 70 on either side: the median is 2.
  EXPECT_DOUBLE_EQ(fit.slope, 2.0);
  EXPECT_DOUBLE_EQ(fit.intercept, 1.0);
}

TEST(TheilSen, IntervalCoversTheTrueSlopeOnSeededNoise) {
  // 95% intervals: over 40 seeded series nearly all cover the true slope, and each is tight.
  const double true_slope = 0.5;
  const auto x = iota_x(200);
  int covered = 0;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    Noise noise(seed);
    auto y = line(x, true_slope, 1000);
    for (double& v : y) v += noise(4.0);
    const SlopeFit fit = theil_sen(x, y);
    ASSERT_TRUE(fit.valid);
    EXPECT_LE(fit.ci_low, fit.slope) << "seed " << seed;
    EXPECT_GE(fit.ci_high, fit.slope) << "seed " << seed;
    EXPECT_NEAR(fit.slope, true_slope, 0.05) << "seed " << seed;
    EXPECT_LT(fit.ci_high - fit.ci_low, 0.1) << "seed " << seed;
    covered += fit.ci_low <= true_slope && true_slope <= fit.ci_high;
  }
  EXPECT_GE(covered, 35) << "a 95% interval covers the truth in about 38 of 40 series";
}

TEST(TheilSen, DegenerateInputsAreInvalid) {
  EXPECT_FALSE(theil_sen(std::vector<double>{}, std::vector<double>{}).valid);
  const SlopeFit one = theil_sen(std::vector<double>{1}, std::vector<double>{5});
  EXPECT_FALSE(one.valid);
  EXPECT_EQ(one.points, 1u);
  EXPECT_FALSE(theil_sen(std::vector<double>{1, 2}, std::vector<double>{5, 6}).valid)
      << "fewer than 3 points";
  const SlopeFit same_x =
      theil_sen(std::vector<double>{4, 4, 4, 4}, std::vector<double>{1, 2, 3, 4});
  EXPECT_FALSE(same_x.valid) << "all x equal: no slope exists";
  EXPECT_EQ(same_x.points, 4u);
}

TEST(TheilSen, UsesThePairedPrefixWhenLengthsDiffer) {
  const std::vector<double> x = {0, 1, 2, 3, 4, 5};
  const std::vector<double> y = {0, 2, 4, 6};  // y = 2x on the first four x
  const SlopeFit fit = theil_sen(x, y);
  ASSERT_TRUE(fit.valid);
  EXPECT_EQ(fit.points, 4u);
  EXPECT_DOUBLE_EQ(fit.slope, 2.0);
}

TEST(TheilSen, BinsALongSeriesToMaxPointsAndKeepsTheSlope) {
  const auto x = iota_x(3000);
  const SlopeFit fit = theil_sen(x, line(x, 7.0, -3.0), 100);
  ASSERT_TRUE(fit.valid);
  EXPECT_EQ(fit.points, 100u) << "3000 points reduced to 100 bins";
  EXPECT_NEAR(fit.slope, 7.0, 1e-9);
  EXPECT_NEAR(fit.intercept, -3.0, 1e-6);
}

TEST(TheilSenBlocked, ShortSeriesGetThePlainFit) {
  const auto x = iota_x(3 * kMinIntervalBlocks - 1);
  Noise noise(5);
  auto y = line(x, 1.0, 0);
  for (double& v : y) v += noise(1.0);
  double r1 = -1;
  const SlopeFit blocked = theil_sen_blocked(x, y, kIntervalBlocks, &r1);
  const SlopeFit plain = theil_sen(x, y);
  EXPECT_EQ(r1, 0) << "no autocorrelation computed below 3 x kMinIntervalBlocks points";
  EXPECT_EQ(blocked.slope, plain.slope);
  EXPECT_EQ(blocked.ci_low, plain.ci_low);
  EXPECT_EQ(blocked.ci_high, plain.ci_high);
  EXPECT_FALSE(theil_sen_blocked(std::vector<double>{}, std::vector<double>{}).valid);
}

TEST(TheilSenBlocked, ExactLineKeepsSlopeAndAPointInterval) {
  const auto x = iota_x(600);
  const SlopeFit fit = theil_sen_blocked(x, line(x, 4.0, 10.0));
  ASSERT_TRUE(fit.valid);
  EXPECT_DOUBLE_EQ(fit.slope, 4.0);
  EXPECT_NEAR(fit.ci_low, 4.0, 1e-9);
  EXPECT_NEAR(fit.ci_high, 4.0, 1e-9);
}

TEST(TheilSenBlocked, AutocorrelatedNoiseWidensTheIntervalToStayHonest) {
  // A flat series plus strongly autocorrelated noise (AR(1), phi 0.97: memory that wanders
  // without a trend). Sen's interval on the points assumes independence and often excludes the
  // true slope 0; the blocked interval must widen enough to cover it.
  const auto x = iota_x(600);
  int plain_covers = 0, blocked_covers = 0, inflated = 0;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    Noise noise(seed);
    std::vector<double> y;
    double e = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      e = 0.97 * e + noise(1.0);
      y.push_back(500 + e);
    }
    double r1 = 0;
    const SlopeFit plain = theil_sen(x, y);
    const SlopeFit blocked = theil_sen_blocked(x, y, kIntervalBlocks, &r1);
    ASSERT_TRUE(blocked.valid);
    EXPECT_EQ(blocked.slope, plain.slope) << "the slope is theil_sen's";
    EXPECT_LE(blocked.ci_low, blocked.slope);
    EXPECT_GE(blocked.ci_high, blocked.slope);
    EXPECT_GT(blocked.ci_high - blocked.ci_low, plain.ci_high - plain.ci_low) << "seed " << seed;
    inflated += r1 > 1.959964 / std::sqrt(30.0);
    plain_covers += plain.ci_low <= 0 && 0 <= plain.ci_high;
    blocked_covers += blocked.ci_low <= 0 && 0 <= blocked.ci_high;
  }
  EXPECT_GE(inflated, 10) << "most series trigger the effective-sample-size inflation";
  EXPECT_LE(plain_covers, 12) << "the independent-noise interval is too narrow here";
  EXPECT_GE(blocked_covers, 16) << "the blocked interval covers the true slope (0) mostly";
}

// --- Mann-Kendall -------------------------------------------------------------------------------

TEST(MannKendall, MonotoneSeriesHaveKnownScores) {
  std::vector<double> up;
  for (int i = 1; i <= 10; ++i) up.push_back(i);
  const TrendTest t = mann_kendall(up);
  ASSERT_TRUE(t.valid);
  EXPECT_DOUBLE_EQ(t.s, 45);                       // all 45 pairs rise
  EXPECT_NEAR(t.z, 44 / std::sqrt(125.0), 1e-12);  // var = 10 * 9 * 25 / 18, continuity -1
  const std::vector<double> down(up.rbegin(), up.rend());
  const TrendTest d = mann_kendall(down);
  EXPECT_DOUBLE_EQ(d.s, -45);
  EXPECT_NEAR(d.z, -t.z, 1e-12);
}

TEST(MannKendall, TiesReduceTheVariance) {
  // S = 5; var = (4*3*13 - 2*1*9) / 18 for one pair of tied values.
  const TrendTest t = mann_kendall(std::vector<double>{1, 1, 2, 3});
  ASSERT_TRUE(t.valid);
  EXPECT_DOUBLE_EQ(t.s, 5);
  EXPECT_NEAR(t.z, 4 / std::sqrt(138.0 / 18.0), 1e-12);
}

TEST(MannKendall, DegenerateInputsAreNotATest) {
  EXPECT_FALSE(mann_kendall(std::vector<double>{}).valid);
  EXPECT_FALSE(mann_kendall(std::vector<double>{1, 2, 3}).valid) << "fewer than 4 values";
  const TrendTest flat = mann_kendall(std::vector<double>{2, 2, 2, 2, 2});
  EXPECT_FALSE(flat.valid) << "every value equal";
  EXPECT_EQ(flat.s, 0);
}

TEST(MannKendall, NoiseWithoutTrendIsRarelySignificant) {
  int significant = 0;
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    Noise noise(seed);
    std::vector<double> v;
    for (int i = 0; i < 100; ++i) v.push_back(noise(1.0));
    significant += std::abs(mann_kendall(v).z) > 1.96;
  }
  EXPECT_LE(significant, 6) << "about 2 of 40 at the 5% level";
}

// --- blocks and the step split ------------------------------------------------------------------

TEST(Blocks, BoundsSplitEvenlyAndNeverExceedTheCount) {
  EXPECT_EQ(block_bounds(10, 3), (std::vector<std::size_t>{0, 3, 6, 10}));
  EXPECT_EQ(block_bounds(12, 4), (std::vector<std::size_t>{0, 3, 6, 9, 12}));
  EXPECT_EQ(block_bounds(2, 5), (std::vector<std::size_t>{0, 1, 2})) << "fewer blocks than asked";
  EXPECT_EQ(block_bounds(0, 5), (std::vector<std::size_t>{0, 0}));
  EXPECT_EQ(block_bounds(7, 0), (std::vector<std::size_t>{0, 7})) << "at least one block";
}

TEST(Blocks, SummariesTakeEachBlocksMinMaxOrMedian) {
  const std::vector<double> v = {5, 1, 9, 2, 8, 3, 7, 4, 6};
  const auto bounds = block_bounds(v.size(), 3);  // {5 1 9} {2 8 3} {7 4 6}
  EXPECT_EQ(block_summary(v, bounds, BlockStat::kMin), (std::vector<double>{1, 2, 4}));
  EXPECT_EQ(block_summary(v, bounds, BlockStat::kMax), (std::vector<double>{9, 8, 7}));
  EXPECT_EQ(block_summary(v, bounds, BlockStat::kMedian), (std::vector<double>{5, 3, 6}));
  EXPECT_TRUE(block_summary(std::vector<double>{}, block_bounds(0, 3), BlockStat::kMin).empty());
}

TEST(StepSplit, FindsTheFirstIndexOfTheSecondLevel) {
  EXPECT_EQ(best_step_split(std::vector<double>{0, 0, 0, 0, 10, 10, 10}), 4u);
  EXPECT_EQ(best_step_split(std::vector<double>{5e9, 5e9, 5e9, 4e9, 4e9, 4e9, 4e9, 4e9}), 3u)
      << "a drop of a gigabyte at large byte counts";
  Noise noise(11);
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back((i >= 130 ? 50.0 : 0.0) + noise(3.0));
  EXPECT_NEAR(static_cast<double>(best_step_split(v)), 130, 2);
}

TEST(StepSplit, TooFewPointsHaveNoSplit) {
  EXPECT_EQ(best_step_split(std::vector<double>{}), 0u);
  EXPECT_EQ(best_step_split(std::vector<double>{1, 9, 9}), 0u);
}
