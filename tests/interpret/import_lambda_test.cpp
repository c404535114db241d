// Lambda REPORT importer: CloudWatch text and JSON exports become one high-water-mark series per
// execution environment (log stream, split at a second cold start).
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/importers.h"

using namespace infermem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

Imported import_data(const std::string& name) {
  ImportOptions options;
  options.format = "lambda";
  return import_file(std::string(INFERMEM_TESTDATA_DIR) + "/analyze/" + name, options);
}

Imported import_lambda_text(const std::string& text) {
  ImportOptions options;
  options.format = "lambda";
  return import_text(text, options);
}

const ImportedSeries* find_series(const Imported& imported, const std::string& name) {
  for (const auto& s : imported.series)
    if (s.series.name == name) return &s;
  return nullptr;
}

bool any_note_contains(const std::vector<std::string>& notes, const std::string& text) {
  for (const auto& n : notes)
    if (n.find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(ImportLambda, TextExportGroupsByStreamAndSplitsAtASecondColdStart) {
  auto imported = import_data("lambda_report.txt");
  EXPECT_EQ(imported.format, "lambda");
  EXPECT_EQ(imported.skipped_lines, 1u) << "the REPORT line whose Max Memory Used is 'lots'";
  ASSERT_EQ(imported.series.size(), 3u);
  const std::string a = "2024/05/01/[$LATEST]a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const std::string b = "2024/05/01/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  auto* a1 = find_series(imported, a + " (environment 1)");
  auto* a2 = find_series(imported, a + " (environment 2)");
  auto* b1 = find_series(imported, b);
  ASSERT_TRUE(a1 && a2 && b1);
  EXPECT_EQ(a1->series.points.size(), 25u);
  EXPECT_EQ(a2->series.points.size(), 15u);
  EXPECT_EQ(b1->series.points.size(), 40u);
  EXPECT_DOUBLE_EQ(b1->series.points.front().hwm_bytes, 380 * kMiB);
  EXPECT_DOUBLE_EQ(a2->series.points.front().hwm_bytes, 402 * kMiB);
  EXPECT_DOUBLE_EQ(b1->limit_bytes, 1024 * kMiB);
  for (const auto* s : {a1, a2, b1}) {
    EXPECT_FALSE(present(s->series.points.front().current_bytes)) << "no current figure";
    EXPECT_NE(s->series.hwm_source.find("high-water mark of the whole execution environment"),
              std::string::npos);
    EXPECT_EQ(s->series.points.back().req, static_cast<std::int64_t>(s->series.points.size()));
  }
  // Timestamps from the export: B's invocations are 30 s apart.
  EXPECT_DOUBLE_EQ(b1->series.points[1].t_ms, 30'000.0);
  EXPECT_TRUE(any_note_contains(b1->notes, "never went down"));
  EXPECT_TRUE(any_note_contains(imported.notes, "not REPORT lines"));
}

TEST(ImportLambda, FilterLogEventsJsonReadsEventsAndTheirTimestamps) {
  auto imported = import_data("lambda_events.json");
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& s = imported.series.front();
  EXPECT_EQ(s.series.name, "2024/05/02/[$LATEST]cafe0000cafe0000cafe0000cafe0000");
  ASSERT_EQ(s.series.points.size(), 30u);
  EXPECT_DOUBLE_EQ(s.series.points.back().hwm_bytes, 640 * kMiB);
  EXPECT_DOUBLE_EQ(s.series.points[2].t_ms, 120'000.0);
  EXPECT_DOUBLE_EQ(s.limit_bytes, 2048 * kMiB);
  EXPECT_EQ(imported.skipped_lines, 0u);
}

TEST(ImportLambda, JsonLogFormatOneEventALine) {
  auto imported = import_data("lambda_json_lines.jsonl");
  EXPECT_EQ(imported.skipped_lines, 0u) << "the broken line is not a REPORT: ignored, not skipped";
  ASSERT_EQ(imported.series.size(), 3u);
  EXPECT_EQ(imported.series[0].series.name, "2024/05/03/[$LATEST]aaaa");
  EXPECT_EQ(imported.series[0].series.points.size(), 12u);
  EXPECT_EQ(imported.series[1].series.points.size(), 6u);
  EXPECT_EQ(imported.series[2].series.points.size(), 6u);
  EXPECT_DOUBLE_EQ(imported.series[2].series.points.front().hwm_bytes, 206 * kMiB);
}

TEST(ImportLambda, BareReportLinesWithoutStreamsSplitOnlyAtColdStarts) {
  auto imported = import_lambda_text(
      "REPORT RequestId: 1 Duration: 10.00 ms Billed Duration: 10 ms Memory Size: 128 MB "
      "Max Memory Used: 70 MB Init Duration: 150.00 ms\n"
      "REPORT RequestId: 2 Duration: 20.00 ms Billed Duration: 20 ms Memory Size: 128 MB "
      "Max Memory Used: 71 MB\n"
      "REPORT RequestId: 3 Duration: 5.00 ms Billed Duration: 5 ms Memory Size: 128 MB "
      "Max Memory Used: 65 MB Init Duration: 140.00 ms\n"
      "REPORT RequestId: 4 Duration: 5.00 ms Status: timeout Memory Size: 128 MB\n");
  EXPECT_EQ(imported.skipped_lines, 1u);
  ASSERT_EQ(imported.series.size(), 2u);
  EXPECT_EQ(imported.series[0].series.name, "environment 1");
  ASSERT_EQ(imported.series[0].series.points.size(), 2u);
  EXPECT_DOUBLE_EQ(imported.series[0].series.points[1].t_ms, 10.0)
      << "without timestamps time is the sum of Duration so far";
  EXPECT_TRUE(any_note_contains(imported.notes, "no log stream names"));
}

TEST(ImportLambda, StatusAndErrorTypeAreReported) {
  auto imported = import_lambda_text(
      "2024-05-01T00:00:00Z 2024/05/01/[$LATEST]ab REPORT RequestId: 1 Duration: 10.00 ms "
      "Memory Size: 128 MB Max Memory Used: 128 MB Status: error Error Type: "
      "Runtime.OutOfMemory\n");
  ASSERT_EQ(imported.series.size(), 1u);
  EXPECT_TRUE(any_note_contains(imported.series[0].notes, "error (Runtime.OutOfMemory)"));
  EXPECT_TRUE(any_note_contains(imported.series[0].notes, "100% of Memory Size 128 MiB"));
}

TEST(ImportLambda, NoUsableReportIsAnInputErrorNamingTheInput) {
  ImportOptions options;
  options.format = "lambda";
  options.source_name = "logs.txt";
  try {
    import_text("START RequestId: 1\nEND RequestId: 1\n", options);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("logs.txt"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no usable Lambda REPORT"), std::string::npos);
  }
}

// A Max Memory Used (or Memory Size) that is negative, not a number, infinite or beyond 2^63
// bytes, and a REPORT whose labels or keys are mangled, is skipped and counted, never kept; the
// good REPORT lines around it are kept.
namespace {

std::string report(const std::string& id, const std::string& max_used,
                   const std::string& memory_size = "128") {
  return "REPORT RequestId: " + id +
         " Duration: 1.00 ms Billed Duration: 1 ms Memory Size: " + memory_size +
         " MB Max Memory Used: " + max_used + " MB\n";
}

std::string platform_report(const std::string& metrics) {
  return R"({"time":"2024-05-01T00:00:01Z","type":"platform.report",)"
         R"("record":{"requestId":"x","metrics":{)" +
         metrics + "}}}\n";
}

void expect_only_the_good_kept(const std::string& bad, std::uint64_t skipped,
                               const std::string& reason) {
  auto imported = import_lambda_text(report("first", "100") + bad + report("last", "120"));
  EXPECT_EQ(imported.skipped_lines, skipped) << bad;
  ASSERT_EQ(imported.series.size(), 1u) << bad;
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u) << bad;
  EXPECT_DOUBLE_EQ(points[0].hwm_bytes, 100 * kMiB);
  EXPECT_DOUBLE_EQ(points[1].hwm_bytes, 120 * kMiB);
  EXPECT_DOUBLE_EQ(imported.series[0].limit_bytes, 128 * kMiB);
  bool said = false;
  for (const auto& n : imported.notes) said = said || n.find(reason) != std::string::npos;
  EXPECT_TRUE(said) << "the notes say '" << reason << "' for\n" << bad;
}

}  // namespace

TEST(ImportLambda, ANegativeMaxMemoryUsedIsSkippedAndCounted) {
  expect_only_the_good_kept(report("a", "-1000") + report("b", "110", "-128") +
                                platform_report(R"("maxMemoryUsedMB":-5,"memorySizeMB":128)"),
                            3, "line 2: Max Memory Used is negative (-1000 MB)");
}

TEST(ImportLambda, ANotANumberMaxMemoryUsedIsSkippedAndCounted) {
  expect_only_the_good_kept(
      report("a", "nan") + platform_report(R"("maxMemoryUsedMB":NaN,"memorySizeMB":128)"), 2,
      "line 2: Max Memory Used is not a number of MB");
}

TEST(ImportLambda, AnInfiniteMaxMemoryUsedIsSkippedAndCounted) {
  expect_only_the_good_kept(report("a", "inf") + report("b", "1e400") +
                                platform_report(R"("maxMemoryUsedMB":1e400,"memorySizeMB":128)"),
                            3, "line 2: Max Memory Used is not a number of MB");
}

TEST(ImportLambda, AnOverflowingMaxMemoryUsedIsSkippedAndCounted) {
  // 1e13 MB is beyond 2^63 bytes once read as MiB.
  expect_only_the_good_kept(report("a", "1e13") + report("b", "110", "1e300") +
                                platform_report(R"("maxMemoryUsedMB":1e300,"memorySizeMB":128)"),
                            3, "line 2: Max Memory Used is beyond 2^63 bytes");
}

TEST(ImportLambda, AReportWithMangledLabelsOrKeysIsSkippedAndCounted) {
  expect_only_the_good_kept(
      // two REPORT lines glued together: whose Max Memory Used?
      "REPORT RequestId: a Duration: 1.00 ms Memory Size: 128 MB Max Memory Used: 110 MB "
      "Max Memory Used: -1000 MB\n"
      // misspelled
      "REPORT RequestId: b Duration: 1.00 ms Memory Size: 128 MB Max Memory Usd: 110 MB\n" +
          // duplicated and mistyped keys of Lambda's JSON log format
          platform_report(R"("maxMemoryUsedMB":-5,"maxMemoryUsedMB":110,"memorySizeMB":128)") +
          platform_report(R"("maxMemoryUsedMB":"110","memorySizeMB":128)"),
      4, "line 2: Max Memory Used appears twice");
  auto imported = import_lambda_text(
      report("first", "100") +
      platform_report(R"("maxMemoryUsedMB":-5,"maxMemoryUsedMB":110,"memorySizeMB":128)") +
      platform_report(R"("maxMemoryUsedMB":"110","memorySizeMB":128)"));
  EXPECT_EQ(imported.skipped_lines, 2u);
  bool duplicated = false, mistyped = false;
  for (const auto& n : imported.notes) {
    duplicated = duplicated || n.find("line 2: key \"maxMemoryUsedMB\" appears twice") != n.npos;
    mistyped = mistyped || n.find("line 3: metrics.maxMemoryUsedMB is not a number") != n.npos;
  }
  EXPECT_TRUE(duplicated && mistyped) << imported.notes[0];
  // The same in a filter-log-events document, whose events are counted as lines.
  imported = import_lambda_text(
      R"({"events":[{"message":"REPORT RequestId: 1 Duration: 1.00 ms Max Memory Used: 100 MB"},)"
      R"({"message":"REPORT RequestId: 2 Duration: 1.00 ms Max Memory Used: 100 MB",)"
      R"("message":"x"}]})");
  EXPECT_EQ(imported.skipped_lines, 1u);
  ASSERT_EQ(imported.series.size(), 1u);
  EXPECT_EQ(imported.series[0].series.points.size(), 1u);
}
