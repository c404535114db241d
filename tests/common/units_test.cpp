#include "infermem/units.h"

#include <gtest/gtest.h>

#include "infermem/error.h"

using namespace infermem;

TEST(Units, ParsesSizesInEveryAcceptedSpelling) {
  EXPECT_EQ(parse_size("4096"), 4096u);
  EXPECT_EQ(parse_size("64KiB"), 64u * 1024);
  EXPECT_EQ(parse_size("64K"), 64u * 1024);
  EXPECT_EQ(parse_size("128M"), 128u << 20);
  EXPECT_EQ(parse_size("128MiB"), 128u << 20);
  EXPECT_EQ(parse_size("1.5GiB"), 3u << 29);
  EXPECT_EQ(parse_size("2 g"), 2ull << 30);
}

TEST(Units, RejectsBadSizesNamingTheFlag) {
  try {
    parse_size("12XB", "--weights");
    FAIL() << "accepted a bad unit";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--weights"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("XB"), std::string::npos);
  }
  EXPECT_THROW(parse_size(""), InputError);
  EXPECT_THROW(parse_size("MiB"), InputError);
  EXPECT_THROW(parse_size("1.2.3M"), InputError);
  EXPECT_THROW(parse_size("-5M"), InputError);
}

TEST(Units, ParsesDurations) {
  EXPECT_DOUBLE_EQ(parse_duration_ms("250ms"), 250.0);
  EXPECT_DOUBLE_EQ(parse_duration_ms("2s"), 2000.0);
  EXPECT_DOUBLE_EQ(parse_duration_ms("3"), 3000.0);
  EXPECT_DOUBLE_EQ(parse_duration_ms("1.5m"), 90000.0);
  EXPECT_DOUBLE_EQ(parse_duration_ms("1h"), 3600000.0);
  EXPECT_THROW(parse_duration_ms("5 parsecs"), InputError);
}

TEST(Units, FormatsBytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(-3.0 * 1024 * 1024), "-3.0 MiB");
  EXPECT_EQ(format_mib(80.0 * 1024 * 1024), "80.0");
}

TEST(Units, CountsAreWholeNumbersInTheirRange) {
  EXPECT_EQ(parse_count("200", "--requests", 1, 1000), 200u);
  EXPECT_EQ(parse_count("18446744073709551615", "--seed", 0, UINT64_MAX), UINT64_MAX);
  for (const char* bad :
       {"", "0", "1001", "-1", "+5", "1e3", "2.5", "12abc", " 7", "99999999999999999999999999"}) {
    try {
      parse_count(bad, "--requests", 1, 1000);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("--requests: '", 0), 0u) << e.what();
      EXPECT_NE(std::string(e.what()).find("is not a whole number in 1..1000"), std::string::npos)
          << e.what();
    }
  }
}

TEST(Units, AHugeCountIsShownByItsStartNotInFull) {
  std::string huge(300, '9');
  try {
    parse_count(huge, "--requests", 1, 1000);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_LT(std::string(e.what()).size(), 150u) << e.what();
    EXPECT_NE(std::string(e.what()).find("300 characters"), std::string::npos) << e.what();
  }
}

TEST(Units, SizesBeyondWhatAnyCallerHoldsAreRefused) {
  EXPECT_THROW(parse_size(std::string(300, '9')), InputError);
  EXPECT_THROW(parse_size("9000000TiB"), InputError);
  EXPECT_EQ(parse_size("4096TiB"), 4096ull << 40);
}
