#include "infermem/run_diff.h"

#include <algorithm>
#include <cmath>

namespace infermem {

bool RunDiff::regressed() const {
  return std::any_of(figures.begin(), figures.end(),
                     [](const FigureDiff& f) { return f.regressed; });
}

RunDiff diff_runs(const RunSummary& base, const RunSummary& next, const DiffOptions& options) {
  RunDiff d;
  auto find = [](const RunSummary& s, const std::string& name) -> const ArmSummary* {
    for (const auto& a : s.arms)
      if (a.name == name) return &a;
    return nullptr;
  };
  for (const auto& a : base.arms)
    if (!find(next, a.name)) d.only_in_base.push_back(a.name);
  for (const auto& b : next.arms) {
    const ArmSummary* a = find(base, b.name);
    if (!a) {
      d.only_in_new.push_back(b.name);
      continue;
    }
    auto add = [&](const char* figure, double x, double y, bool memory) {
      FigureDiff f{b.name, figure, x, y, memory, false};
      if (memory && present(x) && present(y)) {
        double grew = y - x;
        f.regressed = grew > options.floor_bytes &&
                      grew > options.max_regression_fraction * std::max(std::fabs(x), 1.0);
      }
      d.figures.push_back(f);
    };
    add("loaded_bytes", a->memory.loaded_bytes, b.memory.loaded_bytes, true);
    add("peak_bytes", a->memory.peak_bytes, b.memory.peak_bytes, true);
    add("after_unload_bytes", a->memory.after_unload_bytes, b.memory.after_unload_bytes, true);
    add("retained_bytes", a->memory.retained_bytes, b.memory.retained_bytes, true);
    add("p50_ms", a->latency_ms.p50, b.latency_ms.p50, false);
  }
  return d;
}

}  // namespace infermem
