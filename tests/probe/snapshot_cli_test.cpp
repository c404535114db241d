// `infermem snapshot` as a user runs it, on this test process and on pids that are gone.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "support/run_helpers.h"

namespace {

using infermem::test::run_cli;

TEST(SnapshotCli, JsonOfThisProcessHasEveryCategoryAndTotalsMatchingVmRss) {
  std::string pid = std::to_string(getpid());
  auto r = run_cli({"snapshot", "--pid", pid, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["pid"], getpid());
  for (const char* c : {"onnxruntime", "libraries", "mapped-files", "heap", "anonymous",
                        "thread-stacks", "shared-memory", "other"})
    ASSERT_TRUE(j["categories"].contains(c)) << c;
  EXPECT_GT(j["categories"]["libraries"]["rss_bytes"].get<double>(), 0);
  EXPECT_GT(j["categories"]["thread-stacks"]["mappings_count"].get<int>(), 0);  // [stack]
  // This process waits in waitpid while the CLI reads it, so smaps and status agree within the
  // contract's page per mapping.
  double total = j["total"]["rss_bytes"];
  double vmrss = j["status"]["rss_bytes"];
  double slack = 4096.0 * j["total"]["mappings_count"].get<double>();
  EXPECT_NEAR(total, vmrss, slack);
}

TEST(SnapshotCli, TableShowsCategoriesAsRowsInMiB) {
  auto r = run_cli({"snapshot", "--pid", std::to_string(getpid())});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* word :
       {"RSS MiB", "onnxruntime", "anonymous", "thread-stacks", "total", "VmRSS"})
    EXPECT_NE(r.out.find(word), std::string::npos) << word << " missing from:\n" << r.out;
}

TEST(SnapshotCli, ExitedPidIsExit2NamingThePidAndFile) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  auto r = run_cli({"snapshot", "--pid", std::to_string(pid)});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/proc/" + std::to_string(pid) + "/"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST(SnapshotCli, MissingPidFlagIsAUsageError) {
  auto r = run_cli({"snapshot"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--pid"), std::string::npos) << r.err;
}

}  // namespace
