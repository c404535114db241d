// End-to-end: a fleet of two `infermem watch` processes, each watching a local child with its own
// fleet labels (one child leaks steadily, one holds its memory), scraped by a real Prometheus
// (Debian's `prometheus`, on 127.0.0.1, port 0) that loads docs/monitoring/fleet-rules.yml. The
// test asks its HTTP API for the alerts: InfermemFleetLeak fires for the leaking version and is
// never pending or firing for the clean one.
//
// The shipped rules hold an alert for minutes (`for: 15m`, `for: 5m`: a fleet pages on sustained
// growth only); the test's copy of the file holds them for 10 s, the one change it makes, so the
// run ends within about two minutes. Every wait is for a state and has a deadline; every port is
// picked by its server (port 0) on 127.0.0.1; the watches and their children are stopped with
// their process groups however the test ends (ScopedWatch), Prometheus by Process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::eventually;
using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::ScopedWatch;
using ::testing::HasSubstr;

namespace {

const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";
const std::string kLeaky = "2.0.0-leaky", kClean = "1.9.0-clean";
// The alert's deadline: the leaking watch's running verdict says leak within about 10-20 s of
// samples, then the rule holds for 10 s. The bound only stops a wedged run (it returns as soon as
// the alert fires); at 1 MiB/s the leaking child holds at most ~250 MiB by then.
constexpr double kAlertDeadlineSeconds = 240;

std::vector<std::string> watch_args(const std::string& dir, const std::string& version,
                                    const std::string& pod, std::vector<std::string> command) {
  std::vector<std::string> args = {"watch",          "--interval", "100ms", "--duration",   "600s",
                                   "--metrics-port", "0",          "--out", dir + "/" + pod};
  const std::vector<std::string> labels = {"model=fleet-e2e", "model_version=" + version,
                                           "ort_version=1.29.0", "pod=" + pod};
  for (const std::string& label : labels) args.insert(args.end(), {"--label", label});
  args.push_back("--");
  args.insert(args.end(), command.begin(), command.end());
  return args;
}

// The shipped rules with every `for:` shortened to 10 s; fails the test when there is none.
std::string rules_for_the_test(const std::string& dir) {
  const std::string shipped =
      read_file(std::string(INFERMEM_SOURCE_DIR) + "/docs/monitoring/fleet-rules.yml");
  const std::regex hold("for: [0-9]+m");
  EXPECT_TRUE(std::regex_search(shipped, hold)) << "the shipped rules hold their alerts";
  const std::string path = dir + "/fleet-rules.yml";
  std::ofstream(path) << std::regex_replace(shipped, hold, "for: 10s");
  return path;
}

nlohmann::json api_get(httplib::Client& api, const std::string& path,
                       const httplib::Params& params = {}) {
  auto res = api.Get(path, params, httplib::Headers{});
  if (!res || res->status != 200) return nullptr;
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return nullptr;
  return j["data"];
}

// The InfermemFleetLeak alerts (pending or firing) of one model version.
std::vector<nlohmann::json> fleet_leak_alerts(const nlohmann::json& data,
                                              const std::string& version) {
  std::vector<nlohmann::json> found;
  if (data.is_null()) return found;
  for (const auto& a : data["alerts"])
    if (a["labels"].value("alertname", "") == "InfermemFleetLeak" &&
        a["labels"].value("model_version", "") == version)
      found.push_back(a);
  return found;
}

}  // namespace

TEST(FleetPrometheus, TheFleetLeakAlertFiresForTheLeakingVersionOnly) {
  ASSERT_TRUE(infermem::test::on_path("prometheus"))
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string dir = make_temp_dir("fleet-prom");
  // 64 KiB every 62 ms (~1 MiB/s) against 32 MiB held once.
  ScopedWatch leaky(watch_args(dir, kLeaky, "pod-leaky", {kPattern, "leak", "65536", "62"}));
  ScopedWatch clean(watch_args(dir, kClean, "pod-clean", {kPattern, "hold", "33554432"}));
  const int leaky_port = leaky.metrics_port(), clean_port = clean.metrics_port();
  ASSERT_GT(leaky_port, 0) << leaky.stop().err;
  ASSERT_GT(clean_port, 0) << clean.stop().err;

  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "rule_files:\n  - " << rules_for_the_test(dir) << "\n"
      << "scrape_configs:\n  - job_name: infermem-fleet\n    static_configs:\n"
      << "      - targets: ['127.0.0.1:" << leaky_port << "', '127.0.0.1:" << clean_port << "']\n";
  infermem::test::Process prom(
      {"prometheus", "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/tsdb", "--web.listen-address=127.0.0.1:0"},
      dir + "/prometheus.log");
  ASSERT_GT(prom.pid, 0);
  const int prom_port = infermem::test::listening_port(prom, dir + "/prometheus.log");
  ASSERT_GT(prom_port, 0) << read_file(dir + "/prometheus.log");
  httplib::Client api("127.0.0.1", prom_port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);

  // Poll the alerts until the leaking version's fires; at every poll the clean one has none.
  std::vector<nlohmann::json> clean_alerts;
  nlohmann::json fired;
  const bool fires = eventually(kAlertDeadlineSeconds, [&] {
    const auto data = api_get(api, "/api/v1/alerts");
    for (auto& a : fleet_leak_alerts(data, kClean)) clean_alerts.push_back(a);
    for (auto& a : fleet_leak_alerts(data, kLeaky))
      if (a.value("state", "") == "firing") fired = a;
    return !fired.is_null();
  });
  ASSERT_TRUE(fires) << "InfermemFleetLeak never fired for " << kLeaky << "\nleaky watch:\n"
                     << leaky.stop().err << "\nprometheus:\n"
                     << read_file(dir + "/prometheus.log");
  EXPECT_EQ(fired["labels"]["model"], "fleet-e2e");
  EXPECT_EQ(fired["labels"]["severity"], "warning");
  EXPECT_THAT(fired["annotations"]["summary"].get<std::string>(),
              HasSubstr("fleet-e2e 2.0.0-leaky leaks memory on 100% of its pods"));
  EXPECT_TRUE(clean_alerts.empty()) << nlohmann::json(clean_alerts).dump();

  // The clean version was judged all along, not absent: its pods are counted, its leak ratio 0,
  // and Prometheus's own ALERTS series never had it pending or firing during the run.
  auto query = [&](const std::string& promql) {
    const auto data = api_get(api, "/api/v1/query", {{"query", promql}});
    return data.is_null() ? nlohmann::json::array() : data["result"];
  };
  const auto pods =
      query("model_version:infermem_watch_processes:pods{model_version=\"" + kClean + "\"}");
  ASSERT_EQ(pods.size(), 1u) << pods.dump();
  EXPECT_EQ(pods[0]["value"][1], "1");
  const auto ratio = query("model_version:infermem_watch_verdict_info:leak_ratio");
  ASSERT_EQ(ratio.size(), 2u) << ratio.dump();
  for (const auto& r : ratio)
    EXPECT_EQ(r["value"][1], r["metric"]["model_version"] == kLeaky ? "1" : "0") << r.dump();
  EXPECT_TRUE(
      query("ALERTS{alertname=\"InfermemFleetLeak\", model_version=\"" + kClean + "\"}[15m]")
          .empty());
  EXPECT_FALSE(query("ALERTS{alertname=\"InfermemFleetLeak\", model_version=\"" + kLeaky +
                     "\", alertstate=\"firing\"}[15m]")
                   .empty());
  // The fleet labels came through the scrape on the watch's own series.
  const auto rss = query("infermem_watch_memory_bytes{kind=\"rss\", pod=\"pod-clean\"}");
  ASSERT_EQ(rss.size(), 1u) << rss.dump();
  EXPECT_EQ(rss[0]["metric"]["model_version"], kClean);
  EXPECT_EQ(rss[0]["metric"]["ort_version"], "1.29.0");
  EXPECT_EQ(leaky.stop().exit_code, 130);
  EXPECT_EQ(clean.stop().exit_code, 130);
}
