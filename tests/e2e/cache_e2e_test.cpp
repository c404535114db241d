// soak --scenario cache with both policies side by side (cache= as an arm key), ModelCache's
// counters in summary.json, and `recommend` on the run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/models.h"
#include "support/run_helpers.h"

using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const nlohmann::json* arm_named(const nlohmann::json& summary, const std::string& name) {
  for (const auto& a : summary["arms"])
    if (a["name"] == name) return &a;
  return nullptr;
}

const nlohmann::json* infer_phase(const nlohmann::json& arm) {
  for (const auto& p : arm["phases"])
    if (p["phase"] == "infer") return &p;
  return nullptr;
}

}  // namespace

TEST(CacheE2E, NaiveAndBudgetPoliciesRunSideBySide) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-cache-policies");
  // 64 MiB: room for every 2 MiB variant with its runtime overhead, so no request is refused
  // however the shared machine's page cache behaves; eviction order is the unit tests' job.
  auto r = run_cli({"soak", model, "--scenario", "cache", "--models", "4", "--requests", "30",
                    "--arms", "ort-default", "--arm", "naive:cache=lru:2", "--arm",
                    "budget:base=lean,cache=budget:64MiB", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto summary = read_json_file(out + "/summary.json");
  const auto* naive = arm_named(summary, "naive");
  const auto* budget = arm_named(summary, "budget");
  ASSERT_TRUE(naive && budget) << summary.dump();
  EXPECT_EQ((*naive)["config"]["cache"], "lru:2");
  EXPECT_EQ((*budget)["config"]["cache"], "budget:64MiB");
  for (const auto* arm : {naive, budget}) {
    EXPECT_EQ((*arm)["status"], "ok") << (*arm)["status_detail"];
    EXPECT_EQ((*arm)["requests_done"], 30);
  }
  const auto* phase = infer_phase(*budget);
  ASSERT_TRUE(phase && phase->contains("cache")) << (*budget)["phases"].dump();
  const auto& cache = (*phase)["cache"];
  EXPECT_EQ(cache["hits"].get<int>() + cache["misses"].get<int>(), 30);
  EXPECT_GE(cache["loads"].get<int>(), 1);
  EXPECT_EQ(cache["refusals"], 0);
  // Trimmed after each unload; nothing was unloaded while serving when everything fit.
  if (cache["evictions"] == 0) {
    EXPECT_EQ(cache["release_method"], "");
  }
  ASSERT_FALSE(cache["models"].empty());
  for (const auto& [file, m] : cache["models"].items()) {
    EXPECT_EQ(file.find('/'), std::string::npos) << "models are named by file";
    EXPECT_GT(m["cost_bytes"].get<double>(), 0) << file;
  }
  // The naive policy keeps its own counters only.
  const auto* naive_phase = infer_phase(*naive);
  ASSERT_TRUE(naive_phase);
  EXPECT_FALSE(naive_phase->contains("cache"));

  // recommend reads the run: the budget arm has what the naive arm lacks (lean's settings).
  auto rec = run_cli({"recommend", out, "--goal", "retained"});
  ASSERT_EQ(rec.exit_code, 0) << rec.err;
  EXPECT_THAT(rec.out, HasSubstr("Recommended for --goal retained"));
  EXPECT_THAT(rec.out, HasSubstr("Python (onnxruntime)"));
}

TEST(CacheE2E, CacheKeyOutsideTheCacheScenarioIsAnInputError) {
  std::string model = generated_model("mlp", "2MiB");
  std::string out = make_temp_dir("soak-cache-misuse");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "5", "--arm",
                    "b:cache=budget:64MiB", "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("infermem:", 0), 0u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("arm 'b': cache=budget:64MiB applies to --scenario cache only"));
  r = run_cli({"soak", model, "--scenario", "cache", "--requests", "5", "--arm", "b:cache=lru:x",
               "--out", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("cache="));
  auto rec = run_cli({"recommend", out, "--goal", "speed"});
  EXPECT_EQ(rec.exit_code, 2);
  EXPECT_THAT(rec.err, HasSubstr("--goal speed"));
}
