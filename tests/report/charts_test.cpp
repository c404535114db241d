// The charts' figures (ArmCharts): a long series downsampled into windows that keep each
// figure's min and max, phases as spans, the verdict's fitted line, and their JSON.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <algorithm>

#include "infermem/charts.h"
#include "infermem/error.h"
#include "infermem/trace.h"

using namespace infermem;

namespace {

Series flat_series(std::size_t n) {
  Series s;
  s.name = "arm";
  for (std::size_t i = 0; i < n; ++i) {
    SeriesPoint p;
    p.t_ms = 10.0 * static_cast<double>(i);
    p.req = static_cast<std::int64_t>(i + 1);
    p.phase = i < 3 ? Phase::warm : Phase::infer;
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
  EXPECT_EQ(m.spans[0].phase.text(), "warm");
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
      p.phase = Phase::infer;
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

namespace {

// The records of a cache-scenario arm, as a child writes them: an lru:2 cache over three models.
// The child's arm begin at 100 ms; per request its `request` and `sample` records; `note`
// records for each load, eviction and refusal before the request they belong to (evictions first,
// as the worker writes them). A refusal serves nothing, so requests done does not move.
ArmAccumulator cache_arm(std::vector<std::string> extra_lines = {}) {
  std::string text =
      R"({"v":1,"type":"arm","t_ms":100,"src":"child","edge":"begin","config":{}})"
      "\n"
      R"({"v":1,"type":"phase","t_ms":150,"src":"child","phase":"infer","edge":"begin"})"
      "\n";
  // Per request: the events before it, then whether it is served.
  struct Step {
    std::vector<const char*> events;
    bool served;
  };
  const std::vector<Step> steps = {
      {{"load"}, true},           // 1 resident
      {{"load"}, true},           // 2
      {{}, true},                 // hit
      {{"evict", "load"}, true},  // 2 (a third model in)
      {{"refused"}, false},       // refused: nothing served
      {{"evict", "load"}, true},  // 2
      {{}, true},                 // hit
  };
  int req = 0;
  double t = 200;
  for (const auto& step : steps) {
    for (const char* e : step.events)
      text += fmt::format(
          R"({{"v":1,"type":"note","t_ms":{},"src":"child","phase":"infer","req":{},"event":"{}","model":0}})"
          "\n",
          t++, req, e);
    if (!step.served) continue;
    ++req;
    text += fmt::format(
        R"({{"v":1,"type":"request","t_ms":{},"src":"child","phase":"infer","req":{},"latency_ms":1.5}})"
        "\n",
        t, req);
    text += fmt::format(
        R"({{"v":1,"type":"sample","t_ms":{},"src":"child","phase":"infer","req":{},"rss_bytes":{}}})"
        "\n",
        t, req, 50e6 + req * 1e6);
    t += 10;
  }
  for (const auto& l : extra_lines) text += l + "\n";
  trace::Reader reader(trace::Source::from_text(text));
  ArmAccumulator acc;
  while (auto r = reader.next()) acc.add(*r);
  EXPECT_EQ(reader.skipped(), 0u) << "a hand-written line is malformed";
  return acc;
}

}  // namespace

TEST(Charts, CacheChartCountsLoadsEvictionsAndResidentModelsFromTheTrace) {
  const ArmAccumulator acc = cache_arm();
  EXPECT_EQ(acc.cache_events().size(), 7u);
  const ArmCharts c = make_arm_charts(acc, "naive", Verdict{}, SeriesContext{});
  ASSERT_TRUE(c.cache.has_value());
  const CacheChart& k = *c.cache;
  // One point per served request (six), each after its events; no event after the last one.
  EXPECT_EQ(k.raw_points, 6u);
  EXPECT_EQ(k.window_points, 1u);
  EXPECT_EQ(k.x_request, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(k.resident_max, (std::vector<double>{1, 2, 2, 2, 2, 2}));
  EXPECT_EQ(k.resident_min, k.resident_max);
  EXPECT_EQ(k.loads, (std::vector<double>{1, 2, 2, 3, 4, 4}));
  EXPECT_EQ(k.evictions, (std::vector<double>{0, 0, 0, 1, 2, 2}));
  // The refusal came before the fifth served request.
  EXPECT_EQ(k.refusals, (std::vector<double>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(k.total_loads, 4u);
  EXPECT_EQ(k.total_evictions, 2u);
  EXPECT_EQ(k.total_refusals, 1u);
  EXPECT_EQ(k.max_resident, 2u);
  // Seconds since the child's arm begin record (100 ms): the first request at 201 ms.
  EXPECT_DOUBLE_EQ(k.t_arm_s.front(), 0.101);
  EXPECT_DOUBLE_EQ(c.memory.t_arm_s.front(), 0.101);
  EXPECT_DOUBLE_EQ(c.memory.t_s.front(), 0.201);
  // The JSON round-trips, and a ragged list is an input error.
  const auto j = c.to_json();
  EXPECT_EQ(ArmCharts::from_json(j).to_json(), j);
  auto ragged = j;
  ragged["cache"]["loads"].erase(0);
  EXPECT_THROW(ArmCharts::from_json(ragged), InputError);
}

TEST(Charts, CacheEventsAfterTheLastReadingAddOnePointAndOtherNotesAreIgnored) {
  const ArmAccumulator acc = cache_arm(
      {R"({"v":1,"type":"note","t_ms":900,"src":"child","phase":"infer","req":6,"event":"refused","model":2})",
       R"({"v":1,"type":"note","t_ms":901,"src":"child","event":"idle","edge":"begin"})",
       R"({"v":1,"type":"note","t_ms":902,"src":"parent","text":"a warning"})"});
  const ArmCharts c = make_arm_charts(acc, "b", Verdict{}, SeriesContext{});
  ASSERT_TRUE(c.cache.has_value());
  EXPECT_EQ(c.cache->raw_points, 7u);
  EXPECT_EQ(c.cache->x_request.back(), 6);  // nothing more was served
  EXPECT_DOUBLE_EQ(c.cache->t_arm_s.back(), 0.8);
  EXPECT_EQ(c.cache->refusals.back(), 2);
  EXPECT_EQ(c.cache->total_refusals, 2u);
}

TEST(Charts, CacheChartIsDownsampledKeepingResidentMinAndMax) {
  // 10,000 requests, a load before each odd-numbered one and an eviction before each even one:
  // resident alternates 1, 0, 1, 0... except one burst of three loads at request 5001, evicted
  // before the next.
  std::vector<SeriesPoint> points(10000);
  std::vector<CacheEvent> events;
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i].req = static_cast<std::int64_t>(i + 1);
    points[i].t_ms = 1000 + static_cast<double>(i);
    if (i == 5000) {
      for (int k = 0; k < 3; ++k) events.push_back({CacheEvent::Kind::load, i, 0, 0});
      continue;
    }
    if (i == 5001) {
      for (int k = 0; k < 3; ++k) events.push_back({CacheEvent::Kind::evict, i, 0, 0});
      continue;
    }
    events.push_back({i % 2 == 0 ? CacheEvent::Kind::load : CacheEvent::Kind::evict, i, 0, 0});
  }
  const auto k = make_cache_chart(points, events, 1000, 1000);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->raw_points, 10000u);
  EXPECT_EQ(k->window_points, 10u);
  ASSERT_EQ(k->windows(), 1000u);
  EXPECT_EQ(k->resident_min[0], 0);
  EXPECT_EQ(k->resident_max[0], 1);
  EXPECT_EQ(k->resident_max[500], 3);  // the one-request burst survives its window
  EXPECT_EQ(k->resident_min[500], 0);
  EXPECT_EQ(*std::max_element(k->resident_max.begin(), k->resident_max.end()), 3);
  EXPECT_EQ(k->max_resident, 3u);
  // Counts at each window's end: never falling, the last is the total.
  EXPECT_TRUE(std::is_sorted(k->loads.begin(), k->loads.end()));
  EXPECT_EQ(k->loads.back(), static_cast<double>(k->total_loads));
  EXPECT_EQ(k->evictions.back(), static_cast<double>(k->total_evictions));
  EXPECT_EQ(k->x_request[1], 11);
  EXPECT_DOUBLE_EQ(k->t_arm_s[1], 0.01);
  // No events: no cache chart (the other scenarios).
  EXPECT_FALSE(make_cache_chart(points, {}, 0).has_value());
}
