// The trace accumulator (infermem/arm_figures.h) on hand-written soak traces whose figures are
// known: what one arm's records fold into (memory by phase, the peak and how it was found,
// retention, latency, throughput, the judged series), churn's cycles, an arm with trim, and the
// truncated trace of a child that crashed or failed part way. The traces go through the real
// reader, as soak's pipe and analyze's files do.
#include "infermem/arm_figures.h"

#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "infermem/trace.h"

using namespace infermem;
using nlohmann::json;

namespace {

constexpr double kMiB = 1024.0 * 1024;

// A trace as JSON lines, built record by record the way the worker and the parent write them.
class TraceText {
 public:
  TraceText& line(json j) {
    j["v"] = 1;
    if (!j.contains("src")) j["src"] = "child";
    text_ += j.dump() + "\n";
    return *this;
  }
  TraceText& raw(const std::string& s) {
    text_ += s;
    return *this;
  }
  TraceText& arm_begin(double t) {
    return line({{"type", "arm"},
                 {"t_ms", t},
                 {"edge", "begin"},
                 {"config", json::object()},
                 {"ort_version", "1.20.1"}});
  }
  TraceText& phase_begin(const std::string& phase, double t, bool hwm_reset = true) {
    return line({{"type", "phase"},
                 {"t_ms", t},
                 {"phase", phase},
                 {"edge", "begin"},
                 {"hwm_reset", hwm_reset}});
  }
  // A phase end with its VmRSS, RssAnon, RssFile and whatever else `more` holds.
  TraceText& phase_end(const std::string& phase, double t, double rss, double anon, double file,
                       json more = json::object()) {
    json j = {{"type", "phase"},       {"t_ms", t},        {"phase", phase},
              {"edge", "end"},         {"rss_bytes", rss}, {"rss_anon_bytes", anon},
              {"rss_file_bytes", file}};
    for (const auto& [k, v] : more.items()) j[k] = v;
    return line(j);
  }
  // One request: its `request` record, then the child's reading after it.
  TraceText& request(const std::string& phase, double t, std::int64_t req, double latency_ms,
                     double rss, double hwm = -1) {
    line({{"type", "request"},
          {"t_ms", t},
          {"phase", phase},
          {"req", req},
          {"latency_ms", latency_ms}});
    json s = {{"type", "sample"},
              {"t_ms", t + 0.5},
              {"phase", phase},
              {"req", req},
              {"rss_bytes", rss},
              {"rss_anon_bytes", rss / 2},
              {"rss_file_bytes", rss / 4},
              {"malloc_in_use_bytes", rss / 8}};
    if (hwm >= 0) s["hwm_bytes"] = hwm;
    return line(s);
  }
  TraceText& outside(const std::string& phase, double t, std::int64_t req, double rss) {
    return line({{"type", "sample"},
                 {"src", "parent"},
                 {"t_ms", t},
                 {"phase", phase},
                 {"req", req},
                 {"rss_bytes", rss}});
  }
  TraceText& arm_end(const std::string& status, const std::string& error = "") {
    json j = {{"type", "arm"}, {"t_ms", 999}, {"edge", "end"}, {"status", status}};
    if (!error.empty()) j["error"] = error;
    return line(j);
  }

  const std::string& text() const { return text_; }
  ArmAccumulator accumulate(std::uint64_t expect_skipped = 0) const {
    trace::Reader reader(trace::Source::from_text(text_));
    ArmAccumulator acc;
    while (auto r = reader.next()) acc.add(*r);
    EXPECT_EQ(reader.skipped(), expect_skipped) << "lines the reader skipped";
    return acc;
  }

 private:
  std::string text_;
};

// A steady arm that ran to the end: baseline 100 MiB, loaded 300 MiB, three warm and five infer
// requests (latencies 1..8 ms), the highest reading 350 MiB (the child's VmHWM in infer), unload
// back to 150 MiB.
TraceText steady_arm() {
  TraceText t;
  t.line({{"type", "header"}, {"src", ""}, {"t_ms", 0}, {"command", "soak"}});
  t.arm_begin(5)
      .phase_begin("baseline", 10)
      .phase_end("baseline", 20, 100 * kMiB, 40 * kMiB, 60 * kMiB, {{"duration_ms", 10}})
      .phase_begin("load", 20)
      .phase_end("load", 50, 300 * kMiB, 200 * kMiB, 100 * kMiB,
                 {{"duration_ms", 30}, {"peak_sampled_rss_bytes", 310 * kMiB}});
  t.phase_begin("warm", 50);
  for (int i = 1; i <= 3; ++i) t.request("warm", 50 + 10 * i, i, i, (300 + i) * kMiB);
  t.phase_end("warm", 80, 303 * kMiB, 203 * kMiB, 100 * kMiB, {{"duration_ms", 30}});
  t.phase_begin("infer", 80);
  for (int i = 4; i <= 8; ++i)
    t.request("infer", 80 + 10 * (i - 3), i, i, (300 + i) * kMiB, (320 + i) * kMiB);
  t.outside("infer", 115, 6, 340 * kMiB);
  t.phase_end("infer", 130, 308 * kMiB, 208 * kMiB, 100 * kMiB,
              {{"duration_ms", 50},
               {"peak_sampled_rss_bytes", 309 * kMiB},
               {"peak_hwm_since_reset_bytes", 350 * kMiB}});
  t.phase_begin("unload", 130);
  t.phase_end("unload", 140, 150 * kMiB, 70 * kMiB, 80 * kMiB, {{"duration_ms", 10}});
  t.outside("unload", 145, 8, 151 * kMiB);
  t.arm_end("ok");
  return t;
}

}  // namespace

TEST(ArmStatus, NamesRoundTripAndUnknownTextIsRefused) {
  for (ArmStatus s : {ArmStatus::ok, ArmStatus::failed, ArmStatus::crashed, ArmStatus::oom_killed,
                      ArmStatus::timeout, ArmStatus::interrupted})
    EXPECT_EQ(parse_arm_status(name(s)), s) << name(s);
  EXPECT_EQ(name(ArmStatus::oom_killed), "oom-killed");
  EXPECT_FALSE(parse_arm_status("oom_killed").has_value()) << "the name has a dash";
  EXPECT_FALSE(parse_arm_status("").has_value());
}

TEST(ArmAccumulator, FoldsACompleteArmIntoItsMemoryFigures) {
  const ArmAccumulator acc = steady_arm().accumulate();
  const ArmFigures f = acc.figures();
  EXPECT_EQ(f.requests_done, 8);
  EXPECT_EQ(f.ort_version, "1.20.1");
  EXPECT_DOUBLE_EQ(acc.arm_begin_ms(), 5);
  EXPECT_DOUBLE_EQ(f.memory.baseline_bytes, 100 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.loaded_bytes, 300 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.after_unload_bytes, 150 * kMiB);
  EXPECT_FALSE(present(f.memory.after_trim_bytes)) << "no trim phase";
  EXPECT_DOUBLE_EQ(f.memory.retained_bytes, 50 * kMiB) << "after unload - baseline";
  EXPECT_DOUBLE_EQ(f.memory.retained_anon_bytes, 30 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.retained_file_bytes, 20 * kMiB);
  EXPECT_DOUBLE_EQ(f.last_rss_bytes, 151 * kMiB) << "the parent's last outside reading";
  EXPECT_TRUE(acc.child_reported_end());
  EXPECT_TRUE(acc.child_finished_ok());
  EXPECT_EQ(acc.child_error(), "");
}

TEST(ArmAccumulator, PeakIsTheHighestReadingOfInferenceAndSaysHowItWasFound) {
  const ArmFigures f = steady_arm().accumulate().figures();
  // Infer's VmHWM since its reset (350 MiB) tops every sampled VmRSS (309 in-process, 340
  // outside) and the loaded figure; the load phase's own 310 MiB peak is not inference.
  EXPECT_DOUBLE_EQ(f.memory.peak_bytes, 350 * kMiB);
  EXPECT_NE(f.memory.peak_method.find("max of: "), std::string::npos) << f.memory.peak_method;
  EXPECT_NE(f.memory.peak_method.find("VmHWM after clear_refs reset at phase start"),
            std::string::npos)
      << f.memory.peak_method;
  EXPECT_NE(f.memory.peak_method.find("VmRSS sampled from the parent"), std::string::npos)
      << f.memory.peak_method;
}

TEST(ArmAccumulator, WithoutAHwmResetTheChildsVmHwmIsNotAPeak) {
  // The child could not reset VmHWM (no clear_refs): its VmHWM is the lifetime mark, which may
  // predate inference, so only sampled VmRSS counts.
  TraceText t;
  t.arm_begin(0).phase_begin("baseline", 0).phase_end("baseline", 1, 100 * kMiB, 0, 0);
  t.phase_begin("load", 1).phase_end("load", 2, 200 * kMiB, 0, 0);
  t.phase_begin("infer", 2, /*hwm_reset=*/false);
  t.request("infer", 3, 1, 1.0, 210 * kMiB, 900 * kMiB);
  t.request("infer", 4, 2, 1.0, 220 * kMiB, 900 * kMiB);
  const ArmFigures f = t.accumulate().figures();
  EXPECT_DOUBLE_EQ(f.memory.peak_bytes, 220 * kMiB);
  EXPECT_EQ(f.memory.peak_method.find("VmHWM"), std::string::npos) << f.memory.peak_method;
  EXPECT_NE(f.memory.peak_method.find("in-process VmRSS sampling"), std::string::npos);
}

TEST(ArmAccumulator, ThePeakIsNeverBelowTheLoadedFigure) {
  // Inference readings below the loaded figure (the loader's buffers were freed): the session is
  // held through inference, so the peak is at least what was resident when loading ended.
  TraceText t;
  t.arm_begin(0).phase_begin("load", 0).phase_end("load", 1, 400 * kMiB, 0, 0);
  t.phase_begin("infer", 1, false).request("infer", 2, 1, 1.0, 380 * kMiB);
  const ArmFigures f = t.accumulate().figures();
  EXPECT_DOUBLE_EQ(f.memory.peak_bytes, 400 * kMiB);
  EXPECT_NE(f.memory.peak_method.find("VmRSS at the end of phase load"), std::string::npos);
}

TEST(ArmAccumulator, LatencyAndThroughputComeFromRequestsAndInferenceTime) {
  const ArmAccumulator acc = steady_arm().accumulate();
  const ArmFigures f = acc.figures();
  EXPECT_DOUBLE_EQ(f.latency_ms.mean, 4.5);  // 1..8 ms
  EXPECT_DOUBLE_EQ(f.latency_ms.p50, 4);     // nearest rank: ceil(0.5 x 8) = 4th
  EXPECT_DOUBLE_EQ(f.latency_ms.p95, 8);
  EXPECT_DOUBLE_EQ(f.latency_ms.p99, 8);
  // 8 requests over warm (30 ms) and infer (50 ms): 100 per second.
  EXPECT_DOUBLE_EQ(f.throughput_rps, 100);
  EXPECT_EQ(acc.latency_quantiles_ms(4), (std::vector<double>{1, 2, 4, 6, 8}));
  EXPECT_EQ(acc.latency_quantiles_ms(100).size(), 101u);
  EXPECT_TRUE(acc.latency_quantiles_ms(0).empty());
}

TEST(ArmAccumulator, PhasesListEveryEndInOrderWithItsFigures) {
  const ArmFigures f = steady_arm().accumulate().figures();
  ASSERT_EQ(f.phases.size(), 5u);
  std::vector<std::string> names;
  for (const auto& p : f.phases) names.emplace_back(p.phase.text());
  EXPECT_EQ(names, (std::vector<std::string>{"baseline", "load", "warm", "infer", "unload"}));
  const PhaseEnd& infer = f.phases[3];
  EXPECT_DOUBLE_EQ(infer.t_ms, 130);
  EXPECT_DOUBLE_EQ(infer.value(Figure::rss_bytes), 308 * kMiB);
  EXPECT_DOUBLE_EQ(infer.value(Figure::peak_hwm_since_reset_bytes), 350 * kMiB);
  EXPECT_DOUBLE_EQ(infer.value(Figure::duration_ms), 50);
  EXPECT_FALSE(f.phases[0].cycle) << "no cycle outside churn";
  EXPECT_FALSE(f.phases[0].has(Figure::peak_sampled_rss_bytes)) << "absent stays absent";
  EXPECT_FALSE(f.phases[0].cache) << "no cache counters outside the cache scenario";
}

TEST(ArmAccumulator, APhaseEndKeepsTheCacheCountersAndLeavesOutAMalformedOne) {
  ModelCacheStats stats;
  stats.hits = 9;
  stats.misses = 1;
  TraceText t;
  t.arm_begin(0)
      .phase_begin("infer", 10)
      .phase_end("infer", 20, 100 * kMiB, 50 * kMiB, 25 * kMiB, {{"cache", stats.to_json()}})
      .phase_begin("unload", 21)
      .phase_end("unload", 22, 90 * kMiB, 40 * kMiB, 25 * kMiB, {{"cache", {{"hits", "nine"}}}});
  const ArmFigures f = t.accumulate().figures();
  ASSERT_EQ(f.phases.size(), 2u);
  ASSERT_TRUE(f.phases[0].cache);
  EXPECT_EQ(f.phases[0].cache->hits, 9u);
  EXPECT_FALSE(f.phases[1].cache) << "the child's malformed counters are left out";
  EXPECT_DOUBLE_EQ(f.phases[1].value(Figure::rss_bytes), 90 * kMiB) << "the phase end stays";
}

TEST(ArmAccumulator, TheSeriesIsOnePointPerRequestOfWarmAndInfer) {
  const ArmAccumulator acc = steady_arm().accumulate();
  const Series s = acc.series("default");
  EXPECT_EQ(s.name, "default");
  ASSERT_EQ(s.points.size(), 8u) << "the child's readings; the parent's are not points";
  for (std::size_t i = 0; i < s.points.size(); ++i) {
    const SeriesPoint& p = s.points[i];
    EXPECT_EQ(p.req, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(p.phase.text(), i < 3 ? "warm" : "infer");
    EXPECT_DOUBLE_EQ(p.current_bytes, (301.0 + static_cast<double>(i)) * kMiB);
    EXPECT_DOUBLE_EQ(p.anon_bytes, p.current_bytes / 2);
    EXPECT_DOUBLE_EQ(p.file_bytes, p.current_bytes / 4);
    EXPECT_DOUBLE_EQ(p.allocator_in_use_bytes, p.current_bytes / 8);
    EXPECT_FALSE(present(p.hwm_bytes)) << "the judged series leaves the reset VmHWM out";
    EXPECT_EQ(p.cycle, -1);
  }
  // The chart's points carry the child's VmHWM since the phase began (none in warm here).
  const Series c = acc.chart_series("default");
  ASSERT_EQ(c.points.size(), 8u);
  EXPECT_FALSE(present(c.points[0].hwm_bytes));
  EXPECT_DOUBLE_EQ(c.points[3].hwm_bytes, 324 * kMiB);
}

TEST(ArmAccumulator, JemallocsCountIsPreferredToMallinfo) {
  TraceText t;
  t.arm_begin(0).phase_begin("infer", 0);
  t.line({{"type", "sample"},
          {"t_ms", 1},
          {"phase", "infer"},
          {"req", 1},
          {"rss_bytes", 10 * kMiB},
          {"malloc_in_use_bytes", 3 * kMiB},
          {"jemalloc_allocated_bytes", 2 * kMiB}});
  const Series s = t.accumulate().series("x");
  ASSERT_EQ(s.points.size(), 1u);
  EXPECT_DOUBLE_EQ(s.points[0].allocator_in_use_bytes, 2 * kMiB);
}

TEST(ArmAccumulator, TrimIsWhatTheArmRetains) {
  TraceText t = steady_arm();
  t.phase_begin("trim", 150).phase_end("trim", 160, 120 * kMiB, 45 * kMiB, 75 * kMiB);
  const ArmAccumulator acc = t.accumulate();
  const ArmFigures f = acc.figures();
  EXPECT_DOUBLE_EQ(f.memory.after_unload_bytes, 150 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.after_trim_bytes, 120 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.retained_bytes, 20 * kMiB) << "after trim - baseline";
  EXPECT_DOUBLE_EQ(f.memory.retained_anon_bytes, 5 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.retained_file_bytes, 15 * kMiB);
  const SeriesContext c = acc.context(f);
  EXPECT_TRUE(c.trim_by_arm);
  EXPECT_DOUBLE_EQ(c.after_trim_bytes, 120 * kMiB);
  EXPECT_DOUBLE_EQ(c.baseline_bytes, 100 * kMiB);
  EXPECT_DOUBLE_EQ(c.loaded_bytes, 300 * kMiB);
}

TEST(ArmAccumulator, ChurnCyclesKeepTheFirstLoadTheLastUnloadAndEachCyclesUnload) {
  TraceText t;
  t.arm_begin(0).phase_begin("baseline", 0).phase_end("baseline", 1, 100 * kMiB, 0, 0);
  double at = 1;
  std::int64_t req = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    const json c = {{"cycle", cycle}};
    t.phase_begin("load", at).phase_end("load", at + 1, (300.0 + 10 * cycle) * kMiB, 0, 0, c);
    t.phase_begin("infer", at + 1);
    t.line({{"type", "sample"},
            {"t_ms", at + 2},
            {"phase", "infer"},
            {"req", ++req},
            {"cycle", cycle},
            {"rss_bytes", (305.0 + 10 * cycle) * kMiB}});
    t.phase_end("infer", at + 3, (305.0 + 10 * cycle) * kMiB, 0, 0, c);
    t.phase_begin("unload", at + 3)
        .phase_end("unload", at + 4, (110.0 + 5 * cycle) * kMiB, 0, 0, c);
    if (cycle == 1)  // a trim right after this cycle's unload is what the cycle left
      t.phase_begin("trim", at + 4).phase_end("trim", at + 5, 105 * kMiB, 0, 0, c);
    at += 10;
  }
  const ArmAccumulator acc = t.accumulate();
  const ArmFigures f = acc.figures();
  EXPECT_DOUBLE_EQ(f.memory.loaded_bytes, 300 * kMiB) << "the first load";
  EXPECT_DOUBLE_EQ(f.memory.after_unload_bytes, 120 * kMiB) << "the last unload";
  EXPECT_DOUBLE_EQ(f.memory.peak_bytes, 325 * kMiB);
  ASSERT_EQ(f.phases.size(), 1u + 3 * 3 + 1);
  EXPECT_EQ(f.phases[1].cycle, 0);
  const SeriesContext c = acc.context(f);
  EXPECT_EQ(c.after_unload_per_cycle_bytes,
            (std::vector<double>{110 * kMiB, 105 * kMiB, 120 * kMiB}));
  const Series s = acc.series("churn");
  ASSERT_EQ(s.points.size(), 3u);
  EXPECT_EQ(s.points[2].cycle, 2);
}

TEST(ArmAccumulator, ATruncatedTraceOfACrashedChildKeepsWhatItSaw) {
  // The child died in inference: no infer end, no unload, no end record, and its last line cut
  // mid-write. The parent's outside samples outlive it.
  TraceText t;
  t.arm_begin(0)
      .phase_begin("baseline", 1)
      .phase_end("baseline", 2, 100 * kMiB, 40 * kMiB, 60 * kMiB)
      .phase_begin("load", 2)
      .phase_end("load", 3, 300 * kMiB, 200 * kMiB, 100 * kMiB)
      .phase_begin("infer", 3);
  for (int i = 1; i <= 4; ++i) t.request("infer", 3 + i, i, 2.0, (300.0 + 20 * i) * kMiB);
  t.outside("infer", 8.5, 4, 395 * kMiB);
  t.raw(R"({"v":1,"type":"request","t_ms":9,"src":"child","phase":"infer","req":5,"lat)");
  const ArmAccumulator acc = t.accumulate(/*expect_skipped=*/1);
  const ArmFigures f = acc.figures();
  EXPECT_FALSE(acc.child_reported_end());
  EXPECT_FALSE(acc.child_finished_ok());
  EXPECT_EQ(f.requests_done, 4);
  EXPECT_DOUBLE_EQ(f.memory.baseline_bytes, 100 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.loaded_bytes, 300 * kMiB);
  EXPECT_DOUBLE_EQ(f.memory.peak_bytes, 395 * kMiB) << "the parent saw the highest reading";
  EXPECT_FALSE(present(f.memory.after_unload_bytes));
  EXPECT_FALSE(present(f.memory.retained_bytes)) << "nothing is retained without an unload";
  EXPECT_FALSE(present(f.memory.retained_anon_bytes));
  EXPECT_DOUBLE_EQ(f.last_rss_bytes, 395 * kMiB);
  EXPECT_FALSE(present(f.throughput_rps)) << "no inference phase ended";
  EXPECT_DOUBLE_EQ(f.latency_ms.mean, 2.0);
  EXPECT_EQ(acc.series("crashed").points.size(), 4u);
}

TEST(ArmAccumulator, AFailedChildSaysWhyAndHasNoPeakBeforeInference) {
  TraceText t;
  t.arm_begin(0).phase_begin("baseline", 1).phase_end("baseline", 2, 100 * kMiB, 0, 0);
  t.phase_begin("load", 2);
  t.outside("load", 2.5, 0, 180 * kMiB);
  t.arm_end("failed", "Load model from m.onnx failed: protobuf parsing failed");
  const ArmAccumulator acc = t.accumulate();
  const ArmFigures f = acc.figures();
  EXPECT_TRUE(acc.child_reported_end());
  EXPECT_FALSE(acc.child_finished_ok());
  EXPECT_EQ(acc.child_error(), "Load model from m.onnx failed: protobuf parsing failed");
  EXPECT_EQ(f.requests_done, 0);
  EXPECT_FALSE(present(f.memory.peak_bytes)) << "an arm that never reached inference";
  EXPECT_EQ(f.memory.peak_method, "");
  EXPECT_FALSE(present(f.memory.loaded_bytes));
  EXPECT_DOUBLE_EQ(f.last_rss_bytes, 180 * kMiB);
  EXPECT_FALSE(present(f.latency_ms.mean));
  EXPECT_TRUE(acc.latency_quantiles_ms().empty());
  EXPECT_TRUE(acc.series("failed").points.empty());
}

TEST(ArmAccumulator, AnEmptyTraceHasNoFigures) {
  const ArmAccumulator acc = accumulate_arm({});
  const ArmFigures f = acc.figures();
  EXPECT_EQ(f.requests_done, 0);
  EXPECT_FALSE(present(f.memory.baseline_bytes));
  EXPECT_FALSE(present(f.memory.peak_bytes));
  EXPECT_FALSE(present(f.last_rss_bytes));
  EXPECT_FALSE(present(acc.arm_begin_ms()));
  EXPECT_TRUE(f.phases.empty());
  EXPECT_FALSE(acc.child_reported_end());
}

TEST(ArmAccumulator, CacheEventsAreKeptWhereTheyHappenedAndOtherNotesAreIgnored) {
  TraceText t;
  t.arm_begin(0).phase_begin("infer", 0);
  t.line({{"type", "note"}, {"t_ms", 1}, {"event", "load"}, {"req", -1}});
  t.request("infer", 2, 1, 1.0, 10 * kMiB);
  t.line({{"type", "note"}, {"t_ms", 3}, {"event", "idle"}, {"edge", "begin"}});
  t.line({{"type", "note"}, {"t_ms", 3}, {"text", "a warning"}});
  t.line({{"type", "note"}, {"t_ms", 4}, {"event", "evict"}, {"req", 1}});
  t.line({{"type", "note"}, {"t_ms", 4}, {"event", "refused"}, {"req", 1}});
  const ArmAccumulator acc = t.accumulate();
  const auto& events = acc.cache_events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, CacheEvent::Kind::load);
  EXPECT_EQ(events[0].before_point, 0u);
  EXPECT_EQ(events[0].req, 0) << "an unknown request count reads as none done";
  EXPECT_EQ(events[1].kind, CacheEvent::Kind::evict);
  EXPECT_EQ(events[1].before_point, 1u) << "after the first point: none followed";
  EXPECT_EQ(events[2].kind, CacheEvent::Kind::refused);
  EXPECT_DOUBLE_EQ(events[2].t_ms, 4);
}

TEST(ArmAccumulator, OnePassOverAListEqualsAddingRecordsAsTheyArrive) {
  // soak folds records as they arrive from the pipe, analyze from a list read off a file.
  const TraceText t = steady_arm();
  trace::Reader reader(trace::Source::from_text(t.text()));
  std::vector<trace::Record> records;
  while (auto r = reader.next()) records.push_back(*r);
  const ArmFigures listed = accumulate_arm(records).figures();
  const ArmFigures live = t.accumulate().figures();
  EXPECT_EQ(to_json(listed.phases), to_json(live.phases));
  EXPECT_EQ(listed.memory.peak_bytes, live.memory.peak_bytes);
  EXPECT_EQ(listed.memory.peak_method, live.memory.peak_method);
  EXPECT_EQ(listed.memory.retained_bytes, live.memory.retained_bytes);
  EXPECT_EQ(listed.latency_ms.p95, live.latency_ms.p95);
  EXPECT_EQ(listed.requests_done, live.requests_done);
}

// A trace record (tests/trace) read into an arm: a cycle beyond an int is kept as none (-1).
TEST(Trace, AnArmsSampleWithACycleBeyondAnIntIsKeptWithoutOne) {
  trace::Record r;
  r.type = trace::RecordType::sample;
  r.src = trace::Src::child;
  r.phase = trace::Phase::infer;
  r.values.set(Figure::rss_bytes, 5);
  r.values.set(Figure::cycle, 1e300);
  const auto series = accumulate_arm({r}).series("arm");
  ASSERT_EQ(series.points.size(), 1u);
  EXPECT_EQ(series.points[0].cycle, -1);
}
