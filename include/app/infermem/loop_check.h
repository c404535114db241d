#pragma once
// The memory check behind the GoogleTest assertions (infermem/gtest.hpp) and the pytest plugin:
// run a body in a loop, read this process after every iteration, and let the verdict engine
// judge the whole series (not one before/after difference).
//
// How many iterations: the engine reports the smallest growth per iteration it could have seen
// in the series so far (from the noise it measured and the window's length). The loop starts at
// `min_iterations` and doubles until that figure is at most half of `max_growth_bytes` (so a
// growth at the cap is seen with room), or `max_iterations` is reached.
//
// Fails when:
// - growth: the engine calls the series a leak (or fragmentation) and the upper end of the
//   growth rate's 95% interval reaches `max_growth_bytes`;
// - peak: the process's resident high-water mark during the loop (VmHWM, reset before it where
//   /proc/self/clear_refs is writable) is above `max_peak_bytes`;
// - undecided: the ceiling came before the engine could see `max_growth_bytes` (unless
//   `allow_undecided`): a check that could not see the leak it was asked about is not a pass.
// Standard C++ only (with series.h): the client package (infermem::client) ships this header.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "infermem/series.h"

namespace infermem {

struct Verdict;  // infermem/verdict.h (the full package)

struct LoopLimits {
  double max_growth_bytes = 16 * 1024.0;  // per iteration; the smallest growth to fail on
  double max_peak_bytes = kAbsent;        // the process's peak during the loop; NaN: no cap
  std::size_t min_iterations = 40;
  std::size_t max_iterations = 5000;
  bool allow_undecided = false;
};

struct LoopReport {
  bool passed = true;
  bool growth_failed = false, peak_failed = false, undecided = false;
  std::size_t iterations = 0;
  std::string kind;          // the verdict's kind: "stable", "leak", ... (docs/verdicts.md)
  std::string verdict_json;  // the whole verdict as JSON (docs/verdicts.md, section 5)
  double rate_bytes = kAbsent, rate_ci_low_bytes = kAbsent, rate_ci_high_bytes = kAbsent;
  std::string rate_source;  // "resident set (VmRSS)" or "allocator in-use bytes"
  double min_detectable_bytes = kAbsent;
  double rss_before_bytes = kAbsent;
  double peak_bytes = kAbsent;  // NaN when the mark could not be reset (then not checked)
  // Four lines: verdict, rate with interval, peak, kind.
  std::string message;
};

// Drives a loop whose body the caller runs (the pytest plugin calls Python between steps).
class LoopCheck {
 public:
  explicit LoopCheck(LoopLimits limits);
  ~LoopCheck();
  LoopCheck(LoopCheck&&) noexcept;
  LoopCheck& operator=(LoopCheck&&) noexcept;
  // Resets the high-water mark and reads the level before the first iteration.
  void begin();
  // After each iteration: one point (RSS and the allocator's in-use bytes).
  void record();
  // Judges the points so far: false when the loop may stop (seen enough, or the ceiling).
  bool need_more();
  // How many iterations in all the loop should reach before need_more() is asked again.
  std::size_t target() const { return target_; }
  LoopReport finish();

 private:
  LoopLimits limits_;
  Series series_;
  std::size_t done_ = 0, target_ = 0;
  double started_ms_ = 0;
  bool peak_reset_ = false;
  double rss_before_ = kAbsent;
  std::unique_ptr<Verdict> last_;  // the latest judgement
  bool judged_at_done_ = false;
};

// The whole loop for a C++ body.
LoopReport check_loop(const std::function<void()>& body, const LoopLimits& limits = {});

// "4KiB", "300MiB" -> bytes, as parse_size (InputError naming `what` on bad input).
double parse_limit(const std::string& text, const std::string& what);

}  // namespace infermem
