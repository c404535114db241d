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

// A byte figure that is negative, not a number, infinite or beyond 2^63 bytes, and a row whose
// columns cannot be told apart, is skipped and counted, never kept; the good rows are kept.
namespace {

void expect_only_the_good_kept(const std::string& header, const std::string& bad_rows,
                               std::uint64_t skipped, const std::string& reason) {
  auto imported = csv(header + "\n0,1000\n" + bad_rows + "9,3000\n");
  EXPECT_EQ(imported.skipped_lines, skipped) << bad_rows;
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u) << bad_rows;
  EXPECT_DOUBLE_EQ(points[0].t_ms, 0);
  EXPECT_GT(points[1].t_ms, 0);
  EXPECT_LT(points[0].current_bytes, points[1].current_bytes);
  for (const auto& p : points) EXPECT_FALSE(present(p.hwm_bytes));
  bool said = false;
  for (const auto& n : imported.notes) said = said || n.find(reason) != std::string::npos;
  EXPECT_TRUE(said) << "the notes say '" << reason << "' for\n" << bad_rows;
}

}  // namespace

TEST(ImportCsv, ANegativeByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept("time,rss_bytes", "1,-1000\n2,-0.5\n", 2,
                            "line 3: rss_bytes is negative (-1000 bytes)");
}

TEST(ImportCsv, ANotANumberByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept("time,rss_bytes", "1,nan\n2,NaN\n3,-nan\n", 3,
                            "line 3: 'rss_bytes' is not a number ('nan')");
}

TEST(ImportCsv, AnInfiniteByteFigureIsSkippedAndCounted) {
  expect_only_the_good_kept("time,rss_bytes", "1,inf\n2,-Infinity\n3,1e400\n", 3,
                            "line 3: 'rss_bytes' is not a number ('inf')");
}

TEST(ImportCsv, AnOverflowingByteFigureIsSkippedAndCounted) {
  // Beyond 2^63 as written, or once scaled by the column's unit; and a time that would be.
  expect_only_the_good_kept("time,rss_bytes", "1,18446744073709551616\n2,1e300\n", 2,
                            "line 3: rss_bytes is beyond 2^63 bytes");
  expect_only_the_good_kept("time,rss_mib", "1,1e13\n", 1, "line 3: rss_mib is beyond 2^63 bytes");
  expect_only_the_good_kept("time_min,rss", "1e306,5\n", 1, "line 3: 'time_min' is not a time");
}

TEST(ImportCsv, ARowWithMangledColumnsIsSkippedAndCounted) {
  // An unquoted thousands separator shifts the columns; a header repeated mid-file (two files
  // concatenated) has names where the figures are. A delimiter ending a row is harmless.
  expect_only_the_good_kept("time,rss_bytes", "1,1,000\ntime,rss_bytes\n", 2,
                            "line 3: 3 fields where the header names 2");
  auto imported = csv("time,rss_bytes\n0,1000,\n1,2000,,\n");
  EXPECT_EQ(imported.skipped_lines, 0u);
  EXPECT_EQ(imported.series[0].series.points.size(), 2u);
}
