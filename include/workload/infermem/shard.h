#pragma once
// soak --shard K/N: the K-th of N slices of a soak's plan (every arm x every repeat), so that N
// machines or pods run one plan between them and `infermem merge` joins their run directories.
// K is 1-based (1..N). Cells are numbered in the order an unsharded soak runs them, round by
// round (cell = round * arms + arm), and dealt round-robin: shard K runs the cells c with
// c mod N == K - 1. Every cell keeps the seed it has unsharded (all cells share the run's seed).
#include <cstddef>
#include <string>
#include <string_view>

namespace infermem {

struct ShardSpec {
  int k = 0;  // 1..n; 0 = not sharded (the whole plan)
  int n = 0;
  bool sharded() const { return k > 0; }
  std::string text() const;  // "K/N"
  // Whether this shard runs cell `cell` (0-based, in the unsharded order). The whole plan when
  // not sharded.
  bool runs(std::size_t cell) const;
};

// The largest N accepted: more shards than a soak can have cells (arms x --repeat) make no sense.
inline constexpr int kMaxShards = 10000;

// "K/N" with 1 <= K <= N <= kMaxShards, whole numbers. InputError naming `flag`, the text and
// what is wrong (e.g. "--shard: '0/4': K is 1-based, give 1..4").
ShardSpec parse_shard(std::string_view text, std::string_view flag = "--shard");

}  // namespace infermem
