// `infermem watch -- COMMAND` in-process on real tiny commands (/bin/sh, PATH's sh): how the
// command is started (exec without a shell, PATH searched, the cache stats variable set), and how
// each way of ending reaches the summary, summary.json and the exit code. Fast: each command ends
// at once, or after a 300 ms --duration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "infermem/cgroup_limit.h"
#include "infermem/error.h"
#include "infermem/watch_app.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

WatchOptions command_options(std::vector<std::string> command) {
  WatchOptions o;
  o.command = std::move(command);
  o.interval_ms = 20;
  o.out_dir = test::make_temp_dir("watch-command");
  return o;
}

WatchSummary watch(const WatchOptions& o) {
  WatchHandle w = prepare_watch(o);
  return run_watch(*w, [](const WatchProgress&) {});
}

WatchSummary watch_sh(const std::string& script, std::vector<std::string> args = {}) {
  std::vector<std::string> command = {"/bin/sh", "-c", "ulimit -c 0; " + script, "sh"};
  command.insert(command.end(), args.begin(), args.end());
  return watch(command_options(command));
}

}  // namespace

TEST(WatchCommand, ACommandThatExitsZeroIsOkAndTheSummaryIsWritten) {
  const WatchOptions o = command_options({"/bin/sh", "-c", "exit 0"});
  const WatchSummary s = watch(o);
  EXPECT_EQ(s.mode, "command");
  EXPECT_EQ(s.ended, "exited");
  EXPECT_EQ(s.status, ArmStatus::ok) << s.status_detail;
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_GT(s.pid, 0);
  const nlohmann::json j = test::read_json_file(o.out_dir + "/summary.json");
  EXPECT_THAT(j.dump(), HasSubstr("\"exited with status 0\"")) << j.dump(2);
}

TEST(WatchCommand, TheCommandIsFoundOnThePathAndGetsTheCacheStatsVariable) {
  // "sh", not a path: PATH is searched. $1 is what INFERMEM_CACHE_STATS must name.
  WatchOptions o =
      command_options({"sh", "-c", R"(test "$INFERMEM_CACHE_STATS" = "$1" || exit 4)", "sh"});
  o.command.push_back(o.out_dir + "/cache-stats.json");
  const WatchSummary s = watch(o);
  EXPECT_EQ(s.status, ArmStatus::ok) << s.status_detail;
  EXPECT_EQ(s.exit_code, 0);
}

TEST(WatchCommand, ANonZeroExitIsAFailure) {
  const WatchSummary s = watch_sh("exit 3");
  EXPECT_EQ(s.status, ArmStatus::failed);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.status_detail, "exited with status 3");
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitWorkload);
}

TEST(WatchCommand, ASegfaultIsACrash) {
  const WatchSummary s = watch_sh("kill -SEGV $$");
  EXPECT_EQ(s.status, ArmStatus::crashed);
  EXPECT_EQ(s.signal, "SIGSEGV");
  EXPECT_EQ(s.status_detail, "killed by SIGSEGV");
}

TEST(WatchCommand, SigkillWithoutAMemoryLimitIsACrash) {
  const WatchSummary s = watch_sh("kill -KILL $$");
  EXPECT_EQ(s.status, ArmStatus::crashed);
  EXPECT_EQ(s.signal, "SIGKILL");
}

TEST(WatchCommand, OomKilledUnderAMemoryLimit) {
  std::string why;
  if (!MemoryCgroup::create("infermem-unit-probe", 64ull << 20, &why))
    GTEST_SKIP() << "no memory cgroup can be created here: " << why;
  // The shell doubles a string until the cgroup's 24 MiB limit is hit.
  WatchOptions o = command_options({"/bin/sh", "-c", R"(x=x; while :; do x="$x$x"; done)"});
  o.memory_limit_bytes = 24ull << 20;
  const WatchSummary s = watch(o);
  EXPECT_EQ(s.status, ArmStatus::oom_killed) << s.status_detail;
  EXPECT_EQ(s.signal, "SIGKILL");
  EXPECT_THAT(s.status_detail, HasSubstr("under --memory-limit 24.0 MiB"));
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitCheckFailed);
}

TEST(WatchCommand, ACommandStillRunningWhenTheDurationEndsIsStoppedAndOk) {
  WatchOptions o = command_options({"/bin/sh", "-c", "sleep 30"});
  o.duration_ms = 300;
  const WatchSummary s = watch(o);
  EXPECT_EQ(s.ended, "duration");
  EXPECT_EQ(s.status, ArmStatus::ok);
  EXPECT_EQ(s.status_detail, "stopped by infermem when the watch ended: duration");
  EXPECT_GT(s.samples, 0u);
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitOk);
}

TEST(WatchCommand, ACommandThatCannotBeExecutedIsRefusedBeforeAnythingRuns) {
  WatchOptions o = command_options({});
  o.command = {o.out_dir + "/no-such-program", "--version"};
  try {
    prepare_watch(o);
    ADD_FAILURE() << "a missing program was started";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot execute '" + o.out_dir + "/no-such-program': No such file or directory");
  }
}

// Ctrl-C sets a process-wide stop flag that nothing clears, so this runs in a child process of
// its own (a death test): the flag is raised at the first progress line.
TEST(WatchCommandDeathTest, CtrlCStopsTheCommandAsInterrupted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        WatchHandle w = prepare_watch(command_options({"/bin/sh", "-c", "sleep 30"}));
        const WatchSummary s = run_watch(*w, [](const WatchProgress&) { request_watch_stop(); });
        std::vector<std::string> problems;
        const bool stopped = s.ended == "interrupted" && s.status == ArmStatus::interrupted &&
                             watch_exit_code(s, problems) == kExitInterrupted;
        std::exit(stopped ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}
