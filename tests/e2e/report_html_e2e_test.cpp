// report.html of real soaks, loaded in headless Chromium (Debian's `chromium`): the page's script
// writes what it drew into #infermem-status, the test reads the dumped DOM and checks it against
// summary.json: no errors, every chart drew (painted pixels on its canvas), each chart's point
// count is the downsampled data's. A screenshot is saved under the build tree
// (test-artifacts/). Skipped, saying so, only when chromium is not installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <set>

#include "support/browser.h"
#include "support/run_helpers.h"

using namespace infermem::test;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

// Chromium starts in well under a second on an idle machine; a shared 2-core machine under full
// load has taken 15 s. The bound only stops a hung browser.
constexpr double kBrowserTimeoutS = 180;

std::string artifacts_dir() {
  const fs::path dir = fs::path(INFERMEM_BIN).parent_path() / "test-artifacts";
  fs::create_directories(dir);
  return dir.string();
}

struct Drawn {
  std::string id;
  std::size_t points = 0, series = 0, painted_pixels = 0;
};

// Loads the page (on its time axis with fragment "x=time"), returns what it says it drew; fails
// the test on errors or a missing status.
std::map<std::string, Drawn> load_page(const std::string& chromium, const std::string& html,
                                       const std::string& fragment = "") {
  ProgramResult r = dump_dom(chromium, html, kBrowserTimeoutS, fragment);
  EXPECT_FALSE(r.timed_out) << "chromium did not finish in " << kBrowserTimeoutS << " s";
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const std::string text = element_text(r.out, "infermem-status");
  EXPECT_FALSE(text.empty()) << "the page wrote no status (its script did not run to the end)";
  std::map<std::string, Drawn> drawn;
  if (text.empty()) return drawn;
  const auto status = nlohmann::json::parse(text);
  EXPECT_TRUE(status["errors"].empty()) << "errors on the page: " << status["errors"].dump();
  EXPECT_EQ(status.value("x_axis", ""), fragment == "x=time" ? "time" : "request");
  for (const auto& c : status["charts"])
    drawn[c["id"]] = {c["id"], c["points"], c["series"], c["painted_pixels"]};
  return drawn;
}

// Every chart the summary calls for, with the point count its data has after downsampling (the
// overlay joins the arms' windows on the axis drawn: requests, or seconds since the arm began).
std::map<std::string, std::size_t> expected_charts(const nlohmann::json& summary,
                                                   bool time_axis = false) {
  std::map<std::string, std::size_t> want;
  std::set<double> overlay_x;
  std::size_t cycles = 0;
  bool latency = false;
  const auto& arms = summary["arms"];
  for (std::size_t i = 0; i < arms.size(); ++i) {
    const auto& c = arms[i]["charts"];
    const auto& x = c["memory"]["x_request"];
    if (!x.empty()) want["memory-" + std::to_string(i)] = x.size();
    if (!x.empty() && c["memory"]["bands"].size() > 0 && c["memory"]["bands"][0]["key"] == "rss")
      for (const auto& v : c["memory"][time_axis ? "t_arm_s" : "x_request"])
        overlay_x.insert(v.get<double>());
    if (c.contains("cache") && !c["cache"]["x_request"].empty())
      want["cache-" + std::to_string(i)] = c["cache"]["x_request"].size();
    cycles = std::max(cycles, c["after_unload_per_cycle_bytes"].size());
    latency = latency || !c["latency_quantiles_ms"].empty();
    if (arms[i].contains("repeats") && arms[i]["repeats"].size() >= 2)
      want["repeats-" + std::to_string(i)] = arms[i]["repeats"].size();
  }
  if (!overlay_x.empty()) want["overlay"] = overlay_x.size();
  if (latency) want["latency"] = 101;
  if (cycles > 0) want["churn"] = cycles;
  return want;
}

void check_run(const std::string& chromium, const std::string& out, const std::string& tag,
               const std::string& fragment = "") {
  const auto summary = read_json_file(out + "/summary.json");
  const std::string html = out + "/report.html";
  ASSERT_TRUE(fs::exists(html));
  const std::string page = read_file(html);
  // Nothing is fetched when it opens: no external script, style, image or import. (uPlot's text
  // holds the SVG namespace URI, which is a name, not a fetch.)
  for (const char* fetch : {"src=\"http", "href=\"http", "url(http", "@import", "<link"})
    EXPECT_EQ(page.find(fetch), std::string::npos) << fetch;
  for (const auto& a : summary["arms"]) EXPECT_THAT(page, HasSubstr(a["name"].get<std::string>()));
  EXPECT_THAT(page, HasSubstr(summary["model"]["sha256"].get<std::string>()));

  const auto want = expected_charts(summary, fragment == "x=time");
  const auto drawn = load_page(chromium, html, fragment);
  ASSERT_FALSE(want.empty());
  for (const auto& [id, points] : want) {
    auto it = drawn.find(id);
    ASSERT_NE(it, drawn.end()) << "chart " << id << " was not drawn";
    EXPECT_EQ(it->second.points, points) << "chart " << id;
    EXPECT_GT(it->second.series, 0u) << "chart " << id;
    // Axes, grid and lines: a drawn 1100x300 chart paints thousands of pixels; an empty canvas
    // paints none.
    EXPECT_GT(it->second.painted_pixels, 1000u) << "chart " << id << " is blank";
  }
  EXPECT_EQ(drawn.size(), want.size()) << "charts drawn that the summary does not call for";
  // The memory chart of an arm draws two lines (window max and min) per figure it recorded.
  for (std::size_t i = 0; i < summary["arms"].size(); ++i) {
    const auto& bands = summary["arms"][i]["charts"]["memory"]["bands"];
    auto it = drawn.find("memory-" + std::to_string(i));
    if (it != drawn.end()) {
      EXPECT_EQ(it->second.series, 2 * bands.size() + 1);
    }
    // The cache chart: resident models (max and min), loads, evictions, refusals.
    it = drawn.find("cache-" + std::to_string(i));
    if (it != drawn.end()) {
      EXPECT_EQ(it->second.series, 5u);
    }
  }
  const std::string png = artifacts_dir() + "/report-html-" + tag + ".png";
  fs::remove(png);
  ProgramResult shot = screenshot(chromium, html, png, 1280, 3200, kBrowserTimeoutS, fragment);
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png)) << shot.err;
  EXPECT_GT(fs::file_size(png), 10000u) << "a screenshot of the charts is more than a blank page";
}

// Clicks the page's time-axis checkbox twice in Chromium (a copy of the page with a script added
// after the page's own: on load it clicks, lets the charts redraw, reads them, clicks back, reads
// them again) and checks the memory and cache charts were redrawn on each axis, every canvas
// painted, no error.
void check_time_toggle(const std::string& chromium, const std::string& html) {
  std::string page = read_file(html);
  const std::string end = "</body></html>";
  const auto at = page.rfind(end);
  ASSERT_NE(at, std::string::npos);
  page.insert(at, R"(<script>
window.addEventListener("load", function () {
  function read() {
    var charts = [];
    document.querySelectorAll(".uplot").forEach(function (u) {
      var c = u.querySelector("canvas"), px = c.getContext("2d").getImageData(0, 0, c.width,
          c.height).data, n = 0;
      for (var i = 3; i < px.length; i += 4) if (px[i] !== 0) n++;
      charts.push({ id: u.parentNode.id, title: u.querySelector(".u-title").textContent,
                    painted_pixels: n });
    });
    return charts;
  }
  var toggle = document.getElementById("time-toggle"), states = [];
  toggle.click();
  Promise.resolve().then(function () {}).then(function () {
    states.push(read());
    toggle.click();
    return Promise.resolve().then(function () {});
  }).then(function () {
    states.push(read());
    var el = document.createElement("pre");
    el.id = "toggle-status";
    el.textContent = JSON.stringify({ states: states, errors: window.infermemErrors });
    document.body.appendChild(el);
  });
});
</script>
)");
  const std::string copy = fs::path(html).replace_filename("report-toggle.html").string();
  std::ofstream(copy, std::ios::binary) << page;
  ProgramResult r = dump_dom(chromium, copy, kBrowserTimeoutS);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string text = element_text(r.out, "toggle-status");
  ASSERT_FALSE(text.empty()) << "the added script did not finish";
  const auto status = nlohmann::json::parse(text);
  EXPECT_TRUE(status["errors"].empty()) << status["errors"].dump();
  ASSERT_EQ(status["states"].size(), 2u);
  const char* want[] = {"over time", "over requests"};
  for (std::size_t k = 0; k < 2; ++k) {
    SCOPED_TRACE(want[k]);
    std::size_t axis_charts = 0;
    for (const auto& c : status["states"][k]) {
      const std::string id = c["id"];
      EXPECT_GT(c["painted_pixels"].get<std::size_t>(), 1000u) << id;
      if (id.rfind("memory-", 0) == 0 || id.rfind("cache-", 0) == 0) {
        ++axis_charts;
        EXPECT_THAT(c["title"].get<std::string>(), HasSubstr(want[k])) << id;
      }
    }
    EXPECT_GT(axis_charts, 0u);
  }
  EXPECT_EQ(status["states"][0].size(), status["states"][1].size());
}

}  // namespace

TEST(ReportHtmlE2E, MixedSoakWithRepeatsDrawsEveryChartInChromium) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string model = generated_model("transformer", "2MiB");
  const std::string out = make_temp_dir("html-mixed");
  auto r =
      run_cli({"soak", model, "--scenario", "mixed", "--requests", "40", "--repeat", "2", "--arms",
               "ort-default,no-arena-trim", "--dim", "sequence=16..64", "--out", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  check_run(chromium, out, "mixed");
}

TEST(ReportHtmlE2E, ChurnSoakDrawsAfterUnloadPerCycleInChromium) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string model = generated_model("mlp", "4MiB");
  const std::string out = make_temp_dir("html-churn");
  auto r = run_cli({"soak", model, "--scenario", "churn", "--cycles", "4", "--requests", "15",
                    "--arms", "ort-default,no-arena,no-arena-trim", "--out", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = read_json_file(out + "/summary.json");
  for (const auto& a : summary["arms"])
    EXPECT_EQ(a["charts"]["after_unload_per_cycle_bytes"].size(), 4u);
  check_run(chromium, out, "churn");
}

TEST(ReportHtmlE2E, CacheSoakDrawsResidentModelsLoadsAndEvictionsOnBothAxesInChromium) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string model = generated_model("mlp", "2MiB");
  const std::string out = make_temp_dir("html-cache");
  // lru:2 over four variants evicts; the budget of 64 MiB holds every 2 MiB variant with its
  // runtime overhead, so it loads without refusing whatever the shared machine's page cache does.
  // (--arm adds to --arms: ort-default runs the default policy, --cache's.)
  auto r = run_cli({"soak", model, "--scenario", "cache", "--models", "4", "--requests", "40",
                    "--arms", "ort-default", "--arm", "naive:cache=lru:2", "--arm",
                    "budget:base=lean,cache=budget:64MiB", "--out", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto summary = read_json_file(out + "/summary.json");
  const std::string md = read_file(out + "/report.md");
  for (const auto& a : summary["arms"]) {
    SCOPED_TRACE(a["name"].get<std::string>());
    ASSERT_TRUE(a["charts"].contains("cache")) << a["charts"].dump();
    const auto& k = a["charts"]["cache"];
    // One point per served request: the same 40 as the memory chart, drawn point by point.
    EXPECT_EQ(k["raw_points"], 40);
    EXPECT_EQ(k["x_request"].size(), 40u);
    EXPECT_EQ(k["t_arm_s"].size(), 40u);
    EXPECT_GE(k["total_loads"].get<int>(), 1);
    EXPECT_EQ(k["loads"].back(), k["total_loads"]);
    EXPECT_EQ(k["evictions"].back(), k["total_evictions"]);
    EXPECT_EQ(a["charts"]["memory"]["t_arm_s"].size(), a["charts"]["memory"]["x_request"].size());
    // report.md says the same totals in words.
    EXPECT_THAT(md,
                HasSubstr(fmt::format("cache: at most {} model", k["max_resident"].get<int>())));
    EXPECT_THAT(md, HasSubstr(fmt::format("{} load", k["total_loads"].get<int>())));
  }
  // The trace's events agree with the chart model: lru:2 holds at most two models; the budget
  // arm's own counters (ModelCache's stats on its infer phase) give the same loads and evictions.
  ASSERT_EQ(summary["arms"].size(), 3u);
  const auto& first = summary["arms"][1];
  const auto& second = summary["arms"][2];
  ASSERT_EQ(first["name"], "naive");
  ASSERT_EQ(second["name"], "budget");
  const auto& naive = first["charts"]["cache"];
  EXPECT_LE(naive["max_resident"].get<int>(), 2);
  EXPECT_EQ(naive["total_loads"].get<int>() - naive["total_evictions"].get<int>(),
            naive["resident_max"].back().get<int>());
  bool budget_counters = false;
  for (const auto& p : second["phases"])
    if (p["phase"] == "infer" && p.contains("cache")) {
      budget_counters = true;
      const auto& k = second["charts"]["cache"];
      EXPECT_EQ(k["total_loads"], p["cache"]["loads"]);
      EXPECT_EQ(k["total_evictions"], p["cache"]["evictions"]);
      EXPECT_EQ(k["total_refusals"], p["cache"]["refusals"]);
    }
  EXPECT_TRUE(budget_counters) << second["phases"].dump();
  check_run(chromium, out, "cache");
  check_run(chromium, out, "cache-time", "x=time");
  check_time_toggle(chromium, out + "/report.html");

  // analyze of the run's trace draws the same cache charts (the same events, the same model).
  const std::string page = out + "/analyze.html";
  auto a = run_cli({"analyze", out + "/trace.jsonl", "--html", page});
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_THAT(a.out,
              HasSubstr(fmt::format("cache: at most {} model", naive["max_resident"].get<int>())));
  const auto drawn = load_page(chromium, page);
  for (std::size_t i = 0; i < summary["arms"].size(); ++i) {
    auto it = drawn.find("cache-" + std::to_string(i));
    ASSERT_NE(it, drawn.end()) << "series " << i << " has no cache chart";
    EXPECT_EQ(it->second.points, 40u);
    EXPECT_GT(it->second.painted_pixels, 1000u);
  }
}

TEST(ReportHtmlE2E, ReportCommandRerendersTheSamePage) {
  const std::string model = generated_model("mlp", "1MiB");
  const std::string out = make_temp_dir("html-rerender");
  auto r = run_cli({"soak", model, "--scenario", "steady", "--requests", "30", "--arms",
                    "ort-default", "--out", out, "--force"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string written = read_file(out + "/report.html");
  const std::string prom = read_file(out + "/metrics.prom");
  ASSERT_FALSE(written.empty());
  ASSERT_FALSE(prom.empty());
  fs::remove(out + "/report.html");
  fs::remove(out + "/metrics.prom");
  r = run_cli({"report", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("report.html"));
  EXPECT_EQ(read_file(out + "/report.html"), written)
      << "report.html re-rendered from summary.json differs from the one soak wrote";
  EXPECT_EQ(read_file(out + "/metrics.prom"), prom)
      << "metrics.prom re-rendered from summary.json differs from the one soak wrote";
}

// watch writes report.html too: the process tree's total over time (its samples have no request
// index, so the page draws on the time axis only), with the same windows and verdict as report.md.
TEST(ReportHtmlE2E, WatchWritesAPageChromiumDrawsOnTheTimeAxis) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string out = make_temp_dir("html-watch") + "/run";
  // The watched command leaks until watch's trace holds 30 samples, then ends, and watch with
  // it: the page has enough points however slow the machine is (--duration only bounds a hang).
  const std::string until_samples =
      "\"$1\" leak 1048576 50 & "
      "until [ \"$(grep -c '\"type\":\"sample\"' \"$0\" 2>/dev/null)\" -ge 30 ]; do sleep 0.05; "
      "done; kill $!";
  auto r = run_cli({"watch", "--interval", "20ms", "--duration", "600s", "--out", out, "--",
                    "/bin/sh", "-c", until_samples, out + "/trace.jsonl",
                    std::string(INFERMEM_HELPER_DIR) + "/memory_pattern"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto summary = read_json_file(out + "/summary.json");
  const std::string html = out + "/report.html";
  ASSERT_TRUE(fs::exists(html)) << r.out;
  const std::string page = read_file(html);
  EXPECT_THAT(page, HasSubstr("infermem watch report"));
  EXPECT_THAT(page, HasSubstr("Windows of"));
  EXPECT_THAT(page, HasSubstr(summary["verdict"]["kind"].get<std::string>()));
  const auto& t = summary["charts"]["memory"]["t_s"];
  ASSERT_GT(t.size(), 10u) << "the judged series is in summary.json's charts";
  const auto drawn = load_page(chromium, html, "x=time");
  ASSERT_EQ(drawn.count("memory-0"), 1u) << "the tree's memory chart was not drawn";
  EXPECT_EQ(drawn.at("memory-0").points, t.size());
  EXPECT_GT(drawn.at("memory-0").painted_pixels, 1000u);
  EXPECT_EQ(drawn.size(), 1u) << "one series: no overlay";
}

TEST(ReportHtmlE2E, AnalyzeOfExternalRecordingsWritesAPageChromiumDraws) {
  const std::string chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const std::string data = std::string(INFERMEM_TESTDATA_DIR) + "/analyze/";
  const std::string dir = make_temp_dir("html-analyze");
  for (const char* file : {"leak.csv", "lambda_report.txt", "psrecord.log"}) {
    SCOPED_TRACE(file);
    const std::string html = dir + "/" + file + ".html";
    auto r = run_cli({"analyze", data + file, "--json", "--html", html});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto analysis = nlohmann::json::parse(r.out);
    const auto drawn = load_page(chromium, html);
    const std::size_t series = analysis["series"].size();
    ASSERT_GT(series, 0u);
    for (std::size_t i = 0; i < series; ++i) {
      auto it = drawn.find("memory-" + std::to_string(i));
      ASSERT_NE(it, drawn.end()) << "series " << i << " has no chart";
      // Short recordings are drawn point by point: every point read is on the chart.
      const auto points = analysis["series"][i]["points"].get<std::size_t>();
      if (points <= 1000) {
        EXPECT_EQ(it->second.points, points);
      }
      EXPECT_GT(it->second.painted_pixels, 1000u);
    }
  }
}
