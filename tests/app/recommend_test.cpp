// infermem recommend: the arm chosen for each goal, and every line it prints traced back to a
// setting the arm really ran with.
#include "infermem/recommend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "infermem/arms.h"
#include "infermem/error.h"

using namespace infermem;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

ArmSummary arm(const Arm& a, double peak_mib, double retained_mib, double p50_ms) {
  ArmSummary s;
  s.name = a.name;
  s.config = a.knobs;
  s.memory.peak_bytes = peak_mib * 1048576;
  s.memory.retained_bytes = retained_mib * 1048576;
  s.latency_ms.p50 = p50_ms;
  s.latency_ms.p99 = p50_ms * 1.5;
  s.verdict.kind = VerdictKind::plateau;
  return s;
}

RunSummary run_of(std::vector<ArmSummary> arms) {
  RunSummary r;
  r.arms = std::move(arms);
  return r;
}

std::vector<Arm> every_kind_of_arm() {
  std::vector<Arm> arms;
  for (const auto& n : builtin_arm_names()) arms.push_back(builtin_arm(n));
  arms.push_back(parse_custom_arm(
      "all:arena=off,mem_pattern=off,graph_opt=basic,intra=4,inter=2,prepacking=off,"
      "device_alloc_for_initializers=on,env_allocator=on,arena_extend=same,shrink=on,load=bytes,"
      "malloc_arena_max=2,mmap_threshold=64KiB,trim=on"));
  arms.push_back(parse_custom_arm("mm:load=mmap,graph_opt=off,intra=0"));
  return arms;
}

}  // namespace

TEST(Recommend, EveryLineComesFromASettingTheArmHad) {
  for (const Arm& a : every_kind_of_arm()) {
    const auto lines = apply_lines(a.knobs);
    std::set<std::string> covered;
    for (const auto& l : lines) {
      if (l.knob.empty()) continue;  // boilerplate: options, session creation
      ASSERT_TRUE(a.knobs.count(l.knob)) << a.name << ": " << l.text;
      EXPECT_EQ(a.knobs.at(l.knob), l.value) << a.name << ": " << l.text;
      covered.insert(l.knob);
    }
    // And the other way: every setting that differs from what ORT and glibc do unasked is
    // applied by some line (threads included: ORT's own default is every core).
    for (const auto& [k, v] : a.knobs) {
      const bool unasked_value =
          v == "default" || (k == "arena" && v == "on") || (k == "mem_pattern" && v == "on") ||
          (k == "shrink" && v == "off") || (k == "graph_opt" && v == "all") ||
          (k == "prepacking" && v == "on") || (k == "env_allocator" && v == "off") ||
          (k == "load" && v == "path") || (k == "allocator" && v == "glibc") ||
          (k == "trim" && v == "off") || (k == "device_alloc_for_initializers" && v == "off") ||
          (k == "prewarm" && v == "off") || (k == "telemetry" && v == "on") ||
          ((k == "intra" || k == "inter") && v == "0");
      if (!unasked_value) {
        EXPECT_TRUE(covered.count(k)) << a.name << ": " << k << "=" << v;
      }
    }
  }
}

TEST(Recommend, LinesSayWhatTheKnobMeans) {
  // lean, with the knobs it had before it turned the arena off and prepacking back on.
  const auto lines = apply_lines(parse_custom_arm("lean-arena:base=lean,arena=on,prepacking=off,"
                                                  "device_alloc_for_initializers=on")
                                     .knobs);
  auto text_of = [&](const std::string& lang) {
    std::string all;
    for (const auto& l : lines)
      if (l.language == lang) all += l.text + "\n";
    return all;
  };
  EXPECT_THAT(text_of("python"), HasSubstr("so.enable_mem_pattern = False"));
  EXPECT_THAT(text_of("python"), HasSubstr("session.disable_prepacking"));
  EXPECT_THAT(text_of("python"), HasSubstr("malloc_trim(0)"));
  EXPECT_THAT(text_of("cpp"), HasSubstr("so.DisableMemPattern();"));
  EXPECT_THAT(text_of("cpp"), HasSubstr("so.SetIntraOpNumThreads(1);"));
  EXPECT_THAT(text_of("node"), HasSubstr("enableMemPattern: false"));
  EXPECT_EQ(text_of("env"), "MALLOC_ARENA_MAX=2\nGLIBC_TUNABLES=glibc.malloc.tcache_count=0\n");
  EXPECT_THAT(text_of("cpp"), HasSubstr("Ort::Session warm("));  // prewarm=on, before the model
  EXPECT_THAT(text_of("cpp"), HasSubstr("env.DisableTelemetryEvents();"));
  EXPECT_THAT(text_of("python"), HasSubstr("ort.disable_telemetry_events()"));
  EXPECT_THAT(text_of("python"), Not(HasSubstr("enable_cpu_mem_arena")));  // the arena kept on
  EXPECT_THAT(text_of("env"), Not(HasSubstr("LD_PRELOAD")));
  // lean itself turns the arena off and leaves prepacking as ORT has it.
  std::string lean_python;
  for (const auto& l : apply_lines(builtin_arm("lean").knobs))
    if (l.language == "python") lean_python += l.text + "\n";
  EXPECT_THAT(lean_python, HasSubstr("so.enable_cpu_mem_arena = False"));
  EXPECT_THAT(lean_python, Not(HasSubstr("session.disable_prepacking")));
}

TEST(Recommend, PicksTheLowestFigureForTheGoalWithRatiosToOrtDefault) {
  const RunSummary run =
      run_of({arm(builtin_arm("ort-default"), 200, 20, 10.0),
              arm(builtin_arm("lean"), 150, 2, 10.2), arm(builtin_arm("no-arena"), 160, 1, 13.0)});
  Recommendation peak = recommend(run, Goal::peak);
  EXPECT_EQ(peak.arm, "lean");
  EXPECT_EQ(peak.baseline_arm, "ort-default");
  EXPECT_THAT(peak.why.at(0), HasSubstr("0.75x ort-default's"));
  EXPECT_EQ(recommend(run, Goal::retained).arm, "no-arena");
  EXPECT_EQ(recommend(run, Goal::latency).arm, "ort-default");
  // A limit the user gives excludes an arm, with its reason.
  Recommendation limited = recommend(run, Goal::retained, {1.05, 0});
  EXPECT_EQ(limited.arm, "lean");
  bool named = false;
  for (const auto& r : limited.rejected) named |= r.find("no-arena: p50 1.30x") == 0;
  EXPECT_TRUE(named);
  EXPECT_THAT(render_text(limited, Goal::retained), HasSubstr("Recommended for --goal retained"));
}

TEST(Recommend, NeverRecommendsAnArmThatFailedOrLeaks) {
  ArmSummary leaky = arm(builtin_arm("no-arena"), 50, 1, 5);
  leaky.verdict.kind = VerdictKind::leak;
  ArmSummary dead = arm(builtin_arm("jemalloc"), 40, 1, 5);
  dead.status = ArmStatus::oom_killed;
  const RunSummary run = run_of({arm(builtin_arm("ort-default"), 200, 20, 10), leaky, dead});
  EXPECT_EQ(recommend(run, Goal::peak).arm, "ort-default");
  const RunSummary none = run_of({leaky, dead});
  try {
    recommend(none, Goal::peak);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no-arena: verdict leak"));
    EXPECT_THAT(e.what(), HasSubstr("jemalloc: ended oom-killed"));
  }
  EXPECT_THROW(parse_goal("speed"), InputError);
}
