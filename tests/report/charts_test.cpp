// The charts' figures (ArmCharts): a long series downsampled into windows that keep each
// figure's min and max, phases as spans, the verdict's fitted line, and their JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "infermem/charts.h"
#include "infermem/error.h"

using namespace infermem;

namespace {

Series flat_series(std::size_t n) {
  Series s;
  s.name = "arm";
  for (std::size_t i = 0; i < n; ++i) {
    SeriesPoint p;
    p.t_ms = 10.0 * static_cast<double>(i);
    p.req = static_cast<std::int64_t>(i + 1);
    p.phase = i < 3 ? "warm" : "infer";
    p.current_bytes = 100e6;
    p.anon_bytes = 60e6;
    s.points.push_back(p);
  }
  return s;
}

}  // namespace

TEST(Charts, DownsamplingKeepsEverySpikeAndDip) {
  Series s = flat_series(100000);
  s.points[43210].current_bytes = 900e6;  // one reading's spike
  s.points[77777].current_bytes = 1e6;    // one reading's dip
  const ArmCharts c = make_arm_charts(s, Verdict{}, SeriesContext{}, {}, 1000);
  const MemoryChart& m = c.memory;
  EXPECT_EQ(m.raw_points, 100000u);
  EXPECT_EQ(m.window_points, 100u);
  ASSERT_EQ(m.windows(), 1000u);
  ASSERT_EQ(m.bands.size(), 2u);  // rss and anon: the figures the series has
  EXPECT_EQ(m.bands[0].key, "rss");
  EXPECT_EQ(m.bands[1].key, "anon");
  const auto& rss = m.bands[0];
  EXPECT_EQ(*std::max_element(rss.max.begin(), rss.max.end()), 900e6);
  EXPECT_EQ(rss.max[432], 900e6);
  EXPECT_EQ(*std::min_element(rss.min.begin(), rss.min.end()), 1e6);
  EXPECT_EQ(rss.min[777], 1e6);
  EXPECT_EQ(m.x_request.front(), 1);
  EXPECT_EQ(m.x_request[1], 101);
  EXPECT_DOUBLE_EQ(m.t_s[1], 1.0);
  ASSERT_EQ(m.spans.size(), 2u);
  EXPECT_EQ(m.spans[0].phase, "warm");
  EXPECT_EQ(m.spans[1].x_from, 4);
  EXPECT_EQ(m.spans[1].x_to, 100000);
}

TEST(Charts, ShortSeriesKeepsEveryPointAndChurnCyclesAddUp) {
  Series s;
  for (int cycle = 0; cycle < 3; ++cycle)
    for (int r = 1; r <= 5; ++r) {
      SeriesPoint p;
      p.req = r;  // the worker's counter restarts with each cycle
      p.cycle = cycle;
      p.phase = "infer";
      p.current_bytes = 1e6 * (cycle + 1);
      s.points.push_back(p);
    }
  SeriesContext ctx;
  ctx.after_unload_per_cycle_bytes = {1e6, 2e6, 3e6};
  const ArmCharts c = make_arm_charts(s, Verdict{}, ctx, {1.0, 2.0, 3.0});
  EXPECT_EQ(c.memory.windows(), 15u);
  EXPECT_EQ(c.memory.window_points, 1u);
  EXPECT_EQ(c.memory.x_request.back(), 15);
  EXPECT_EQ(c.memory.spans.size(), 3u);  // one per cycle
  EXPECT_EQ(c.after_unload_per_cycle_bytes.size(), 3u);
  EXPECT_EQ(c.latency_quantiles_ms.size(), 3u);
}

TEST(Charts, TheFittedLineComesFromTheVerdictsGrowthFit) {
  Verdict v;
  finding::GrowthFit fit;
  fit.slope = 1000;
  fit.unit = "request";
  fit.intercept = 5e6;
  fit.x_from = 20;
  fit.x_to = 200;
  v.findings.push_back({fit, std::nullopt});
  const ArmCharts c = make_arm_charts(flat_series(200), v, SeriesContext{}, {});
  EXPECT_EQ(c.memory.fit_x_from, 20);
  EXPECT_EQ(c.memory.fit_y_from, 5e6 + 20 * 1000);
  EXPECT_EQ(c.memory.fit_y_to, 5e6 + 200 * 1000);
  // A fit on another axis is not drawn on the request axis.
  std::get<finding::GrowthFit>(v.findings[0].detail).unit = "minute";
  EXPECT_TRUE(std::isnan(make_arm_charts(flat_series(200), v, {}, {}).memory.fit_x_from));
}

TEST(Charts, JsonRoundTripsAndRejectsRaggedBands) {
  Series s = flat_series(5000);
  s.points[10].anon_bytes = kAbsent;
  SeriesContext ctx;
  ctx.after_unload_per_cycle_bytes = {7e6};
  const ArmCharts c = make_arm_charts(s, Verdict{}, ctx, {0.5});
  const auto j = c.to_json();
  EXPECT_EQ(ArmCharts::from_json(j).to_json(), j);
  auto ragged = j;
  ragged["memory"]["bands"][0]["max"].erase(0);
  EXPECT_THROW(ArmCharts::from_json(ragged), InputError);
  EXPECT_THROW(ArmCharts::from_json(nlohmann::json::array()), InputError);
}
