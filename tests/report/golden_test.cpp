// Every reporter against two recorded runs, as google/benchmark's reporter_output_test checks
// every reporter: a soak run (tests/data/report/run/summary.json) and a watch of the test helper
// (tests/data/report/watch/trace.jsonl, the summary rebuilt from it as `infermem report` does).
// The exact bytes of each format are kept beside the recording, so any change to an output is a
// reviewed change to a golden file.
//
// On a mismatch the output is written to BUILD/golden-actual/<run>/<file> and the failure says
// how to diff it. INFERMEM_UPDATE_GOLDEN=1 rewrites the golden files from the current reporters
// (docs/testing.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "infermem/render.h"
#include "infermem/summary.h"
#include "infermem/watch_summary.h"
#include "support/files.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kData = std::string(INFERMEM_TESTDATA_DIR) + "/report/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool updating() {
  const char* v = std::getenv("INFERMEM_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

// The first line where two texts differ, 1-based, with both versions of it.
std::string first_difference(const std::string& expected, const std::string& actual) {
  std::istringstream e(expected), a(actual);
  std::string el, al;
  for (int line = 1;; ++line) {
    const bool more_e = static_cast<bool>(std::getline(e, el));
    const bool more_a = static_cast<bool>(std::getline(a, al));
    if (!more_e && !more_a) return "they differ only in the final line feed";
    if (!more_e || !more_a || el != al)
      return "first difference at line " + std::to_string(line) +
             ":\n  expected: " + (more_e ? el : "<end of file>") +
             "\n  actual:   " + (more_a ? al : "<end of file>");
  }
}

// Compares `actual` byte for byte with tests/data/report/<run>/<name>.
void expect_golden(const std::string& run, const std::string& name, const std::string& actual) {
  const std::string golden = kData + run + "/" + name;
  if (updating()) {
    std::ofstream(golden, std::ios::binary) << actual;
    return;
  }
  const std::string expected = read_text(golden);
  if (expected == actual) return;
  // Beside the test binary, which lives in the build directory.
  const fs::path out = fs::read_symlink("/proc/self/exe").parent_path() / "golden-actual" / run;
  fs::create_directories(out);
  std::ofstream(out / name, std::ios::binary) << actual;
  ADD_FAILURE() << "the " << name << " of the recorded " << run
                << " run differs from its golden file; " << first_difference(expected, actual)
                << "\nsee: diff -u " << golden << " " << (out / name).string()
                << "\naccept it (a reviewed change): INFERMEM_UPDATE_GOLDEN=1 test_report "
                   "--gtest_filter='*Golden*'";
}

// report.html without what it inlines verbatim (uPlot, its style, the page's own script and
// style): those are files of the repository, not output of the reporter, and uPlot's minified
// code would make the golden file large and churn with each upgrade.
std::string without_inlined_assets(std::string html) {
  auto cut = [&](const std::string& open, const std::string& close, const std::string& what) {
    const auto from = html.find(open);
    const auto to = from == std::string::npos ? from : html.find(close, from + open.size());
    if (to == std::string::npos) {
      ADD_FAILURE() << "report.html has no " << open << "..." << close << " for " << what;
      return;
    }
    html.replace(from + open.size(), to - from - open.size(), "[" + what + "]");
  };
  cut("<style>\n", "</style>", "uPlot's and the page's style");
  cut("</script>\n<script>\n", "\n</script>", "uPlot");
  cut("[uPlot]\n</script>\n<script>\n", "\n</script>", "report.js");
  return html;
}

const RunSummary& soak() {
  static const RunSummary run = RunSummary::load(kData + "run");
  return run;
}
const WatchSummary& watch() {
  static const WatchSummary w = load_watch_summary(kData + "watch");
  return w;
}

struct Golden {
  Format format;
  std::string file;
};
std::string PrintToString(const Golden& g) {
  return g.file;
}

std::string rendered(const RunSummary& run, Format f) {
  return f == Format::html ? without_inlined_assets(render(run, f)) : render(run, f);
}
std::string rendered(const WatchSummary& w, Format f) {
  return f == Format::html ? without_inlined_assets(render(w, f)) : render(w, f);
}

const std::vector<Golden> kGoldens = {
    {Format::terminal, "expected-terminal.txt"}, {Format::markdown, "expected-report.md"},
    {Format::html, "expected-report.html"},      {Format::junit, "expected-junit.xml"},
    {Format::json, "expected-summary.json"},     {Format::prometheus, "expected-metrics.prom"},
};

class GoldenSoak : public ::testing::TestWithParam<Golden> {};
class GoldenWatch : public ::testing::TestWithParam<Golden> {};

TEST_P(GoldenSoak, MatchesItsGoldenFile) {
  ASSERT_EQ(soak().arms.size(), 2u);
  expect_golden("run", GetParam().file, rendered(soak(), GetParam().format));
}

TEST_P(GoldenWatch, MatchesItsGoldenFile) {
  ASSERT_EQ(watch().samples, 150u);
  expect_golden("watch", GetParam().file, rendered(watch(), GetParam().format));
}

auto file_name = [](const ::testing::TestParamInfo<Golden>& info) {
  std::string n = info.param.file.substr(std::string("expected-").size());
  for (char& c : n)
    if (c == '.' || c == '-') c = '_';
  return n;
};
INSTANTIATE_TEST_SUITE_P(EveryFormat, GoldenSoak, ::testing::ValuesIn(kGoldens), file_name);
INSTANTIATE_TEST_SUITE_P(EveryFormat, GoldenWatch, ::testing::ValuesIn(kGoldens), file_name);

// The summary rebuilt from the recorded trace is byte for byte the summary.json watch itself
// wrote at the end of that run: watch and `infermem report` derive it the same way.
TEST(GoldenWatchRecording, TheSummaryFromTheTraceIsTheOneWatchWrote) {
  if (updating()) GTEST_SKIP() << "the recording is data, never rewritten";
  EXPECT_EQ(render(watch(), Format::json), read_text(kData + "watch/summary.json"));
}

// The recording holds what the golden files are to show: a gate, the service's cache counters,
// a judged verdict with its growth, and no machine's paths.
TEST(GoldenWatchRecording, CoversChecksCacheAndGrowth) {
  EXPECT_EQ(watch().checks.size(), 2u);
  ASSERT_TRUE(watch().cache.has_value());
  ASSERT_TRUE(watch().cache->last.has_value());
  EXPECT_EQ(watch().cache->last->stats.hits, 90u);  // typed from the end record's cache_stats
  EXPECT_TRUE(present(watch().verdict.growth_bytes_per_minute));
  // Every JSON string that is an absolute path is the kernel's (/sys, /proc), none this machine's.
  for (const char* file : {"trace.jsonl", "summary.json"}) {
    const std::string text = read_text(kData + "watch/" + file);
    for (auto at = text.find("\"/"); at != std::string::npos; at = text.find("\"/", at + 1)) {
      const std::string path = text.substr(at + 1, text.find('"', at + 1) - at - 1);
      EXPECT_TRUE(path.rfind("/sys/", 0) == 0 || path.rfind("/proc/", 0) == 0)
          << file << " names a path of the recording machine: " << path;
    }
  }
}

// A trace whose end record holds a cache_stats that is not a snapshot (hand-edited, or written by
// something else) still reads: the cache is left out with a note saying why, never half-read.
TEST(GoldenWatchRecording, AMalformedCacheStatsIsLeftOutWithANote) {
  const std::string dir = test::make_temp_dir("watch-bad-cache");
  std::string text = read_text(kData + "watch/trace.jsonl");
  const std::string from = "\"reads_ok\":31";
  ASSERT_NE(text.find(from), std::string::npos);
  text.replace(text.find(from), from.size(), "\"reads_ok\":\"many\"");
  std::ofstream(dir + "/trace.jsonl", std::ios::binary) << text;
  const WatchSummary w = load_watch_summary(dir);
  EXPECT_FALSE(w.cache.has_value());
  EXPECT_THAT(::testing::PrintToString(w.notes), HasSubstr("cache_stats could not be read"));
  EXPECT_THAT(::testing::PrintToString(w.notes), HasSubstr("reads_ok"));
}

// The inlined assets are cut at the right places: the golden page keeps the data script and the
// page's structure, and none of uPlot's code.
TEST(GoldenHtml, OnlyTheInlinedAssetsAreReplaced) {
  const std::string page = render(watch(), Format::html);
  const std::string cut = without_inlined_assets(page);
  EXPECT_LT(cut.size(), page.size() / 2);
  EXPECT_THAT(cut, HasSubstr("<script type=\"application/json\" id=\"infermem-data\">"));
  EXPECT_THAT(cut, HasSubstr("<script>\n[uPlot]\n</script>\n<script>\n[report.js]\n</script>"));
  EXPECT_THAT(cut, HasSubstr("<style>\n[uPlot's and the page's style]</style>"));
  EXPECT_EQ(cut.find("uPlot="), std::string::npos);
}

// Both expositions are valid to Prometheus's own checker.
TEST(GoldenPrometheus, PromtoolAcceptsBothExpositions) {
  ASSERT_TRUE(test::on_path("promtool"))
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string dir = test::make_temp_dir("golden-prom");
  for (const std::string& exposition :
       {render(soak(), Format::prometheus), render(watch(), Format::prometheus)}) {
    std::string log;
    EXPECT_EQ(test::promtool_check_metrics(exposition, dir, &log), 0) << log;
  }
}

}  // namespace
}  // namespace infermem
