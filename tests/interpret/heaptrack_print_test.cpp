// heaptrack_print's report read into allocation sites, on a recorded report
// (tests/data/heaptrack/leak-print.txt: heaptrack 1.4 over a C program that leaks 64 KiB per
// call from leak_here(); paths shortened) and on hand-made edge cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infermem/heaptrack.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;

TEST(HeaptrackPrint, RecordedReportPutsTheLeakingSiteFirst) {
  const std::string text =
      test::read_file(std::string(INFERMEM_TESTDATA_DIR) + "/heaptrack/leak-print.txt");
  ASSERT_FALSE(text.empty());
  auto sites = parse_heaptrack_print(text);
  ASSERT_GE(sites.size(), 2u);
  EXPECT_DOUBLE_EQ(sites[0].leaked_bytes, 6.55e6);  // "6.55M": heaptrack's units are decimal
  EXPECT_DOUBLE_EQ(sites[0].peak_bytes, 6.55e6);
  EXPECT_EQ(sites[0].calls, 100u);
  ASSERT_EQ(sites[0].frames.size(), 2u);
  EXPECT_EQ(sites[0].frames[0], "leak_here (/src/leak.c:4) [/src/leak]");
  EXPECT_THAT(sites[0].frames[1], HasSubstr("main"));
  // The others leaked nothing: only their peak is known.
  for (std::size_t i = 1; i < sites.size(); ++i) {
    EXPECT_TRUE(std::isnan(sites[i].leaked_bytes));
    EXPECT_GT(sites[i].peak_bytes, 0);
  }
}

TEST(HeaptrackPrint, SitesAreOrderedByLeakThenPeakAndLimited) {
  const std::string text =
      "PEAK MEMORY CONSUMERS\n"
      "2.00K peak memory consumed over 2 calls from\n  a\n\n"
      "9.00M peak memory consumed over 1 calls from\n  b\n    at b.cpp:1\n\n"
      "1000B peak memory consumed over 3 calls from\n  c\n\n"
      "MEMORY LEAKS\n"
      "1.50K leaked over 2 calls from\n  a\n\n"
      "total runtime: 1s.\n";
  auto sites = parse_heaptrack_print(text, 2);
  ASSERT_EQ(sites.size(), 2u);
  EXPECT_EQ(sites[0].frames, std::vector<std::string>{"a"});
  EXPECT_DOUBLE_EQ(sites[0].leaked_bytes, 1500);
  EXPECT_DOUBLE_EQ(sites[0].peak_bytes, 2000);
  EXPECT_EQ(sites[1].frames, std::vector<std::string>{"b (b.cpp:1)"});
  EXPECT_DOUBLE_EQ(sites[1].peak_bytes, 9e6);
}

TEST(HeaptrackPrint, TextThatIsNoReportGivesNoSites) {
  EXPECT_TRUE(parse_heaptrack_print("").empty());
  EXPECT_TRUE(parse_heaptrack_print("heaptrack_print: cannot open file\n").empty());
  EXPECT_TRUE(
      parse_heaptrack_print("MEMORY LEAKS\nlots leaked over many calls from\n  x\n").empty());
  EXPECT_TRUE(parse_heaptrack_print("MEMORY LEAKS\n-1K leaked over 2 calls from\n  x\n").empty());
}

TEST(HeaptrackPrint, AttributionRoundTripsThroughJson) {
  Attribution a;
  a.arm = "ort-default";
  a.outcome = "done";
  a.message = "m";
  a.command = "heaptrack -o x";
  a.data_file = "attribution/heaptrack.zst";
  a.sites = {{1e6, kAbsent, 3, {"f (x.cpp:1)", "g"}}};
  auto back = Attribution::from_json(a.to_json());
  EXPECT_EQ(back.to_json(), a.to_json());
  EXPECT_TRUE(std::isnan(back.sites[0].leaked_bytes));
}
