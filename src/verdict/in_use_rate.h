#pragma once
// The leak rate from the allocator's in-use bytes (docs/verdicts.md, "The rate of a leak"). RSS
// moves in page-sized steps and ONNX Runtime's arena grows it in a staircase that flattens, so a
// slope of RSS over 1,000 requests can be off by half the rate; the in-use counter moves by the
// bytes each request keeps. RSS stays the leak detector; this refines the rate. Private to
// src/verdict.
#include <cstddef>
#include <span>

namespace infermem::in_use {

struct RateFit {
  bool valid = false;
  double slope = 0;            // bytes per unit of x
  double ci_low = 0;           // 95% interval (autocorrelation-aware)
  double ci_high = 0;          //
  std::size_t points = 0;      // points given
  std::size_t warmup = 0;      // leading points dropped (detected warm-up)
  std::size_t increments = 0;  // increments after warm-up kept as they are
  std::size_t steps = 0;       // increments taken out as one-time steps (an arena extension, ...)
  double lag1 = 0;             // lag-1 autocorrelation of the residuals (0 when not positive)
};

// Fewer points than this: no estimate.
inline constexpr std::size_t kMinPoints = 20;

// The detected warm-up: the number of leading points whose increments are not yet those of the
// steady state (MSER-5 on the per-unit increments, which are large and frequent while the arena
// and the runtime's caches fill), at most half the points.
std::size_t warmup_cut(std::span<const double> x, std::span<const double> y);

// The rate of y on x (x increasing). After the warm-up, an increment that deviates from the
// median increment by more than max(6 robust sigmas, 32 KiB) is a one-time step (an arena
// extension); each step starts a segment with its own level, and the rate is the least-squares
// slope common to the segments (OLS with one level per segment), unbiased for a linear trend
// under stationary noise whatever the steps' heights. Its 95% interval is OLS's, its variance
// inflated by (1 + r1) / (1 - r1) for a positive lag-1 autocorrelation r1 of the residuals
// (capped at 0.98), with Student's t.
RateFit estimate_rate(std::span<const double> x, std::span<const double> y);

}  // namespace infermem::in_use
