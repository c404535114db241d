// CSV importer: columns and units from the header, --unit and column overrides, skipped rows.
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/importers.h"

using namespace infermem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

Imported csv(const std::string& text, ImportOptions options = {}) {
  options.format = "csv";
  return import_text(text, options);
}

}  // namespace

TEST(ImportCsv, HeaderNamesTheUnits) {
  auto imported = csv("time_ms,rss_mb,vmhwm_kb\n0,100,102400\n500,101,104448\n");
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[1].t_ms, 500.0);
  EXPECT_DOUBLE_EQ(points[1].current_bytes, 101 * kMiB);
  EXPECT_DOUBLE_EQ(points[1].hwm_bytes, 102 * kMiB);
  EXPECT_FALSE(present(points[1].allocator_in_use_bytes));
}

TEST(ImportCsv, BareNamesMeanSecondsAndBytes) {
  auto imported = csv("time,rss\n10,1000\n12,2000\n");
  const auto& points = imported.series[0].series.points;
  EXPECT_DOUBLE_EQ(points[0].t_ms, 0.0) << "time starts at the first row";
  EXPECT_DOUBLE_EQ(points[1].t_ms, 2000.0);
  EXPECT_DOUBLE_EQ(points[1].current_bytes, 2000.0);
  bool warned = false;
  for (const auto& n : imported.notes) warned |= n.find("read as bytes") != std::string::npos;
  EXPECT_TRUE(warned) << "a unit-less memory column is called out";
}

TEST(ImportCsv, UnitFlagOverridesTheHeader) {
  ImportOptions options;
  options.unit = "KiB";
  auto imported = csv("elapsed_s,memory_mib\n0,4\n1,8\n", options);
  EXPECT_DOUBLE_EQ(imported.series[0].series.points[1].current_bytes, 8 * 1024.0);
  options.unit = "parsecs";
  EXPECT_THROW(csv("time,rss\n0,1\n", options), InputError);
}

TEST(ImportCsv, IsoTimestampsSemicolonsAndQuotes) {
  auto imported =
      csv("\"Timestamp\";\"RSS (MiB)\"\n"
          "\"2024-05-01T12:00:00Z\";\"10\"\n"
          "\"2024-05-01 12:00:01.500+00:00\";\"11\"\n"
          "\"2024-05-01T14:00:03+02:00\";\"12\"\n");
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 3u);
  EXPECT_DOUBLE_EQ(points[1].t_ms, 1500.0);
  EXPECT_DOUBLE_EQ(points[2].t_ms, 3000.0) << "the +02:00 offset is honoured";
  EXPECT_DOUBLE_EQ(points[2].current_bytes, 12 * kMiB);
}

TEST(ImportCsv, EpochTimestampsInMillisecondsAreDetectedBySize) {
  auto imported = csv("ts,rss_bytes\n1714560000000,1\n1714560002500,2\n");
  EXPECT_DOUBLE_EQ(imported.series[0].series.points[1].t_ms, 2500.0);
}

TEST(ImportCsv, MalformedRowsAreSkippedAndCounted) {
  auto imported = csv("time,rss_bytes,requests\n0,100,0\nx,100,1\n2,-5,2\n3\n4,400,4\n5,,5\n");
  EXPECT_EQ(imported.series[0].series.points.size(), 2u);
  EXPECT_EQ(imported.skipped_lines, 4u);
  EXPECT_EQ(imported.lines, 7u);
  EXPECT_EQ(imported.series[0].series.points[1].req, 4);
}

TEST(ImportCsv, ColumnFlagsPickColumnsTheHeaderDoesNotName) {
  ImportOptions options;
  options.time_column = "when";
  options.memory_column = "Private Bytes";
  auto imported = csv("when,Private Bytes,cpu\n0,10,1\n1,20,1\n", options);
  EXPECT_DOUBLE_EQ(imported.series[0].series.points[1].current_bytes, 20.0);
  options.memory_column = "nope";
  try {
    csv("when,x\n0,1\n", options);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--memory-column 'nope'"), std::string::npos) << e.what();
  }
}

TEST(ImportCsv, AHeaderWithoutTimeOrMemoryIsAnInputError) {
  EXPECT_THROW(csv("rss\n1\n"), InputError);
  EXPECT_THROW(csv("time,cpu\n1,2\n"), InputError);
  EXPECT_THROW(csv("time,rss\nfoo,bar\n"), InputError) << "no usable rows";
}

TEST(ImportCsv, RowsOutOfOrderAreSorted) {
  auto imported = csv("time,rss\n5,50\n1,10\n3,30\n");
  const auto& points = imported.series[0].series.points;
  EXPECT_DOUBLE_EQ(points[0].current_bytes, 10.0);
  EXPECT_DOUBLE_EQ(points[0].t_ms, 0.0);
  EXPECT_DOUBLE_EQ(points[2].t_ms, 4000.0);
}
