// End-to-end: `infermem watch` on small programs whose memory follows a known pattern
// (tests/helpers/memory_pattern.cpp), in command mode and attached with --pid.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::eventually;
using infermem::test::kPatienceSeconds;
using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using infermem::test::start_cli;
using infermem::test::wait_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

extern char** environ;

namespace {

const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";
constexpr double kMiB = 1024.0 * 1024.0;

// The records of one arm's samples in trace.jsonl.
std::vector<nlohmann::json> samples_of(const std::string& trace_path, const std::string& arm) {
  std::vector<nlohmann::json> out;
  std::ifstream in(trace_path);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "sample" && j.value("arm", "") == arm) out.push_back(j);
  }
  return out;
}

// A helper started directly by the test (for --pid), killed with its children at the end.
struct Helper {
  pid_t pid = -1;
  explicit Helper(std::vector<std::string> args) {
    args.insert(args.begin(), kPattern);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ) != 0) pid = -1;
  }
  ~Helper() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

double vm_rss_bytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  return -1;
}

std::vector<int> children_of(int pid) {
  std::vector<int> out;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(task.path() / "children");
    int child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

bool alive(int pid) {
  return kill(pid, 0) == 0;
}

}  // namespace

TEST(WatchE2e, ASteadyLeakIsALeakWithItsRate) {
  // 1 MiB every 50 ms on absolute times: exactly 1200 MiB a minute on average, however late a
  // wake-up on a busy machine (it catches up).
  const std::string out = make_temp_dir("watch-leak") + "/run";
  auto r = run_cli({"watch", "--interval", "20ms", "--duration", "6s", "--out", out, "--fail-on",
                    "leak", "--", kPattern, "leak", "1048576", "50"});
  EXPECT_EQ(r.exit_code, 1) << "--fail-on leak fails the gate\n" << r.out << r.err;
  auto s = read_json_file(out + "/summary.json");
  EXPECT_EQ(s["verdict"]["kind"], "leak") << r.out;
  const double truth = 1048576.0 / 50.0 * 60000.0;
  const double rate = s["verdict"]["growth_bytes_per_minute"].get<double>();
  EXPECT_NEAR(rate, truth, 0.25 * truth) << "within 25% of the leak's true rate";
  EXPECT_EQ(s["mode"], "command");
  EXPECT_EQ(s["ended"], "duration");
  EXPECT_EQ(s["status"], "ok") << "stopped by infermem at --duration";
  // Every sample taken is in the trace. How many there are in 6 s depends on how busy the
  // machine is, so no count is asserted: the leak verdict above already needs enough of them.
  EXPECT_EQ(s["samples_count"].get<std::size_t>(), samples_of(out + "/trace.jsonl", "tree").size());
  EXPECT_FALSE(alive(s["pid"].get<int>())) << "command mode stops the command at the end";
  EXPECT_THAT(read_file(out + "/junit.xml"), HasSubstr("<failure"));
  EXPECT_THAT(read_file(out + "/report.md"), HasSubstr("Verdict: **leak**"));
  EXPECT_THAT(read_file(out + "/metrics.prom"), HasSubstr("infermem_watch_verdict_info{pid=\"" +
                                                          std::to_string(s["pid"].get<int>())));
  // The trace is the one format: analyze reads it back and finds the same verdict.
  auto a = run_cli({"analyze", out + "/trace.jsonl", "--json"});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  auto j = nlohmann::json::parse(a.out);
  bool found = false;
  for (const auto& series : j["series"])
    if (series["name"] == "tree") {
      found = true;
      EXPECT_EQ(series["verdict"]["kind"], "leak");
    }
  EXPECT_TRUE(found) << a.out;
}

TEST(WatchE2e, ASawtoothIsNotALeak) {
  // Up 10 x 4 MiB every 30 ms, then all freed: 18 teeth in 6 s, none higher than the first.
  const std::string out = make_temp_dir("watch-saw") + "/run";
  auto r = run_cli({"watch", "--interval", "20ms", "--duration", "6s", "--out", out, "--fail-on",
                    "leak", "--", kPattern, "sawtooth", "4194304", "10", "30"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto s = read_json_file(out + "/summary.json");
  EXPECT_NE(s["verdict"]["kind"], "leak") << r.out;
}

TEST(WatchE2e, GrowthToAPlateauIsAPlateau) {
  // 15 x 4 MiB over 1.5 s, then held for the remaining 4.5 s.
  const std::string out = make_temp_dir("watch-plateau") + "/run";
  auto r = run_cli({"watch", "--interval", "20ms", "--duration", "6s", "--out", out, "--", kPattern,
                    "plateau", "4194304", "15", "100"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  auto s = read_json_file(out + "/summary.json");
  EXPECT_EQ(s["verdict"]["kind"], "plateau") << r.out;
}

TEST(WatchE2e, AMemoryLimitGetsTheCommandOomKilled) {
  const std::string out = make_temp_dir("watch-oom") + "/run";
  // 1 MiB every 10 ms: past 100 MiB in about a second. Small steps, so a watch that a busy
  // machine keeps from sampling for a while still saw the tree not far below the limit.
  // --duration only bounds a run that never reaches the limit.
  auto r = run_cli({"watch", "--interval", "10ms", "--duration", "300s", "--memory-limit", "100M",
                    "--out", out, "--", kPattern, "leak", "1048576", "10"});
  auto s = read_json_file(out + "/summary.json");
  for (const auto& n : s["notes"])
    if (n.get<std::string>().find("--memory-limit was not applied") != std::string::npos)
      GTEST_SKIP() << "no memory cgroup can be created here: " << n;
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(s["status"], "oom-killed") << r.out;
  EXPECT_EQ(s["signal"], "SIGKILL");
  EXPECT_GT(s["oom"]["at_ms"].get<double>(), 0);
  // The last sample before the kill: near the limit. It is sampled every 10 ms while 1 MiB arrives
  // every 10 ms, so 40 MiB below would take a watch kept from sampling for 40 steps (400 ms) while
  // the command ran; on a busy shared machine the two are slowed alike (the command's steps are
  // catch-up bursts only after it was itself kept off the CPU). VmRSS also counts the program's
  // file pages, which the page cache may have charged to another cgroup: up to 10 MiB above is
  // fine.
  const double last = s["oom"]["last_rss_bytes"].get<double>();
  EXPECT_LE(last, 110 * kMiB);
  EXPECT_GE(last, 60 * kMiB);
  EXPECT_THAT(r.err, HasSubstr("OOM-killed"));
  EXPECT_THAT(read_file(out + "/report.md"), HasSubstr("OOM-killed"));
}

TEST(WatchE2e, APreForkTreeIsSummedOverItsProcesses) {
  Helper server({"prefork", "3", std::to_string(32 << 20)});
  ASSERT_GT(server.pid, 0);
  // Until the three children hold their 32 MiB (bounded only so a wedged run fails).
  std::vector<int> children;
  const bool ready = eventually(kPatienceSeconds, [&] {
    children = children_of(server.pid);
    bool all = children.size() == 3;
    for (int c : children) all = all && vm_rss_bytes(c) >= 32 * kMiB;
    return all;
  });
  ASSERT_TRUE(ready) << children.size() << " children hold their 32 MiB";
  const std::string out = make_temp_dir("watch-prefork") + "/run";
  auto r = run_cli({"watch", "--pid", std::to_string(server.pid), "--interval", "50ms",
                    "--duration", "1s", "--out", out});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  // The memory is held still, so /proc read now is what it was at the last sample.
  double proc_sum = vm_rss_bytes(server.pid);
  for (int c : children) proc_sum += vm_rss_bytes(c);
  auto tree = samples_of(out + "/trace.jsonl", "tree");
  ASSERT_FALSE(tree.empty());
  const double total = tree.back()["rss_bytes"].get<double>();
  EXPECT_NEAR(total, proc_sum, 0.05 * proc_sum) << "tree total within 5% of /proc's sum";
  EXPECT_EQ(tree.back()["processes_count"].get<int>(), 4);
  auto s = read_json_file(out + "/summary.json");
  EXPECT_EQ(s["processes"].size(), 4u);
  EXPECT_TRUE(alive(server.pid)) << "--pid leaves the process running";
  for (int c : children)
    EXPECT_FALSE(samples_of(out + "/trace.jsonl", "pid " + std::to_string(c)).empty());
}

TEST(WatchE2e, CtrlCLeavesAWatchedPidRunningAndStopsACommand) {
  Helper held({"hold", std::to_string(8 << 20)});
  ASSERT_GT(held.pid, 0);
  const std::string dir = make_temp_dir("watch-int");
  auto pid_mode = start_cli({"watch", "--pid", std::to_string(held.pid), "--out", dir + "/pid"});
  auto cmd_mode =
      start_cli({"watch", "--out", dir + "/cmd", "--", kPattern, "hold", std::to_string(8 << 20)});
  // Until both have written a sample: Ctrl-C is pressed on watches that are watching (bounded
  // only so a wedged run fails).
  const bool sampling = eventually(kPatienceSeconds, [&] {
    return !samples_of(dir + "/pid/trace.jsonl", "tree").empty() &&
           !samples_of(dir + "/cmd/trace.jsonl", "tree").empty();
  });
  kill(pid_mode.pid, SIGINT);
  kill(cmd_mode.pid, SIGINT);
  auto a = wait_cli(pid_mode);
  auto b = wait_cli(cmd_mode);
  ASSERT_TRUE(sampling) << "the watches never wrote a sample: " << a.err << b.err;
  EXPECT_EQ(a.exit_code, 130) << a.err;
  EXPECT_EQ(b.exit_code, 130) << b.err;
  EXPECT_TRUE(alive(held.pid)) << "pid mode leaves it running";
  auto s = read_json_file(dir + "/cmd/summary.json");
  EXPECT_TRUE(s["interrupted"].get<bool>());
  EXPECT_FALSE(alive(s["pid"].get<int>())) << "command mode stops what it started";
}

TEST(WatchE2e, ACommandThatExitsIsAResultWithItsStatus) {
  const std::string out = make_temp_dir("watch-exit") + "/run";
  auto r = run_cli({"watch", "--interval", "5ms", "--out", out, "--", "sh", "-c", "exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  auto s = read_json_file(out + "/summary.json");
  EXPECT_EQ(s["status"], "failed");
  EXPECT_EQ(s["exit_code"], 3);
  EXPECT_EQ(s["ended"], "exited");
}

TEST(WatchE2e, BadInputIsExit2NamingItWithNothingWritten) {
  const std::string dir = make_temp_dir("watch-bad");
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  // A port in use: this test listens on one the kernel picks (port 0), held for the whole test,
  // so no other process can take it between choosing it and binding it.
  int busy = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(busy, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(busy, 1), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(getsockname(busy, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const int port = ntohs(a.sin_port);
  const std::vector<Case> cases = {
      {{"--pid", "4194303"}, "4194303"},
      {{"--pid", "abc"}, "--pid"},
      {{"--", "/nonexistent/infermem-no-such-command"}, "/nonexistent/infermem-no-such-command"},
      {{"--interval", "0ms", "--", "true"}, "--interval"},
      {{"--duration", "soon", "--", "true"}, "--duration"},
      {{"--memory-limit", "lots", "--", "true"}, "--memory-limit"},
      {{"--memory-limit", "100M", "--pid", "1"}, "--memory-limit"},
      {{"--metrics-port", std::to_string(port), "--", "true"}, std::to_string(port)},
      {{}, "--pid"},
  };
  int k = 0;
  for (const auto& c : cases) {
    const std::string out = dir + "/run" + std::to_string(k++);
    std::vector<std::string> args = {"watch", "--out", out};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.names << ": " << r.err;
    EXPECT_THAT(r.err, HasSubstr("infermem:")) << c.names;
    EXPECT_THAT(r.err, HasSubstr(c.names)) << r.err;
    EXPECT_FALSE(fs::exists(out)) << "nothing written for " << c.names;
  }
  close(busy);
}
