// PhaseEnd: a phase end as summary.json keeps it, read back strictly; MemoryFigure's names.
#include "infermem/phase_end.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "infermem/arm_figures.h"
#include "infermem/error.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

constexpr double kMiB = 1024.0 * 1024;

PhaseEnd cache_phase() {
  PhaseEnd p;
  p.phase = Phase::infer;
  p.t_ms = 130.5;
  p.figures = {{Figure::rss_bytes, 308 * kMiB}, {Figure::malloc_free_bytes, 1.5 * kMiB}};
  ModelCacheStats s;
  s.hits = 27;
  s.misses = 3;
  s.loads = 3;
  s.refusals_by_reason["budget"] = 0;
  s.models["mlp-1.onnx"].cost.load_bytes = 4 * 1024 * 1024;
  p.cache = s;
  return p;
}

std::string error_of(const nlohmann::json& j) {
  try {
    PhaseEnd::from_json(j);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

}  // namespace

TEST(PhaseEnd, RoundTripsThroughItsJson) {
  const PhaseEnd p = cache_phase();
  const nlohmann::json j = p.to_json();
  EXPECT_EQ(j["phase"], "infer");
  EXPECT_DOUBLE_EQ(j["rss_bytes"].get<double>(), 308 * kMiB) << "figures keep their trace names";
  EXPECT_FALSE(j.contains("cycle"));
  const PhaseEnd back = PhaseEnd::from_json(j);
  EXPECT_EQ(back.to_json(), j);
  EXPECT_EQ(back.phase, Phase::infer);
  ASSERT_TRUE(back.cache);
  EXPECT_EQ(back.cache->hits, 27u);
  EXPECT_TRUE(std::isnan(back.value(Figure::rss_anon_bytes))) << "absent stays absent";
}

TEST(PhaseEnd, APhaseNoEnumNamesIsKeptAsWritten) {
  const PhaseEnd p = PhaseEnd::from_json({{"phase", "calibrate"}, {"t_ms", 1}, {"cycle", 2}});
  EXPECT_EQ(p.phase.text(), "calibrate");
  EXPECT_EQ(p.cycle, 2);
  EXPECT_EQ(p.to_json()["phase"], "calibrate");
}

// Files an earlier version wrote still load: the cycle as a double (before 2026-12-06), cache
// counters without the ones added since (budget, limit, refusal reasons, a model's cost split).
TEST(PhaseEnd, WhatAnEarlierVersionWroteStillLoads) {
  const PhaseEnd churn = PhaseEnd::from_json({{"phase", "unload"}, {"t_ms", 1}, {"cycle", 3.0}});
  EXPECT_EQ(churn.cycle, 3);
  // Parsed from text, as a file is (counts read as unsigned).
  const nlohmann::json old_cache = nlohmann::json::parse(R"({
    "hits": 5, "misses": 1, "loads": 1, "load_failures": 0, "evictions": 0, "refusals": 0,
    "coalesced_loads": 0, "idle_unloads": 0, "waits": 0, "bytes_resident": 10,
    "peak_bytes_resident": 10, "models_resident": 1, "release_method": "",
    "models": {"a.onnx": {"cost_bytes": 10, "resident": true, "loads": 1}}})");
  const PhaseEnd p = PhaseEnd::from_json({{"phase", "infer"}, {"t_ms", 2}, {"cache", old_cache}});
  ASSERT_TRUE(p.cache);
  EXPECT_EQ(p.cache->hits, 5u);
  EXPECT_EQ(p.cache->budget_bytes, 0u) << "a counter it did not have reads as 0";
  EXPECT_EQ(p.cache->models.at("a.onnx").cost.load_bytes, 10u) << "the cost, unsplit, as load";
  EXPECT_TRUE(p.cache->models.at("a.onnx").resident);
}

TEST(PhaseEnd, ANullFigureReadsAsAbsent) {
  const PhaseEnd p = PhaseEnd::from_json({{"phase", "load"}, {"t_ms", 1}, {"rss_bytes", nullptr}});
  EXPECT_FALSE(p.has(Figure::rss_bytes));
}

TEST(PhaseEnd, AMalformedPhaseEndIsAnErrorNamingTheField) {
  const nlohmann::json good = cache_phase().to_json();
  auto with = [&](const char* key, nlohmann::json v) {
    auto j = good;
    j[key] = std::move(v);
    return j;
  };
  auto without = [&](const char* key) {
    auto j = good;
    j.erase(key);
    return j;
  };
  EXPECT_THAT(error_of(without("phase")), HasSubstr("\"phase\""));
  EXPECT_THAT(error_of(without("t_ms")), HasSubstr("\"t_ms\""));
  EXPECT_THAT(error_of(with("rss_bytes", "a lot")), HasSubstr("\"rss_bytes\""));
  EXPECT_THAT(error_of(with("cycle", 1.5)), HasSubstr("\"cycle\""));
  EXPECT_THAT(error_of(with("cycle", -1)), HasSubstr("\"cycle\""));
  EXPECT_THAT(error_of(with("cycle", 5'000'000'000LL)), HasSubstr("\"cycle\"")) << "no wrap";
  EXPECT_THAT(error_of(with("rss_byts", 1.0)), HasSubstr("\"rss_byts\"")) << "a typo is no figure";
  auto bad_cache = good;
  bad_cache["cache"]["hits"] = -1;
  EXPECT_THAT(error_of(bad_cache), HasSubstr("\"cache\""));
  EXPECT_THAT(error_of(nlohmann::json::array()), HasSubstr("not a JSON object"));
}

TEST(PhaseEnd, AListNamesWhereAndWhichEntryWasWrong) {
  nlohmann::json list = to_json(std::vector<PhaseEnd>{cache_phase(), cache_phase()});
  EXPECT_EQ(phase_ends_from_json(list, "arm lean").size(), 2u);
  list[1]["t_ms"] = "late";
  try {
    phase_ends_from_json(list, "arm lean");
    FAIL() << "accepted a malformed phase end";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("arm lean: phases[1]: \"t_ms\""));
  }
  EXPECT_THROW(phase_ends_from_json(nlohmann::json::object(), "arm lean"), InputError);
}

TEST(PhaseEnd, FirstAndLastEndOfAPhase) {
  std::vector<PhaseEnd> ends(4);
  ends[0].phase = Phase::baseline;
  ends[1].phase = Phase::unload;
  ends[1].t_ms = 1;
  ends[2].phase = Phase::trim;
  ends[3].phase = Phase::unload;
  ends[3].t_ms = 3;
  EXPECT_EQ(first_end(ends, Phase::unload), &ends[1]);
  EXPECT_EQ(last_end(ends, Phase::unload), &ends[3]);
  EXPECT_EQ(first_end(ends, Phase::infer), nullptr);
  EXPECT_EQ(last_end(ends, Phase::infer), nullptr);
}

// The reports list a spread in MemoryFigure's order, which must be the names' order: the order
// summary.json's objects have, so that a re-rendered report equals the one soak wrote.
TEST(MemoryFigure, TheOrderIsTheOrderOfTheNames) {
  for (std::size_t i = 1; i < std::size(kMemoryFigures); ++i) {
    EXPECT_LT(kMemoryFigures[i - 1], kMemoryFigures[i]) << "the list is the enum's order";
    EXPECT_LT(name(kMemoryFigures[i - 1]), name(kMemoryFigures[i]));
  }
}

TEST(MemoryFigure, EachNameReadsBackAndNamesItsOwnField) {
  MemoryFigures m;
  double v = 1;
  for (MemoryFigure f : kMemoryFigures) {
    EXPECT_EQ(parse_memory_figure(name(f)), f) << name(f);
    m.*field(f) = v++;
  }
  const double fields[] = {m.after_trim_bytes, m.after_unload_bytes, m.baseline_bytes,
                           m.loaded_bytes,     m.peak_bytes,         m.retained_anon_bytes,
                           m.retained_bytes,   m.retained_file_bytes};
  for (std::size_t i = 0; i < std::size(fields); ++i)
    EXPECT_DOUBLE_EQ(fields[i], static_cast<double>(i + 1)) << "every figure its own field";
  EXPECT_EQ(name(MemoryFigure::peak), "peak_bytes");
  EXPECT_FALSE(parse_memory_figure("peak"));
}
