// The fleet's monitoring files (docs/monitoring/fleet-rules.yml, its promtool unit tests,
// grafana-fleet-dashboard.json) and `watch --label`: promtool accepts the rules and their tests
// pass; the dashboard parses, has a model_version variable and a row repeated per version; a
// watch with the fleet labels serves them on every series, and serves every metric the fleet
// files name; bad labels are exit 2 with nothing written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::read_file;
using ::testing::HasSubstr;

namespace {

const std::string kDocs = std::string(INFERMEM_SOURCE_DIR) + "/docs/monitoring";
const std::string kPattern = std::string(INFERMEM_HELPER_DIR) + "/memory_pattern";
const std::vector<std::string> kFleetLabels = {"model=fleet-test", "model_version=2.0.0",
                                               "ort_version=1.29.0", "pod=pod-a"};

std::set<std::string> matches(const std::string& text, const std::string& pattern, int group = 0) {
  std::set<std::string> found;
  std::regex re(pattern);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it)
    found.insert((*it)[group].str());
  return found;
}

std::string dashboard_exprs(const nlohmann::json& dashboard) {
  std::string exprs;
  for (const auto& panel : dashboard["panels"])
    if (panel.contains("targets"))
      for (const auto& t : panel["targets"]) exprs += t["expr"].get<std::string>() + "\n";
  return exprs;
}

}  // namespace

TEST(FleetMonitoring, PromtoolAcceptsTheFleetRulesAndTheirTestsPass) {
  ASSERT_TRUE(infermem::test::on_path("promtool"))
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string log = make_temp_dir("fleet-rules") + "/promtool.log";
  // Fixed command lines (no user input); the output goes to the log shown on failure.
  EXPECT_EQ(
      std::system(
          ("cd " + kDocs + " && promtool check rules fleet-rules.yml > " + log + " 2>&1").c_str()),
      0)
      << read_file(log);
  EXPECT_EQ(std::system(
                ("cd " + kDocs + " && promtool test rules fleet-rules_test.yml > " + log + " 2>&1")
                    .c_str()),
            0)
      << read_file(log);
}

TEST(FleetMonitoring, TheDashboardHasAModelVersionVariableAndARowPerVersion) {
  const auto d = nlohmann::json::parse(read_file(kDocs + "/grafana-fleet-dashboard.json"));
  ASSERT_TRUE(d["templating"]["list"].is_array());
  bool version_variable = false;
  for (const auto& v : d["templating"]["list"])
    if (v["name"] == "model_version") {
      version_variable = true;
      EXPECT_EQ(v["type"], "query");
      EXPECT_THAT(v["query"].get<std::string>(), HasSubstr("label_values("));
      EXPECT_THAT(v["query"].get<std::string>(), HasSubstr(", model_version)"));
      EXPECT_TRUE(v["multi"].get<bool>() && v["includeAll"].get<bool>()) << v.dump();
    }
  EXPECT_TRUE(version_variable) << "a model_version template variable";

  // A row repeated per selected version, followed by panels that select that version.
  const auto& panels = d["panels"];
  ASSERT_TRUE(panels.is_array());
  std::size_t row = panels.size();
  for (std::size_t i = 0; i < panels.size(); ++i)
    if (panels[i]["type"] == "row" && panels[i].value("repeat", "") == "model_version") row = i;
  ASSERT_LT(row, panels.size()) << "a row with repeat: model_version";
  ASSERT_GE(panels.size() - row - 1, 3u) << "panels in the per-version row";
  std::set<int> ids;
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const auto& p = panels[i];
    EXPECT_TRUE(ids.insert(p["id"].get<int>()).second) << "panel ids are unique: " << p["id"];
    if (p["type"] == "row") continue;
    ASSERT_TRUE(p["targets"].is_array() && !p["targets"].empty()) << p.dump();
    EXPECT_EQ(p["datasource"]["uid"], "${datasource}") << p["title"];
    if (i > row) {
      for (const auto& t : p["targets"]) {
        EXPECT_THAT(t["expr"].get<std::string>(), HasSubstr("model_version=~\"$model_version\""))
            << p["title"];
      }
    }
  }
  // Every recorded series the dashboard reads is one fleet-rules.yml records.
  const auto recorded = matches(read_file(kDocs + "/fleet-rules.yml"), "record: (\\S+)", 1);
  for (const auto& name : matches(dashboard_exprs(d), "[a-z_]+:[a-z_]+:[a-z_]+"))
    EXPECT_TRUE(recorded.count(name)) << name << " is not recorded by fleet-rules.yml";
}

TEST(FleetMonitoring, AWatchServesItsFleetLabelsOnEverySeriesAndEveryMetricTheFleetFilesName) {
  const std::string dir = make_temp_dir("fleet-labels");
  std::vector<std::string> args = {"watch",          "--interval", "50ms",  "--duration", "600s",
                                   "--metrics-port", "0",          "--out", dir + "/run"};
  for (const auto& l : kFleetLabels) args.insert(args.end(), {"--label", l});
  args.insert(args.end(), {"--", kPattern, "hold", "1048576"});
  infermem::test::ScopedWatch watch(args);
  const int port = watch.metrics_port();
  std::string served;
  if (port > 0)
    infermem::test::eventually(infermem::test::kPatienceSeconds, [&] {
      served = infermem::test::scrape_metrics(port);
      return served.find("infermem_watch_samples_total{") != std::string::npos;
    });
  const auto& ended = watch.stop();
  ASSERT_THAT(served, HasSubstr("infermem_watch_samples_total{")) << ended.err;
  std::string log;
  EXPECT_EQ(infermem::test::promtool_check_metrics(served, dir, &log), 0) << log;
  std::size_t series = 0;
  for (const auto& line : matches(served, "(^|\n)(infermem_[^\n]*)", 2)) {
    ++series;
    for (const char* label : {"model=\"fleet-test\"", "model_version=\"2.0.0\"",
                              "ort_version=\"1.29.0\"", "pod=\"pod-a\"", "pid=\"", "command=\""})
      EXPECT_THAT(line, HasSubstr(label)) << "every series carries the fleet labels";
  }
  EXPECT_GE(series, 10u) << served;
  const auto exported = matches(served, "infermem_(watch|cache)_[a-z_]+");
  const auto d = nlohmann::json::parse(read_file(kDocs + "/grafana-fleet-dashboard.json"));
  for (const auto& name : matches(dashboard_exprs(d) + read_file(kDocs + "/fleet-rules.yml"),
                                  "infermem_watch_[a-z_]+"))
    EXPECT_TRUE(exported.count(name)) << name << " is named by the fleet files but not served";
}

TEST(FleetMonitoring, BadLabelsAreExit2NamingThemWithNothingWritten) {
  const std::string dir = make_temp_dir("fleet-bad-labels");
  struct Case {
    std::vector<std::string> labels;
    bool metrics;
    std::string says;
  };
  const Case cases[] = {
      {{"model-version=1"}, true, "'model-version' is not a Prometheus label name"},
      {{"model_version"}, true, "give KEY=VALUE"},
      {{"pid=1"}, true, "'pid' is reserved"},
      {{"__name__=x"}, true, "reserved for Prometheus"},
      {{"pod=a", "pod=b"}, true, "'pod' is given twice"},
      {{"pod="}, true, "the value is empty"},
      {{"pod=a"}, false, "give --metrics-port too"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const std::string out = dir + "/run" + std::to_string(n++);
    std::vector<std::string> args = {"watch", "--duration", "1s", "--out", out};
    if (c.metrics) args.insert(args.end(), {"--metrics-port", "0"});
    for (const auto& l : c.labels) args.insert(args.end(), {"--label", l});
    args.insert(args.end(), {"--", "true"});
    const auto r = infermem::test::run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << c.says << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("--label"));
    EXPECT_THAT(r.err, HasSubstr(c.says));
    EXPECT_FALSE(std::filesystem::exists(out)) << "nothing written: " << c.says;
  }
}
