// The one exit classifier (infermem/process_exit.h), in soak's words and in watch's: how a
// process's wait status, what infermem did to it and what its own records said (a soak worker's)
// become ok | failed | crashed | oom-killed | timeout | interrupted, and the line that says why;
// then the exit code a watch gives for each. The wait statuses are real: each comes from a tiny
// /bin/sh child that exits or kills itself.
#include "infermem/process_exit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "infermem/error.h"
#include "infermem/trace.h"
#include "infermem/watch_app.h"
#include "support/wait_status.h"

using namespace infermem;
using infermem::test::wait_status_of;
using ::testing::HasSubstr;

namespace {

trace::Record child_end_record(const std::string& status, const std::string& error = "") {
  trace::Record r;
  r.type = trace::RecordType::arm;
  r.src = trace::Src::child;
  r.edge = trace::Edge::end;
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
  r.type = trace::RecordType::sample;
  r.src = trace::Src::parent;
  r.phase = trace::Phase::infer;
  r.values.set(Figure::rss_bytes, 120.0 * 1024 * 1024);
  a.add(r);
  return a;
}

// A soak worker's end: its requests done, the program run, --arm-timeout and --memory-limit.
ProcessEnd ended(int wait_status, std::int64_t req = 0) {
  ProcessEnd e;
  e.wait_status = wait_status;
  e.at = std::to_string(req);
  e.program = "/proc/self/exe";
  e.timeout_ms = 5000;
  e.memory_limit_bytes = 64.0 * 1024 * 1024;
  return e;
}

// soak's classification: the worker's own records are its report, the parent's last outside
// reading its last RSS.
ExitClass classify_child_end(ProcessEnd end, const ArmAccumulator& records) {
  end.report = self_report_of(records);
  end.last_rss_bytes = records.figures().last_rss_bytes;
  return classify_exit(end, worker_wording());
}

// watch's: a command reports nothing of its own; what the summary and the exit code make of it.
WatchSummary classified(const ProcessEnd& end, WatchSummary s = {}) {
  if (end.stop == Stop::none) s.ended = "exited";
  ProcessEnd e = end;
  if (e.stop == Stop::at_end && s.interrupted) e.stop = Stop::interrupted;  // Ctrl-C ended it
  e.ended = s.ended;
  e.at = fmt::format("{:.2f} s", s.elapsed_ms / 1000.0);
  e.memory_limit_bytes = s.memory_limit_bytes;
  e.last_rss_bytes = s.last_rss_bytes;
  const ExitClass c = classify_exit(e, command_wording());
  s.status = c.status;
  s.status_detail = c.detail;
  s.exit_code = c.exit_code;
  s.signal = c.signal;
  return s;
}

ProcessEnd command_ended(const std::string& script) {
  ProcessEnd e;
  e.wait_status = wait_status_of(script);
  return e;
}

int exit_code(const WatchSummary& s) {
  std::vector<std::string> problems;
  return watch_exit_code(s, problems);
}

}  // namespace

TEST(WorkerExit, ExitZeroAfterTheChildsOkIsOk) {
  const ExitClass e = classify_child_end(ended(wait_status_of("exit 0"), 200), finished_ok());
  EXPECT_EQ(e.status, ArmStatus::ok);
  EXPECT_EQ(e.detail, "");
}

TEST(WorkerExit, ExitZeroWithoutTheChildsEndRecordIsACrash) {
  // /bin/true as a worker: it exited cleanly but never said it finished (a truncated trace).
  const ExitClass e = classify_child_end(ended(wait_status_of("exit 0"), 7), ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "exited with code 0");
}

TEST(WorkerExit, AWorkloadErrorTheChildReportedIsAFailure) {
  const ExitClass e =
      classify_child_end(ended(wait_status_of("exit 3"), 17),
                         reported_failure("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : bad input"));
  EXPECT_EQ(e.status, ArmStatus::failed);
  EXPECT_EQ(e.detail, "at request 17: [ONNXRuntimeError] : 2 : INVALID_ARGUMENT : bad input");
}

TEST(WorkerExit, AnErrorExitWithoutAReportIsACrash) {
  const ExitClass e = classify_child_end(ended(wait_status_of("exit 3"), 17), ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "exited with code 3");
  // A child that said "ok" and then exited non-zero did not end cleanly either.
  const ExitClass late = classify_child_end(ended(wait_status_of("exit 4"), 17), finished_ok());
  EXPECT_EQ(late.status, ArmStatus::crashed);
  EXPECT_EQ(late.detail, "exited with code 4");
}

TEST(WorkerExit, ExitCode127IsAProgramThatCouldNotStart) {
  ProcessEnd end = ended(wait_status_of("exit 127"));
  end.program = "/opt/missing/infermem";
  const ExitClass e = classify_child_end(end, ArmAccumulator{});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "could not start /opt/missing/infermem");
}

TEST(WorkerExit, SegfaultAndAbortAreCrashesNamingTheSignalAndTheRequest) {
  const ExitClass segv = classify_child_end(ended(wait_status_of("kill -SEGV $$"), 42), {});
  EXPECT_EQ(segv.status, ArmStatus::crashed);
  EXPECT_EQ(segv.detail, "killed by SIGSEGV at request 42");
  const ExitClass abrt = classify_child_end(ended(wait_status_of("kill -ABRT $$"), 3), {});
  EXPECT_EQ(abrt.status, ArmStatus::crashed);
  EXPECT_EQ(abrt.detail, "killed by SIGABRT at request 3");
  // Even after the child's own "ok": a signal is a crash.
  const ExitClass after_ok =
      classify_child_end(ended(wait_status_of("kill -BUS $$"), 9), finished_ok());
  EXPECT_EQ(after_ok.status, ArmStatus::crashed);
  EXPECT_EQ(after_ok.detail, "killed by SIGBUS at request 9");
}

TEST(WorkerExit, SigkillWithTheCgroupsOomCounterRaisedIsAnOomKill) {
  ProcessEnd end = ended(wait_status_of("kill -KILL $$"), 9);
  end.oom_kills = 1;
  end.cgroup_version = 2;
  const ExitClass e = classify_child_end(end, sampled_from_outside());
  EXPECT_EQ(e.status, ArmStatus::oom_killed);
  EXPECT_THAT(e.detail, HasSubstr("killed by the kernel's OOM killer at request 9"));
  EXPECT_THAT(e.detail, HasSubstr("(cgroup v2 limit 64.0 MiB; oom_kill count 1)"));
  EXPECT_THAT(e.detail, HasSubstr("; last sampled RSS 120.0 MiB"));
  // No outside reading: nothing said about it.
  const ExitClass unsampled = classify_child_end(end, ArmAccumulator{});
  EXPECT_EQ(unsampled.status, ArmStatus::oom_killed);
  EXPECT_THAT(unsampled.detail, ::testing::Not(HasSubstr("last sampled")));
}

TEST(WorkerExit, SigkillWithoutAnOomKillIsACrash) {
  const ExitClass e = classify_child_end(ended(wait_status_of("kill -KILL $$"), 9), {});
  EXPECT_EQ(e.status, ArmStatus::crashed);
  EXPECT_EQ(e.detail, "killed by SIGKILL at request 9");
  // The OOM counter counts only SIGKILL: a segfault in a cgroup that saw an OOM kill is a crash.
  ProcessEnd segv = ended(wait_status_of("kill -SEGV $$"), 9);
  segv.oom_kills = 3;
  EXPECT_EQ(classify_child_end(segv, {}).status, ArmStatus::crashed);
}

TEST(WorkerExit, KilledAtTheArmTimeoutIsATimeoutWhateverElseHappened) {
  ProcessEnd end = ended(wait_status_of("kill -KILL $$"), 50);
  end.stop = Stop::timeout;
  const ExitClass e = classify_child_end(end, {});
  EXPECT_EQ(e.status, ArmStatus::timeout);
  EXPECT_EQ(e.detail, "killed after 5000 ms");
  end.oom_kills = 1;  // the parent's SIGKILL, not the kernel's
  EXPECT_EQ(classify_child_end(end, {}).status, ArmStatus::timeout);
}

TEST(WorkerExit, StoppedByTheUserIsInterrupted) {
  ProcessEnd term = ended(wait_status_of("kill -TERM $$"), 5);
  term.stop = Stop::interrupted;
  const ExitClass e = classify_child_end(term, {});
  EXPECT_EQ(e.status, ArmStatus::interrupted);
  EXPECT_EQ(e.detail, "stopped by Ctrl-C");
  // The worker caught the SIGTERM and exited with an error code: still the user's stop.
  ProcessEnd exited = ended(wait_status_of("exit 3"), 5);
  exited.stop = Stop::interrupted;
  EXPECT_EQ(classify_child_end(exited, reported_failure("interrupted")).status,
            ArmStatus::interrupted);
  // The child had finished before the stop reached it: its run counts.
  ProcessEnd done = ended(wait_status_of("exit 0"), 200);
  done.stop = Stop::interrupted;
  EXPECT_EQ(classify_child_end(done, finished_ok()).status, ArmStatus::ok);
}

TEST(WorkerExit, SignalNamesForTheCommonSignals) {
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(SIGSEGV), "SIGSEGV");
  EXPECT_EQ(signal_name(SIGABRT), "SIGABRT");
  EXPECT_EQ(signal_name(SIGTERM), "SIGTERM");
  EXPECT_EQ(signal_name(SIGINT), "SIGINT");
  EXPECT_EQ(signal_name(SIGFPE), "SIGFPE");
  EXPECT_EQ(signal_name(SIGBUS), "SIGBUS");
  // Any signal has its name, not only the common ones.
  EXPECT_EQ(signal_name(SIGPIPE), "SIGPIPE");
}

TEST(CommandExit, ExitZeroIsOk) {
  const WatchSummary s = classified(command_ended("exit 0"));
  EXPECT_EQ(s.status, ArmStatus::ok);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_EQ(s.status_detail, "exited with status 0");
  EXPECT_EQ(s.signal, "");
  EXPECT_EQ(exit_code(s), kExitOk);
}

TEST(CommandExit, ANonZeroExitIsAFailureAndTheWatchSaysSo) {
  const WatchSummary s = classified(command_ended("exit 3"));
  EXPECT_EQ(s.status, ArmStatus::failed);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.status_detail, "exited with status 3");
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitWorkload);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "the watched command failed: exited with status 3");
}

TEST(CommandExit, SegfaultAndAbortAreCrashesNamingTheSignal) {
  const WatchSummary segv = classified(command_ended("kill -SEGV $$"));
  EXPECT_EQ(segv.status, ArmStatus::crashed);
  EXPECT_EQ(segv.signal, "SIGSEGV");
  EXPECT_EQ(segv.status_detail, "killed by SIGSEGV");
  EXPECT_FALSE(segv.exit_code.has_value());
  EXPECT_EQ(exit_code(segv), kExitWorkload);
  const WatchSummary abrt = classified(command_ended("kill -ABRT $$"));
  EXPECT_EQ(abrt.status, ArmStatus::crashed);
  EXPECT_EQ(abrt.signal, "SIGABRT");
  // Any signal has its name, not only the common ones.
  EXPECT_EQ(classified(command_ended("kill -PIPE $$")).signal, "SIGPIPE");
}

TEST(CommandExit, SigkillWithTheCgroupsOomCounterRaisedIsAnOomKill) {
  ProcessEnd end = command_ended("kill -KILL $$");
  end.oom_kills = 2;
  end.cgroup_version = 1;
  WatchSummary before;
  before.elapsed_ms = 2500;
  before.last_rss_bytes = 60.0 * 1024 * 1024;
  before.memory_limit_bytes = 64.0 * 1024 * 1024;
  const WatchSummary s = classified(end, before);
  EXPECT_EQ(s.status, ArmStatus::oom_killed);
  EXPECT_EQ(s.signal, "SIGKILL");
  // When and how big: oom.at_ms and oom.last_rss_bytes (the e2e OOM test reads them).
  EXPECT_EQ(s.status_detail,
            "killed by the kernel's OOM killer at 2.50 s under --memory-limit 64.0 MiB (cgroup v1, "
            "oom_kill count 2); last tree memory sampled 60.0 MiB");
  std::vector<std::string> problems;
  EXPECT_EQ(watch_exit_code(s, problems), kExitCheckFailed);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("OOM-killed"));
}

TEST(CommandExit, SigkillWithoutAnOomKillIsACrash) {
  const WatchSummary s = classified(command_ended("kill -KILL $$"));
  EXPECT_EQ(s.status, ArmStatus::crashed);
  EXPECT_EQ(s.status_detail, "killed by SIGKILL");
  EXPECT_FALSE(present(s.oom_at_ms));
  // Only SIGKILL is the OOM killer's: another signal in a cgroup that counted a kill is a crash.
  ProcessEnd segv = command_ended("kill -SEGV $$");
  segv.oom_kills = 1;
  EXPECT_EQ(classified(segv).status, ArmStatus::crashed);
}

TEST(CommandExit, ACommandStoppedWhenTheWatchEndedIsOkOrInterrupted) {
  // --duration ran out: infermem stopped the command (SIGTERM), which is not its failure.
  ProcessEnd end = command_ended("kill -TERM $$");
  end.stop = Stop::at_end;
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
