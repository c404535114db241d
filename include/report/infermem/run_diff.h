#pragma once
// Comparing two soak runs arm by arm: which memory figures regressed beyond a tolerance.
// A figure regresses when NEW exceeds BASE by more than the tolerance fraction AND by more than
// an absolute floor (small figures move by a few pages between identical runs).
#include <string>
#include <vector>

#include "infermem/summary.h"

namespace infermem {

struct DiffOptions {
  double max_regression_fraction = 0.10;   // --max-regression 10%
  double floor_bytes = 4.0 * 1024 * 1024;  // changes below this are noise, never regressions
};

struct FigureDiff {
  std::string arm;
  std::string
      figure;  // "peak_bytes", "retained_bytes", "loaded_bytes", "after_unload_bytes", "p50_ms"
  double base = kAbsent;
  double next = kAbsent;
  bool memory = true;  // latency is shown, never gated
  bool regressed = false;
};

struct RunDiff {
  std::vector<FigureDiff> figures;
  std::vector<std::string> only_in_base, only_in_new;
  bool regressed() const;
};

RunDiff diff_runs(const RunSummary& base, const RunSummary& next, const DiffOptions& options);

}  // namespace infermem
