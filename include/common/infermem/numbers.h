#pragma once
// Figures in JSON and over samples, written once: an absent figure (NaN) is null in JSON and
// null reads back as absent; medians and percentiles skip absent figures.
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

namespace infermem {

nlohmann::json json_number(double v);  // NaN -> null
// The number at `key`, kAbsent when missing or null; InputError when it is not a number.
double json_number_at(const nlohmann::json& j, std::string_view key);

double median(std::vector<double> values);                        // kAbsent when none present
double percentile_nearest_rank(std::vector<double> v, double p);  // p in [0, 100]

}  // namespace infermem
