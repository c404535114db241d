// The verdict engine on synthetic series whose truth is known (fixed seeds).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "infermem/verdict.h"
#include "synthetic.h"
#include "verdict/patterns.h"

using namespace infermem;
using namespace infermem::test;

namespace {

// The ONNX Runtime arena filling up during the first requests: not a leak.
double arena_fill(std::size_t i) {
  return 40 * kMiB * (1 - std::exp(-static_cast<double>(i) / 30));
}

std::string all_evidence(const Verdict& v) {
  std::string out;
  for (const auto& e : v.evidence) out += e + "\n";
  return out;
}

}  // namespace

TEST(Judge, FlatNoiseIsStable) {
  Verdict v = judge(flat_series(1000, 7));
  EXPECT_EQ(v.kind, VerdictKind::stable) << all_evidence(v);
  EXPECT_GT(v.min_detectable_bytes_per_request, 0);
  EXPECT_FALSE(v.causes.empty());
  EXPECT_FALSE(v.remediations.empty());
}

TEST(Judge, AllocatorSawtoothWithoutTrendIsStable) {
  // 40 MiB teeth every 97 requests: far above the noise, but no trend in maxima or minima.
  auto tooth = [](std::size_t i) {
    return 200 * kMiB + 40 * kMiB * static_cast<double>(i % 97) / 97;
  };
  Verdict v = judge(make_series({1500, tooth, 1 * kMiB, 3}));
  EXPECT_EQ(v.kind, VerdictKind::stable) << all_evidence(v);
}

TEST(Judge, SaturatingGrowthIsPlateauWithItsLevel) {
  auto saturating = [](std::size_t i) {
    return 260 * kMiB - 60 * kMiB * std::exp(-static_cast<double>(i) / 150);
  };
  Verdict v = judge(make_series({1500, saturating, 1 * kMiB, 5}));
  EXPECT_EQ(v.kind, VerdictKind::plateau) << all_evidence(v);
  // The level is the median of the last third; 3 MiB covers the noise (1 MiB) and the residual
  // approach to the asymptote.
  EXPECT_NEAR(v.plateau_level_bytes, 260 * kMiB, 3 * kMiB);
}

class LinearLeak : public ::testing::TestWithParam<double> {};

TEST_P(LinearLeak, IsLeakWithItsRateAndAnIntervalCoveringIt) {
  double rate = GetParam();
  auto leaking = [rate](std::size_t i) {
    return 200 * kMiB + arena_fill(i) + rate * static_cast<double>(i);
  };
  // A 95% interval misses the truth 1 time in 20 by design, so coverage is checked over 20
  // seeded series (at least 17 must cover: 16 or fewer has probability ~1.6% if calibrated).
  int covered = 0;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    // 1.5 MiB noise is what VmRSS after each request shows on a busy shared machine.
    Verdict v = judge(make_series({2000, leaking, 1.5 * kMiB, seed}));
    ASSERT_EQ(v.kind, VerdictKind::leak) << "seed " << seed << "\n" << all_evidence(v);
    EXPECT_NEAR(v.growth_bytes_per_request, rate, 0.25 * rate) << "seed " << seed;
    covered +=
        v.growth_ci_low_bytes_per_request <= rate && rate <= v.growth_ci_high_bytes_per_request;
    // 10 requests/s: per minute is 600 x per request.
    EXPECT_NEAR(v.growth_bytes_per_minute, 600 * rate, 0.25 * 600 * rate) << "seed " << seed;
    EXPECT_LT(v.min_detectable_bytes_per_request, rate) << "seed " << seed;
  }
  EXPECT_GE(covered, 17);
}

TEST(Judge, IntervalCoversTheRateUnderAutocorrelatedNoise) {
  // RSS read after every request is autocorrelated: AR(1) noise with phi 0.9 (1.5 MiB marginal
  // sigma). Sen's interval on the points assumed independence and covered the truth in 2 of 54
  // real runs; the block-median interval must cover it in most seeds.
  constexpr double kRate = 16 * kKiB, kPhi = 0.9;
  int covered = 0, leaks = 0;
  for (std::uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> innovation(0.0, 1.5 * kMiB * std::sqrt(1 - kPhi * kPhi));
    Series s = make_series({2000, [](std::size_t) { return 0.0; }, 0.0, seed});
    double noise = 0;
    for (std::size_t i = 0; i < s.points.size(); ++i) {
      noise = kPhi * noise + innovation(rng);
      s.points[i].current_bytes =
          200 * kMiB + arena_fill(i) + kRate * static_cast<double>(i) + noise;
    }
    Verdict v = judge(s);
    leaks += v.kind == VerdictKind::leak;
    covered +=
        v.growth_ci_low_bytes_per_request <= kRate && kRate <= v.growth_ci_high_bytes_per_request;
    EXPECT_NEAR(v.growth_bytes_per_request, kRate, 0.25 * kRate) << "seed " << seed;
    EXPECT_GE(v.min_detectable_bytes_per_request,
              (v.growth_ci_high_bytes_per_request - v.growth_ci_low_bytes_per_request) / 2 - 1e-6);
  }
  EXPECT_GE(covered, 16) << "of 20";
  EXPECT_EQ(leaks, 20);
}

INSTANTIATE_TEST_SUITE_P(Rates, LinearLeak, ::testing::Values(4 * kKiB, 16 * kKiB, 64 * kKiB));

class Step : public ::testing::TestWithParam<double> {};

TEST_P(Step, OneTimeJumpIsPlateauNotLeak) {
  // A one-time jump of 30 MiB (lazy initialisation, one bigger shape): documented as plateau.
  double at = GetParam();
  auto step = [at](std::size_t i) {
    return 200 * kMiB + (static_cast<double>(i) >= at * 1500 ? 30 * kMiB : 0.0);
  };
  Verdict v = judge(make_series({1500, step, 1.5 * kMiB, 13}));
  EXPECT_EQ(v.kind, VerdictKind::plateau) << all_evidence(v);
  EXPECT_NEAR(v.plateau_level_bytes, 230 * kMiB, 2 * kMiB);
}

INSTANTIATE_TEST_SUITE_P(Positions, Step, ::testing::Values(0.2, 0.4, 0.5, 0.6, 0.75, 0.9));

TEST(Judge, RisingHighWaterMarkWithFlatCurrentIsHwmArtifact) {
  Series s = flat_series(1000, 17);
  double hwm = 230 * kMiB;
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    if (i % 40 == 0) hwm += 2 * kMiB;  // a transient peak sets a new mark now and then
    s.points[i].hwm_bytes = hwm;
  }
  s.hwm_source = "VmHWM";
  Verdict v = judge(s);
  EXPECT_EQ(v.kind, VerdictKind::hwm_artifact) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("cannot show a leak"), std::string::npos);
}

TEST(Judge, NoisyCurrentWithItsOwnHighWaterMarkStaysStable) {
  // VmHWM of a flat noisy process rises only when the noise sets a record: not an artifact.
  Series s = flat_series(1000, 19);
  double hwm = 0;
  for (auto& p : s.points) p.hwm_bytes = hwm = std::max(hwm, p.current_bytes);
  EXPECT_EQ(judge(s).kind, VerdictKind::stable);
}

TEST(Judge, HighWaterMarkOnlyIsHwmArtifactWithNoRate) {
  Series s;
  s.hwm_source = "Lambda Max Memory Used (environment-lifetime high-water mark)";
  for (int i = 0; i < 50; ++i) {
    SeriesPoint p;
    p.t_ms = 1000.0 * i;
    p.hwm_bytes = (400 + 2 * i) * kMiB;
    s.points.push_back(p);
  }
  Verdict v = judge(s);
  EXPECT_EQ(v.kind, VerdictKind::hwm_artifact);
  EXPECT_TRUE(std::isnan(v.growth_bytes_per_request));
  EXPECT_TRUE(std::isnan(v.min_detectable_bytes_per_request));
  std::string text = all_evidence(v);
  EXPECT_NE(text.find("cannot show a leak or its"), std::string::npos) << text;
  EXPECT_NE(text.find("Lambda Max Memory Used"), std::string::npos) << text;
}

TEST(Judge, CurrentGrowingWhileAllocatorInUseIsFlatIsFragmentation) {
  auto growing = [](std::size_t i) { return 200 * kMiB + 32 * kKiB * static_cast<double>(i); };
  Series s = make_series({1500, growing, 1 * kMiB, 23});
  for (auto& p : s.points) p.allocator_in_use_bytes = 120 * kMiB + (p.req % 7) * kKiB;
  Verdict v = judge(s);
  EXPECT_EQ(v.kind, VerdictKind::fragmentation) << all_evidence(v);
}

TEST(Judge, CurrentGrowingWithAllocatorInUseIsLeak) {
  auto growing = [](std::size_t i) { return 200 * kMiB + 32 * kKiB * static_cast<double>(i); };
  Series s = make_series({1500, growing, 1 * kMiB, 23});
  for (auto& p : s.points) p.allocator_in_use_bytes = p.current_bytes - 80 * kMiB;
  EXPECT_EQ(judge(s).kind, VerdictKind::leak);
}

TEST(Judge, InUseLeakAbsorbedByFreeHeapIsLeakWithTheInUseRate) {
  // RSS flat (freed heap is reused) while live allocations grow 4 KiB/request: a leak.
  constexpr double kRate = 4 * kKiB;
  Series s = make_series({2000, [](std::size_t) { return 200 * kMiB; }, 0.3 * kMiB, 83});
  std::mt19937 rng(83);
  std::normal_distribution<double> jitter(0.0, 64 * kKiB);
  for (std::size_t i = 0; i < s.points.size(); ++i)
    s.points[i].allocator_in_use_bytes = 150 * kMiB + kRate * static_cast<double>(i) + jitter(rng);
  Verdict v = judge(s);
  std::string text = all_evidence(v);
  EXPECT_EQ(v.kind, VerdictKind::leak) << text;
  EXPECT_NEAR(v.growth_bytes_per_request, kRate, 0.25 * kRate) << text;
  EXPECT_LE(v.growth_ci_low_bytes_per_request, kRate * 1.05);
  EXPECT_NEAR(v.growth_bytes_per_minute, 600 * kRate, 0.25 * 600 * kRate);
  EXPECT_NE(text.find("allocator's in-use bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("freed heap"), std::string::npos) << text;
  EXPECT_NE(text.find("must start rising within at most"), std::string::npos) << text;
}

TEST(Judge, FlatInUseOrAnInUseStepUnderFlatRssIsNotALeak) {
  Series flat = flat_series(1500, 89, 0.3 * kMiB);
  Series step = flat;
  std::mt19937 rng(89);
  std::normal_distribution<double> jitter(0.0, 64 * kKiB);
  for (std::size_t i = 0; i < flat.points.size(); ++i) {
    double j = jitter(rng);
    flat.points[i].allocator_in_use_bytes = 150 * kMiB + j;
    step.points[i].allocator_in_use_bytes = 150 * kMiB + (i >= 900 ? 6 * kMiB : 0.0) + j;
  }
  Verdict a = judge(flat), b = judge(step);
  EXPECT_EQ(a.kind, VerdictKind::stable) << all_evidence(a);
  EXPECT_NE(b.kind, VerdictKind::leak) << all_evidence(b);
}

TEST(Judge, TrimGivingBackTheRetentionIsFragmentation) {
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.after_unload_bytes = 75 * kMiB;
  c.after_trim_bytes = 32 * kMiB;
  Verdict v = judge(flat_series(800, 29), c);
  EXPECT_EQ(v.kind, VerdictKind::fragmentation) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("malloc_trim gave back"), std::string::npos);
}

TEST(Judge, AnArmsOwnTrimIsEvidenceNotFragmentation) {
  // The same figures as above, but the trim is the arm's own (soak's trim=on, as in lean): it
  // is judged on what it leaves (2 MiB), and the evidence says what its trim gave back.
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.after_unload_bytes = 75 * kMiB;
  c.after_trim_bytes = 32 * kMiB;
  c.trim_by_arm = true;
  Verdict v = judge(flat_series(800, 29), c);
  EXPECT_EQ(v.kind, VerdictKind::stable) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("the arm's own malloc_trim gave back 43.0 MiB"), std::string::npos)
      << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("it leaves 2.0 MiB"), std::string::npos) << all_evidence(v);
  // Growth while serving that the arm's own trim gives back is fragmentation, as before: never a
  // leak (no false leaks on trim arms).
  Series growing = flat_series(800, 31);
  for (auto& p : growing.points) p.current_bytes += p.req * 64 * kKiB;
  EXPECT_EQ(judge(growing, c).kind, VerdictKind::fragmentation) << all_evidence(judge(growing, c));
  // Growth the trim does not give back stays a leak.
  SeriesContext kept = c;
  kept.after_trim_bytes = 73 * kMiB;
  EXPECT_EQ(judge(growing, kept).kind, VerdictKind::leak);
}

TEST(Judge, SmallAllocatorHeldStepOnAHealthyRunIsNotFragmentation) {
  // A 70 MiB process whose RSS steps up 3 MiB (arena pages, a bigger shape) while in-use bytes
  // stay flat: literally held by the allocator, but not material (< max(8 MiB, 10%)).
  auto step = [](std::size_t i) { return 70 * kMiB + (i >= 400 ? 3 * kMiB : 0.0); };
  Series s = make_series({1000, step, 0.2 * kMiB, 71});
  for (auto& p : s.points) p.allocator_in_use_bytes = 40 * kMiB + (p.req % 5) * kKiB;
  SeriesContext c;
  c.loaded_bytes = 68 * kMiB;
  Verdict v = judge(s, c);
  EXPECT_EQ(v.kind, VerdictKind::plateau) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("materiality threshold"), std::string::npos) << all_evidence(v);
}

TEST(Judge, SmallTrimGiveBackIsNotFragmentation) {
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.loaded_bytes = 70 * kMiB;
  c.after_unload_bytes = 34 * kMiB;
  c.after_trim_bytes = 31 * kMiB;
  Verdict v = judge(flat_series(800, 73, 0.5 * kMiB), c);
  EXPECT_EQ(v.kind, VerdictKind::stable) << all_evidence(v);
}

TEST(Judge, HundredMiBRetainedAndTrimmedStaysFragmentation) {
  // What a user must see: ~100 MiB kept after unload, given back by malloc_trim.
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.loaded_bytes = 160 * kMiB;
  c.after_unload_bytes = 130 * kMiB;
  c.after_trim_bytes = 33 * kMiB;
  Series s = make_series({800, [](std::size_t) { return 160 * kMiB; }, 1 * kMiB, 79});
  Verdict v = judge(s, c);
  EXPECT_EQ(v.kind, VerdictKind::fragmentation) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("malloc_trim gave back"), std::string::npos);
}

namespace {

Series churn_series(int cycles, double per_cycle_growth, std::uint32_t seed) {
  Series all;
  for (int c = 0; c < cycles; ++c) {
    double level = 200 * kMiB + c * per_cycle_growth;
    Series one = make_series({200, [level](std::size_t) { return level; }, 1 * kMiB,
                              seed + static_cast<std::uint32_t>(c)});
    for (auto& p : one.points) {
      p.cycle = c;
      p.t_ms += 30000.0 * c;
      all.points.push_back(p);
    }
  }
  all.current_source = "synthetic VmRSS after each request";
  return all;
}

}  // namespace

TEST(Judge, ChurnWithBoundedRetentionIsUnloadRetention) {
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.after_unload_per_cycle_bytes = {45 * kMiB, 46 * kMiB, 45.5 * kMiB, 45.8 * kMiB, 46.1 * kMiB};
  Verdict v = judge(churn_series(5, 0, 31), c);
  EXPECT_EQ(v.kind, VerdictKind::unload_retention) << all_evidence(v);
}

TEST(Judge, ChurnGrowingEveryCycleIsLeak) {
  SeriesContext c;
  c.baseline_bytes = 30 * kMiB;
  c.after_unload_per_cycle_bytes = {45 * kMiB, 65 * kMiB, 84 * kMiB, 106 * kMiB, 125 * kMiB};
  Verdict v = judge(churn_series(5, 20 * kMiB, 37), c);
  EXPECT_EQ(v.kind, VerdictKind::leak) << all_evidence(v);
}

TEST(Judge, SmallestDetectableRateShrinksWithMoreRequests) {
  Verdict short_run = judge(flat_series(500, 41));
  Verdict long_run = judge(flat_series(4000, 41));
  EXPECT_GT(short_run.min_detectable_bytes_per_request, 0);
  EXPECT_GT(long_run.min_detectable_bytes_per_request, 0);
  EXPECT_LT(long_run.min_detectable_bytes_per_request,
            0.5 * short_run.min_detectable_bytes_per_request);
}

TEST(Judge, CalibrationCleanNoisySeriesGiveNoLeak) {
  // 20 seeded clean series (noise, arena warm-up, occasional spikes, sawtooth): zero leaks.
  int leaks = 0;
  std::string report;
  for (std::uint32_t seed = 100; seed < 120; ++seed) {
    auto shape = [seed](std::size_t i) {
      double tooth = seed % 2 ? 8 * kMiB * static_cast<double>(i % (50 + seed % 30)) / 80 : 0.0;
      double spike = (i * 2654435761u + seed) % 97 == 0 ? 6 * kMiB : 0.0;
      return 200 * kMiB + arena_fill(i) + tooth + spike;
    };
    Verdict v = judge(make_series({600 + 100 * (seed % 5), shape, 1.5 * kMiB, seed}));
    if (v.kind == VerdictKind::leak) {
      ++leaks;
      report += "seed " + std::to_string(seed) + ":\n" + all_evidence(v);
    }
  }
  EXPECT_EQ(leaks, 0) << report;
}

TEST(Judge, HundredThousandPointsAreJudged) {
  auto leaking = [](std::size_t i) { return 200 * kMiB + 1 * kKiB * static_cast<double>(i); };
  Verdict v = judge(make_series({100000, leaking, 2 * kMiB, 43}));
  EXPECT_EQ(v.kind, VerdictKind::leak) << all_evidence(v);
  EXPECT_NEAR(v.growth_bytes_per_request, 1 * kKiB, 0.25 * kKiB);
}

TEST(Judge, TooFewPointsSaySoAndDoNotGuess) {
  // Was `stable` ("Could not judge"): a run too short to judge is too-short, never stable.
  Verdict v = judge(flat_series(5, 47));  // 3 warm requests, 2 after them
  EXPECT_EQ(v.kind, VerdictKind::too_short) << all_evidence(v);
  EXPECT_NE(all_evidence(v).find("Too short to judge"), std::string::npos);
  EXPECT_NE(all_evidence(v).find("2 points"), std::string::npos) << all_evidence(v);
  EXPECT_TRUE(std::isnan(v.min_detectable_bytes_per_request)) << "no slope from 2 points";
  // 8 points after the warm phase: a slope, and so the smallest leak it could have shown.
  Verdict eight = judge(flat_series(11, 47));
  EXPECT_EQ(eight.kind, VerdictKind::too_short) << all_evidence(eight);
  EXPECT_GT(eight.min_detectable_bytes_per_request, 0);
  EXPECT_NE(all_evidence(eight).find("smallest leak it could have shown"), std::string::npos);
  Verdict empty = judge(Series{});
  EXPECT_EQ(empty.kind, VerdictKind::too_short);
  EXPECT_TRUE(std::isnan(empty.min_detectable_bytes_per_request));
  EXPECT_NE(all_evidence(empty).find("0 points"), std::string::npos) << all_evidence(empty);
}

TEST(Judge, EvidenceNamesTheSource) {
  Verdict v = judge(flat_series(300, 53));
  EXPECT_NE(all_evidence(v).find("synthetic VmRSS after each request"), std::string::npos);
}

TEST(VerdictJson, UsesProductFieldNamesAndNullForAbsent) {
  auto leaking = [](std::size_t i) { return 200 * kMiB + 64 * kKiB * static_cast<double>(i); };
  Verdict v = judge(make_series({1000, leaking, 1 * kMiB, 59}));
  auto j = v.to_json();
  EXPECT_EQ(j["kind"], "leak");
  ASSERT_TRUE(j["growth_ci_bytes_per_request"].is_array());
  EXPECT_EQ(j["growth_ci_bytes_per_request"].size(), 2u);
  for (const char* key : {"growth_bytes_per_request", "growth_bytes_per_minute",
                          "min_detectable_bytes_per_request", "evidence", "causes", "remediations"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["plateau_level_bytes"].is_null());
  Verdict back = Verdict::from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.kind, v.kind);
  EXPECT_DOUBLE_EQ(back.growth_ci_low_bytes_per_request, v.growth_ci_low_bytes_per_request);
  EXPECT_TRUE(std::isnan(back.plateau_level_bytes));
  EXPECT_EQ(back.evidence, v.evidence);
}

TEST(VerdictJson, RejectsWrongTypes) {
  EXPECT_THROW(Verdict::from_json(nlohmann::json::array()), std::exception);
  EXPECT_THROW(Verdict::from_json({{"growth_bytes_per_request", "lots"}}), std::exception);
  EXPECT_THROW(Verdict::from_json({{"growth_ci_bytes_per_request", {1}}}), std::exception);
}

TEST(PatternCatalogue, EveryKindHasItsEntryInTheDocs) {
  std::ifstream in(std::string(INFERMEM_SOURCE_DIR) + "/docs/patterns.md");
  ASSERT_TRUE(in) << "docs/patterns.md is missing";
  std::stringstream doc;
  doc << in.rdbuf();
  for (VerdictKind kind : kVerdictKinds) {
    const Pattern& p = pattern_for(kind);
    EXPECT_FALSE(p.causes.empty()) << name(kind);
    EXPECT_FALSE(p.remediations.empty()) << name(kind);
    EXPECT_NE(doc.str().find("## `" + std::string(name(kind)) + "`"), std::string::npos)
        << name(kind);
    for (const auto& arm : p.arms)
      EXPECT_NE(doc.str().find(arm), std::string::npos) << name(kind) << " arm " << arm;
    for (const auto& arm : p.custom_arms)
      EXPECT_NE(doc.str().find(arm), std::string::npos) << name(kind) << " arm " << arm;
  }
  EXPECT_EQ(pattern_catalogue().size(), std::size(kVerdictKinds));
}

TEST(Judge, MalformedSeriesAreJudgedWithoutCrashing) {
  // What an importer might hand over from a damaged file: NaN and infinities, times out of order,
  // request counters going backwards, a constant series, negative bytes.
  Series s = flat_series(200, 61);
  s.points[10].current_bytes = std::numeric_limits<double>::infinity();
  s.points[11].current_bytes = -1;
  s.points[12].t_ms = std::numeric_limits<double>::quiet_NaN();
  s.points[13].req = 2;
  s.points[14].hwm_bytes = -std::numeric_limits<double>::infinity();
  s.points[15].allocator_in_use_bytes = std::numeric_limits<double>::infinity();
  std::swap(s.points[20].t_ms, s.points[150].t_ms);
  SeriesContext c;
  c.after_unload_per_cycle_bytes = {std::numeric_limits<double>::quiet_NaN(), 1.0};
  EXPECT_NO_THROW(judge(s, c).to_json().dump());
  Series constant = flat_series(100, 67, 0.0);
  Verdict v = judge(constant);
  EXPECT_EQ(v.kind, VerdictKind::stable) << all_evidence(v);
  EXPECT_NO_THROW(v.to_json().dump());
}

// A recorded clean soak arm (ort-default, 8 MiB transformer, mixed shapes): ORT's arena and
// memory-pattern cache grow in steps as larger shapes arrive, then flatten. Not a leak.
TEST(JudgeRecorded, ArenaStaircaseFromARealCleanRunIsNotALeak) {
  std::ifstream in(std::string(INFERMEM_TESTDATA_DIR) + "/verdict/arena_staircase_clean.csv");
  ASSERT_TRUE(in) << "missing test data";
  infermem::Series s;
  s.name = "ort-default";
  s.current_source = "VmRSS read in the child after each request";
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line.rfind("req,", 0) == 0) continue;
    std::stringstream fields(line);
    std::string req, t, rss, in_use;
    std::getline(fields, req, ',');
    std::getline(fields, t, ',');
    std::getline(fields, rss, ',');
    std::getline(fields, in_use, ',');
    infermem::SeriesPoint p;
    p.req = std::stoll(req);
    p.t_ms = std::stod(t);
    p.phase = Phase::infer;
    p.current_bytes = std::stod(rss);
    if (!in_use.empty()) p.allocator_in_use_bytes = std::stod(in_use);
    s.points.push_back(p);
  }
  ASSERT_EQ(s.points.size(), 200u);
  infermem::Verdict v = infermem::judge(s);
  EXPECT_NE(v.kind, VerdictKind::leak);
  EXPECT_GT(v.min_detectable_bytes_per_request, 1024.0) << "the 1 MiB-over-the-window floor";
}

// RSS rising inside memory the allocator already handed out (an arena reserved during warm-up,
// touched later by larger inputs) is a plateau, not fragmentation; the same rise held as free
// heap (anonymous memory well above in-use bytes) is fragmentation.
TEST(JudgeFragmentation, FirstTouchOfAllocatedPagesIsNotFragmentation) {
  auto series = [](double anon_above_in_use) {
    infermem::Series s;
    s.name = "arena";
    s.current_source = "VmRSS";
    const double mib = 1024.0 * 1024.0;
    for (int i = 1; i <= 400; ++i) {
      infermem::SeriesPoint p;
      p.req = i;
      p.t_ms = i * 10.0;
      p.phase = Phase::infer;
      // RSS climbs 30 MiB over requests 100..250 (first touches), then flat.
      double rise = 30 * mib * std::clamp((i - 100) / 150.0, 0.0, 1.0);
      p.current_bytes = 140 * mib + rise + (i % 7) * 4096.0;
      p.allocator_in_use_bytes = 150 * mib;                           // allocated up front, flat
      p.anon_bytes = p.current_bytes - 20 * mib + anon_above_in_use;  // file pages ~20 MiB
      s.points.push_back(p);
    }
    return s;
  };
  infermem::Verdict touch = infermem::judge(series(0));
  EXPECT_NE(touch.kind, VerdictKind::fragmentation);
  EXPECT_NE(touch.kind, VerdictKind::leak);
  infermem::Verdict held = infermem::judge(series(60 * 1024.0 * 1024.0));
  EXPECT_EQ(held.kind, VerdictKind::fragmentation);
}
