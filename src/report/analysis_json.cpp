// analyze's JSON (docs/analyze.md).
#include "infermem/analysis.h"

namespace infermem::report {

nlohmann::json analysis_json(const Analysis& a) {
  nlohmann::json out = {{"file", a.file},   {"format", a.format},
                        {"lines", a.lines}, {"skipped_lines", a.skipped_lines},
                        {"notes", a.notes}, {"series", nlohmann::json::array()}};
  for (const auto& s : a.series) {
    nlohmann::json entry = {{"name", s.name},
                            {"points", s.points},
                            {"current_source", s.current_source},
                            {"hwm_source", s.hwm_source},
                            {"notes", s.notes},
                            {"verdict", s.verdict.to_json()}};
    if (present(s.peak_bytes)) entry["peak_bytes"] = s.peak_bytes;
    if (present(s.limit_bytes)) entry["limit_bytes"] = s.limit_bytes;
    if (a.gated) {
      entry["checks"] = nlohmann::json::array();
      for (const auto& c : s.checks)
        entry["checks"].push_back(
            {{"check", c.check}, {"passed", c.passed}, {"message", c.message}});
    }
    out["series"].push_back(std::move(entry));
  }
  if (a.any_hwm_only()) out["hwm_statement"] = kHwmStatement;
  return out;
}

}  // namespace infermem::report
