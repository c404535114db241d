// infermem replay end to end: three generated models, a 300-line log with three malformed lines,
// replayed at --speed max under a count and a byte budget; the summary's counters follow from the
// log itself. Bad input exits 2 with nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

// Three small models of different sizes (gen-model, seeded), as DIR/<id>.onnx.
const std::string& models_dir() {
  static const std::string dir = [] {
    std::string d = make_temp_dir("replay-models");
    const std::pair<const char*, const char*> models[] = {
        {"a", "1MiB"}, {"b", "2MiB"}, {"c", "3MiB"}};
    int seed = 1;
    for (const auto& [id, weights] : models) {
      auto r = run_cli({"gen-model", "--kind", "mlp", "--weights", weights, "--seed",
                        std::to_string(seed++), "-o", d + "/" + id + ".onnx"});
      if (r.exit_code != 0) throw std::runtime_error("gen-model: " + r.err);
    }
    return d;
  }();
  return dir;
}

// 297 requests over a, b, c in a fixed pattern, 10 ms apart, and three malformed lines: 300
// lines after the header. Returns the ids in log order.
std::vector<std::string> write_log(const std::string& path) {
  const char* pattern[] = {"a", "a", "b", "a", "c", "b", "a", "a", "c"};
  std::vector<std::string> ids;
  std::ofstream f(path);
  f << "timestamp,model\n";
  for (int i = 0; i < 297; ++i) {
    if (i == 50) f << "not-a-time,a\n";
    if (i == 150) f << "1714564800000,\n";
    if (i == 250) f << "1714564800000,a,extra\n";
    const std::string id = pattern[i % 9];
    ids.push_back(id);
    f << 1714564800000LL + 10LL * i << ',' << id << '\n';
  }
  return ids;
}

const nlohmann::json& policy(const nlohmann::json& summary, const std::string& text) {
  for (const auto& p : summary["replay"]["policies"])
    if (p["policy"] == text) return p;
  throw std::runtime_error("no policy " + text + " in " + summary["replay"].dump());
}

}  // namespace

TEST(ReplayE2E, ALogReplayedUnderACountAndAByteBudget) {
  const std::string dir = make_temp_dir("replay-run");
  const std::string log = dir + "/requests.csv";
  const auto ids = write_log(log);
  const std::string out = dir + "/run";
  // 512 MiB: three models of 1-3 MiB weights with ONNX Runtime around them use well under 100
  // MiB resident (measured ~45 MiB), so even a noisy machine's page cache cannot make a policy
  // miss the 20% headroom; the counters, not the margin, are what this test checks.
  auto r = run_cli({"replay", log, "--models", models_dir(), "--memory-limit", "512MiB", "--policy",
                    "lru:1", "--policy", "budget:64MiB", "--speed", "max", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("malformed lines skipped: 3"));
  EXPECT_THAT(r.out, HasSubstr("--policy budget:64MiB"));
  const auto summary = read_json_file(out + "/summary.json");
  const auto& replay = summary["replay"];
  EXPECT_EQ(replay["log"]["requests"], 297);
  EXPECT_EQ(replay["log"]["skipped_lines"], 3);
  EXPECT_EQ(replay["log"]["format"], "csv");

  // lru:1 loads on every change of model, and hits on every repeat.
  std::uint64_t switches = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) switches += i == 0 || ids[i] != ids[i - 1];
  const auto& lru = policy(summary, "lru:1");
  EXPECT_EQ(lru["served"], 297);
  EXPECT_EQ(lru["loads"], switches);
  EXPECT_EQ(lru["hits"], 297 - switches);
  EXPECT_EQ(lru["evictions"], switches - 1);
  EXPECT_EQ(lru["oom_kills"], 0);
  // The budget holds all three: each model loads once.
  const auto& budget = policy(summary, "budget:64MiB");
  EXPECT_EQ(budget["served"], 297);
  EXPECT_EQ(budget["loads"], 3);
  EXPECT_EQ(budget["hits"], 294);
  EXPECT_EQ(budget["refused"], 0);
  EXPECT_EQ(budget["oom_kills"], 0);
  EXPECT_TRUE(budget["holds"].get<bool>()) << budget["why_not"];
  EXPECT_GT(budget["peak_bytes"].get<double>(), 0);
  EXPECT_GE(budget["p99_ms"].get<double>(), budget["p50_ms"].get<double>());
  EXPECT_EQ(replay["recommended"], "budget:64MiB");
  EXPECT_THAT(r.out, HasSubstr("Python (onnxruntime)"));

  // One arm per policy in the summary and trace, which `infermem report` draws again.
  ASSERT_EQ(summary["arms"].size(), 2u);
  EXPECT_EQ(summary["arms"][0]["name"], "lru-1");
  EXPECT_EQ(summary["arms"][1]["name"], "budget-64MiB");
  EXPECT_TRUE(fs::exists(out + "/trace.jsonl"));
  // report.md is replay's report: its heading, and the policies' table with the recommendation.
  const std::string md = infermem::test::read_file(out + "/report.md");
  EXPECT_THAT(md, HasSubstr("# infermem replay report"));
  EXPECT_THAT(md, HasSubstr("## Cache policies"));
  EXPECT_THAT(md, HasSubstr("| budget:64MiB | ok | 297/297 |"));
  EXPECT_THAT(md, HasSubstr("Recommended: `--policy budget:64MiB`"));
  auto rep = run_cli({"report", out});
  ASSERT_EQ(rep.exit_code, 0) << rep.err;
  EXPECT_EQ(infermem::test::read_file(out + "/report.md"), md);  // summary.json carries it all
  EXPECT_THAT(infermem::test::read_file(out + "/report.html"), HasSubstr("budget-64MiB"));
  EXPECT_THAT(infermem::test::read_file(out + "/report.html"), HasSubstr("Cache policies"));
}

// --settings: every policy runs on the arm's session and allocator settings, and the lines that
// apply the recommendation carry them.
TEST(ReplayE2E, PoliciesRunOnTheSettingsOfAnArm) {
  const std::string dir = make_temp_dir("replay-settings");
  const std::string log = dir + "/requests.csv";
  write_log(log);
  const std::string out = dir + "/run";
  auto r = run_cli({"replay", log, "--models", models_dir(), "--memory-limit", "512MiB", "--policy",
                    "budget:64MiB", "--settings", "lean", "--speed", "max", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto summary = read_json_file(out + "/summary.json");
  ASSERT_EQ(summary["arms"].size(), 1u);
  const auto& config = summary["arms"][0]["config"];
  EXPECT_EQ(config["cache"], "budget:64MiB");
  EXPECT_EQ(config["telemetry"], "off");  // lean's
  EXPECT_EQ(config["prewarm"], "on");
  EXPECT_EQ(policy(summary, "budget:64MiB")["served"], 297);
  EXPECT_THAT(r.out, HasSubstr("env.DisableTelemetryEvents();"));
}

TEST(ReplayE2E, BadInputIsExitTwoWithAClearMessageAndNothingWritten) {
  const std::string dir = make_temp_dir("replay-bad");
  const std::string log = dir + "/requests.csv";
  write_log(log);
  const std::string unknown = dir + "/unknown.csv";
  {
    std::ofstream f(unknown);
    f << "timestamp,model\n1714564800,a\n1714564801,zzz\n";
  }
  const std::string out = dir + "/run";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<std::string> base = {"--models", models_dir(), "--out", out};
  const std::vector<Case> cases = {
      {{unknown, "--memory-limit", "256MiB", "--policy", "lru:1"}, "line 3: model 'zzz'"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:1", "--speed", "fast"}, "--speed fast"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:1", "--speed", "0x"}, "--speed 0x"},
      {{log, "--memory-limit", "256MiB", "--policy", "fifo:3"}, "--policy fifo:3"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:0"}, "--policy lru:COUNT"},
      {{log, "--memory-limit", "1MiB", "--policy", "lru:1"}, "--memory-limit"},
      {{log, "--memory-limit", "lots", "--policy", "lru:1"}, "--memory-limit"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:1", "--headroom", "100%"}, "--headroom"},
      {{dir + "/missing.csv", "--memory-limit", "256MiB", "--policy", "lru:1"}, "missing.csv"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:1", "--settings", "nope"},
       "--settings nope"},
      {{log, "--memory-limit", "256MiB", "--policy", "lru:1", "--settings", "x:cache=lru:2"},
       "--settings x:cache=lru:2"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"replay"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    args.insert(args.end(), base.begin(), base.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.message << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message));
    EXPECT_FALSE(fs::exists(out)) << c.message << ": something was written";
  }
}

// An OOM kill is a result: a fresh child goes on from the next request, the kills are counted,
// and the policy does not hold. Three 24 MiB models (~52 MiB resident each once loaded, measured
// in docs/model-cache.md) in turn under lru:3 and a 100 MiB limit: one fits beside the runtime,
// two never do, so every child is killed at its second load however the page cache is charged.
TEST(ReplayOomE2E, AKilledChildIsCountedAndAFreshOneGoesOn) {
  const std::string dir = make_temp_dir("replay-oom");
  for (int s = 1; s <= 3; ++s) {
    auto g = run_cli({"gen-model", "--kind", "mlp", "--weights", "24MiB", "--seed",
                      std::to_string(s), "-o", dir + "/m" + std::to_string(s) + ".onnx"});
    ASSERT_EQ(g.exit_code, 0) << g.err;
  }
  const std::string log = dir + "/requests.jsonl";
  {
    std::ofstream f(log);
    for (int i = 0; i < 9; ++i)
      f << "{\"timestamp\": " << 1714564800 + i << ", \"model\": \"m" << i % 3 + 1 << "\"}\n";
  }
  const std::string out = dir + "/run";
  auto r = run_cli({"replay", log, "--models", dir, "--memory-limit", "100MiB", "--policy", "lru:3",
                    "--speed", "max", "--out", out});
  const auto summary = read_json_file(out + "/summary.json");
  for (const auto& n : summary["notes"])
    if (n.get<std::string>().find("no memory cgroup") != std::string::npos)
      GTEST_SKIP() << "no memory cgroup here: " << n;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // no policy holds
  const auto& lru = policy(summary, "lru:3");
  const auto kills = lru["oom_kills"].get<int>();
  EXPECT_GE(kills, 1) << lru.dump();
  // A fresh child after each kill, unless the kill came at the log's last request.
  const bool last_ok = lru["status"] == "ok";
  EXPECT_TRUE(last_ok || lru["status"] == "oom-killed") << lru["status"];
  EXPECT_EQ(lru["children"].get<int>(), kills + (last_ok ? 1 : 0)) << lru.dump();
  EXPECT_EQ(lru["lost"].get<int>(), kills) << "the request in flight at each kill";
  EXPECT_EQ(lru["served"].get<int>() + lru["lost"].get<int>(), 9);
  EXPECT_FALSE(lru["holds"].get<bool>());
  EXPECT_THAT(lru["why_not"].get<std::string>(), HasSubstr("OOM kill"));
  EXPECT_TRUE(summary["replay"]["recommended"].is_null());
  EXPECT_THAT(r.out, HasSubstr("No policy holds this traffic"));
}
