// Verdict <-> JSON (the kind by its name); NaN is written as null and read back as NaN.
#include <fmt/format.h>

#include "infermem/error.h"
#include "infermem/numbers.h"
#include "infermem/verdict.h"

namespace infermem {
namespace {

nlohmann::json number_or_null(double v) {
  return json_number(v);
}

nlohmann::json interval(double lo, double hi) {
  return nlohmann::json::array({number_or_null(lo), number_or_null(hi)});
}

double read_number(const nlohmann::json& j, const char* key) {
  try {
    return json_number_at(j, key);
  } catch (const InputError& e) {
    throw InputError(fmt::format("verdict: {}", e.what()));
  }
}

void read_interval(const nlohmann::json& j, const char* key, double& lo, double& hi) {
  if (!j.contains(key) || j[key].is_null()) return;
  const auto& a = j[key];
  if (!a.is_array() || a.size() != 2)
    throw InputError(fmt::format("verdict: '{}' is not a [low, high] pair", key));
  auto element = [&](std::size_t i) {
    if (a[i].is_null()) return kAbsent;
    if (!a[i].is_number()) throw InputError(fmt::format("verdict: '{}' holds a non-number", key));
    return a[i].get<double>();
  };
  lo = element(0);
  hi = element(1);
}

std::vector<std::string> read_strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) throw InputError(fmt::format("verdict: '{}' is not a list", key));
  for (const auto& s : j[key]) {
    if (!s.is_string()) throw InputError(fmt::format("verdict: '{}' holds a non-string", key));
    out.push_back(s.get<std::string>());
  }
  return out;
}

constexpr std::string_view kKindNames[] = {
    "stable", "plateau", "leak", "fragmentation", "unload-retention", "hwm-artifact", "too-short"};

}  // namespace

std::string_view name(VerdictKind kind) {
  auto i = static_cast<std::size_t>(kind);
  return i < std::size(kKindNames) ? kKindNames[i] : "unknown";
}

std::optional<VerdictKind> parse_verdict_kind(std::string_view text) {
  for (VerdictKind k : kVerdictKinds)
    if (name(k) == text) return k;
  return std::nullopt;
}

void to_json(nlohmann::json& j, VerdictKind kind) {
  j = std::string(name(kind));
}

void from_json(const nlohmann::json& j, VerdictKind& kind) {
  if (!j.is_string()) throw InputError("verdict: 'kind' is not a string");
  auto parsed = parse_verdict_kind(j.get<std::string>());
  if (!parsed) throw InputError(fmt::format("verdict: unknown kind '{}'", j.get<std::string>()));
  kind = *parsed;
}

nlohmann::json Verdict::to_json() const {
  return {
      {"kind", kind},
      {"growth_bytes_per_request", number_or_null(growth_bytes_per_request)},
      {"growth_ci_bytes_per_request",
       interval(growth_ci_low_bytes_per_request, growth_ci_high_bytes_per_request)},
      {"growth_bytes_per_minute", number_or_null(growth_bytes_per_minute)},
      {"growth_ci_bytes_per_minute",
       interval(growth_ci_low_bytes_per_minute, growth_ci_high_bytes_per_minute)},
      {"min_detectable_bytes_per_request", number_or_null(min_detectable_bytes_per_request)},
      {"min_detectable_bytes_per_minute", number_or_null(min_detectable_bytes_per_minute)},
      {"plateau_level_bytes", number_or_null(plateau_level_bytes)},
      {"evidence", evidence},
      {"causes", causes},
      {"remediations", remediations},
  };
}

Verdict Verdict::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("verdict: not a JSON object");
  Verdict v;
  if (j.contains("kind")) v.kind = j["kind"].get<VerdictKind>();
  v.growth_bytes_per_request = read_number(j, "growth_bytes_per_request");
  read_interval(j, "growth_ci_bytes_per_request", v.growth_ci_low_bytes_per_request,
                v.growth_ci_high_bytes_per_request);
  v.growth_bytes_per_minute = read_number(j, "growth_bytes_per_minute");
  read_interval(j, "growth_ci_bytes_per_minute", v.growth_ci_low_bytes_per_minute,
                v.growth_ci_high_bytes_per_minute);
  v.min_detectable_bytes_per_request = read_number(j, "min_detectable_bytes_per_request");
  v.min_detectable_bytes_per_minute = read_number(j, "min_detectable_bytes_per_minute");
  v.plateau_level_bytes = read_number(j, "plateau_level_bytes");
  v.evidence = read_strings(j, "evidence");
  v.causes = read_strings(j, "causes");
  v.remediations = read_strings(j, "remediations");
  return v;
}

}  // namespace infermem
