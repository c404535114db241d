// soak --shard K/N: the spec's parser and the round-robin deal of the plan's cells.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/shard.h"

using namespace infermem;
using ::testing::HasSubstr;

TEST(Shard, ParsesK1BasedOfN) {
  const ShardSpec s = parse_shard("3/4");
  EXPECT_TRUE(s.sharded());
  EXPECT_EQ(s.k, 3);
  EXPECT_EQ(s.n, 4);
  EXPECT_EQ(s.text(), "3/4");
  EXPECT_TRUE(parse_shard("1/1").runs(5));
}

TEST(Shard, BadSpecsAreInputErrorsNamingTheFlagAndText) {
  for (const char* bad : {"0/4", "5/4", "a/b", "1/0", "1/", "/4", "4", "1/4/2", "-1/4", "+1/4",
                          " 1/4", "1/10001", "99999999999/4"}) {
    try {
      parse_shard(bad);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("--shard")) << bad;
      EXPECT_THAT(e.what(), HasSubstr(bad)) << bad;
    }
  }
}

TEST(Shard, EveryCellIsRunByExactlyOneShardRoundRobin) {
  for (int n = 1; n <= 7; ++n)
    for (std::size_t cell = 0; cell < 30; ++cell) {
      int runners = 0;
      for (int k = 1; k <= n; ++k)
        runners += parse_shard(std::to_string(k) + "/" + std::to_string(n)).runs(cell);
      EXPECT_EQ(runners, 1) << "cell " << cell << " of N=" << n;
    }
  // Cells are dealt in the unsharded order: shard 2/4 runs cells 1, 5, 9, ...
  const ShardSpec s = parse_shard("2/4");
  EXPECT_FALSE(s.runs(0));
  EXPECT_TRUE(s.runs(1));
  EXPECT_TRUE(s.runs(5));
  EXPECT_FALSE(ShardSpec{}.sharded());
  EXPECT_TRUE(ShardSpec{}.runs(3)) << "not sharded: the whole plan";
}
