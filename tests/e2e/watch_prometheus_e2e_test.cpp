// End-to-end: a real Prometheus server (Debian's `prometheus`, started here on a free local port
// with a 1 s scrape interval) scrapes `infermem watch --metrics-port`; the test asks its HTTP API
// for the series. `promtool check metrics` checks the raw exposition. Every wait is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::start_cli;
using infermem::test::wait_cli;
using ::testing::HasSubstr;

extern char** environ;

namespace {

const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A program started by the test, its output in `log`, stopped (TERM, then KILL) at the end.
struct Process {
  pid_t pid = -1;
  Process(std::vector<std::string> args, const std::string& log) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
    posix_spawn_file_actions_destroy(&fa);
  }
  ~Process() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
};

double vm_rss_bytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  return -1;
}

bool on_path(const std::string& program) {
  return std::system(("command -v " + program + " >/dev/null 2>&1").c_str()) == 0;
}

// Polls fn every 250 ms until it returns true or `seconds` pass.
template <class Fn>
bool eventually(double seconds, Fn fn) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

// The result vector of an instant query, empty when Prometheus has none (yet).
nlohmann::json query(httplib::Client& prom, const std::string& promql) {
  auto res = prom.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!res || res->status != 200) return nlohmann::json::array();
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return nlohmann::json::array();
  return j["data"]["result"];
}

}  // namespace

TEST(WatchPrometheus, ARealPrometheusScrapesTheWatchAndFindsItsSeries) {
  ASSERT_TRUE(on_path("prometheus") && on_path("promtool"))
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string dir = make_temp_dir("watch-prom");
  Process held({kPattern, "hold", std::to_string(48 << 20)}, dir + "/held.log");
  ASSERT_GT(held.pid, 0);
  ASSERT_TRUE(eventually(20, [&] { return vm_rss_bytes(held.pid) >= 48 << 20; }));

  const int metrics_port = free_port();
  auto watch = start_cli({"watch", "--pid", std::to_string(held.pid), "--interval", "100ms",
                          "--metrics-port", std::to_string(metrics_port), "--out", dir + "/run"});
  httplib::Client exporter("127.0.0.1", metrics_port);
  exporter.set_connection_timeout(2);
  exporter.set_read_timeout(5);
  std::string exposition;
  ASSERT_TRUE(eventually(30, [&] {
    auto res = exporter.Get("/metrics");
    if (!res || res->status != 200 ||
        res->body.find("infermem_watch_samples_total") == std::string::npos)
      return false;
    exposition = res->body;
    return true;
  })) << "the exporter answers";
  EXPECT_THAT(exposition, HasSubstr("# HELP infermem_watch_memory_bytes"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_watch_memory_bytes gauge"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_watch_samples_total counter"));
  {
    std::ofstream(dir + "/exposition.txt") << exposition;
    const int rc = std::system(
        ("promtool check metrics < " + dir + "/exposition.txt > " + dir + "/promtool.log 2>&1")
            .c_str());
    EXPECT_EQ(rc, 0) << "promtool check metrics: "
                     << infermem::test::read_file(dir + "/promtool.log");
  }

  const int prom_port = free_port();
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: infermem-watch\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << metrics_port << "']\n";
  Process prom({"prometheus", "--config.file=" + dir + "/prometheus.yml",
                "--storage.tsdb.path=" + dir + "/tsdb",
                "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
               dir + "/prometheus.log");
  ASSERT_GT(prom.pid, 0);
  httplib::Client api("127.0.0.1", prom_port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);
  nlohmann::json rss;
  // Prometheus starts, scrapes within a second or two; 90 s bounds a very busy machine.
  ASSERT_TRUE(eventually(90, [&] {
    rss = query(api, "infermem_watch_memory_bytes{kind=\"rss\"}");
    return !rss.empty();
  })) << infermem::test::read_file(dir + "/prometheus.log");
  const double scraped = std::stod(rss[0]["value"][1].get<std::string>());
  const double truth = vm_rss_bytes(held.pid);
  EXPECT_NEAR(scraped, truth, 0.10 * truth) << "the scraped RSS within 10% of /proc's VmRSS";
  EXPECT_EQ(rss[0]["metric"]["pid"], std::to_string(held.pid));
  EXPECT_THAT(rss[0]["metric"]["command"].get<std::string>(), HasSubstr("memory_pattern"));
  auto verdict = query(api, "infermem_watch_verdict_info == 1");
  ASSERT_EQ(verdict.size(), 1u) << verdict.dump();
  EXPECT_TRUE(verdict[0]["metric"].contains("kind"));

  kill(watch.pid, SIGINT);
  auto r = wait_cli(watch);
  EXPECT_EQ(r.exit_code, 130) << r.err;
}
