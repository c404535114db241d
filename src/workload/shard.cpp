#include "infermem/shard.h"

#include <fmt/format.h>
#include <charconv>

#include "infermem/error.h"

namespace infermem {
namespace {

bool whole(std::string_view text, int& value) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  return !text.empty() && ec == std::errc() && ptr == end;
}

}  // namespace

std::string ShardSpec::text() const {
  return fmt::format("{}/{}", k, n);
}

bool ShardSpec::runs(std::size_t cell) const {
  if (!sharded()) return true;
  return cell % static_cast<std::size_t>(n) == static_cast<std::size_t>(k - 1);
}

ShardSpec parse_shard(std::string_view text, std::string_view flag) {
  const auto slash = text.find('/');
  ShardSpec s;
  if (slash == std::string_view::npos || !whole(text.substr(0, slash), s.k) ||
      !whole(text.substr(slash + 1), s.n))
    throw InputError(fmt::format(
        "{}: '{}' is not a shard: give K/N, two whole numbers, the K-th of N shards (e.g. 1/4)",
        flag, text));
  if (s.n < 1 || s.n > kMaxShards)
    throw InputError(
        fmt::format("{}: '{}': N must be a whole number in 1..{}", flag, text, kMaxShards));
  if (s.k < 1 || s.k > s.n)
    throw InputError(
        fmt::format("{}: '{}': K is 1-based and at most N, give 1..{}", flag, text, s.n));
  return s;
}

}  // namespace infermem
