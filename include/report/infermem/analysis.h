#pragma once
// The model `infermem analyze` renders, and its renderings: a table with per-series details
// (text), JSON, and a page with charts (HTML). Pure functions: the same Analysis gives the same
// bytes.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/charts.h"
#include "infermem/gate.h"
#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem::report {

// Said whenever a series carries only a high-water mark, as Lambda's REPORT lines do.
extern const std::string_view kHwmStatement;

struct AnalyzedSeries {
  std::string name;
  std::string current_source;
  std::string hwm_source;
  std::uint64_t points = 0;      // points read (every one, also when fewer were kept)
  double peak_bytes = kAbsent;   // the highest current or high-water figure
  double limit_bytes = kAbsent;  // a memory limit recorded with the series (Lambda Memory Size)
  bool hwm_only = false;         // only a high-water mark was recorded: kHwmStatement applies
  std::vector<std::string> notes;
  Verdict verdict;
  std::vector<CheckResult> checks;  // with --fail-on
  ArmCharts charts;                 // what analyze --html draws (from the points kept)
};

struct Analysis {
  std::string file;    // as the user named it
  std::string format;  // trace | csv | psrecord | lambda
  std::uint64_t lines = 0;
  std::uint64_t skipped_lines = 0;
  std::vector<std::string> notes;
  std::vector<AnalyzedSeries> series;
  bool gated = false;  // thresholds were given: JSON carries each series' checks

  bool any_hwm_only() const;
  bool any_check_failed() const;
};

std::string analysis_text(const Analysis& analysis);
std::string analysis_html(const Analysis& analysis);
nlohmann::json analysis_json(const Analysis& analysis);

}  // namespace infermem::report
