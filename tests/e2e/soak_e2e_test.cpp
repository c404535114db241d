// End-to-end: `infermem soak` on generated models and the real PP-OCRv4 detection model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "support/metrics_helpers.h"
#include "support/models.h"
#include "support/run_helpers.h"

using infermem::test::arm_named;
using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::on_path;
using infermem::test::promtool_check_metrics;
using infermem::test::read_file;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

// Phase-end records of one arm in trace.jsonl.
std::vector<nlohmann::json> phase_ends(const std::string& trace_path, const std::string& arm) {
  std::vector<nlohmann::json> out;
  std::ifstream in(trace_path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "phase" && j.value("edge", "") == "end" && j.value("arm", "") == arm)
      out.push_back(j);
  }
  return out;
}

bool any_phase_has(const std::vector<nlohmann::json>& phases, const std::string& key) {
  for (const auto& p : phases)
    if (p.contains(key)) return true;
  return false;
}

bool sanitized() {
#if defined(INFERMEM_SANITIZED)
  return true;
#else
  return false;
#endif
}

void expect_sane_figures(const nlohmann::json& arm) {
  SCOPED_TRACE(arm["name"].get<std::string>());
  SCOPED_TRACE(arm["memory"].dump() + " requests_done " + arm["requests_done"].dump());
  ASSERT_EQ(arm["status"], "ok") << arm["status_detail"];
  const auto& m = arm["memory"];
  for (const char* k : {"baseline_bytes", "loaded_bytes", "peak_bytes", "after_unload_bytes"})
    ASSERT_TRUE(m[k].is_number()) << k;
  EXPECT_LE(m["baseline_bytes"].get<double>(), m["loaded_bytes"].get<double>());
  // The peak is sampled over warm-up and inference; the unload phase itself may touch a few
  // pages more (ORT's teardown, the phase's own reading), seen at 57 KiB: 1 MiB of slack.
  EXPECT_GE(m["peak_bytes"].get<double>() + 1048576.0, m["after_unload_bytes"].get<double>());
  EXPECT_GE(m["peak_bytes"].get<double>(), m["loaded_bytes"].get<double>() * 0.9);
  EXPECT_GT(arm["latency_ms"]["p50"].get<double>(), 0.0);
  EXPECT_GE(arm["latency_ms"]["p99"].get<double>(), arm["latency_ms"]["p50"].get<double>());
  EXPECT_GT(arm["throughput_rps"].get<double>(), 0.0);
  EXPECT_TRUE(arm["verdict"]["kind"].is_string());
  EXPECT_TRUE(arm["config"].contains("arena"));
}

}  // namespace

TEST(SoakE2E, GeneratedTransformerEveryArmInItsOwnProcessWithKnobsThatReachOrt) {
  std::string model = generated_model("transformer", "8MiB");
  std::string out = make_temp_dir("soak");
  auto r = run_cli({"soak", model, "--scenario", "mixed", "--requests", "25", "--arms",
                    "ort-default,no-arena,no-arena-trim,jemalloc", "--dim", "sequence=16..64",
                    "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ort-default"));
  EXPECT_THAT(r.out, HasSubstr("peak MiB"));
  auto summary = read_json_file(out + "/summary.json");
  // Every dynamic dimension as resolved, so a reader knows which shapes ran.
  ASSERT_TRUE(summary["options"]["dims"].is_object()) << summary["options"].dump();
  EXPECT_FALSE(summary["options"]["dims"].empty());
  for (const auto& [key, range] : summary["options"]["dims"].items())
    EXPECT_EQ(range.size(), 3u) << key;
  EXPECT_EQ(summary["options"]["dims"]["sequence"][0], 16);
  EXPECT_EQ(summary["options"]["dims"]["sequence"][1], 64);
  EXPECT_EQ(summary["scenario"], "mixed");
  // Without --memory-limit the children share the machine's cgroup: its figures are not theirs.
  EXPECT_EQ(read_file(out + "/trace.jsonl").find("cgroup_"), std::string::npos);
  EXPECT_EQ(summary["model"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_THAT(summary["ort_version"].get<std::string>(), HasSubstr("1.29"));
  std::set<int> pids;
  for (const auto& arm : summary["arms"]) {
    expect_sane_figures(arm);
    EXPECT_EQ(arm["requests_done"], 25);
    pids.insert(arm["pid"].get<int>());
  }
  EXPECT_EQ(pids.size(), 4u) << "each arm ran in a different process";
  EXPECT_TRUE(fs::exists(out + "/report.md"));
  EXPECT_TRUE(fs::exists(out + "/junit.xml"));
  // metrics.prom: the finished run in Prometheus' text format, one series per arm, valid to
  // promtool (a textfile collector would refuse it otherwise).
  const std::string prom = read_file(out + "/metrics.prom");
  for (const auto& arm : summary["arms"])
    EXPECT_THAT(prom, HasSubstr("infermem_soak_memory_bytes{arm=\"" +
                                arm["name"].get<std::string>() + "\",figure=\"peak\"}"));
  if (on_path("promtool")) {
    std::string log;
    EXPECT_EQ(promtool_check_metrics(prom, out, &log), 0) << log;
  }

  // ORT's arena statistics exist only for sessions that have an arena.
  std::string trace = out + "/trace.jsonl";
  EXPECT_TRUE(any_phase_has(phase_ends(trace, "ort-default"), "ort_arena_reserved_bytes"));
  EXPECT_FALSE(any_phase_has(phase_ends(trace, "no-arena"), "ort_arena_reserved_bytes"));
  // Trim ran only where the arm asked for it.
  EXPECT_TRUE(arm_named(summary, "no-arena-trim")["memory"]["after_trim_bytes"].is_number());
  EXPECT_TRUE(arm_named(summary, "no-arena")["memory"]["after_trim_bytes"].is_null());
  // The jemalloc arm's child really ran on jemalloc: its mallctl answered.
  if (!sanitized()) {
    EXPECT_TRUE(any_phase_has(phase_ends(trace, "jemalloc"), "jemalloc_allocated_bytes"));
    EXPECT_FALSE(any_phase_has(phase_ends(trace, "ort-default"), "jemalloc_allocated_bytes"));
  }
}

TEST(SoakE2E, RealOcrDetectionModelMixedShapes) {
  std::string model =
      std::string(INFERMEM_SOURCE_DIR) + "/third_party/models/ch_PP-OCRv4_det_infer.onnx";
  if (!fs::exists(model)) GTEST_SKIP() << "run scripts/setup.sh to fetch the PP-OCRv4 model";
  std::string out = make_temp_dir("soak-ocr");
  auto r = run_cli({"soak", model, "--scenario", "mixed", "--requests", "12", "--arms",
                    "ort-default,no-arena-trim", "--dim", "x.2=96..256", "--dim", "x.3=96..256",
                    "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 2u);
  for (const auto& arm : summary["arms"]) expect_sane_figures(arm);
  EXPECT_NE(summary["arms"][0]["pid"], summary["arms"][1]["pid"]);
}

TEST(SoakE2E, ChurnAndCacheScenariosRun) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-churn");
  auto r = run_cli({"soak", model, "--scenario", "churn", "--cycles", "3", "--requests", "5",
                    "--arms", "ort-default", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  EXPECT_EQ(summary["arms"][0]["status"], "ok");
  EXPECT_EQ(phase_ends(out + "/trace.jsonl", "ort-default").size(), 1u + 3u * 3u + 1u)
      << "baseline, 3 x (load, infer, unload), and warm in the first cycle";

  std::string out2 = make_temp_dir("soak-cache");
  r = run_cli({"soak", model, "--scenario", "cache", "--models", "4", "--cache", "lru:2",
               "--requests", "30", "--arms", "ort-default", "--out", out2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  summary = read_json_file(out2 + "/summary.json");
  EXPECT_EQ(summary["arms"][0]["status"], "ok");
  EXPECT_EQ(summary["arms"][0]["requests_done"], 30);
  EXPECT_FALSE(fs::exists(out2 + "/models")) << "model variants are removed after the run";
}

TEST(SoakE2E, MemoryLimitOomKillIsAResultAndTheNextArmStillRuns) {
  // 96 MiB of weights cannot load under 128 MiB: ORT holds the weights plus its runtime
  // (about 30 MiB here) and, with graph optimisation, transformed copies of them.
  std::string model = generated_model("transformer", "96MiB");
  std::string out = make_temp_dir("soak-oom");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "5", "--arms",
                    "ort-default,no-arena", "--memory-limit", "128M", "--out", out});
  auto summary = read_json_file(out + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 2u) << r.err;
  bool limited = true;
  for (const auto& n : summary["notes"])
    if (n.get<std::string>().find("not applied") != std::string::npos) limited = false;
  if (!limited) GTEST_SKIP() << "no memory cgroup can be created here: " << summary["notes"].dump();
  for (const auto& arm : summary["arms"]) {
    EXPECT_EQ(arm["status"], "oom-killed") << arm["status_detail"];
    EXPECT_THAT(arm["status_detail"].get<std::string>(), HasSubstr("oom_kill"));
    EXPECT_GT(arm["pid"].get<int>(), 0);
  }
  EXPECT_NE(summary["arms"][0]["pid"], summary["arms"][1]["pid"]);
  EXPECT_EQ(r.exit_code, 1) << "the limit acted as a memory check";
}

TEST(SoakE2E, BadInputIsExitTwoWithAClearMessageAndNothingWritten) {
  std::string dir = make_temp_dir("soak-bad");
  std::string corrupt = dir + "/corrupt.onnx";
  std::ofstream(corrupt) << "this is not an onnx model";
  std::string out = dir + "/out";
  auto r = run_cli({"soak", corrupt, "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("corrupt.onnx"));
  EXPECT_FALSE(fs::exists(out)) << "nothing half-written";

  std::string model = generated_model("mlp", "2MiB");
  r = run_cli({"soak", model, "--arm", "x:arenna=off", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("arenna"));
  EXPECT_FALSE(fs::exists(out));

  std::string strings = dir + "/strings.onnx";
  infermem::test::write_string_input_model(strings);
  r = run_cli({"soak", strings, "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("'text'"));
  EXPECT_THAT(r.err, HasSubstr("string"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(SoakE2E, ACrashedChildIsRecordedWithItsDataAndTheOtherArmsRun) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-crash");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "10", "--arms",
                    "ort-default,no-arena", "--out", out},
                   {"INFERMEM_TEST_CRASH_ARM=ort-default", "INFERMEM_TEST_CRASH_AT_REQUEST=4"});
  auto summary = read_json_file(out + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 2u) << r.err;
  const auto& crashed = arm_named(summary, "ort-default");
  EXPECT_EQ(crashed["status"], "crashed");
  EXPECT_THAT(crashed["status_detail"].get<std::string>(), HasSubstr("SIGABRT"));
  EXPECT_EQ(crashed["requests_done"], 4);
  EXPECT_TRUE(crashed["memory"]["loaded_bytes"].is_number()) << "data so far is kept";
  EXPECT_EQ(arm_named(summary, "no-arena")["status"], "ok");
  EXPECT_EQ(r.exit_code, 3) << "a crashed arm is a failed workload";
}

TEST(SoakE2E, AnOrtErrorIsFailedWithItsMessageAndNoVerdictFromNoData) {
  // The child's first Run() fails as ORT fails on an input it rejects (a test hook throws
  // the error inside the worker): the arm ran no request, so nothing can be judged from it.
  std::string model = generated_model("mlp", "1MiB");
  std::string out = make_temp_dir("soak-failed");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "10", "--arms",
                    "ort-default,no-arena", "--out", out},
                   {"INFERMEM_TEST_CRASH_ARM=ort-default", "INFERMEM_TEST_FAIL_AT_REQUEST=0"});
  EXPECT_EQ(r.exit_code, 3) << "a failed arm is a failed workload";
  auto summary = read_json_file(out + "/summary.json");
  const auto& failed = arm_named(summary, "ort-default");
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_THAT(failed["status_detail"].get<std::string>(), HasSubstr("INVALID_ARGUMENT"));
  EXPECT_EQ(failed["requests_done"], 0);
  EXPECT_EQ(failed["verdict"]["kind"], "too-short") << failed["verdict"].dump(2);
  const auto& m = failed["memory"];
  EXPECT_TRUE(m["loaded_bytes"].is_number()) << "data so far is kept";
  if (m["peak_bytes"].is_number()) {
    EXPECT_GE(m["peak_bytes"].get<double>(), m["loaded_bytes"].get<double>()) << m.dump(2);
  }
  EXPECT_EQ(arm_named(summary, "no-arena")["status"], "ok");
  std::string junit = read_file(out + "/junit.xml");
  EXPECT_THAT(junit, HasSubstr("INVALID_ARGUMENT"));
}

TEST(SoakE2E, AnAllocatorPreloadThatDoesNotTakeFailsTheArm) {
#if defined(INFERMEM_SANITIZED)
  GTEST_SKIP() << "a sanitizer build never preloads an allocator (its runtime owns malloc)";
#endif
  // An empty file in place of libjemalloc: the loader ignores it with a warning and the child
  // would run on glibc while the arm says jemalloc. The child checks for jemalloc's own entry
  // point and the arm fails, naming what happened.
  std::string dir = make_temp_dir("soak-preload");
  std::ofstream(dir + "/libempty.so").flush();
  std::string model = generated_model("mlp", "1MiB");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "5", "--arms", "jemalloc",
                    "--out", dir + "/run"},
                   {"INFERMEM_TEST_ALLOCATOR_LIBRARY=" + dir + "/libempty.so"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  auto summary = read_json_file(dir + "/run/summary.json");
  const auto& arm = arm_named(summary, "jemalloc");
  EXPECT_EQ(arm["status"], "failed");
  EXPECT_THAT(arm["status_detail"].get<std::string>(), HasSubstr("did not take"));
}

TEST(SoakE2E, EveryFillableElementTypeReachesOrt) {
  std::string dir = make_temp_dir("soak-types");
  std::string model = dir + "/all-types.onnx";
  infermem::test::write_all_types_model(model);
  std::string out = dir + "/out";
  auto r = run_cli({"soak", model, "--scenario", "mixed", "--requests", "5", "--arms",
                    "ort-default", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  EXPECT_EQ(summary["arms"][0]["status"], "ok") << summary["arms"][0]["status_detail"];
  EXPECT_EQ(summary["arms"][0]["requests_done"], 5);
}

TEST(SoakE2E, ReportReRendersARunFromItsSummary) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-report");
  ASSERT_EQ(
      run_cli({"soak", model, "--requests", "5", "--arms", "ort-default", "--out", out}).exit_code,
      0);
  fs::remove(out + "/report.md");
  auto r = run_cli({"report", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("ort-default"));
  EXPECT_THAT(read_file(out + "/report.md"), HasSubstr("# infermem soak report"));
  auto bad = run_cli({"report", make_temp_dir("empty-run")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("summary.json"));
}

TEST(SoakE2E, WithoutCgroupsTheLimitIsAWarningAndTheRunGoesOn) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-nocg");
  auto r = run_cli({"soak", model, "--requests", "5", "--arms", "ort-default", "--memory-limit",
                    "1GiB", "--out", out},
                   {"INFERMEM_CGROUP_ROOT=" + make_temp_dir("no-cgroupfs")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("--memory-limit not applied"));
  auto summary = read_json_file(out + "/summary.json");
  EXPECT_EQ(summary["arms"][0]["status"], "ok");
  EXPECT_THAT(summary["notes"].dump(), HasSubstr("not applied"));
}

TEST(SoakE2E, DurationStopsInferenceAndTimeoutKillsTheChild) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-duration");
  auto r = run_cli({"soak", model, "--requests", "100000000", "--duration", "1s", "--arms",
                    "ort-default", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  EXPECT_EQ(summary["arms"][0]["status"], "ok");
  // The clock starts before the 3 warm requests, which always run; on a busy machine they can
  // use up the whole second, so only "the warm requests ran and the duration, not the count,
  // ended inference" holds every time.
  EXPECT_GE(summary["arms"][0]["requests_done"].get<long>(), 3);
  EXPECT_LT(summary["arms"][0]["requests_done"].get<long>(), 100000000);

  // --timeout counts from the fork, and a sanitizer-built child on a busy 2-core machine took
  // 5-6 s to reach its first request (exec, ORT's environment, session load: all slowed by ASan
  // and by CPU contention); a 1.5 s timeout killed it before any request. 20 s is more than
  // three times that, and the arm still never finishes: 10^8 requests take hours.
  std::string out2 = make_temp_dir("soak-timeout");
  r = run_cli({"soak", model, "--requests", "100000000", "--timeout", "20s", "--arms",
               "ort-default,no-arena", "--out", out2});
  summary = read_json_file(out2 + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 2u) << r.err;
  EXPECT_EQ(r.exit_code, 3);
  for (const auto& arm : summary["arms"]) {
    EXPECT_EQ(arm["status"], "timeout");
    EXPECT_GT(arm["requests_done"].get<long>(), 0)
        << "data up to the kill is kept; phases seen: " << arm["phases"].dump();
  }
}

TEST(SoakE2E, RepeatRunsArmsInterleavedInFreshProcessesAndReportsMedians) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-repeat");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "5", "--repeat", "3",
                    "--arms", "ort-default,no-arena", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 2u);
  std::set<int> pids;
  for (const auto& arm : summary["arms"]) {
    ASSERT_EQ(arm["repeats"].size(), 3u);
    std::vector<double> peaks;
    for (const auto& rep : arm["repeats"]) {
      pids.insert(rep["pid"].get<int>());
      peaks.push_back(rep["memory"]["peak_bytes"].get<double>());
    }
    std::sort(peaks.begin(), peaks.end());
    EXPECT_DOUBLE_EQ(arm["memory"]["peak_bytes"].get<double>(), peaks[1]) << "the median";
    EXPECT_DOUBLE_EQ(arm["memory_spread"]["peak_bytes"][0].get<double>(), peaks[0]);
    EXPECT_DOUBLE_EQ(arm["memory_spread"]["peak_bytes"][1].get<double>(), peaks[2]);
    EXPECT_EQ(arm["requests_done"], 15);
  }
  EXPECT_EQ(pids.size(), 6u) << "every repeat of every arm in its own process";
  // Interleaved: the children started in the order a#1 b#1 a#2 b#2 a#3 b#3.
  std::vector<std::string> order;
  std::istringstream trace(read_file(out + "/trace.jsonl"));
  std::string line;
  while (std::getline(trace, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "arm" && j.value("edge", "") == "begin") order.push_back(j["arm"]);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"ort-default#1", "no-arena#1", "ort-default#2",
                                             "no-arena#2", "ort-default#3", "no-arena#3"}));
}
