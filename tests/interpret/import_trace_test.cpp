// infermem trace importer: one series per arm, the context from the phases, skips counted.
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/importers.h"
#include "infermem/trace.h"

using namespace infermem;

namespace {

std::string sample(const std::string& arm, double t_ms, const std::string& phase, int req,
                   double rss, double hwm, double malloc_in_use = kAbsent) {
  trace::Record r;
  r.type = trace::RecordType::sample;
  r.t_ms = t_ms;
  r.arm = arm;
  r.pid = 77;
  r.phase = trace::parse_phase(phase);
  r.req = req;
  r.src = trace::Src::parent;
  r.values.set(Figure::rss_bytes, rss);
  r.values.set(Figure::hwm_bytes, hwm);
  r.values.set(Figure::malloc_in_use_bytes, malloc_in_use);
  return trace::to_line(r) + "\n";
}

Imported trace_text(const std::string& text) {
  ImportOptions options;
  options.format = "trace";
  return import_text(text, options);
}

}  // namespace

TEST(ImportTrace, OneSeriesPerArmWithTheContextFromPhases) {
  std::string text = R"({"v":1,"type":"header","t_ms":0,"tool":"infermem"})"
                     "\n";
  for (const std::string arm : {"ort-default", "no-arena"}) {
    text += sample(arm, 0, "baseline", -1, 10e6, 10e6);
    text += sample(arm, 10, "load", -1, 50e6, 55e6);
    for (int i = 0; i < 5; ++i) text += sample(arm, 20 + i, "infer", i, 60e6 + i, 70e6, 40e6);
    text += sample(arm, 30, "unload", 5, 30e6, 70e6);
    text += sample(arm, 40, "trim", 5, 20e6, 70e6);
  }
  text += "this line is not json\n";
  auto imported = trace_text(text);
  EXPECT_EQ(imported.format, "trace");
  EXPECT_EQ(imported.skipped_lines, 1u);
  ASSERT_EQ(imported.series.size(), 2u);
  const auto& arm = imported.series[1];
  EXPECT_EQ(arm.series.name, "no-arena");
  ASSERT_EQ(arm.series.points.size(), 9u);
  EXPECT_EQ(arm.series.points[4].req, 2);
  EXPECT_EQ(arm.series.points[4].phase.text(), "infer");
  EXPECT_DOUBLE_EQ(arm.series.points[4].current_bytes, 60e6 + 2);
  EXPECT_DOUBLE_EQ(arm.series.points[4].hwm_bytes, 70e6);
  EXPECT_DOUBLE_EQ(arm.series.points[4].allocator_in_use_bytes, 40e6);
  EXPECT_FALSE(present(arm.series.points[0].allocator_in_use_bytes)) << "absent stays absent";
  EXPECT_DOUBLE_EQ(arm.context.baseline_bytes, 10e6);
  EXPECT_DOUBLE_EQ(arm.context.loaded_bytes, 50e6);
  EXPECT_DOUBLE_EQ(arm.context.after_unload_bytes, 30e6);
  EXPECT_DOUBLE_EQ(arm.context.after_trim_bytes, 20e6);
  ASSERT_EQ(arm.context.after_unload_per_cycle_bytes.size(), 1u);
}

TEST(ImportTrace, ChurnCyclesGiveOneAfterUnloadFigurePerCycle) {
  std::string text;
  for (int cycle = 0; cycle < 3; ++cycle) {
    const double t = cycle * 100.0;
    text += sample("", t, "load", -1, 50e6, 60e6);
    text += sample("", t + 10, "infer", cycle, 55e6, 60e6);
    text += sample("", t + 20, "unload", cycle, 20e6 + cycle * 1e6, 60e6);
    text += sample("", t + 21, "unload", cycle, 21e6 + cycle * 1e6, 60e6);
  }
  auto imported = trace_text(text);
  ASSERT_EQ(imported.series.size(), 1u);
  EXPECT_EQ(imported.series[0].series.name, "pid 77") << "a watch run names the process";
  const auto& per_cycle = imported.series[0].context.after_unload_per_cycle_bytes;
  ASSERT_EQ(per_cycle.size(), 3u);
  EXPECT_DOUBLE_EQ(per_cycle[0], 21e6);
  EXPECT_DOUBLE_EQ(per_cycle[2], 23e6);
}

// A trim=on arm trims after every unload: the cycle leaves what its trim left.
TEST(ImportTrace, AChurnCycleWithTheArmsTrimIsJudgedOnWhatTheTrimLeft) {
  std::string text;
  for (int cycle = 0; cycle < 3; ++cycle) {
    const double t = cycle * 100.0;
    text += sample("", t, "load", -1, 50e6, 60e6);
    text += sample("", t + 10, "infer", cycle, 55e6, 60e6);
    text += sample("", t + 20, "unload", cycle, 30e6 + cycle * 5e6, 60e6);
    text += sample("", t + 30, "trim", cycle, 20e6 + cycle * 0.1e6, 60e6);
  }
  auto imported = trace_text(text);
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& per_cycle = imported.series[0].context.after_unload_per_cycle_bytes;
  ASSERT_EQ(per_cycle.size(), 3u);
  EXPECT_DOUBLE_EQ(per_cycle[0], 20e6);
  EXPECT_DOUBLE_EQ(per_cycle[2], 20.2e6);
}

TEST(ImportTrace, ASoakArmIsReadAsSoakJudgedIt) {
  // Child samples after each request in warm/infer are the series; parent samples from outside
  // are not; phase ends give the context.
  std::string text =
      R"({"v":1,"type":"phase","t_ms":1,"arm":"lean","phase":"baseline","src":"child","edge":"end","rss_bytes":10000000})"
      "\n"
      R"({"v":1,"type":"phase","t_ms":2,"arm":"lean","phase":"load","src":"child","edge":"end","rss_bytes":50000000})"
      "\n";
  for (int i = 0; i < 6; ++i) {
    trace::Record child;
    child.type = trace::RecordType::sample;
    child.t_ms = 10 + i;
    child.arm = "lean";
    child.phase = i < 2 ? trace::Phase::warm : trace::Phase::infer;
    child.req = i + 1;
    child.src = trace::Src::child;
    child.values.set(Figure::rss_bytes, 60e6);
    text += trace::to_line(child) + "\n";
    trace::Record parent = child;
    parent.src = trace::Src::parent;
    parent.req = -1;
    text += trace::to_line(parent) + "\n";
  }
  text +=
      R"({"v":1,"type":"phase","t_ms":30,"arm":"lean","phase":"unload","src":"child","edge":"end","rss_bytes":30000000})"
      "\n";
  auto imported = trace_text(text);
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& arm = imported.series[0];
  EXPECT_EQ(arm.series.points.size(), 6u);
  for (const auto& p : arm.series.points) EXPECT_GE(p.req, 1) << "only the child's readings";
  EXPECT_DOUBLE_EQ(arm.context.baseline_bytes, 10e6);
  EXPECT_DOUBLE_EQ(arm.context.loaded_bytes, 50e6);
  EXPECT_DOUBLE_EQ(arm.context.after_unload_bytes, 30e6);
}

TEST(ImportTrace, NoSamplesIsAnInputError) {
  EXPECT_THROW(trace_text(R"({"v":1,"type":"header","t_ms":0})"
                          "\n"),
               InputError);
  EXPECT_THROW(trace_text("garbage\nmore garbage\n"), InputError);
}

// A byte figure that is negative, not a number, infinite or beyond 2^63 bytes, and a line whose
// keys are mangled, is skipped and counted, never kept; the good samples around it are kept.
namespace {

const std::string kGoodBefore = R"({"v":1,"type":"sample","t_ms":0,"pid":7,"rss_bytes":1000})"
                                "\n";
const std::string kGoodAfter = R"({"v":1,"type":"sample","t_ms":9,"pid":7,"rss_bytes":3000})";

// The good samples around `bad` (lines) are the only points, and `skipped` lines were counted,
// the first with a reason containing `reason`.
void expect_only_the_good_kept(const std::string& bad, std::uint64_t skipped,
                               const std::string& reason) {
  auto imported = trace_text(kGoodBefore + bad + kGoodAfter);
  EXPECT_EQ(imported.skipped_lines, skipped) << bad;
  ASSERT_EQ(imported.series.size(), 1u) << bad;
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u) << bad;
  EXPECT_DOUBLE_EQ(points[0].current_bytes, 1000);
  EXPECT_DOUBLE_EQ(points[1].current_bytes, 3000);
  for (const auto& p : points) EXPECT_FALSE(present(p.hwm_bytes)) << "no bad figure kept";
  bool said = false;
  for (const auto& n : imported.notes) said = said || n.find(reason) != std::string::npos;
  EXPECT_TRUE(said) << "the notes say '" << reason << "' for\n" << bad;
}

}  // namespace

TEST(ImportTrace, ANegativeByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept(
      R"({"v":1,"type":"sample","t_ms":1,"pid":7,"rss_bytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":2,"pid":7,"rss_bytes":2000,"hwm_bytes":-1})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":3,"pid":7,"malloc_in_use_bytes":-5})"
      "\n",
      3, "line 2: \"rss_bytes\" is negative");
  // soak's own reading of an arm (child samples in warm/infer) skips it too.
  auto imported = trace_text(
      R"({"v":1,"type":"sample","t_ms":1,"src":"child","phase":"infer","req":1,"rss_bytes":1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":2,"src":"child","phase":"infer","req":2,"rss_bytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":3,"src":"child","phase":"infer","req":3,"rss_bytes":3000})"
      "\n");
  EXPECT_EQ(imported.skipped_lines, 1u);
  ASSERT_EQ(imported.series.size(), 1u);
  for (const auto& p : imported.series[0].series.points) EXPECT_GE(p.current_bytes, 0);
}

TEST(ImportTrace, ANotANumberByteFigureIsSkippedAndCounted) {
  // JSON has no NaN, but Python's json.dumps writes one; nor is "nan" as a string a figure.
  expect_only_the_good_kept(R"({"v":1,"type":"sample","t_ms":1,"pid":7,"rss_bytes":NaN})"
                            "\n"
                            R"({"v":1,"type":"sample","t_ms":2,"pid":7,"rss_bytes":"nan"})"
                            "\n",
                            2, "line 2: not a JSON object");
}

TEST(ImportTrace, AnInfiniteByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept(R"({"v":1,"type":"sample","t_ms":1,"pid":7,"rss_bytes":Infinity})"
                            "\n"
                            R"({"v":1,"type":"sample","t_ms":2,"pid":7,"rss_bytes":1e400})"
                            "\n"
                            R"({"v":1,"type":"sample","t_ms":3,"pid":7,"hwm_bytes":-1e400})"
                            "\n",
                            3, "line 2: not a JSON object");
}

TEST(ImportTrace, AnOverflowingByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept(
      R"({"v":1,"type":"sample","t_ms":1,"pid":7,"rss_bytes":18446744073709551615})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":2,"pid":7,"rss_bytes":1e300})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":3,"pid":7,"rss_bytes":5,"hwm_bytes":9.3e18})"
      "\n",
      3, "line 2: \"rss_bytes\" is beyond 2^63 bytes");
}

TEST(ImportTrace, ALineWithMangledKeysIsSkippedAndCounted) {
  expect_only_the_good_kept(
      // duplicated: the reader keeps the last
      R"({"v":1,"type":"sample","t_ms":1,"pid":7,"rss_bytes":500,"rss_bytes":-1000})"
      "\n"
      // the same key spelled with an escape
      R"({"v":1,"type":"sample","t_ms":2,"pid":7,"rss_bytes":500,"rss\u005fbytes":7})"
      "\n"
      // another case, a space, a dash: the importer would drop them unseen
      R"({"v":1,"type":"sample","t_ms":3,"pid":7,"rss_bytes":500,"HWM_bytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":4,"pid":7,"rss_bytes":500,"hwm_bytes ":7})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":5,"pid":7,"rss-bytes":-1000,"hwm_bytes":7})"
      "\n"
      // the wrong type
      R"({"v":1,"type":"sample","t_ms":6,"pid":7,"rss_bytes":"1000","hwm_bytes":7})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":7,"t_ms":8,"pid":7,"rss_bytes":500})"
      "\n",
      7, "line 2: key 'rss_bytes' appears twice");
  auto imported = trace_text(kGoodBefore +
                             R"({"v":1,"type":"sample","t_ms":6,"pid":7,"rss_bytes":"1000"})"
                             "\n" +
                             kGoodAfter);
  EXPECT_EQ(imported.skipped_lines, 1u);
  bool said = false;
  for (const auto& n : imported.notes)
    said = said || n.find("\"rss_bytes\" is not a number") != std::string::npos;
  EXPECT_TRUE(said);
}
