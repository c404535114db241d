// How the command `infermem watch` started ended (src/app/watch_exit.h): exit codes, signals, an
// OOM kill under --memory-limit, and a command infermem stopped itself; then the exit code the
// watch gives for each. The wait statuses are real: each from a tiny /bin/sh child.
#include "app/watch_exit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "infermem/error.h"
#include "infermem/watch_app.h"
#include "support/wait_status.h"

using namespace infermem;
using infermem::test::wait_status_of;
using ::testing::HasSubstr;

namespace {

WatchSummary classified(const CommandEnd& end, WatchSummary s = {}) {
  s.ended = end.stopped_by_us ? s.ended : "exited";
  classify_command_end(end, s);
  return s;
}

CommandEnd ended(const std::string& script) {
  CommandEnd e;
  e.wait_status = wait_status_of(script);
  return e;
}

int exit_code(const WatchSummary& s) {
  std::vector<std::string> problems;
  return watch_exit_code(s, problems);
}

}  // namespace

TEST(WatchExit, ExitZeroIsOk) {
  const WatchSummary s = classified(ended("exit 0"));
  EXPECT_EQ(s.status, ArmStatus::ok);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status_detail, "exited with status 0");
  EXPECT_EQ(s.signal, "");
  EXPECT_EQ(exit_code(s), kExitOk);
}

TEST(WatchExit, ANonZeroExitIsAFailureAndTheWatchSaysSo) {
  const WatchSummary s = classified(ended("exit 3"));
  EXPECT_EQ(s.status, ArmStatus::failed);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.status_detail, "exited with status 3");
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitWorkload);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "the watched command failed: exited with status 3");
}

TEST(WatchExit, SegfaultAndAbortAreCrashesNamingTheSignal) {
  const WatchSummary segv = classified(ended("kill -SEGV $$"));
  EXPECT_EQ(segv.status, ArmStatus::crashed);
  EXPECT_EQ(segv.signal, "SIGSEGV");
  EXPECT_EQ(segv.status_detail, "killed by SIGSEGV");
  EXPECT_FALSE(segv.exit_code.has_value());
  EXPECT_EQ(exit_code(segv), kExitWorkload);
  const WatchSummary abrt = classified(ended("kill -ABRT $$"));
  EXPECT_EQ(abrt.status, ArmStatus::crashed);
  EXPECT_EQ(abrt.signal, "SIGABRT");
  // Any signal has its name, not only the common ones.
  EXPECT_EQ(classified(ended("kill -PIPE $$")).signal, "SIGPIPE");
}

TEST(WatchExit, SigkillWithTheCgroupsOomCounterRaisedIsAnOomKill) {
  CommandEnd end = ended("kill -KILL $$");
  end.oom_kills = 2;
  end.cgroup_version = 1;
  end.cgroup_peak_bytes = 64.0 * 1024 * 1024;
  WatchSummary before;
  before.elapsed_ms = 2500;
  before.last_rss_bytes = 60.0 * 1024 * 1024;
  before.memory_limit_bytes = 64.0 * 1024 * 1024;
  const WatchSummary s = classified(end, before);
  EXPECT_EQ(s.status, ArmStatus::oom_killed);
  EXPECT_EQ(s.signal, "SIGKILL");
  EXPECT_DOUBLE_EQ(s.oom_at_ms, 2500);
  EXPECT_DOUBLE_EQ(s.oom_last_rss_bytes, 60.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(s.oom_cgroup_peak_bytes, 64.0 * 1024 * 1024);
  EXPECT_EQ(s.status_detail,
            "killed by the kernel's OOM killer at 2.50 s under --memory-limit 64.0 MiB (cgroup v1, "
            "oom_kill count 2); last tree memory sampled 60.0 MiB");
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitCheckFailed);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("OOM-killed"));
}

TEST(WatchExit, SigkillWithoutAnOomKillIsACrash) {
  const WatchSummary s = classified(ended("kill -KILL $$"));
  EXPECT_EQ(s.status, ArmStatus::crashed);
  EXPECT_EQ(s.status_detail, "killed by SIGKILL");
  EXPECT_FALSE(present(s.oom_at_ms));
  // Only SIGKILL is the OOM killer's: another signal in a cgroup that counted a kill is a crash.
  CommandEnd segv = ended("kill -SEGV $$");
  segv.oom_kills = 1;
  EXPECT_EQ(classified(segv).status, ArmStatus::crashed);
}

TEST(WatchExit, ACommandStoppedWhenTheWatchEndedIsOkOrInterrupted) {
  // --duration ran out: infermem stopped the command (SIGTERM), which is not its failure.
  CommandEnd end = ended("kill -TERM $$");
  end.stopped_by_us = true;
  WatchSummary by_duration;
  by_duration.ended = "duration";
  const WatchSummary d = classified(end, by_duration);
  EXPECT_EQ(d.status, ArmStatus::ok);
  EXPECT_EQ(d.status_detail, "stopped by infermem when the watch ended: duration");
  EXPECT_FALSE(d.exit_code.has_value());
  EXPECT_EQ(d.signal, "") << "the signal was infermem's";
  EXPECT_EQ(exit_code(d), kExitOk);
  // Ctrl-C: the user stopped the watch, and with it the command.
  WatchSummary by_user;
  by_user.ended = "interrupted";
  by_user.interrupted = true;
  const WatchSummary i = classified(end, by_user);
  EXPECT_EQ(i.status, ArmStatus::interrupted);
  EXPECT_EQ(i.status_detail, "stopped by infermem when the watch ended: interrupted");
  EXPECT_EQ(exit_code(i), kExitInterrupted);
}
