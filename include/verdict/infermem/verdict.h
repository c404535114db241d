#pragma once
// The verdict engine: one verdict with evidence, likely causes and remediations for a series.
// Kinds (PRODUCT.md): stable, plateau, leak, fragmentation, unload-retention, hwm-artifact.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "infermem/series.h"

namespace infermem {

struct Verdict {
  std::string kind = "stable";
  double growth_bytes_per_request = kAbsent;  // robust slope after warm-up
  double growth_ci_low_bytes_per_request = kAbsent;
  double growth_ci_high_bytes_per_request = kAbsent;
  double growth_bytes_per_minute = kAbsent;
  double growth_ci_low_bytes_per_minute = kAbsent;
  double growth_ci_high_bytes_per_minute = kAbsent;
  double min_detectable_bytes_per_request = kAbsent;  // from the noise this run measured
  double min_detectable_bytes_per_minute = kAbsent;   // the same, on the time axis
  double plateau_level_bytes = kAbsent;               // for plateau
  std::vector<std::string> evidence;                  // numbers, each naming its source
  std::vector<std::string> causes;                    // from the pattern catalogue
  std::vector<std::string> remediations;              // from the pattern catalogue

  // PRODUCT.md's JSON: kind, growth_bytes_per_request, growth_ci_bytes_per_request [lo, hi],
  // growth_bytes_per_minute, min_detectable_bytes_per_request, evidence, causes, remediations;
  // plus growth_ci_bytes_per_minute, min_detectable_bytes_per_minute, plateau_level_bytes.
  // Absent figures (NaN) are null. from_json accepts what to_json writes (missing keys: absent).
  nlohmann::json to_json() const;
  static Verdict from_json(const nlohmann::json& j);
};

// Rules (warm-up, Theil-Sen, Mann-Kendall, plateau/leak/step, fragmentation, churn, HWM): see
// docs/verdicts.md. Fast on 100k points (the slope fit bins above 1500 points).
Verdict judge(const Series& series, const SeriesContext& context = {});

}  // namespace infermem
