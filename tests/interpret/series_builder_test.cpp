// SeriesBuilder: bounded memory, exact running figures, and the verdicts of the whole series.
#include "infermem/series_builder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "infermem/verdict.h"

using namespace infermem;

namespace {

SeriesPoint point(double t_ms, double current, double hwm = kAbsent, std::int64_t req = -1) {
  SeriesPoint p;
  p.t_ms = t_ms;
  p.req = req;
  p.current_bytes = current;
  p.hwm_bytes = hwm;
  return p;
}

// n readings of `base` + `slope` bytes per request with Gaussian noise, one every 100 ms.
Series generated(std::size_t n, double slope, std::size_t max_points, SeriesFigures* figures) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 512 * 1024);
  SeriesBuilder b(max_points);
  for (std::size_t i = 0; i < n; ++i)
    b.add(point(100.0 * static_cast<double>(i),
                200.0 * 1024 * 1024 + slope * static_cast<double>(i) + noise(rng), kAbsent,
                static_cast<std::int64_t>(i + 1)));
  Series s;
  s.name = "generated";
  *figures = b.figures();
  s.points = b.take_points();
  return s;
}

}  // namespace

TEST(SeriesBuilder, KeepsEveryPointUntilTheCap) {
  SeriesBuilder b(8);
  for (int i = 0; i < 7; ++i) b.add(point(i, 100 + i));
  EXPECT_FALSE(b.merged());
  auto pts = b.take_points();
  ASSERT_EQ(pts.size(), 7u);
  EXPECT_EQ(pts[3].current_bytes, 103);
}

TEST(SeriesBuilder, MergesAdjacentPairsAtTheCapKeepingTheLastReadingAndTheHighestHwm) {
  SeriesBuilder b(8);
  for (int i = 0; i < 1000; ++i) b.add(point(i, 1000 + i, i % 10 == 3 ? 5000 + i : 10.0, i));
  EXPECT_TRUE(b.merged());
  const auto& f = b.figures();
  EXPECT_EQ(f.points, 1000u) << "the count is exact";
  EXPECT_EQ(f.peak_current_bytes, 1999) << "so is the peak";
  EXPECT_EQ(f.peak_hwm_bytes, 5993);
  EXPECT_EQ(f.first_t_ms, 0);
  EXPECT_EQ(f.last_t_ms, 999);
  auto pts = b.take_points();
  EXPECT_LE(pts.size(), 8u);
  EXPECT_GE(pts.size(), 4u);
  EXPECT_EQ(pts.back().t_ms, 999) << "the last point read is kept as it was";
  EXPECT_EQ(pts.back().req, 999);
  EXPECT_EQ(pts.back().current_bytes, 1999);
  double highest_kept_hwm = 0;
  for (const auto& p : pts) highest_kept_hwm = std::max(highest_kept_hwm, p.hwm_bytes);
  EXPECT_EQ(highest_kept_hwm, 5993) << "no high-water mark is lost in a merge";
  for (std::size_t i = 1; i < pts.size(); ++i) EXPECT_LT(pts[i - 1].t_ms, pts[i].t_ms);
}

TEST(SeriesBuilder, OutOfOrderPointsAreSortedWhenTaken) {
  SeriesBuilder b;
  for (double t : {0.0, 2.0, 1.0, 3.0}) b.add(point(t, t));
  EXPECT_TRUE(b.out_of_order());
  auto pts = b.take_points(/*sort_by_time=*/true);
  ASSERT_EQ(pts.size(), 4u);
  EXPECT_EQ(pts[1].t_ms, 1.0);
  EXPECT_EQ(b.figures().min_t_ms, 0.0);
}

TEST(SeriesBuilder, OnlyAHighWaterMarkIsSaidSo) {
  SeriesBuilder b;
  b.add(point(0, kAbsent, 10));
  EXPECT_TRUE(b.figures().hwm_only());
  b.add(point(1, 5, 10));
  EXPECT_FALSE(b.figures().hwm_only());
  EXPECT_EQ(b.figures().peak_bytes(), 10);
}

TEST(SeriesBuilder, ALongSeriesGetsTheVerdictAndRateOfTheWholeSeries) {
  // 200000 readings judged whole and through a builder capped at the default: the same kind,
  // and rates that agree within 10% (decimation keeps one reading in 64; Theil-Sen's estimate
  // moves by a few percent at this noise, so 10% is the margin that says "the same leak").
  constexpr std::size_t n = 200'000;
  SeriesFigures whole_figures, kept_figures;
  Series whole = generated(n, 64.0, n + 1, &whole_figures);
  Series kept = generated(n, 64.0, kDefaultMaxSeriesPoints, &kept_figures);
  ASSERT_EQ(whole.points.size(), n);
  ASSERT_LE(kept.points.size(), kDefaultMaxSeriesPoints);
  EXPECT_EQ(kept_figures.points, n);
  EXPECT_EQ(kept_figures.peak_current_bytes, whole_figures.peak_current_bytes);
  const Verdict a = judge(whole), b = judge(kept);
  EXPECT_EQ(a.kind, VerdictKind::leak);
  EXPECT_EQ(b.kind, a.kind);
  EXPECT_NEAR(b.growth_bytes_per_request, a.growth_bytes_per_request,
              0.1 * a.growth_bytes_per_request);

  Series flat_whole = generated(n, 0.0, n + 1, &whole_figures);
  Series flat_kept = generated(n, 0.0, kDefaultMaxSeriesPoints, &kept_figures);
  EXPECT_EQ(judge(flat_kept).kind, judge(flat_whole).kind);
  EXPECT_EQ(judge(flat_kept).kind, VerdictKind::stable);
}
