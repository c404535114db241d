#include "infermem/numbers.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "infermem/error.h"
#include "infermem/series.h"

namespace infermem {
namespace {

std::vector<double> present_only(std::vector<double> v) {
  v.erase(std::remove_if(v.begin(), v.end(), [](double x) { return !present(x); }), v.end());
  return v;
}

}  // namespace

nlohmann::json json_number(double v) {
  return present(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

double json_number_at(const nlohmann::json& j, std::string_view key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return kAbsent;
  if (!it->is_number()) throw InputError(fmt::format("'{}' is not a number", key));
  return it->get<double>();
}

double median(std::vector<double> values) {
  std::vector<double> v = present_only(std::move(values));
  if (v.empty()) return kAbsent;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

double percentile_nearest_rank(std::vector<double> values, double p) {
  std::vector<double> v = present_only(std::move(values));
  if (v.empty()) return kAbsent;
  std::sort(v.begin(), v.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

}  // namespace infermem
