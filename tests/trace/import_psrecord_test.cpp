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
