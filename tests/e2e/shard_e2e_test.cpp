// End-to-end: soak --shard K/N and `infermem merge` on real soaks of a generated model.
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

namespace fs = std::filesystem;

// Two arms x --repeat 2 = 4 cells, one a shard. 10 requests, no duration: the figures do not
// depend on the machine's speed, and diff's noise rule (docs/diff.md) is what decides whether two
// real runs differ, as for two unsharded runs.
std::vector<std::string> plan_args(const std::string& model, const std::string& out,
                                   const std::string& seed = "1") {
  return {"soak",     model, "--arms",     "ort-default,no-arena",
          "--repeat", "2",   "--requests", "10",
          "--seed",   seed,  "--out",      out};
}

std::string soak(const std::string& model, const std::vector<std::string>& extra,
                 const std::string& seed = "1") {
  const std::string out = make_temp_dir("shard-soak") + "/run";
  std::vector<std::string> args = plan_args(model, out, seed);
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args);
  EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  return out;
}

class ShardE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new std::string(generated_model("mlp", "8MiB"));
    unsharded_ = new std::string(soak(*model_, {}));
    shards_ = new std::vector<std::string>;
    for (int k = 1; k <= 4; ++k) shards_->push_back(soak(*model_, {"--shard", fmt(k)}));
  }
  static std::string fmt(int k) { return std::to_string(k) + "/4"; }
  static std::string fresh_out() { return make_temp_dir("shard-merge") + "/merged"; }
  static CliResult merge(std::vector<std::string> dirs, const std::string& out,
                         const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"merge"};
    args.insert(args.end(), dirs.begin(), dirs.end());
    args.insert(args.end(), {"-o", out});
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  }
  static std::string* model_;
  static std::string* unsharded_;
  static std::vector<std::string>* shards_;
};
std::string* ShardE2E::model_ = nullptr;
std::string* ShardE2E::unsharded_ = nullptr;
std::vector<std::string>* ShardE2E::shards_ = nullptr;

// The arms' names, statuses, verdicts and request counts: what the table says beyond the figures
// (which diff compares within the noise).
std::vector<std::string> table_rows(const nlohmann::json& summary) {
  std::vector<std::string> rows;
  for (const auto& a : summary["arms"])
    rows.push_back(a["name"].get<std::string>() + " " + a["status"].get<std::string>() + " " +
                   a["verdict"]["kind"].get<std::string>() + " " + a["requests_done"].dump() +
                   " repeats " +
                   std::to_string(a.value("repeats", nlohmann::json::array()).size()));
  return rows;
}

}  // namespace

TEST_F(ShardE2E, FourShardsMergedAreTheUnshardedRun) {
  for (int k = 1; k <= 4; ++k) {
    const auto shard = read_json_file((*shards_)[k - 1] + "/summary.json");
    EXPECT_EQ(shard["arms"].size(), 1u) << "shard " << k << " runs one of the 4 cells";
    EXPECT_EQ(shard["options"]["shard"]["k"], k);
    EXPECT_EQ(shard["options"]["shard"]["cells"], 4);
  }
  const std::string out = fresh_out();
  auto r = merge({(*shards_)[2], (*shards_)[0], (*shards_)[3], (*shards_)[1]}, out);
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.out << r.err;
  for (const char* f :
       {"trace.jsonl", "summary.json", "report.md", "report.html", "junit.xml", "metrics.prom"})
    EXPECT_TRUE(fs::is_regular_file(out + "/" + f)) << f;
  const auto merged = read_json_file(out + "/summary.json");
  const auto local = read_json_file(*unsharded_ + "/summary.json");
  EXPECT_EQ(table_rows(merged), table_rows(local));
  EXPECT_FALSE(merged["options"].contains("shard"));
  EXPECT_EQ(merged["options"]["merged_from"].size(), 4u);

  auto d = run_cli({"diff", *unsharded_, out});
  EXPECT_EQ(d.exit_code, 0) << d.out << d.err;
  EXPECT_THAT(d.out, HasSubstr("result: no regression"));
  EXPECT_EQ(run_cli({"report", out}).exit_code, 0);
  auto rec = run_cli({"recommend", out, "--goal", "peak"});
  EXPECT_EQ(rec.exit_code, 0) << rec.err;
}

TEST_F(ShardE2E, MergeTakesSoaksGateFlags) {
  auto r = merge(*shards_, fresh_out(), {"--max-peak", "1MiB"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("check failed"));
  const std::string out = fresh_out();
  r = merge(*shards_, out, {"--max-peak", "lots"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--max-peak"));
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ShardE2E, BadShardSpecsAreUsageErrorsWithNothingWritten) {
  for (const char* spec : {"0/4", "5/4", "a/b", "1/0", "1/", "4/4x"}) {
    const std::string out = make_temp_dir("shard-bad") + "/run";
    std::vector<std::string> args = plan_args(*model_, out);
    args.insert(args.end(), {"--shard", spec});
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << spec << ": " << r.err;
    EXPECT_THAT(r.err, AllOf(HasSubstr("--shard"), HasSubstr(spec)));
    EXPECT_FALSE(fs::exists(out)) << spec;
  }
  // More shards than the plan has cells (2 arms x 2 repeats).
  const std::string out = make_temp_dir("shard-bad") + "/run";
  std::vector<std::string> args = plan_args(*model_, out);
  args.insert(args.end(), {"--shard", "1/5"});
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("4 cells"));
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(ShardE2E, ShardsOfDifferentPlansOrAnIncompleteSetAreRefused) {
  const auto& s = *shards_;
  struct Case {
    std::vector<std::string> dirs;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {{s[0], s[1], s[3]}, {"3/4", "missing"}},
      {{s[0], s[1], s[1], s[2], s[3]}, {"2/4", "given twice"}},
      {{soak(*model_, {"--shard", "1/4"}, "2"), s[1], s[2], s[3]}, {"seed", "2", "1"}},
      {{soak(generated_model("mlp", "4MiB"), {"--shard", "1/4"}), s[1], s[2], s[3]},
       {"model_sha256"}},
      {{*unsharded_, s[1]}, {"not a shard"}},
  };
  for (const auto& c : cases) {
    const std::string out = fresh_out();
    auto r = merge(c.dirs, out);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_THAT(r.err, HasSubstr("infermem: error:"));
    for (const auto& word : c.says) EXPECT_THAT(r.err, HasSubstr(word));
    EXPECT_FALSE(fs::exists(out)) << r.err;
    EXPECT_TRUE(fs::is_empty(fs::path(out).parent_path())) << "no temp directory is left";
  }
  // An -o that holds something is refused before anything is read.
  const std::string taken = make_temp_dir("shard-taken");
  std::ofstream(taken + "/keep") << "x";
  auto r = merge(s, taken);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("-o"), HasSubstr("not an empty directory")));
  EXPECT_EQ(read_file(taken + "/keep"), "x");
}
