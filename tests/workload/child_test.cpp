// soak's child spawner (run_arms): real tiny children stand in for the worker. Each arm runs
// `/bin/sh -c SCRIPT` as its worker prefix (the worker's own arguments follow, unused), so a script
// can write trace records to descriptor 3 as the worker does, print, exit or kill itself. Checked:
// the status and detail each way of ending gets, the records read from the pipe (into the arm's
// figures and trace.jsonl), the captured output, an --arm-timeout and a Ctrl-C.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "infermem/arms.h"
#include "infermem/cgroup_limit.h"
#include "infermem/soak.h"
#include "infermem/trace.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

// Records as the worker writes them, one `printf` to descriptor 3 each.
std::string emit(const std::string& json_line) {
  return "printf '%s\\n' '" + json_line + "' >&3; ";
}
const std::string kBegin = emit(R"({"v":1,"type":"arm","t_ms":1,"src":"child","edge":"begin"})");
std::string request(int n) {
  return emit(R"({"v":1,"type":"request","t_ms":2,"src":"child","phase":"infer","req":)" +
              std::to_string(n) + R"(,"latency_ms":1.5})");
}
const std::string kEndOk =
    emit(R"({"v":1,"type":"arm","t_ms":3,"src":"child","edge":"end","status":"ok"})");

struct Ran {
  ArmRun run;
  std::vector<std::string> progress;
  std::vector<trace::Record> trace;  // trace.jsonl as written
  std::string out_dir;
};

SoakOptions shell_options(const std::string& script) {
  SoakOptions o;
  o.out_dir = test::make_temp_dir("soak-child");
  o.worker_exe = "/bin/sh";  // the prefix's argument, never run: the script ignores it
  o.worker_prefix = {"/bin/sh", "-c", "ulimit -c 0; " + script, "sh"};
  o.parent_sample_hz = 200;
  return o;
}

Ran run_one(const SoakOptions& o, const Arm& arm = builtin_arm("ort-default")) {
  Ran ran;
  ran.out_dir = o.out_dir;
  std::vector<std::string> notes;
  const auto runs = run_arms(
      o, {arm}, RunFacts{}, notes,
      [&](const SoakProgress& p) {
        if (!p.line.empty()) ran.progress.push_back(p.line);
      },
      [](const ArmRun&) { return nlohmann::json::object(); });
  EXPECT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs.at(0).size(), 1u);
  ran.run = runs.at(0).at(0);
  std::ifstream in(o.out_dir + "/trace.jsonl");
  std::string line;
  while (std::getline(in, line))
    if (auto r = trace::parse_line(line)) ran.trace.push_back(*r);
  return ran;
}

Ran run_script(const std::string& script) {
  return run_one(shell_options(script));
}

const trace::Record* result_record(const Ran& ran) {
  for (const auto& r : ran.trace)
    if (r.type == trace::RecordType::arm && r.src == trace::Src::parent &&
        r.edge == trace::Edge::result)
      return &r;
  return nullptr;
}

}  // namespace

TEST(SoakChild, AChildThatFinishesCleanlyIsOkAndItsRecordsReachTheTrace) {
  const Ran ran = run_script(kBegin + request(1) + request(2) + kEndOk + "exit 0");
  EXPECT_EQ(ran.run.name, "ort-default");
  EXPECT_EQ(ran.run.status, ArmStatus::ok) << ran.run.status_detail;
  EXPECT_GT(ran.run.pid, 0);
  EXPECT_EQ(ran.run.records.figures().requests_done, 2);
  EXPECT_DOUBLE_EQ(ran.run.records.figures().latency_ms.mean, 1.5);
  ASSERT_FALSE(ran.progress.empty());
  EXPECT_EQ(ran.progress.front(), "arm ort-default: started pid " + std::to_string(ran.run.pid));
  // trace.jsonl: the run's header, the child's records under the arm's name, the parent's result.
  ASSERT_FALSE(ran.trace.empty());
  EXPECT_EQ(ran.trace.front().type, trace::RecordType::header);
  int requests = 0;
  for (const auto& r : ran.trace)
    if (r.type == trace::RecordType::request) {
      ++requests;
      EXPECT_EQ(r.arm, "ort-default");
      EXPECT_EQ(r.src.text(), "child");
    }
  EXPECT_EQ(requests, 2);
  const trace::Record* result = result_record(ran);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->extra.value("status", ""), "ok");
  EXPECT_EQ(result->pid, ran.run.pid);
}

TEST(SoakChild, AReportedWorkloadErrorIsAFailureWithTheChildsWords) {
  const Ran ran = run_script(
      kBegin + request(1) +
      emit(R"({"v":1,"type":"arm","t_ms":3,"src":"child","edge":"end","status":"failed",)"
           R"("error":"Load model failed: protobuf parsing failed"})") +
      "exit 3");
  EXPECT_EQ(ran.run.status, ArmStatus::failed);
  EXPECT_EQ(ran.run.status_detail, "at request 1: Load model failed: protobuf parsing failed");
  const trace::Record* result = result_record(ran);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->extra.value("status", ""), "failed");
  EXPECT_EQ(result->extra.value("status_detail", ""), ran.run.status_detail);
}

TEST(SoakChild, AnErrorExitWithoutAReportIsACrash) {
  const Ran ran = run_script(kBegin + "exit 3");
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.status_detail, "exited with code 3");
}

TEST(SoakChild, AQuietCleanExitIsNotOk) {
  // /bin/true as the worker: exit 0, but no record says the arm finished.
  const Ran ran = run_script("exec /bin/true");
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.status_detail, "exited with code 0");
  EXPECT_EQ(ran.run.records.figures().requests_done, 0);
}

TEST(SoakChild, SegfaultAndAbortAreCrashesAtTheLastRequestSeen) {
  const Ran segv = run_script(kBegin + request(1) + request(2) + request(3) + "kill -SEGV $$");
  EXPECT_EQ(segv.run.status, ArmStatus::crashed);
  EXPECT_EQ(segv.run.status_detail, "killed by SIGSEGV at request 3");
  EXPECT_EQ(segv.run.records.figures().requests_done, 3) << "what came before the crash stays";
  const Ran abrt = run_script(kBegin + request(1) + "kill -ABRT $$");
  EXPECT_EQ(abrt.run.status, ArmStatus::crashed);
  EXPECT_EQ(abrt.run.status_detail, "killed by SIGABRT at request 1");
}

TEST(SoakChild, SigkillWithoutAMemoryLimitIsACrash) {
  const Ran ran = run_script(kBegin + request(1) + "kill -KILL $$");
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.status_detail, "killed by SIGKILL at request 1");
}

TEST(SoakChild, ATruncatedLastRecordIsSkippedAndTheRestKept) {
  // Killed mid-write: the last line has no end.
  const Ran ran = run_script(kBegin + request(1) +
                             R"(printf '{"v":1,"type":"request","t_ms":2,"req":2,"lat' >&3; )" +
                             "kill -KILL $$");
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.records.figures().requests_done, 1);
}

TEST(SoakChild, TheChildsOutputGoesToTheWorkerLog) {
  SoakOptions o = shell_options(kBegin + "echo to-stdout; echo to-stderr >&2; " + kEndOk);
  o.worker_log = o.out_dir + "/worker.log";
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::ok) << ran.run.status_detail;
  EXPECT_EQ(test::read_file(o.worker_log), "to-stdout\nto-stderr\n");
}

TEST(SoakChild, TheChildGetsTheWorkersArgumentsAndTheSpecItReads) {
  // The worker's arguments follow the prefix: its program, "worker" and the spec's path.
  const Ran ran =
      run_script(R"(test "$2" = worker && grep -q '"name": "ort-default"' "$3" || exit 9; )" +
                 kBegin + kEndOk);
  EXPECT_EQ(ran.run.status, ArmStatus::ok) << ran.run.status_detail;
  std::error_code ec;
  EXPECT_FALSE(std::filesystem::exists(ran.out_dir + "/arm-ort-default.spec.json", ec))
      << "the spec is removed once the child has ended";
}

TEST(SoakChild, TheArmsProcessKnobsReachTheChildsEnvironment) {
  const Ran ran =
      run_one(shell_options(R"(test "$MALLOC_ARENA_MAX" = 4 || exit 8; )"
                            R"(case "$GLIBC_TUNABLES" in *glibc.malloc.mmap_threshold=131072*) ;; )"
                            R"(*) exit 9 ;; esac; )" +
                            kBegin + kEndOk),
              parse_custom_arm("g4:malloc_arena_max=4,mmap_threshold=128KiB"));
  EXPECT_EQ(ran.run.name, "g4");
  EXPECT_EQ(ran.run.status, ArmStatus::ok) << ran.run.status_detail;
}

// malloc_tcache=off (lean) is a glibc tunable too: both share the one GLIBC_TUNABLES variable.
TEST(SoakChild, TheTcacheKnobJoinsTheOtherTunables) {
  const Ran ran = run_one(
      shell_options(R"(case "$GLIBC_TUNABLES" in )"
                    R"(*glibc.malloc.mmap_threshold=131072:glibc.malloc.tcache_count=0*) ;; )"
                    R"(*) exit 9 ;; esac; )" +
                    kBegin + kEndOk),
      parse_custom_arm("t0:mmap_threshold=128KiB,malloc_tcache=off"));
  EXPECT_EQ(ran.run.status, ArmStatus::ok) << ran.run.status_detail;
}

TEST(SoakChild, AProgramThatCannotBeExecutedCouldNotStart) {
  SoakOptions o = shell_options("");
  o.worker_prefix.clear();
  o.worker_exe = o.out_dir + "/no-such-worker";
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.status_detail, "could not start " + o.worker_exe);
}

TEST(SoakChild, AMissingWrapperIsTheProgramThatCouldNotStart) {
  // --attribute runs the worker under heaptrack: when the wrapper cannot be executed, the detail
  // names it, not the worker behind it.
  SoakOptions o = shell_options("");
  o.worker_prefix = {o.out_dir + "/no-such-wrapper", "-o", o.out_dir + "/x"};
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::crashed);
  EXPECT_EQ(ran.run.status_detail, "could not start " + o.out_dir + "/no-such-wrapper");
}

TEST(SoakChild, AChildStillRunningAtTheArmTimeoutIsKilledAndTimedOut) {
  SoakOptions o = shell_options(kBegin + request(1) + "exec sleep 30");
  o.arm_timeout_ms = 300;
  const auto t0 = std::chrono::steady_clock::now();
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::timeout);
  EXPECT_EQ(ran.run.status_detail, "killed after 300 ms");
  EXPECT_EQ(ran.run.records.figures().requests_done, 1);
  // Not a timing assertion: only that the 30 s child did not run to its end.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(25));
}

// Under a wrapper (heaptrack's script) the worker is a grandchild: the timeout stops it too, and
// soak does not wait for it (it held the record pipe open until it ended by itself).
TEST(SoakChild, TheArmTimeoutStopsAGrandchildTooAndDoesNotWaitForIt) {
  const std::string pid_file = test::make_temp_dir("soak-grandchild") + "/pid";
  SoakOptions o = shell_options(kBegin + "sleep 30 & echo $! > " + pid_file + "; wait; exit 0");
  o.arm_timeout_ms = 300;
  const auto t0 = std::chrono::steady_clock::now();
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::timeout);
  std::ifstream in(pid_file);
  int grandchild = 0;
  ASSERT_TRUE(in >> grandchild) << "the script wrote no pid";
  // Killed, and reaped by init or its parent's end: either it is gone or a zombie.
  std::string state;
  std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
  if (stat) {
    std::string comm;
    int pid = 0;
    stat >> pid >> comm >> state;
  }
  EXPECT_TRUE(state.empty() || state == "Z") << "the grandchild still runs: " << state;
  // Not a timing assertion: only that soak did not wait for the 30 s grandchild.
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(25));
}

TEST(SoakChild, OomKilledUnderAMemoryLimit) {
  std::string why;
  if (!MemoryCgroup::create("infermem-unit-probe", 64ull << 20, &why))
    GTEST_SKIP() << "no memory cgroup can be created here: " << why;
  // The shell doubles a string until the cgroup's 24 MiB limit is hit.
  SoakOptions o = shell_options(kBegin + request(1) + R"(x=x; while :; do x="$x$x"; done)");
  o.memory_limit_bytes = 24ull << 20;
  o.arm_timeout_ms = 60000;
  const Ran ran = run_one(o);
  EXPECT_EQ(ran.run.status, ArmStatus::oom_killed) << ran.run.status_detail;
  EXPECT_THAT(ran.run.status_detail, HasSubstr("killed by the kernel's OOM killer at request 1"));
  EXPECT_THAT(ran.run.status_detail, HasSubstr("limit 24.0 MiB"));
}

// Ctrl-C sets a process-wide stop flag that nothing clears, so this runs in a child process of
// its own (a death test): the flag is raised once the arm has started.
TEST(SoakChildDeathTest, CtrlCStopsTheRunningChildAsInterrupted) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        SoakOptions o = shell_options(kBegin + request(1) + "exec sleep 30");
        std::vector<std::string> notes;
        const auto runs = run_arms(
            o, {builtin_arm("ort-default"), builtin_arm("no-arena")}, RunFacts{}, notes,
            [](const SoakProgress& p) {
              if (p.line.find("started pid") != std::string::npos) request_soak_stop();
            },
            [](const ArmRun&) { return nlohmann::json::object(); });
        const bool stopped = runs.size() == 2 && runs[0].size() == 1 &&
                             runs[0][0].status == ArmStatus::interrupted &&
                             runs[0][0].status_detail == "stopped by Ctrl-C" &&
                             runs[1].empty();  // the next arm never started
        std::exit(stopped ? 0 : 1);
      },
      ::testing::ExitedWithCode(0), "");
}
