// The closed sets of soak's options, named once: scenarios and cache policies.
#include <fmt/format.h>
#include <array>
#include <utility>

#include "infermem/error.h"
#include "infermem/soak.h"
#include "infermem/units.h"

namespace infermem {
namespace {

constexpr std::array<std::pair<Scenario, std::string_view>, 4> kScenarios{{
    {Scenario::steady, "steady"},
    {Scenario::mixed, "mixed"},
    {Scenario::churn, "churn"},
    {Scenario::cache, "cache"},
}};

}  // namespace

std::string_view name(Scenario scenario) {
  for (const auto& [s, n] : kScenarios)
    if (s == scenario) return n;
  return "unknown";
}

Scenario parse_scenario(std::string_view text, std::string_view flag) {
  for (const auto& [s, n] : kScenarios)
    if (n == text) return s;
  throw InputError(fmt::format("{} {}: expected one of steady, mixed, churn, cache", flag, text));
}

std::string name(const CachePolicy& policy) {
  if (policy.kind == CachePolicy::Kind::budget)
    return fmt::format("budget:{}", format_bytes(static_cast<double>(policy.budget_bytes)));
  return fmt::format("lru:{}", policy.count);
}

CachePolicy parse_cache_policy(std::string_view text, std::string_view flag) {
  const auto colon = text.find(':');
  const std::string_view kind = text.substr(0, colon);
  const std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  CachePolicy policy;
  if (kind == "lru") {
    constexpr std::uint64_t kMaxCount = 1'000'000;
    policy.count = parse_count(value, fmt::format("{} lru:COUNT", flag), 1, kMaxCount);
    return policy;
  }
  if (kind == "budget") {
    if (value.empty())
      throw InputError(fmt::format("{} {}: expected budget:SIZE (e.g. budget:300MiB)", flag, text));
    policy.kind = CachePolicy::Kind::budget;
    policy.budget_bytes = parse_size(std::string(value), std::string(flag));
    return policy;
  }
  throw InputError(fmt::format("{} {}: expected lru:COUNT or budget:SIZE", flag, text));
}

}  // namespace infermem
