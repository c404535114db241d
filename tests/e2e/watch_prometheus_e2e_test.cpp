// End-to-end: a real Prometheus server (Debian's `prometheus`, started here on a local port it
// picks itself, with a 1 s scrape interval) scrapes `infermem watch --metrics-port`; the test asks
// its HTTP API for the series. `promtool check metrics` checks the raw exposition. Every wait is
// for a state (a port in a log, a series served), bounded only so a wedged run fails.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::eventually;
using infermem::test::kPatienceSeconds;
using infermem::test::make_temp_dir;
using infermem::test::on_path;
using infermem::test::Process;
using infermem::test::start_cli;
using infermem::test::wait_cli;
using ::testing::HasSubstr;

namespace {

const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";

double vm_rss_bytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0;
  return -1;
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
  ASSERT_TRUE(eventually(kPatienceSeconds, [&] { return vm_rss_bytes(held.pid) >= 48 << 20; }));

  // Port 0 for both servers: each picks a free port and says which, so no port is chosen here and
  // taken by another process before the server binds it.
  auto watch = start_cli({"watch", "--pid", std::to_string(held.pid), "--interval", "100ms",
                          "--metrics-port", "0", "--out", dir + "/run"});
  const int metrics_port = infermem::test::served_metrics_port(watch);
  if (metrics_port < 0) {
    kill(watch.pid, SIGINT);
    FAIL() << "watch never said its metrics port: " << wait_cli(watch).err;
  }
  std::string exposition;
  ASSERT_TRUE(eventually(kPatienceSeconds, [&] {
    exposition = infermem::test::scrape_metrics(metrics_port);
    return exposition.find("infermem_watch_samples_total") != std::string::npos;
  })) << "the exporter answers";
  EXPECT_THAT(exposition, HasSubstr("# HELP infermem_watch_memory_bytes"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_watch_memory_bytes gauge"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_watch_samples_total counter"));
  {
    std::string log;
    EXPECT_EQ(infermem::test::promtool_check_metrics(exposition, dir, &log), 0)
        << "promtool check metrics: " << log;
  }

  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: infermem-watch\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << metrics_port << "']\n";
  Process prom({"prometheus", "--config.file=" + dir + "/prometheus.yml",
                "--storage.tsdb.path=" + dir + "/tsdb", "--web.listen-address=127.0.0.1:0"},
               dir + "/prometheus.log");
  ASSERT_GT(prom.pid, 0);
  const int prom_port = infermem::test::listening_port(prom, dir + "/prometheus.log");
  ASSERT_GT(prom_port, 0) << "Prometheus never said where it listens:\n"
                          << infermem::test::read_file(dir + "/prometheus.log");
  httplib::Client api("127.0.0.1", prom_port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);
  nlohmann::json rss;
  // Prometheus scrapes within a second or two of starting; the bound only stops a wedged run.
  ASSERT_TRUE(eventually(kPatienceSeconds, [&] {
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

// --metrics-bind widens the listener on purpose: bound to every address, the metrics answer on
// 127.0.0.1 too (the test connects nowhere else); an address that is not one is exit 2 with
// nothing written.
TEST(WatchPrometheus, MetricsBindWidensTheListenerOnPurpose) {
  const std::string dir = make_temp_dir("watch-bind");
  // Port 0: watch picks a free one and says which. The test stops the watch itself once served;
  // --duration only bounds a wedged run.
  auto watch = start_cli({"watch", "--interval", "50ms", "--duration", "600s", "--metrics-port",
                          "0", "--metrics-bind", "0.0.0.0", "--out", dir + "/run", "--", kPattern,
                          "plateau", "1048576", "4", "50"});
  const int port = infermem::test::served_metrics_port(watch);
  std::string exposition;
  const bool served = port > 0 && eventually(kPatienceSeconds, [&] {
                        exposition = infermem::test::scrape_metrics(port);
                        return exposition.find("infermem_watch_memory_bytes") != std::string::npos;
                      });
  kill(watch.pid, SIGINT);
  auto r = wait_cli(watch);
  ASSERT_TRUE(served) << "nothing served on 127.0.0.1:" << port << " with --metrics-bind 0.0.0.0\n"
                      << r.err;
  EXPECT_THAT(r.err, HasSubstr("metrics on http://0.0.0.0:" + std::to_string(port)));

  auto bad =
      infermem::test::run_cli({"watch", "--duration", "1s", "--metrics-port", "0", "--metrics-bind",
                               "not-an-address", "--out", dir + "/bad", "--", "true"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_THAT(bad.err, HasSubstr("not-an-address"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/bad")) << "nothing half-written";
}
