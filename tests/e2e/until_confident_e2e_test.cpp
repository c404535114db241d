// End-to-end: `infermem soak --until-confident` on a generated model: bad input is exit 2 with
// nothing written; an injected leak settles as a leak before the cap, a clean arm stops settled
// stable or at the cap, and each child ends through its normal path (a complete run directory).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/run_helpers.h"

using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::AnyOf;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

struct BadCase {
  std::vector<std::string> args;
  std::string names;  // what the message must name
};

TEST(UntilConfidentE2E, BadInputIsExitTwoNamingTheProblemWithNothingWritten) {
  const std::string dir = make_temp_dir("until-confident-bad");
  const std::string model = generated_model("mlp", "2MiB");
  const std::string out = dir + "/out";
  const std::vector<BadCase> cases = {
      {{"--until-confident"}, "cap"},                                // no cap at all
      {{"--until-confident", "--max-requests", "200"}, "--detect"},  // 1 KiB needs 1280 requests
      {{"--until-confident", "--max-time", "1m", "--detect", "8B"}, "--detect"},
      {{"--until-confident", "--max-requests", "5000", "--detect", "0"}, "--detect"},
      {{"--until-confident", "--max-requests", "5000", "--scenario", "churn"}, "churn"},
      {{"--until-confident", "--max-requests", "5000", "--requests", "300"}, "--requests"},
      {{"--max-requests", "5000"}, "--until-confident"},
      {{"--detect", "1KiB"}, "--until-confident"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = {"soak", model, "--arms", "lean", "--out", out};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.args.front() << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.names)) << c.args.front();
    EXPECT_FALSE(fs::exists(out)) << "nothing half-written";
  }
}

const nlohmann::json& only_arm(const nlohmann::json& summary) {
  return summary.at("arms").at(0);
}

// The child ended through its normal path: its own end record says ok, phase unload ran.
void expect_complete_run(const std::string& out) {
  for (const char* f : {"summary.json", "report.md", "report.html", "junit.xml", "trace.jsonl"})
    EXPECT_TRUE(fs::exists(out + "/" + f)) << f;
  std::ifstream in(out + "/trace.jsonl");
  std::string line;
  bool child_end_ok = false, unload = false;
  while (std::getline(in, line)) {
    auto r = nlohmann::json::parse(line);
    if (r.value("type", "") == "arm" && r.value("src", "") == "child" &&
        r.value("edge", "") == "end")
      child_end_ok = r.value("status", "") == "ok";
    if (r.value("type", "") == "phase" && r.value("phase", "") == "unload") unload = true;
  }
  EXPECT_TRUE(child_end_ok) << "the worker wrote its own end record";
  EXPECT_TRUE(unload) << "the worker unloaded after it was told to stop";
}

TEST(UntilConfidentE2E, AnInjectedLeakSettlesAsLeakBeforeTheCapAndACleanArmStopsStableOrAtIt) {
  const std::string dir = make_temp_dir("until-confident");
  const std::string model = generated_model("mlp", "2MiB");
  // 64 KiB per request stands far above the mlp's RSS noise (a few KiB): the rate is known to
  // +-25% within a few looks of 100 requests; the cap of 3000 leaves a wide margin.
  const std::string leak_out = dir + "/leak";
  auto r = run_cli({"soak", model, "--scenario", "steady", "--arms", "ort-default", "--inject-leak",
                    "64KiB", "--until-confident", "--max-requests", "3000", "--out", leak_out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("time to verdict"));
  auto summary = read_json_file(leak_out + "/summary.json");
  const auto& leak = only_arm(summary);
  EXPECT_EQ(leak.at("status"), "ok");
  EXPECT_EQ(leak.at("verdict").at("kind"), "leak");
  const auto& t = leak.at("until_confident");
  EXPECT_EQ(t.at("stopped_by"), "settled-leak");
  EXPECT_LT(t.at("requests").get<int>(), 3000);
  EXPECT_LT(leak.at("requests_done").get<int>(), 3000) << "the child stopped when told";
  EXPECT_GT(t.at("seconds").get<double>(), 0);
  // Its rate, known to +-25% at 95%: the interval's half-width is within 25% of the slope.
  const double slope = t.at("slope_bytes_per_request").get<double>();
  const double lo = t.at("slope_ci_bytes_per_request").at(0).get<double>();
  const double hi = t.at("slope_ci_bytes_per_request").at(1).get<double>();
  EXPECT_LE((hi - lo) / 2, 0.25 * slope);
  EXPECT_TRUE(summary.at("options").contains("until_confident"));
  expect_complete_run(leak_out);

  // Clean: stable settles once a leak of 4 KiB/request would have been seen (1 MiB over the
  // judged 80% needs 320 requests), or the arm runs to the 1500 cap on a noisy machine.
  const std::string clean_out = dir + "/clean";
  r = run_cli({"soak", model, "--scenario", "steady", "--arms", "lean", "--until-confident",
               "--max-requests", "1500", "--detect", "4KiB", "--out", clean_out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto clean_summary = read_json_file(clean_out + "/summary.json");
  const auto& clean = only_arm(clean_summary);  // a reference into clean_summary, which lives on
  EXPECT_NE(clean.at("verdict").at("kind"), "leak");
  EXPECT_THAT(clean.at("until_confident").at("stopped_by").get<std::string>(),
              AnyOf("settled-stable", "cap"));
  EXPECT_LE(clean.at("requests_done").get<int>(), 1500);
  expect_complete_run(clean_out);
}

}  // namespace
