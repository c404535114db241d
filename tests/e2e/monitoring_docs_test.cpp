// docs/monitoring/: the Prometheus config and alert rules pass promtool (check config, check
// rules, and the rules' unit tests), the Grafana dashboard parses, and every infermem metric the
// three name is one `infermem watch --metrics-port` really serves.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "infermem/cache_stats_file.h"
#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::start_cli;
using infermem::test::wait_cli;

namespace {

const std::string kDocs = std::string(INFERMEM_SOURCE_DIR) + "/docs/monitoring";

// Runs a shell command line (fixed text, no user input); its output goes to `log`.
int run(const std::string& command, const std::string& log) {
  return std::system((command + " > " + log + " 2>&1").c_str());
}

std::set<std::string> metric_names(const std::string& text) {
  std::set<std::string> names;
  std::regex re("infermem_(watch|cache)_[a-z_]+");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    names.insert(it->str());
  return names;
}

}  // namespace

TEST(MonitoringDocs, PromtoolAcceptsTheConfigAndTheRulesAndTheirTests) {
  ASSERT_EQ(std::system("command -v promtool >/dev/null 2>&1"), 0)
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string log = make_temp_dir("monitoring-docs") + "/promtool.log";
  EXPECT_EQ(run("cd " + kDocs + " && promtool check config prometheus.yml", log), 0)
      << read_file(log);
  EXPECT_EQ(run("cd " + kDocs + " && promtool check rules alerts.yml", log), 0) << read_file(log);
  EXPECT_EQ(run("cd " + kDocs + " && promtool test rules alerts_test.yml", log), 0)
      << read_file(log);
}

TEST(MonitoringDocs, TheDashboardParsesAndEveryMetricNamedIsServed) {
  auto dashboard = nlohmann::json::parse(read_file(kDocs + "/grafana-dashboard.json"));
  ASSERT_TRUE(dashboard["panels"].is_array());
  std::string exprs;
  for (const auto& panel : dashboard["panels"]) {
    ASSERT_TRUE(panel["targets"].is_array()) << panel.dump();
    for (const auto& t : panel["targets"]) exprs += t["expr"].get<std::string>() + "\n";
  }
  // The live endpoint's families; the section on metrics.prom (a finished run's file) names
  // families the endpoint has no use for, checked against metric_families.h below.
  const std::string doc = read_file(kDocs + "/../monitoring.md");
  const std::size_t prom_at = doc.find("### A finished run: metrics.prom");
  ASSERT_NE(prom_at, std::string::npos);
  const std::size_t prom_end = doc.find("\n## ", prom_at);
  const std::string prom_section = doc.substr(prom_at, prom_end - prom_at);
  std::set<std::string> named =
      metric_names(exprs + read_file(kDocs + "/alerts.yml") + doc.substr(0, prom_at) +
                   (prom_end == std::string::npos ? "" : doc.substr(prom_end)));
  // ... against the one list of families both writers take their names from.
  const std::set<std::string> families = metric_names(
      read_file(std::string(INFERMEM_SOURCE_DIR) + "/include/report/infermem/metric_families.h"));
  for (const auto& name : metric_names(prom_section))
    EXPECT_TRUE(families.count(name)) << name << " is named in docs/monitoring.md's metrics.prom "
                                      << "section but is no family of metric_families.h";
  ASSERT_GE(named.size(), 6u);

  // What a real watch serves, of a command that publishes a model cache's counters as a service's
  // ModelCache would (the stats file INFERMEM_CACHE_STATS names; any language can write it),
  // then sleeps until stopped.
  infermem::CacheStatsFile stats;
  stats.pid = 1;
  stats.seq = 1;
  stats.stats.loads = 1;
  stats.stats.misses = 1;
  stats.stats.bytes_resident = 64 << 20;
  stats.stats.models_resident = 1;
  stats.stats.budget_bytes = 96 << 20;
  stats.stats.models["/models/a.onnx"].cost.load_bytes = 64 << 20;
  stats.stats.models["/models/a.onnx"].resident = true;
  // Port 0: watch picks a free port and says which. The test stops the watch once served; the
  // command's sleep and --duration only bound a wedged run.
  const std::string dir = make_temp_dir("monitoring-served");
  auto watch =
      start_cli({"watch", "--metrics-port", "0", "--out", dir + "/run", "--duration", "600s", "--",
                 "sh", "-c", "printf %s \"$0\" > \"$INFERMEM_CACHE_STATS\"; exec sleep 600",
                 infermem::cache_stats_text(stats)});
  const int port = infermem::test::served_metrics_port(watch);
  std::string served;
  if (port > 0)
    infermem::test::eventually(infermem::test::kPatienceSeconds, [&] {
      const std::string body = infermem::test::scrape_metrics(port);
      if (body.find("infermem_cache_") != std::string::npos) served = body;
      return !served.empty() || infermem::test::has_exited(watch);
    });
  kill(watch.pid, SIGINT);
  const auto ended = wait_cli(watch);
  ASSERT_FALSE(served.empty()) << "the exporter never served the cache's metrics: " << ended.err;
  const std::set<std::string> exported = metric_names(served);
  for (const auto& name : named) {
    // A counter's family is named without _total in HELP/TYPE lines; samples carry it.
    EXPECT_TRUE(exported.count(name)) << name << " is named in docs/monitoring but not served";
  }
}
