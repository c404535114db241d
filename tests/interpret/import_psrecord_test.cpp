// psrecord importer: Real (MB) is RSS in MiB, elapsed time in seconds.
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/importers.h"

using namespace infermem;

TEST(ImportPsrecord, ReadsTheLogAndSkipsGarbage) {
  ImportOptions options;
  options.format = "psrecord";
  auto imported =
      import_file(std::string(INFERMEM_TESTDATA_DIR) + "/analyze/psrecord.log", options);
  EXPECT_EQ(imported.format, "psrecord");
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& s = imported.series[0].series;
  EXPECT_EQ(s.name, "psrecord.log");
  ASSERT_EQ(s.points.size(), 60u);
  EXPECT_EQ(imported.skipped_lines, 1u);
  EXPECT_DOUBLE_EQ(s.points[3].t_ms, 1500.0);
  // 150 MiB +- a few MiB of noise written into the sample.
  EXPECT_NEAR(s.points[0].current_bytes, 150.0 * 1024 * 1024, 4.0 * 1024 * 1024);
}

TEST(ImportPsrecord, HeaderColumnsArePositionsNotAssumptions) {
  ImportOptions options;
  options.format = "psrecord";
  auto imported =
      import_text("# Elapsed time   Real (MB)      CPU (%)\n0.0 10.0 50\n1.0 11.0 50\n", options);
  EXPECT_DOUBLE_EQ(imported.series[0].series.points[1].current_bytes, 11.0 * 1024 * 1024);
}

TEST(ImportPsrecord, NoRowsIsAnInputError) {
  ImportOptions options;
  options.format = "psrecord";
  EXPECT_THROW(import_text("# Elapsed time   CPU (%)     Real (MB)      Virtual (MB)\n", options),
               InputError);
}

// A Real (MB) that is negative, not a number, infinite or beyond 2^63 bytes, and a row whose
// columns do not match the header, is skipped and counted, never kept; the good rows are kept.
namespace {

void expect_only_the_good_kept(const std::string& bad_rows, std::uint64_t skipped,
                               const std::string& reason) {
  ImportOptions options;
  options.format = "psrecord";
  auto imported =
      import_text("# Elapsed time   CPU (%)     Real (MB)      Virtual (MB)\n0.0 1.0 10.0 20.0\n" +
                      bad_rows + "9.0 1.0 30.0 40.0\n",
                  options);
  EXPECT_EQ(imported.skipped_lines, skipped) << bad_rows;
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u) << bad_rows;
  EXPECT_DOUBLE_EQ(points[0].current_bytes, 10.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(points[1].current_bytes, 30.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(points[1].t_ms, 9000.0);
  bool said = false;
  for (const auto& n : imported.notes) said = said || n.find(reason) != std::string::npos;
  EXPECT_TRUE(said) << "the notes say '" << reason << "' for\n" << bad_rows;
}

}  // namespace

TEST(ImportPsrecord, ANegativeRealIsSkippedAndCounted) {
  expect_only_the_good_kept("1.0 1.0 -1000 20.0\n2.0 1.0 -0.001 20.0\n", 2,
                            "line 3: Real (MB) is negative");
}

TEST(ImportPsrecord, ANotANumberRealIsSkippedAndCounted) {
  expect_only_the_good_kept("1.0 1.0 nan 20.0\n2.0 1.0 NaN 20.0\n", 2,
                            "line 3: Real (MB) is not a number ('nan')");
}

TEST(ImportPsrecord, AnInfiniteRealIsSkippedAndCounted) {
  expect_only_the_good_kept("1.0 1.0 inf 20.0\n2.0 1.0 1e400 20.0\n", 2,
                            "line 3: Real (MB) is not a number ('inf')");
}

TEST(ImportPsrecord, AnOverflowingRealIsSkippedAndCounted) {
  // 1e13 MiB is beyond 2^63 bytes once scaled; an elapsed time of 1e306 s is no time.
  expect_only_the_good_kept("1.0 1.0 1e13 20.0\n1e306 1.0 10.0 20.0\n", 2,
                            "line 3: Real (MB) is beyond 2^63 bytes");
}

TEST(ImportPsrecord, ARowWithMangledColumnsIsSkippedAndCounted) {
  // A column lost, or one split in two: which one is Real (MB) cannot be told.
  expect_only_the_good_kept("1.0 1.0 20.0\n2.0 1.0 1 000.0 20.0\n", 2,
                            "line 3: 3 columns where the header names 4");
}
