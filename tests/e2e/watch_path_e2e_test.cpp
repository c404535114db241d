// End-to-end: soak and watch on one path. A watch's summary is derived from its own trace, so
// `report` rebuilds it from trace.jsonl alone, and the run-dir commands (report, analyze, diff,
// recommend) take a watch directory as they take a soak's, or refuse it with exit 2 saying why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "infermem/watch_summary.h"
#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";
const std::string kSoakRun = std::string(INFERMEM_TESTDATA_DIR) + "/diff/steady-a";

// A short watch of a steady 1 MiB / 50 ms leak (3 s: enough samples for a verdict on a loaded
// machine, where a sample may come late; no figure below depends on the count).
std::string record_watch(const std::string& tag,
                         const std::vector<std::string>& pattern = {"leak", "1048576", "50"}) {
  const std::string out = make_temp_dir(tag) + "/run";
  std::vector<std::string> args = {"watch", "--interval", "20ms", "--duration",
                                   "3s",    "--out",      out,    "--"};
  args.push_back(kPattern);
  args.insert(args.end(), pattern.begin(), pattern.end());
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  return out;
}

}  // namespace

TEST(WatchPath, TheSummaryDerivedFromTheTraceIsTheSummaryWatchWrote) {
  const std::string out = record_watch("watchpath-derive");
  const nlohmann::json written = read_json_file(out + "/summary.json");
  const nlohmann::json derived = infermem::load_watch_summary(out).to_json();
  EXPECT_EQ(derived, written) << "derived:\n"
                              << derived.dump(2) << "\nwritten:\n"
                              << written.dump(2);
  // What the trace carries for it: the exit, the gate's checks, each process's parent.
  EXPECT_EQ(written["ended"], "duration");
  EXPECT_EQ(written["status"], "ok");
  ASSERT_EQ(written["processes"].size(), 1u);
  EXPECT_GT(written["processes"][0]["ppid"].get<int>(), 0);
}

TEST(WatchPath, ReportRendersAWatchDirFromItsTraceAlone) {
  const std::string out = record_watch("watchpath-report");
  const std::string md = read_file(out + "/report.md");
  ASSERT_THAT(md, HasSubstr("Verdict: **leak**"));
  fs::remove(out + "/report.md");
  fs::remove(out + "/report.html");
  fs::remove(out + "/summary.json");  // the trace alone is enough
  auto r = run_cli({"report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(out + "/report.md"), md) << "the same report as watch wrote";
  EXPECT_THAT(read_file(out + "/report.html"), HasSubstr("<html"));
  EXPECT_THAT(r.out, HasSubstr("leak"));
  EXPECT_THAT(r.out, HasSubstr(out + "/report.md"));
  // analyze reads the same trace and judges the same tree series.
  auto a = run_cli({"analyze", out + "/trace.jsonl", "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.out, HasSubstr("\"tree\""));
}

TEST(WatchPath, RecommendRefusesAWatchDirSayingWhy) {
  const std::string out = record_watch("watchpath-recommend");
  auto r = run_cli({"recommend", out});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("infermem:"));
  EXPECT_THAT(r.err, HasSubstr("watch"));
  EXPECT_THAT(r.err, HasSubstr("no arms"));
}

TEST(WatchPath, DiffComparesTwoWatchesOfOneCommandAndRefusesAnythingElse) {
  const std::string a = record_watch("watchpath-diff-a");
  const std::string b = record_watch("watchpath-diff-b");
  auto same = run_cli({"diff", a, b});
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_THAT(same.out, HasSubstr("peak"));
  auto json = run_cli({"diff", a, b, "--json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  EXPECT_FALSE(parsed.is_discarded()) << json.out;
  // A soak and a watch: nothing to compare figure by figure.
  for (const auto& [base, next] : {std::pair{kSoakRun, a}, std::pair{a, kSoakRun}}) {
    auto mixed = run_cli({"diff", base, next});
    EXPECT_EQ(mixed.exit_code, 2) << mixed.out << mixed.err;
    EXPECT_THAT(mixed.err, HasSubstr("a soak run and a watch"));
  }
  // Two watches of different commands.
  const std::string other =
      record_watch("watchpath-diff-other", {"plateau", "4194304", "5", "100"});
  auto different = run_cli({"diff", a, other});
  EXPECT_EQ(different.exit_code, 2) << different.out << different.err;
  EXPECT_THAT(different.err, HasSubstr("different commands"));
}
