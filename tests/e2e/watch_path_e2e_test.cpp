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
