// The renderers of a run against a recorded run (tests/data/report/run/summary.json): what every
// format must say, and summary.json's reading. The golden files of every format are
// golden_test.cpp's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/summary.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

const std::string kRunDir = std::string(INFERMEM_TESTDATA_DIR) + "/report/run";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RenderRun, JsonRoundTripsTheRecordedRun) {
  const RunSummary run = RunSummary::load(kRunDir);
  const auto again = RunSummary::from_json(nlohmann::json::parse(render(run, Format::json)));
  EXPECT_EQ(render(again, Format::json), render(run, Format::json));
  EXPECT_EQ(name(again.arms.at(1).status), "failed");
  EXPECT_EQ(again.arms.at(0).repeats.size(), 2u);
}

TEST(RenderRun, EveryFormatNamesEveryArmAndItsStatus) {
  const RunSummary run = RunSummary::load(kRunDir);
  for (Format f : {Format::terminal, Format::markdown, Format::junit, Format::json}) {
    const std::string out = render(run, f);
    for (const auto& a : run.arms) {
      EXPECT_THAT(out, HasSubstr(a.name));
      EXPECT_THAT(out, HasSubstr(std::string(name(a.status))));
    }
  }
}

TEST(RenderRun, UnknownStatusInASummaryIsAnInputError) {
  auto j = nlohmann::json::parse(read_text(kRunDir + "/summary.json"));
  j["arms"][0]["status"] = "exploded";
  try {
    RunSummary::from_json(j);
    FAIL() << "accepted an unknown status";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("exploded"));
  }
}

// What the error must name, and a summary that lacks it or has it malformed.
using RefusedSummary = std::pair<std::string, nlohmann::json>;

// The golden run's summary.json, changed by `change`.
template <class Change>
nlohmann::json golden_summary_with(Change change) {
  auto j = nlohmann::json::parse(read_text(kRunDir + "/summary.json"));
  change(j);
  return j;
}

void expect_each_refused(const std::vector<RefusedSummary>& cases) {
  for (const auto& [field, j] : cases) {
    try {
      RunSummary::from_json(j);
      ADD_FAILURE() << "accepted a summary with " << field << " missing or malformed";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr(field));
    }
  }
}

// Fields the gate and the verdicts read are required: a summary that lost one is refused with
// the field's name, never read as a default (a missing "passed" used to load as a pass).
TEST(RenderRun, AMissingRequiredFieldIsAnInputErrorNamingIt) {
  const auto original = golden_summary_with([](auto&) {});
  ASSERT_FALSE(original["arms"][0]["checks"].empty());
  ASSERT_FALSE(original["arms"][0]["repeats"].empty());
  expect_each_refused({
      {"\"name\"", golden_summary_with([](auto& j) { j["arms"][0].erase("name"); })},
      {"\"status\"", golden_summary_with([](auto& j) { j["arms"][0].erase("status"); })},
      {"\"passed\"",
       golden_summary_with([](auto& j) { j["arms"][0]["checks"][0].erase("passed"); })},
      {"\"check\"", golden_summary_with([](auto& j) { j["arms"][0]["checks"][0].erase("check"); })},
      {"\"verdict\"",
       golden_summary_with([](auto& j) { j["arms"][0]["repeats"][0].erase("verdict"); })},
      {"\"status\"",
       golden_summary_with([](auto& j) { j["arms"][0]["repeats"][0].erase("status"); })},
  });
  auto wrong_type = original;
  wrong_type["arms"][0]["checks"][0]["passed"] = "yes";
  EXPECT_THROW(RunSummary::from_json(wrong_type), InputError);
}

// The arms' phase ends and repeat spreads are read strictly too: a value of the wrong kind or a
// name that is no figure is refused with where it was, never dropped.
TEST(RenderRun, AMalformedPhaseEndOrSpreadIsAnInputErrorNamingIt) {
  const auto original = golden_summary_with([](auto&) {});
  ASSERT_FALSE(original["arms"][0]["phases"].empty());
  ASSERT_TRUE(original["arms"][0].contains("memory_spread"));
  expect_each_refused({
      {"phases[0]: \"rss_bytes\"",
       golden_summary_with([](auto& j) { j["arms"][0]["phases"][0]["rss_bytes"] = "big"; })},
      {"a repeat of arm ort-default: phases[0]: \"t_ms\"", golden_summary_with([](auto& j) {
         j["arms"][0]["repeats"][0]["phases"] = nlohmann::json::array({{{"phase", "load"}}});
       })},
      {"\"peak\"", golden_summary_with([](auto& j) {
         j["arms"][0]["memory_spread"]["peak"] = {1, 2};
       })},
      {"\"peak_bytes\" is not [min, max]", golden_summary_with([](auto& j) {
         j["arms"][0]["memory_spread"]["peak_bytes"] = {1, "2"};
       })},
  });
  // Versions before 2026-12-08 could write min > max (absent repeats among the values): no spread.
  const RunSummary old = RunSummary::from_json(golden_summary_with([](auto& j) {
    j["arms"][0]["memory_spread"]["peak_bytes"] = {2.0, 1.0};
  }));
  EXPECT_FALSE(old.arms[0].memory_spread.count(MemoryFigure::peak));
  EXPECT_TRUE(old.arms[0].memory_spread.count(MemoryFigure::loaded));
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = haystack.find(needle); p != std::string::npos; p = haystack.find(needle, p + 1))
    ++n;
  return n;
}

TEST(Junit, WellFormedWithCountsAndEscaping) {
  std::vector<CheckResult> results = {
      {"arm<1>", "max-growth", false, "growth 16 KiB > 4 KiB & \"more\"\x01"},
      {"arm<1>", "max-peak", true, "peak within"},
      {"arm 2", "max-retained", true, "not measured", true},
  };
  std::string xml = render_junit("infermem soak", results);
  EXPECT_THAT(xml, HasSubstr("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_EQ(count(xml, "<testsuites "), 1u);
  EXPECT_EQ(count(xml, "</testsuites>"), 1u);
  EXPECT_EQ(count(xml, "<testsuite "), 1u);
  EXPECT_EQ(count(xml, "</testsuite>"), 1u);
  EXPECT_EQ(count(xml, "<testcase "), 3u);
  EXPECT_EQ(count(xml, "</testcase>"), 3u);
  EXPECT_EQ(count(xml, "<failure "), 1u);
  EXPECT_EQ(count(xml, "<skipped "), 1u);
  EXPECT_THAT(xml, HasSubstr("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""));
  EXPECT_THAT(xml, HasSubstr("classname=\"arm&lt;1&gt;\" name=\"max-growth\""));
  EXPECT_THAT(xml, HasSubstr("&amp; &quot;more&quot;"));
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  // Every '<' and '&' in the output starts markup or an entity.
  EXPECT_EQ(count(xml, "<") - count(xml, "</"), count(xml, "<?") + 1 + 1 + 3 + 1 + 1 + 1);
}

TEST(Junit, InvalidUtf8IsReplaced) {
  std::string xml = render_junit("s", {{"arm\xff", "c", true, "ok \xc3\xa9"}});
  EXPECT_EQ(xml.find('\xff'), std::string::npos);
  EXPECT_THAT(xml, HasSubstr("\xc3\xa9"));
}

}  // namespace

TEST(RenderRun, HtmlIsOneSelfContainedPageNamingEveryArm) {
  RunSummary run = RunSummary::load(kRunDir);
  run.arms[0].name = "arm </script><b>";  // text from the run never becomes markup
  const std::string html = render(run, Format::html);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("arm &lt;/script&gt;&lt;b&gt;"));
  // Four scripts: the error collector, the data, uPlot, the page's own; nothing loaded from out.
  EXPECT_EQ(count(html, "</script>"), 4u);
  EXPECT_EQ(count(html, "<script src"), 0u);
  EXPECT_EQ(count(html, "<link"), 0u);
  EXPECT_THAT(html, HasSubstr("uPlot"));
  EXPECT_THAT(html, HasSubstr(run.model_sha256));
  for (const auto& a : run.arms) EXPECT_THAT(html, HasSubstr(std::string(name(a.verdict.kind))));
  // The same model renders the same bytes.
  EXPECT_EQ(render(run, Format::html), html);
}
