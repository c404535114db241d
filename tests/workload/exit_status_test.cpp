// soak's exit classifier (src/workload/exit_status.h): how a child's wait status, what the parent
// did to it and what its own records said become ok | failed | crashed | oom-killed | timeout |
// interrupted, and the line that says why. The wait statuses are real: each comes from a tiny
// /bin/sh child that exits or kills itself.
#include "workload/exit_status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "infermem/trace.h"
#include "support/wait_status.h"

using namespace infermem;
using infermem::test::wait_status_of;
using ::testing::HasSubstr;

namespace {

trace::Record child_end_record(const std::string& status, const std::string& error = "") {
  trace::Record r;
  r.type = trace::kArm;
  r.src = "child";
  r.extra["edge"] = "end";
  r.extra["status"] = status;
  if (!error.empty()) r.extra["error"] = error;
  return r;
}

ArmAccumulator finished_ok() {
  ArmAccumulator a;
  a.add(child_end_record("ok"));
  return a;
}

ArmAccumulator reported_failure(const std::string& error) {
  ArmAccumulator a;
  a.add(child_end_record("failed", error));
  return a;
}

// What the parent sampled last from outside: 120 MiB.
ArmAccumulator sampled_from_outside() {
  ArmAccumulator a;
  trace::Record r;
  r.type = trace::kSample;
  r.src = "parent";
  r.phase = "infer";
  r.values["rss_bytes"] = 120.0 * 1024 * 1024;
  a.add(r);
  return a;
}

ChildEnd ended(int wait_status, std::int64_t req = 0) {
  ChildEnd e;
  e.wait_status = wait_status;
  e.req = req;
  e.program = "/proc/self/exe";
  e.arm_timeout_ms = 5000;
  e.memory_limit_bytes = 64ull << 20;
  return e;
}

}  // namespace

TEST(ExitStatus, ExitZeroAfterTheChildsOkIsOk) {
  const ArmEnd e = classify_child_end(ended(wait_status_of("exit 0"), 200), finished_ok());
  EXPECT_EQ(e.status, ArmStatus::ok);
  EXPECT_EQ(e.detail, "");
}

TEST(ExitStatus, ExitZeroWithoutTheChildsEndRecordIsACrash) {
  // /bin/true as a worker: it exited cleanly but never said it finished (a truncated trace).
  const ArmEnd e = classify_child_end(ended(wait_status_of("exit 0"), 7), ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "exited with code 0");
}

TEST(ExitStatus, AWorkloadErrorTheChildReportedIsAFailure) {
  const ArmEnd e =
      classify_child_end(ended(wait_status_of("exit 3"), 17),
                         reported_failure("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : bad input"));
  EXPECT_EQ(e.status, ArmStatus::failed);
  EXPECT_EQ(e.detail, "at request 17: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : bad input");
}

TEST(ExitStatus, AnErrorExitWithoutAReportIsACrash) {
  const ArmEnd e = classify_child_end(ended(wait_status_of("exit 3"), 17), ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "exited with code 3");
  // A child that said "ok" and then exited non-zero did not end cleanly either.
  const ArmEnd late = classify_child_end(ended(wait_status_of("exit 4"), 17), finished_ok());
  EXPECT_EQ(late.status, ArmStatus::crashed);
  EXPECT_EQ(late.detail, "exited with code 4");
}

TEST(ExitStatus, ExitCode127IsAProgramThatCouldNotStart) {
  ChildEnd end = ended(wait_status_of("exit 127"));
  end.program = "/opt/missing/infermem";
  const ArmEnd e = classify_child_end(end, ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "could not start /opt/missing/infermem");
}

TEST(ExitStatus, SegfaultAndAbortAreCrashesNamingTheSignalAndTheRequest) {
  const ArmEnd segv = classify_child_end(ended(wait_status_of("kill -SEGV $$"), 42), {});
  EXPECT_EQ(segv.status, ArmStatus::crashed);
  EXPECT_EQ(segv.detail, "killed by SIGSEGV at request 42");
  const ArmEnd abrt = classify_child_end(ended(wait_status_of("kill -ABRT $$"), 3), {});
  EXPECT_EQ(abrt.status, ArmStatus::crashed);
  EXPECT_EQ(abrt.detail, "killed by SIGABRT at request 3");
  // Even after the child's own "ok": a signal is a crash.
  const ArmEnd after_ok =
      classify_child_end(ended(wait_status_of("kill -BUS $$"), 9), finished_ok());
  EXPECT_EQ(after_ok.status, ArmStatus::crashed);
  EXPECT_EQ(after_ok.detail, "killed by SIGBUS at request 9");
}

TEST(ExitStatus, SigkillWithTheCgroupsOomCounterRaisedIsAnOomKill) {
  ChildEnd end = ended(wait_status_of("kill -KILL $$"), 9);
  end.oom_kills = 1;
  end.cgroup_version = 2;
  const ArmEnd e = classify_child_end(end, sampled_from_outside());
  EXPECT_EQ(e.status, ArmStatus::oom_killed);
  EXPECT_THAT(e.detail, HasSubstr("killed by the kernel's OOM killer at request 9"));
  EXPECT_THAT(e.detail, HasSubstr("(cgroup v2 limit 64.0 MiB; oom_kill count 1)"));
  EXPECT_THAT(e.detail, HasSubstr("; last sampled RSS 120.0 MiB"));
  // No outside reading: nothing said about it.
  const ArmEnd unsampled = classify_child_end(end, ArmAccumulator{});
  EXPECT_EQ(unsampled.status, ArmStatus::oom_killed);
  EXPECT_THAT(unsampled.detail, ::testing::Not(HasSubstr("last sampled")));
}

TEST(ExitStatus, SigkillWithoutAnOomKillIsACrash) {
  const ArmEnd e = classify_child_end(ended(wait_status_of("kill -KILL $$"), 9), {});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "killed by SIGKILL at request 9");
  // The OOM counter counts only SIGKILL: a segfault in a cgroup that saw an OOM kill is a crash.
  ChildEnd segv = ended(wait_status_of("kill -SEGV $$"), 9);
  segv.oom_kills = 3;
  EXPECT_EQ(classify_child_end(segv, {}).status, ArmStatus::crashed);
}

TEST(ExitStatus, KilledAtTheArmTimeoutIsATimeoutWhateverElseHappened) {
  ChildEnd end = ended(wait_status_of("kill -KILL $$"), 50);
  end.timed_out = true;
  const ArmEnd e = classify_child_end(end, {});
  EXPECT_EQ(e.status, ArmStatus::timeout);
  EXPECT_EQ(e.detail, "killed after 5000 ms");
  end.oom_kills = 1;  // the parent's SIGKILL, not the kernel's
  EXPECT_EQ(classify_child_end(end, {}).status, ArmStatus::timeout);
}

TEST(ExitStatus, StoppedByTheUserIsInterrupted) {
  ChildEnd term = ended(wait_status_of("kill -TERM $$"), 5);
  term.interrupted = true;
  const ArmEnd e = classify_child_end(term, {});
  EXPECT_EQ(e.status, ArmStatus::interrupted);
  EXPECT_EQ(e.detail, "stopped by Ctrl-C");
  // The worker caught the SIGTERM and exited with an error code: still the user's stop.
  ChildEnd exited = ended(wait_status_of("exit 3"), 5);
  exited.interrupted = true;
  EXPECT_EQ(classify_child_end(exited, reported_failure("interrupted")).status,
            ArmStatus::interrupted);
  // The child had finished before the stop reached it: its run counts.
  ChildEnd done = ended(wait_status_of("exit 0"), 200);
  done.interrupted = true;
  EXPECT_EQ(classify_child_end(done, finished_ok()).status, ArmStatus::ok);
}

TEST(ExitStatus, SignalNamesForTheCommonSignals) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGFPE), "SIGFPE");
  EXPECT_EQ(signal_name(SIGBUS), "SIGBUS");
}
