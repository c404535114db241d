#pragma once
// `infermem diff`: how much a memory figure moves between identical runs (docs/diff.md).
#include <string>
#include <vector>

#include "infermem/summary.h"

namespace infermem {

// The one-sided confidence at which diff flags a figure, and the power its minimum detectable
// difference is stated at.
inline constexpr double kDiffConfidence = 0.99;
inline constexpr double kDiffPower = 0.95;

// Free heap the allocator holds resident at the end of the phase a figure is read at: malloc's
// free bytes (glibc's fordblks; jemalloc's resident - allocated), bounded by RssAnon - in use
// after a malloc_trim (diff_noise.cpp). Identical runs keep or give back such memory at random
// (one model buffer freed to the OS at unload or not, prepacking's scratch), so diff compares the
// figure net of it. kAbsent when the phases do not carry the free bytes (tcmalloc, mimalloc).
double held_free_bytes(const ArmSummary& arm, MemoryFigure figure);

// One side of a comparison: the figure of each run (each repeat, or the run itself), net of the
// held free heap where known.
struct NoiseSample {
  // Each run's figure - its baseline, both net of the held free heap where known (else not).
  std::vector<double> net;
  bool held_known = true;  // every run's held free heap was known
  double sigma_run = 0;    // the calibrated run-to-run standard deviation of one run's figure
  double allowance = 0;    // runs without malloc's counters: what one gave back at unload
};
NoiseSample noise_sample(const ArmSummary& arm, MemoryFigure figure);

struct NoiseBound {
  double net_change = 0;  // median net of NEW - median net of BASE
  double noise = 0;       // flagged when net_change > noise (kDiffConfidence, one-sided)
  double mdd = 0;         // the smallest growth flagged with probability kDiffPower
  std::string method;     // "known-sigma" or "student-t (df N)"
  int runs_base = 0, runs_new = 0;
};
NoiseBound noise_bound(const NoiseSample& base, const NoiseSample& next);

}  // namespace infermem
