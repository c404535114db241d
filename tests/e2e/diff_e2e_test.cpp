// End-to-end: `infermem diff` on two run directories.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_helpers.h"

using namespace infermem::test;
using ::testing::AllOf;
using ::testing::HasSubstr;

namespace {

// A run directory holding only a summary.json with one arm's figures (MiB).
std::string run_dir(double loaded_mib, double peak_mib, double retained_mib,
                    const std::string& status = "ok", const std::string& sha = "aaaa") {
  std::string dir = make_temp_dir("diff");
  const double mib = 1024.0 * 1024.0;
  nlohmann::json arm = {{"name", "ort-default"},
                        {"status", status},
                        {"memory",
                         {{"baseline_bytes", 25 * mib},
                          {"loaded_bytes", loaded_mib * mib},
                          {"peak_bytes", peak_mib * mib},
                          {"after_unload_bytes", (25 + retained_mib) * mib},
                          {"after_trim_bytes", nullptr},
                          {"retained_bytes", retained_mib * mib}}},
                        {"latency_ms", {{"p50", 10.0}}}};
  std::ofstream(dir + "/summary.json") << nlohmann::json{
      {"model", {{"sha256", sha}}},
      {"ort_version", "1.29.0"},
      {"arms", {arm}}}.dump();
  return dir;
}

}  // namespace

TEST(DiffE2E, ARegressionBeyondTheToleranceAndTheNoiseExitsOne) {
  std::string base = run_dir(100, 150, 40);
  auto same = run_cli({"diff", base, run_dir(101, 152, 41)});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_THAT(same.out, HasSubstr("result: no regression"));
  auto worse = run_cli({"diff", base, run_dir(100, 200, 40)});
  EXPECT_EQ(worse.exit_code, 1);
  EXPECT_THAT(worse.out, HasSubstr("REGRESSED"));
  EXPECT_THAT(worse.err, HasSubstr("peak_bytes"));
  auto json = run_cli({"diff", base, run_dir(100, 200, 40), "--json"});
  EXPECT_TRUE(nlohmann::json::parse(json.out)["regressed"].get<bool>());
  auto looser = run_cli({"diff", base, run_dir(100, 200, 40), "--max-regression", "50%"});
  EXPECT_EQ(looser.exit_code, 0);
}

TEST(DiffE2E, AnArmThatDidNotRunToTheEndExitsOneSayingWhy) {
  auto r = run_cli({"diff", run_dir(100, 150, 40), run_dir(100, 150, 40, "oom-killed")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, AllOf(HasSubstr("ort-default"), HasSubstr("oom-killed")));
}

TEST(DiffE2E, DifferentModelsAreRefusedUnlessAllowed) {
  std::string base = run_dir(100, 150, 40, "ok", "aaaa");
  std::string other = run_dir(100, 150, 40, "ok", "bbbb");
  auto r = run_cli({"diff", base, other});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("infermem: error:"), HasSubstr("aaaa"), HasSubstr("bbbb")));
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = run_cli({"diff", base, other, "--allow-different-model"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("model_sha256 aaaa -> bbbb"));
}

TEST(DiffE2E, BadRunDirectoriesAreUsageErrors) {
  std::string base = run_dir(100, 150, 40);
  auto r = run_cli({"diff", base, make_temp_dir("not-a-run")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("summary.json"));
  r = run_cli({"diff", base, base + "/missing"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_cli({"diff", base, base, "--max-regression", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--max-regression"));
  r = run_cli({"diff", base, base, "--floor", "big"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--floor"));
}

// Real soaks. The margins hold on a slow, shared machine: memory figures do not depend on time
// (10 requests, one arm, no duration), and the injected 4 MiB are 5x diff's noise bound for a
// glibc arm (~0.8 MiB, docs/diff.md), while identical runs moved by under 0.2 MiB net of glibc's
// free heap in the calibration; the step that used to fail identical pairs (a buffer of the
// model kept or freed at unload) is taken out, not allowed for.
namespace {

std::string soak_into(const std::string& model, const std::vector<std::string>& extra = {}) {
  const std::string out = make_temp_dir("diff-soak") + "/run";
  std::vector<std::string> args = {"soak",       model, "--arms", "ort-default,no-arena",
                                   "--requests", "10",  "--seed", "1",
                                   "--out",      out};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
  return out;
}

}  // namespace

TEST(DiffE2E, TwoIdenticalSoaksAreNoRegressionAndAnInjectedOneIs) {
  const std::string model = generated_model("mlp", "8MiB");
  const std::string a = soak_into(model), b = soak_into(model);
  auto same = run_cli({"diff", a, b});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_THAT(same.out, AllOf(HasSubstr(" → "), HasSubstr("(±"), HasSubstr("99% one-sided")));

  auto retained = run_cli({"diff", a, soak_into(model, {"--inject-retained", "4MiB"})});
  EXPECT_EQ(retained.exit_code, 1) << retained.out;
  EXPECT_THAT(retained.err, HasSubstr("retained_bytes"));
  EXPECT_THAT(retained.err, ::testing::Not(HasSubstr("loaded_bytes")));

  auto peak = run_cli({"diff", a, soak_into(model, {"--inject-peak", "8MiB"}), "--json"});
  EXPECT_EQ(peak.exit_code, 1) << peak.out;
  const auto j = nlohmann::json::parse(peak.out);
  bool peak_flagged = false;
  for (const auto& f : j["figures"]) {
    if (f["figure"] == "peak_bytes" && f["regressed"].get<bool>()) peak_flagged = true;
    if (f["memory"].get<bool>()) {
      EXPECT_DOUBLE_EQ(f["confidence"].get<double>(), 0.99);
    }
  }
  EXPECT_TRUE(peak_flagged) << peak.out;
}

TEST(DiffE2E, AnInjectionFlagOfSoakWithABadSizeIsAUsageError) {
  auto r = run_cli({"soak", generated_model("mlp", "8MiB"), "--inject-peak", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--inject-peak"));
}
