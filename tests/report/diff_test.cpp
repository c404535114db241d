// infermem diff: which differences between two runs are regressions, and how they are shown.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/run_diff.h"
#include "infermem/units.h"
#include "report/diff_render.h"

using namespace infermem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace {

constexpr double MiB = 1024.0 * 1024.0;

// One arm with figures in MiB: the 8 MiB mlp's ort-default arm looks like this after 10 requests.
ArmSummary arm(const std::string& name, double loaded, double peak, double after_unload,
               const std::string& status = "ok") {
  ArmSummary a;
  a.name = name;
  a.status = parse_arm_status(status).value();
  a.memory.baseline_bytes = 30 * MiB;
  a.memory.loaded_bytes = loaded * MiB;
  a.memory.peak_bytes = peak * MiB;
  a.memory.after_unload_bytes = after_unload * MiB;
  a.memory.retained_bytes = (after_unload - 30) * MiB;
  a.latency_ms.p50 = 1.5;
  a.verdict.kind = VerdictKind::stable;
  return a;
}

RunSummary run(std::vector<ArmSummary> arms, const std::string& sha = "aaaa") {
  RunSummary s;
  s.model_sha256 = sha;
  s.ort_version = "1.29.0";
  s.arms = std::move(arms);
  return s;
}

const FigureDiff& figure(const RunDiff& d, const std::string& arm, const std::string& name) {
  for (const auto& f : d.figures)
    if (f.arm == arm && f.figure == name) return f;
  throw std::runtime_error("no figure " + arm + " " + name);
}

std::string reasons(const RunDiff& d) {
  std::string s;
  for (const auto& r : d.reasons()) s += r + "\n";
  return s;
}

}  // namespace

// --- failures are regressions ------------------------------------------------------------------

class FailedArm : public ::testing::TestWithParam<const char*> {};

TEST_P(FailedArm, InTheNewRunIsARegressionWithItsStatus) {
  ArmSummary broken = arm("ort-default", 40, 50, 45, GetParam());
  broken.status_detail = "at request 7";
  RunDiff d = diff_runs(run({arm("ort-default", 40, 50, 45)}), run({broken}), {});
  EXPECT_TRUE(d.regressed());
  EXPECT_THAT(reasons(d), AllOf(HasSubstr("ort-default"), HasSubstr(GetParam()),
                                HasSubstr("at request 7"), HasSubstr("new run")));
  // Its figures are partial: shown, never gated.
  EXPECT_FALSE(figure(d, "ort-default", "peak_bytes").regressed);
}

INSTANTIATE_TEST_SUITE_P(EveryStatus, FailedArm,
                         ::testing::Values("failed", "crashed", "oom-killed", "timeout",
                                           "interrupted"));

TEST(Diff, AnArmMissingFromTheNewRunIsARegressionAndOneOnlyInTheNewRunIsNot) {
  RunSummary base = run({arm("ort-default", 40, 50, 45), arm("lean", 38, 45, 31)});
  RunDiff d = diff_runs(base, run({arm("ort-default", 40, 50, 45)}), {});
  EXPECT_TRUE(d.regressed());
  EXPECT_THAT(d.only_in_base, ElementsAre("lean"));
  EXPECT_THAT(reasons(d), HasSubstr("arm lean: in the base run, missing from the new run"));

  RunSummary more =
      run({arm("ort-default", 40, 50, 45), arm("lean", 38, 45, 31), arm("jemalloc", 41, 52, 40)});
  d = diff_runs(base, more, {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  EXPECT_THAT(d.only_in_new, ElementsAre("jemalloc"));
  EXPECT_THAT(d.notes, Contains(HasSubstr("jemalloc")));
}

TEST(Diff, ANewRunWithNoArmsIsARegression) {
  RunDiff d = diff_runs(run({arm("ort-default", 40, 50, 45)}), run({}), {});
  EXPECT_TRUE(d.regressed());
  EXPECT_THAT(reasons(d), HasSubstr("no arms"));
  // Even against an empty base: nothing ran, nothing passed.
  EXPECT_TRUE(diff_runs(run({}), run({}), {}).regressed());
}

TEST(Diff, AnArmThatFailedOnlyInTheBaseRunIsShownNotGated) {
  RunDiff d = diff_runs(run({arm("ort-default", 40, 50, 45, "crashed")}),
                        run({arm("ort-default", 40, 90, 80)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  EXPECT_THAT(d.notes, Contains(HasSubstr("crashed in the base run")));
}

TEST(Diff, ANewLeakVerdictIsARegression) {
  ArmSummary leaky = arm("ort-default", 40, 50, 45);
  leaky.verdict.kind = VerdictKind::leak;
  RunDiff d = diff_runs(run({arm("ort-default", 40, 50, 45)}), run({leaky}), {});
  EXPECT_TRUE(d.regressed());
  EXPECT_THAT(reasons(d), HasSubstr("verdict leak in the new run (base: stable)"));
  // A leak already there in the base run is no news.
  EXPECT_FALSE(diff_runs(run({leaky}), run({leaky}), {}).regressed());
}

// --- same model, same runtime ------------------------------------------------------------------

TEST(Diff, RunsOfDifferentModelsOrRuntimesAreRefusedNamingBothValues) {
  RunSummary base = run({arm("ort-default", 40, 50, 45)}, "aaaa");
  RunSummary other = run({arm("ort-default", 40, 50, 45)}, "bbbb");
  try {
    diff_runs(base, other, {});
    FAIL() << "different models were compared";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("model_sha256 aaaa -> bbbb"),
                                HasSubstr("--allow-different-model")));
  }
  RunSummary newer = base;
  newer.ort_version = "1.30.0";
  EXPECT_THROW(diff_runs(base, newer, {}), InputError);

  DiffOptions allow;
  allow.allow_different_model = true;
  RunDiff d = diff_runs(base, other, allow);
  EXPECT_THAT(d.identity_differences, ElementsAre("model_sha256 aaaa -> bbbb"));
  EXPECT_FALSE(d.figures.empty());
  EXPECT_THAT(render_diff_text(d), ::testing::StartsWith("different runs"));
}

TEST(Diff, AModelTheBaseRunDoesNotRecordIsNotADifference) {
  // Summaries of older versions, or written by hand, may not name their model.
  EXPECT_NO_THROW(diff_runs(run({arm("a", 40, 50, 45)}, ""), run({arm("a", 40, 50, 45)}), {}));
}

// --- identical runs are not regressions --------------------------------------------------------

TEST(Diff, TheMovementOfIdenticalSingleRunsIsNotARegression) {
  // Measured between identical 10-request runs (docs/diff.md). The 8 MiB mlp: after unload 46.5
  // or 54.5 MiB (its weights' 8 MiB block given back or not), which the rule of 10% and 4 MiB
  // alone flagged in 13 of 40 pairs.
  RunDiff d = diff_runs(run({arm("ort-default", 54, 54.5, 46.5)}),
                        run({arm("ort-default", 54, 54.5, 54.5)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  const auto& f = figure(d, "ort-default", "after_unload_bytes");
  EXPECT_EQ(f.basis, "noise");
  EXPECT_GT(f.allowed_bytes, 8 * MiB);
  // The 64 MiB transformer: ORT's prepacked weights kept or not move every figure by ~24 MiB.
  d = diff_runs(run({arm("ort-default", 106, 111, 84)}), run({arm("ort-default", 130, 135, 108)}),
                {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
}

TEST(Diff, WhatTheBaseRunGaveBackAtUnloadTheNewRunMayKeep) {
  // The 64 MiB transformer, mixed, identical runs: glibc gave back 81 MiB at unload in one run and
  // 27 MiB in the other; the peak did not move.
  RunDiff d = diff_runs(run({arm("ort-default", 125.2, 152.8, 71.3)}),
                        run({arm("ort-default", 125.2, 152.9, 125.7)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  // Not what trim gives back: an arm with trim that stops trimming retains more.
  ArmSummary trimmed = arm("lean", 125.2, 152.8, 125.7), untrimmed = trimmed;
  trimmed.memory.after_trim_bytes = 40 * MiB;
  trimmed.memory.retained_bytes = 10 * MiB;
  untrimmed.memory.after_trim_bytes = 90 * MiB;
  untrimmed.memory.retained_bytes = 60 * MiB;
  d = diff_runs(run({trimmed}), run({untrimmed}), {});
  EXPECT_TRUE(figure(d, "lean", "retained_bytes").regressed) << reasons(d);
}

TEST(Diff, ARealRegressionOfSingleRunsStillShows) {
  // --inject-leak 4MiB over 10 requests: 40 MiB more stays after unload, and the peak carries it.
  RunDiff d =
      diff_runs(run({arm("ort-default", 60, 80, 79)}), run({arm("ort-default", 60, 120, 119)}), {});
  EXPECT_TRUE(d.regressed());
  EXPECT_TRUE(figure(d, "ort-default", "after_unload_bytes").regressed);
  EXPECT_TRUE(figure(d, "ort-default", "retained_bytes").regressed);
  EXPECT_TRUE(figure(d, "ort-default", "peak_bytes").regressed);
  EXPECT_FALSE(figure(d, "ort-default", "loaded_bytes").regressed);
  EXPECT_THAT(reasons(d), HasSubstr("after_unload_bytes grew from 79.0 MiB to 119.0 MiB"));
}

TEST(Diff, LargeModelsGetANoiseFloorInProportion) {
  // A 1 GiB model: prepacked weights or not move loaded by far more than 24 MiB. The noise
  // allowance is a share of what the model adds at load (loaded - baseline).
  RunDiff d = diff_runs(run({arm("ort-default", 1000, 1200, 40)}),
                        run({arm("ort-default", 1150, 1300, 40)}), {});
  EXPECT_FALSE(figure(d, "ort-default", "loaded_bytes").regressed) << reasons(d);
}

// --- the noise model (src/report/diff_noise.h) --------------------------------------------------

namespace {

PhaseEnd phase(Phase name, double rss, double anon, double in_use, double free_mib) {
  PhaseEnd p;
  p.phase = name;
  p.figures = {{Figure::rss_bytes, rss * MiB},
               {Figure::rss_anon_bytes, anon * MiB},
               {Figure::malloc_in_use_bytes, in_use * MiB},
               {Figure::malloc_free_bytes, free_mib * MiB}};
  return p;
}

// The 8 MiB mlp's no-arena arm as recorded (glibc's counters at each phase end). `kept`: the
// weights' 8 MiB block stayed in the heap at unload (free 16.3 MiB) instead of going back to the
// OS (free 8.2 MiB), which identical runs do at random; `extra`: MiB more in use from unload on
// (soak --inject-retained); `base_shift`: the process before any session was that much larger.
ArmSummary mlp_arm(bool kept, double extra = 0, double peak_extra = 0, double base_shift = 0) {
  ArmSummary a;
  a.name = "no-arena";
  a.config = {{"allocator", "glibc"}};
  const double b = base_shift;
  const double unload_rss = (kept ? 50.4 : 42.4) + extra + b;
  const double unload_anon = (kept ? 25.2 : 17.2) + extra + b;
  a.memory.baseline_bytes = (26.0 + b) * MiB;
  a.memory.loaded_bytes = (50.0 + b) * MiB;
  a.memory.peak_bytes = (50.4 + b + peak_extra) * MiB;
  a.memory.after_unload_bytes = unload_rss * MiB;
  a.memory.retained_bytes = unload_rss * MiB - a.memory.baseline_bytes;
  a.phases = {
      phase(Phase::baseline, 26.0 + b, 7.8 + b, 6.6, 0.1),
      phase(Phase::load, 50.0 + b, 25.2 + b, 16.1, 8.1),
      phase(Phase::warm, 50.4 + b, 25.2 + b, 16.1, 8.1),
      phase(Phase::infer, 50.4 + b + peak_extra, 25.2 + b + peak_extra, 16.1 + peak_extra, 8.1),
      phase(Phase::unload, unload_rss, unload_anon, 7.9 + extra, kept ? 16.3 : 8.2)};
  return a;
}

// One arm made of repeats (each its own child); the arm's own figures are their medians.
ArmSummary repeated(std::vector<ArmSummary> repeats) {
  const std::string name = repeats.front().name;  // not a reference into what is moved
  return combine_repeats(name, std::move(repeats));
}

}  // namespace

TEST(DiffNoise, TheModelBufferKeptOrFreedAtUnloadIsNoRegression) {
  // Measured: identical runs read 42.4 or 50.4 MiB after unload; glibc's counters say the
  // 8 MiB are free heap it held in one run and gave back in the other.
  RunDiff d = diff_runs(run({mlp_arm(false)}), run({mlp_arm(true)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  const auto& f = figure(d, "no-arena", "after_unload_bytes");
  EXPECT_NEAR(f.next - f.base, 8 * MiB, 0.1 * MiB);
  EXPECT_NEAR(f.net_change_bytes, 0, 0.2 * MiB);
  EXPECT_NEAR(f.held_new - f.held_base, 8.1 * MiB, 0.1 * MiB);
  // The noise of a glibc arm is small: what moves at random was taken out.
  EXPECT_LT(f.noise_bytes, 1 * MiB);
  EXPECT_DOUBLE_EQ(f.confidence, 0.99);
  EXPECT_GT(f.mdd_bytes, f.noise_bytes);
  EXPECT_LT(f.mdd_bytes, 2 * MiB);
}

TEST(DiffNoise, TwoMiBKeptAfterUnloadIsARegressionWhicheverWayTheBufferWent) {
  // The injected case of the calibration (soak --inject-retained 2MiB), in the worst
  // combination: BASE kept the 8 MiB buffer, NEW gave it back, so the figure fell by 6 MiB.
  RunDiff d = diff_runs(run({mlp_arm(true)}), run({mlp_arm(false, 2)}), {});
  const auto& f = figure(d, "no-arena", "retained_bytes");
  EXPECT_LT(f.next, f.base);
  EXPECT_NEAR(f.net_change_bytes, 2 * MiB, 0.1 * MiB);
  EXPECT_TRUE(f.regressed) << render_diff_text(d);
  EXPECT_FALSE(figure(d, "no-arena", "peak_bytes").regressed);
  EXPECT_THAT(reasons(d), HasSubstr("retained_bytes grew"));
}

TEST(DiffNoise, TenPercentMoreAtPeakIsARegression) {
  RunDiff d = diff_runs(run({mlp_arm(false)}), run({mlp_arm(true, 0, 5.0)}), {});
  EXPECT_TRUE(figure(d, "no-arena", "peak_bytes").regressed) << render_diff_text(d);
  EXPECT_FALSE(figure(d, "no-arena", "after_unload_bytes").regressed) << render_diff_text(d);
}

TEST(DiffNoise, AShiftOfTheBaselineCarriedByEveryFigureIsNoRegression) {
  // Measured: the process before any session read 26.0 or 28.2 MiB in identical runs.
  RunDiff d = diff_runs(run({mlp_arm(false)}), run({mlp_arm(false, 0, 0, 2.2)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
}

// The 32 MiB transformer's ort-default arm as recorded in two identical runs (diff_bench): the
// second held 12 MiB more free heap from loading on, while its in-use bytes counted mmapped
// blocks only partly touched (in use above RssAnon at the peak).
namespace {
ArmSummary transformer_arm(bool held_more) {
  const double h = held_more ? 11.6 : 0.0;
  ArmSummary a;
  a.name = "ort-default";
  a.config = {{"allocator", "glibc"}};
  a.memory.baseline_bytes = 26.0 * MiB;
  a.memory.loaded_bytes = (68.6 + h) * MiB;
  a.memory.peak_bytes = (89.1 + h) * MiB;
  a.memory.after_unload_bytes = (69.4 + h) * MiB;
  a.memory.retained_bytes = a.memory.after_unload_bytes - a.memory.baseline_bytes;
  a.phases = {phase(Phase::baseline, 26.0, 7.8, 6.6, 0.1),
              phase(Phase::load, 68.6 + h, 43.7 + h, 40.5, 2.1 + h),
              phase(Phase::warm, 88.4 + h, 62.8 + h, 72.5, 0.6 + h),
              phase(Phase::infer, 89.1 + h, 63.5 + h, 72.5, 0.6 + h),
              phase(Phase::unload, 69.4 + h, 43.8 + h, 7.9, 36.0 + h)};
  return a;
}
}  // namespace

TEST(DiffNoise, FreeHeapBesidePartlyTouchedBlocksIsNoRegression) {
  // Bounding the held heap by RssAnon - in use called the 12 MiB 2.6 MiB at the peak, and the
  // pair read as a 9 MiB peak regression. Before any trim the free bytes count as they are.
  RunDiff d = diff_runs(run({transformer_arm(false)}), run({transformer_arm(true)}), {});
  EXPECT_FALSE(d.regressed()) << reasons(d);
  EXPECT_NEAR(figure(d, "ort-default", "peak_bytes").net_change_bytes, 0.0, 0.1 * MiB);
  // The same arm growing 5 MiB in use at the peak is still a regression.
  ArmSummary grown = transformer_arm(false);
  grown.memory.peak_bytes += 5 * MiB;
  grown.phases[3].figures[Figure::rss_bytes] += 5 * MiB;
  grown.phases[3].figures[Figure::malloc_in_use_bytes] += 5 * MiB;
  EXPECT_TRUE(figure(diff_runs(run({transformer_arm(false)}), run({grown}), {}), "ort-default",
                     "peak_bytes")
                  .regressed);
}

TEST(DiffNoise, AnAllocatorWithoutFreeBytesHasALargerNoise) {
  // tcmalloc records its in-use bytes but no free bytes: the held heap is unknown.
  ArmSummary a = mlp_arm(false), b = mlp_arm(false);
  a.config["allocator"] = b.config["allocator"] = "tcmalloc";
  for (auto* arm : {&a, &b})
    for (auto& p : arm->phases) p.figures.erase(Figure::malloc_free_bytes);
  RunDiff d = diff_runs(run({a}), run({b}), {});
  const auto& f = figure(d, "no-arena", "retained_bytes");
  EXPECT_FALSE(present(f.held_base));
  const RunDiff glibc = diff_runs(run({mlp_arm(false)}), run({mlp_arm(false)}), {});
  EXPECT_GT(f.noise_bytes, figure(glibc, "no-arena", "retained_bytes").noise_bytes);
}

TEST(DiffNoise, JemallocsFreeBytesAreTakenOutLikeGlibcs) {
  // jemalloc's runs record resident - allocated as malloc_free_bytes: diff compares net of it,
  // with the same noise as glibc.
  ArmSummary a = mlp_arm(false), b = mlp_arm(true);
  a.config["allocator"] = b.config["allocator"] = "jemalloc";
  RunDiff d = diff_runs(run({a}), run({b}), {});
  const auto& f = figure(d, "no-arena", "retained_bytes");
  EXPECT_TRUE(present(f.held_base));
  EXPECT_FALSE(f.regressed) << reasons(d);
  const RunDiff glibc = diff_runs(run({mlp_arm(false)}), run({mlp_arm(true)}), {});
  EXPECT_DOUBLE_EQ(f.noise_bytes, figure(glibc, "no-arena", "retained_bytes").noise_bytes);
}

TEST(DiffNoise, RepeatsUseTheirSpreadWithStudentsT) {
  // Three repeats a side. Spread among the repeats (a 1 MiB jitter) widens the bound beyond the
  // calibrated sigma; a shift of 10 MiB still shows, one of 1 MiB does not.
  auto side = [](double shift) {
    std::vector<ArmSummary> r;
    for (double jitter : {0.0, 1.0, 0.5}) r.push_back(mlp_arm(jitter > 0.6, 0, shift + jitter));
    return repeated(std::move(r));
  };
  RunDiff same = diff_runs(run({side(0)}), run({side(1)}), {});
  const auto& f = figure(same, "no-arena", "peak_bytes");
  EXPECT_FALSE(f.regressed) << render_diff_text(same);
  EXPECT_EQ(f.runs_base, 3);
  EXPECT_EQ(f.noise_method, "student-t (df 4)");
  EXPECT_EQ(f.basis, "spread");
  RunDiff worse = diff_runs(run({side(0)}), run({side(10)}), {});
  EXPECT_TRUE(figure(worse, "no-arena", "peak_bytes").regressed) << render_diff_text(worse);
}

TEST(DiffNoise, TheToleranceIsAPracticalThresholdOnTop) {
  DiffOptions loose;
  loose.max_regression_fraction = 0.20;  // 10 MiB of 50
  EXPECT_FALSE(diff_runs(run({mlp_arm(false)}), run({mlp_arm(false, 0, 5.0)}), loose).regressed());
  loose = {};
  loose.floor_bytes = 3 * MiB;
  RunDiff d = diff_runs(run({mlp_arm(false)}), run({mlp_arm(false, 2)}), loose);
  EXPECT_FALSE(d.regressed()) << reasons(d);
  EXPECT_GE(figure(d, "no-arena", "retained_bytes").mdd_bytes, 3 * MiB);
}

TEST(DiffNoise, EachFigureIsShownAsBaseToNewWithItsNoise) {
  RunDiff d = diff_runs(run({mlp_arm(false)}), run({mlp_arm(false, 2)}), {});
  const std::string text = render_diff_text(d);
  EXPECT_THAT(text,
              AllOf(HasSubstr("42.4 → 44.4 (±"), HasSubstr("99% one-sided"), HasSubstr("MDD")));
  const auto j = diff_to_json(d);
  const auto& f = j["figures"][3];
  EXPECT_EQ(f["figure"], "retained_bytes");
  for (const char* key : {"noise_bytes", "mdd_bytes", "net_change_bytes", "confidence", "power",
                          "held_free_base_bytes", "held_free_new_bytes", "noise_method", "runs",
                          "allowed_bytes", "basis", "regressed"})
    EXPECT_TRUE(f.contains(key)) << key;
  EXPECT_TRUE(f["regressed"].get<bool>());
}

TEST(Diff, LatencyIsShownNeverGated) {
  ArmSummary slow = arm("ort-default", 60, 80, 40);
  slow.latency_ms.p50 = 100;
  RunDiff d = diff_runs(run({arm("ort-default", 60, 80, 40)}), run({slow}), {});
  EXPECT_FALSE(d.regressed());
  EXPECT_EQ(figure(d, "ort-default", "p50_ms").next, 100);
}

TEST(Units, ParsePercent) {
  EXPECT_DOUBLE_EQ(parse_percent("10%"), 0.10);
  EXPECT_DOUBLE_EQ(parse_percent("2.5%"), 0.025);
  EXPECT_DOUBLE_EQ(parse_percent("0%"), 0.0);
  for (const char* bad : {"", "%", "10", "ten%", "-5%", "10%%", "1e3%"})
    EXPECT_THROW(parse_percent(bad, "--max-regression"), InputError) << bad;
}

// --- output from recorded runs (tests/data/diff) -----------------------------------------------

namespace {

const std::string kData = std::string(INFERMEM_TESTDATA_DIR) + "/diff/";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Diffs two recorded runs; labels are the directory names so the golden text is portable.
RunDiff recorded(const std::string& base, const std::string& next, bool allow = false) {
  DiffOptions o;
  o.allow_different_model = allow;
  RunDiff d = diff_runs(RunSummary::load(kData + base), RunSummary::load(kData + next), o);
  d.base_label = base;
  d.new_label = next;
  return d;
}

// INFERMEM_UPDATE_GOLDEN=1 rewrites the expected file (then review it with git diff).
void expect_golden(const std::string& actual, const std::string& name) {
  const std::string path = kData + name;
  if (std::getenv("INFERMEM_UPDATE_GOLDEN")) std::ofstream(path) << actual;
  EXPECT_EQ(actual, slurp(path)) << "golden " << name << "; actual:\n" << actual;
}

}  // namespace

TEST(DiffRecorded, TwoIdenticalRunsAreNoRegression) {
  RunDiff d = recorded("steady-a", "steady-b");
  EXPECT_FALSE(d.regressed()) << reasons(d);
  expect_golden(render_diff_text(d), "identical.txt");
  expect_golden(render_diff_json(d), "identical.json");
}

TEST(DiffRecorded, AnInjectedLeakIsARegression) {
  RunDiff d = recorded("steady-a", "steady-leak");
  EXPECT_TRUE(d.regressed());
  EXPECT_TRUE(figure(d, "ort-default", "after_unload_bytes").regressed) << reasons(d);
  expect_golden(render_diff_text(d), "leak.txt");
}

TEST(DiffRecorded, AProfileThatRetainsMoreIsARegression) {
  // The same arm name with trim turned off: lean's recorded figures against ort-default's.
  RunSummary base = RunSummary::load(kData + "steady-a"), next = base;
  base.arms = {base.arms.at(1)};
  next.arms = {next.arms.at(0)};
  ASSERT_EQ(base.arms[0].name, "lean");
  next.arms[0].name = "lean";
  RunDiff d = diff_runs(base, next, {});
  EXPECT_TRUE(figure(d, "lean", "retained_bytes").regressed) << render_diff_text(d);
}

TEST(DiffRecorded, AnArmKilledByItsTimeoutIsARegression) {
  RunDiff d = recorded("steady-a", "steady-timeout");
  EXPECT_TRUE(d.regressed());
  // soak --timeout 50ms: both arms killed before their first request.
  EXPECT_THAT(reasons(d), AllOf(HasSubstr("timeout"), HasSubstr("killed after 50 ms")));
  expect_golden(render_diff_text(d), "timeout.txt");
}

TEST(DiffRecorded, RepeatedRunsCompareTheirSpreads) {
  RunDiff d = recorded("repeat-a", "repeat-b");
  EXPECT_FALSE(d.regressed()) << reasons(d);
  EXPECT_EQ(figure(d, "ort-default", "peak_bytes").basis, "spread");
  expect_golden(render_diff_text(d), "repeat.txt");
}

TEST(DiffRecorded, AnotherModelIsRefusedUnlessAllowed) {
  EXPECT_THROW(recorded("steady-a", "other-model"), InputError);
  expect_golden(render_diff_text(recorded("steady-a", "other-model", true)), "other-model.txt");
}

TEST(DiffIdentity, AnotherScenarioIsRefusedUnlessAllowed) {
  // steady and mixed draw other inputs: comparing them is a usage error, not a regression.
  RunSummary a = run({mlp_arm(false)}), b = run({mlp_arm(false)});
  a.scenario = "steady";
  b.scenario = "mixed";
  try {
    diff_runs(a, b, {});
    FAIL() << "a diff across scenarios was not refused";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("scenario steady -> mixed"));
  }
  DiffOptions allow;
  allow.allow_different_model = true;
  EXPECT_EQ(diff_runs(a, b, allow).identity_differences.size(), 1u);
}
