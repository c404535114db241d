#pragma once
// The fragmentation rule on the allocator's free bytes (held but free), judged on their own:
// fragmentation is free memory that grows over the run, or that stays far above what is in use
// after the load is over. A flat gap (glibc's normal free lists) is not. docs/verdicts.md states
// the rule and its calibration (bench/fragmentation_bench.cpp). Private to src/verdict.
#include <optional>
#include <span>
#include <string>

#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem::fragmentation {

inline constexpr double kMiB = 1024.0 * 1024;
// Free bytes must be known for this share of the judged points.
inline constexpr double kMinCoverage = 0.8;
// Growth: the free bytes' rise over the judged window must pass the larger of this and the
// materiality threshold the caller gives (10% of the running level).
inline constexpr double kGrowthFloorBytes = 8 * kMiB;
// After the load: what stays free (bounded by RssAnon - in use, as a trim may have returned the
// pages without mallinfo2 counting fewer free bytes) must exceed both of these.
inline constexpr double kAfterLoadFloorBytes = 32 * kMiB;
inline constexpr double kAfterLoadInUseMultiple = 2.0;

struct Window {
  std::span<const double> x;     // the judged axis, after the warm-up cut
  std::span<const double> free;  // allocator free bytes per point (NaN where absent)
  std::string unit;              // of x: "request", "minute", "sample"
  double material = 0;           // the caller's materiality threshold
};

// The finding, or nullopt when the free bytes are not known well enough to judge (then the
// older in-use / trim rules decide, as before).
std::optional<finding::FreeHeld> analyse(const Window& w, const SeriesContext& context);

// Whether it is fragmentation a user can act on.
inline bool fragmenting(const finding::FreeHeld& h) {
  return h.outcome != finding::FreeHeld::Outcome::flat;
}

// The evidence sentence.
std::string render(const finding::FreeHeld& h);

}  // namespace infermem::fragmentation
