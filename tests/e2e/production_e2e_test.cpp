// End-to-end: soak as production runs it. The ONNX Runtime version as an arm (ort=VERSION), the
// user's own tensors (--inputs, --input) reaching ORT unchanged, and what is refused before any
// child starts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/models.h"
#include "support/run_helpers.h"
#include "workload/tensor_files.h"

using infermem::test::arm_named;
using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

std::vector<nlohmann::json> records(const std::string& trace, const std::string& type,
                                    const std::string& arm) {
  std::vector<nlohmann::json> out;
  std::ifstream in(trace);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == type && j.value("arm", "") == arm) out.push_back(j);
  }
  return out;
}

std::string fetched_ort(const std::string& version) {
  return std::string(INFERMEM_SOURCE_DIR) + "/third_party/ort-versions/" + version +
         "/libonnxruntime.so.1";
}

std::string floats(std::vector<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string int64s(std::vector<std::int64_t> v) {
  std::string s(v.size() * 8, '\0');
  std::memcpy(s.data(), v.data(), s.size());
  return s;
}

std::string digest(const std::string& bytes) {
  return infermem::fnv1a_hex(bytes.data(), bytes.size());
}

}  // namespace

TEST(ProductionE2E, OrtVersionsRunSideBySideInOneSoak) {
  if (!fs::exists(fetched_ort("1.22.0")))
    GTEST_SKIP() << "ONNX Runtime 1.22.0 is not fetched: run scripts/setup.sh";
  const std::string out = make_temp_dir("soak-ort") + "/run";
  auto r = run_cli({"soak", generated_model("mlp", "1MiB"), "--scenario", "steady", "--requests",
                    "30", "--arms", "", "--arm", "ort122:ort=1.22.0", "--arm",
                    "built-in:ort=default", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto summary = read_json_file(out + "/summary.json");
  const auto& old_arm = arm_named(summary, "ort122");
  const auto& new_arm = arm_named(summary, "built-in");
  EXPECT_EQ(old_arm["status"], "ok") << old_arm["status_detail"];
  EXPECT_EQ(new_arm["status"], "ok") << new_arm["status_detail"];
  EXPECT_EQ(old_arm["ort_version"], "1.22.0");
  EXPECT_EQ(new_arm["ort_version"], summary["ort_version"]);
  EXPECT_NE(new_arm["ort_version"], "1.22.0");
  EXPECT_EQ(old_arm["config"]["ort"], "1.22.0");
  EXPECT_EQ(old_arm["requests_done"], 30);
  // The child said which library and which C API it ran on.
  auto begins = records(out + "/trace.jsonl", "arm", "ort122");
  ASSERT_FALSE(begins.empty());
  EXPECT_EQ(begins[0]["ort_version"], "1.22.0");
  EXPECT_EQ(begins[0]["ort_api_version"], 22);
  EXPECT_THAT(read_file(out + "/report.md"), HasSubstr("- ONNX Runtime 1.22.0"));
  auto d = run_cli({"diff", out, out});
  EXPECT_EQ(d.exit_code, 0) << d.err;
  EXPECT_THAT(d.out, HasSubstr("arm ort122: ONNX Runtime 1.22.0"));
  fs::remove_all(fs::path(out).parent_path());
}

TEST(ProductionE2E, AnOrtVersionNotFetchedIsExitTwoBeforeAnyChild) {
  const std::string parent = make_temp_dir("soak-ort-missing");
  const std::string out = parent + "/run";
  auto r = run_cli({"soak", generated_model("mlp", "1MiB"), "--requests", "5", "--arms", "",
                    "--arm", "future:ort=1.99.0", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("infermem:"));
  EXPECT_THAT(r.err, HasSubstr("ONNX Runtime 1.99.0 is not fetched"));
  EXPECT_THAT(r.err, HasSubstr("scripts/fetch-ort.sh 1.99.0"));
  EXPECT_FALSE(fs::exists(out));
  auto bad = run_cli({"soak", generated_model("mlp", "1MiB"), "--arms", "", "--arm",
                      "odd:ort=latest", "--out", out});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("ort=latest is not valid"));
  auto old = run_cli({"soak", generated_model("mlp", "1MiB"), "--arms", "", "--arm",
                      "old:ort=1.10.0", "--out", out});
  EXPECT_EQ(old.exit_code, 2);
  EXPECT_THAT(old.err, HasSubstr("older than 1.20.0"));
  EXPECT_FALSE(fs::exists(out));
  fs::remove_all(parent);
}

TEST(ProductionE2E, TestDataSetsNpyAndNpzReachOrtByteForByte) {
  const std::string dir = make_temp_dir("soak-inputs");
  const std::string model = generated_model("identity", "4");
  // Two ONNX test data sets of different shapes, as the model zoo lays them out.
  const std::string x0 = floats({1, 2, 3, 4, 5, 6, 7, 8, -1, -2, -3, -4, -5, -6, -7, -8});
  const std::string ids0 = int64s({3, 1, 4, 1, 5, 9, 2, 6, 5, 3});
  const std::string x1 = floats({0.5f, 0.25f, 0.125f, 0, 1e-3f, 1e3f, -0.0f, 42});
  const std::string ids1 = int64s({7, 7, 7});
  fs::create_directories(dir + "/sets/test_data_set_0");
  fs::create_directories(dir + "/sets/test_data_set_1");
  infermem::test::write_tensor_pb(dir + "/sets/test_data_set_0/input_0.pb", "x", 1, {2, 8}, x0);
  infermem::test::write_tensor_pb(dir + "/sets/test_data_set_0/input_1.pb", "ids", 7, {2, 5}, ids0);
  infermem::test::write_tensor_pb(dir + "/sets/test_data_set_1/input_0.pb", "", 1, {1, 8}, x1);
  infermem::test::write_tensor_pb(dir + "/sets/test_data_set_1/input_1.pb", "", 7, {1, 3}, ids1);
  auto r =
      run_cli({"soak", model, "--scenario", "steady", "--requests", "6", "--arms", "ort-default",
               "--inputs", dir + "/sets", "--record-outputs", "--out", dir + "/run-pb"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto reqs = records(dir + "/run-pb/trace.jsonl", "request", "ort-default");
  ASSERT_EQ(reqs.size(), 6u);  // 3 warm-up, then 3 measured
  for (std::size_t k = 0; k < reqs.size(); ++k) {
    SCOPED_TRACE(reqs[k].dump());
    EXPECT_EQ(reqs[k]["outputs"]["x_out"], digest(k % 2 == 0 ? x0 : x1));
    EXPECT_EQ(reqs[k]["outputs"]["ids_out"], digest(k % 2 == 0 ? ids0 : ids1));
    EXPECT_EQ(reqs[k]["shape"], k % 2 == 0 ? "x[2x8] ids[2x5]" : "x[1x8] ids[1x3]");
  }

  // A .npy named after its input, and an .npz holding both inputs.
  fs::create_directories(dir + "/npy");
  {
    std::ofstream(dir + "/npy/x.npy", std::ios::binary)
        << infermem::test::npy_bytes("<f4", {2, 8}, x0);
    std::ofstream(dir + "/both.npz", std::ios::binary)
        << infermem::test::npz_bytes({{"x", infermem::test::npy_bytes("<f4", {1, 8}, x1)},
                                      {"ids", infermem::test::npy_bytes("<i8", {1, 3}, ids1)}});
  }
  auto npy =
      run_cli({"soak", model, "--scenario", "steady", "--requests", "2", "--arms", "ort-default",
               "--inputs", dir + "/npy/x.npy", "--record-outputs", "--out", dir + "/run-npy"});
  ASSERT_EQ(npy.exit_code, 0) << npy.err << npy.out;
  for (const auto& q : records(dir + "/run-npy/trace.jsonl", "request", "ort-default"))
    EXPECT_EQ(q["outputs"]["x_out"], digest(x0));
  auto npz =
      run_cli({"soak", model, "--scenario", "steady", "--requests", "2", "--arms", "ort-default",
               "--inputs", dir + "/both.npz", "--record-outputs", "--out", dir + "/run-npz"});
  ASSERT_EQ(npz.exit_code, 0) << npz.err << npz.out;
  for (const auto& q : records(dir + "/run-npz/trace.jsonl", "request", "ort-default")) {
    EXPECT_EQ(q["outputs"]["x_out"], digest(x1));
    EXPECT_EQ(q["outputs"]["ids_out"], digest(ids1));
  }
  // --input: a constant fill, every element the value.
  auto constant = run_cli({"soak", model, "--scenario", "steady", "--requests", "1", "--arms",
                           "ort-default", "--input", "ids=5", "--dim", "sequence=4", "--dim",
                           "batch=1", "--record-outputs", "--out", dir + "/run-const"});
  ASSERT_EQ(constant.exit_code, 0) << constant.err << constant.out;
  for (const auto& q : records(dir + "/run-const/trace.jsonl", "request", "ort-default"))
    EXPECT_EQ(q["outputs"]["ids_out"], digest(int64s({5, 5, 5, 5})));
  fs::remove_all(dir);
}

TEST(ProductionE2E, InputsThatDoNotFitTheModelAreExitTwoNamingThem) {
  const std::string dir = make_temp_dir("soak-inputs-bad");
  const std::string model = generated_model("identity", "4");
  std::ofstream(dir + "/x.npy", std::ios::binary)
      << infermem::test::npy_bytes("<f4", {2, 7}, std::string(56, '\0'));
  std::ofstream(dir + "/ids.npy", std::ios::binary)
      << infermem::test::npy_bytes("<i4", {1, 3}, std::string(12, '\0'));
  std::ofstream(dir + "/mask.npz", std::ios::binary) << infermem::test::npz_bytes(
      {{"mask", infermem::test::npy_bytes("<f4", {1}, std::string(4, '\0'))}});
  struct Case {
    std::vector<std::string> flags;
    std::string says;
  };
  const std::vector<Case> cases{
      {{"--inputs", dir + "/x.npy"}, "input 'x' expects float [?x8], given float [2x7]"},
      {{"--inputs", dir + "/ids.npy"}, "input 'ids' expects int64 [?x?], given int32 [1x3]"},
      {{"--inputs", dir + "/mask.npz"}, "no input named 'mask'; its inputs are: x, ids"},
      {{"--inputs", dir + "/nothing-here"}, "nothing-here: does not exist"},
      {{"--input", "rate=16000"}, "no input named 'rate'"},
      {{"--input", "ids"}, "expected NAME=VALUE"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.says);
    std::vector<std::string> args{"soak", model, "--arms", "ort-default", "--out", dir + "/run"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_THAT(r.err, HasSubstr("infermem:"));
    EXPECT_THAT(r.err, HasSubstr(c.says));
    EXPECT_FALSE(fs::exists(dir + "/run"));
  }
  fs::remove_all(dir);
}

namespace {

double max_value(const std::vector<nlohmann::json>& recs, const std::string& key) {
  double best = 0;
  for (const auto& r : recs)
    if (r.contains(key) && r[key].is_number()) best = std::max(best, r[key].get<double>());
  return best;
}

}  // namespace

TEST(ProductionE2E, ConcurrencyFourThreadsShareOneSessionAndTheArenaGrows) {
  const std::string dir = make_temp_dir("soak-concurrency");
  const std::string model = generated_model("transformer", "2MiB");
  // A fixed large shape: every Run() needs the same activations; four at once need four sets.
  auto run = [&](const std::string& n) {
    const std::string out = dir + "/run-" + n;
    auto r =
        run_cli({"soak", model, "--scenario", "steady", "--requests", "40", "--arms", "ort-default",
                 "--dim", "sequence=256", "--dim", "batch=2", "--concurrency", n, "--out", out});
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return out;
  };
  const std::string one = run("1"), four = run("4");
  auto reqs = records(four + "/trace.jsonl", "request", "ort-default");
  ASSERT_EQ(reqs.size(), 40u);
  std::set<int> threads;
  std::set<std::int64_t> numbers;
  for (const auto& q : reqs) {
    threads.insert(q["thread"].get<int>());
    numbers.insert(q["req"].get<std::int64_t>());
  }
  EXPECT_EQ(threads, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(numbers.size(), 40u);  // every request numbered once
  EXPECT_FALSE(records(one + "/trace.jsonl", "request", "ort-default")[0].contains("thread"));
  // ORT's arena holds what Run() calls in flight at once need: with four, more than with one.
  const double arena1 =
      max_value(records(one + "/trace.jsonl", "sample", "ort-default"), "ort_arena_reserved_bytes");
  const double arena4 = max_value(records(four + "/trace.jsonl", "sample", "ort-default"),
                                  "ort_arena_reserved_bytes");
  EXPECT_GT(arena4, arena1) << arena1 << " vs " << arena4;
  const double peak1 = read_json_file(one + "/summary.json")["arms"][0]["memory"]["peak_bytes"];
  const double peak4 = read_json_file(four + "/summary.json")["arms"][0]["memory"]["peak_bytes"];
  EXPECT_GT(peak4, peak1) << peak1 << " vs " << peak4;
  fs::remove_all(dir);
}

TEST(ProductionE2E, IdleGapsAreSampledAndTrimActsDuringThem) {
  const std::string dir = make_temp_dir("soak-idle");
  auto r = run_cli({"soak", generated_model("transformer", "2MiB"), "--scenario", "mixed",
                    "--requests", "30", "--arms", "no-arena-trim", "--idle", "300ms",
                    "--idle-every", "10", "--out", dir + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto notes = records(dir + "/run/trace.jsonl", "note", "no-arena-trim");
  int begins = 0, released = 0;
  for (const auto& n : notes) {
    if (n.value("event", "") != "idle" || n.value("edge", "") != "begin") continue;
    ++begins;
    EXPECT_EQ(n["trim"], "malloc_trim(0)");
    if (n["rss_after_trim_bytes"].get<double>() < n["rss_bytes"].get<double>()) ++released;
#if !defined( \
    INFERMEM_SANITIZED)  // the sanitizer's allocator owns malloc: glibc's trim frees nothing
    // malloc_trim gives free heap pages back: RSS right after it is at most what it was.
    EXPECT_LE(n["rss_after_trim_bytes"].get<double>(), n["rss_bytes"].get<double>());
#endif
  }
  EXPECT_EQ(begins, 2);  // before request 10 and 20 (the last 10 end the run)
#if !defined(INFERMEM_SANITIZED)
  EXPECT_GE(released, 1);
#else
  (void)released;
#endif
  // Each gap is sampled: its first sample is taken before its clock is looked at, then one every
  // 50 ms until 300 ms have passed. How many fit in 300 ms depends on how busy the machine is, so
  // what is asserted is what holds on any machine: every gap has an idle sample between its
  // edges, and lasts its 300 ms (a sleep is never shorter).
  std::vector<int> per_gap;
  double began_ms = -1;
  std::ifstream trace(dir + "/run/trace.jsonl");
  for (std::string line; std::getline(trace, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j.value("arm", "") != "no-arena-trim") continue;
    if (j["type"] == "note" && j.value("event", "") == "idle") {
      if (j["edge"] == "begin") {
        began_ms = j["t_ms"].get<double>();
        per_gap.push_back(0);
      } else {
        ASSERT_GE(began_ms, 0) << "an idle end without its begin";
        EXPECT_GE(j["t_ms"].get<double>() - began_ms, 300.0 - 1.0) << "a gap cut short";
        began_ms = -1;
      }
    } else if (j["type"] == "sample" && j.value("idle", false)) {
      ASSERT_GE(began_ms, 0) << "an idle sample outside a gap";
      ++per_gap.back();
    }
  }
  ASSERT_EQ(per_gap.size(), 2u);
  for (int n : per_gap) EXPECT_GE(n, 1) << "a gap with no sample";
  fs::remove_all(dir);
}

TEST(ProductionE2E, SpikeShapesAndAShapesFile) {
  const std::string dir = make_temp_dir("soak-shapes");
  const std::string model = generated_model("transformer", "1MiB");
  auto spike = run_cli({"soak", model, "--scenario", "mixed", "--requests", "20", "--arms",
                        "ort-default", "--shapes", "spike", "--spike-every", "5", "--dim",
                        "sequence=16..200", "--dim", "batch=1", "--out", dir + "/spike"});
  ASSERT_EQ(spike.exit_code, 0) << spike.err;
  auto reqs = records(dir + "/spike/trace.jsonl", "request", "ort-default");
  ASSERT_EQ(reqs.size(), 20u);
  for (std::size_t k = 0; k < reqs.size(); ++k)
    EXPECT_EQ(reqs[k]["shape"], k % 5 == 4 ? "input_ids[1x200]" : "input_ids[1x16]") << k;
  std::ofstream(dir + "/shapes.txt") << "# recorded\nbatch=2 sequence=7\n\nsequence=9 batch=1\n";
  auto file = run_cli({"soak", model, "--scenario", "mixed", "--requests", "4", "--arms",
                       "ort-default", "--shapes", dir + "/shapes.txt", "--out", dir + "/file"});
  ASSERT_EQ(file.exit_code, 0) << file.err;
  reqs = records(dir + "/file/trace.jsonl", "request", "ort-default");
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0]["shape"], "input_ids[2x7]");
  EXPECT_EQ(reqs[1]["shape"], "input_ids[1x9]");
  EXPECT_EQ(reqs[2]["shape"], "input_ids[2x7]");
  std::ofstream(dir + "/bad.txt") << "batch=2 width=7\n";
  auto bad = run_cli({"soak", model, "--arms", "ort-default", "--shapes", dir + "/bad.txt", "--out",
                      dir + "/bad"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("line 1: 'width=7' is not KEY=N"));
  EXPECT_FALSE(fs::exists(dir + "/bad"));
  fs::remove_all(dir);
}

TEST(ProductionE2E, FeedCarriesStateRequestToRequest) {
  const std::string dir = make_temp_dir("soak-feed");
  const std::string model = generated_model("stateful", "4");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "200", "--arms",
                    "ort-default", "--feed", "state_out=state", "--streams", "2", "--stream-length",
                    "50", "--record-outputs", "--out", dir + "/run"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto reqs = records(dir + "/run/trace.jsonl", "request", "ort-default");
  ASSERT_EQ(reqs.size(), 200u);
  std::map<int, std::string> last_out;  // per stream
  int carried = 0, fresh = 0;
  for (std::size_t k = 0; k < reqs.size(); ++k) {
    SCOPED_TRACE(reqs[k].dump());
    const int stream = reqs[k]["stream"].get<int>();
    EXPECT_EQ(stream, static_cast<int>(k % 2));
    const std::string out = reqs[k]["outputs"]["state_out"];
    const bool starts = (k / 2) % 50 == 0;
    if (starts) {
      EXPECT_TRUE(reqs[k]["fed"].empty());
      ++fresh;
    } else {
      // The state fed in is the state this stream's previous request put out...
      EXPECT_EQ(reqs[k]["fed"]["state"], last_out[stream]);
      // ... and the state changes from request to request.
      EXPECT_NE(out, last_out[stream]);
      ++carried;
    }
    last_out[stream] = out;
  }
  EXPECT_EQ(fresh, 4);  // 2 streams x (100 requests / 50)
  EXPECT_EQ(carried, 196);
  auto bad = run_cli(
      {"soak", model, "--arms", "ort-default", "--feed", "hidden=state", "--out", dir + "/bad"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("no output named 'hidden'"));
  EXPECT_FALSE(fs::exists(dir + "/bad"));
  fs::remove_all(dir);
}
