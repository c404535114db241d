#pragma once
// Comparing two soak runs arm by arm (`infermem diff BASE NEW`), see docs/diff.md.
//
// A NEW run regresses when:
//   - one of its arms did not run to the end (status other than ok), an arm of BASE is missing
//     from it, or it has no arms at all: a failure is never waved through;
//   - an arm's verdict became `leak` (BASE's was not);
//   - a memory figure grew beyond what identical runs also show: net of the free heap the allocator
//   held
//     (which identical runs keep or give back at random), the median over the runs of a side
//     (its --repeat children, or the run) grew by more than the noise at 99% one-sided
//     confidence (src/report/diff_noise.h) and by more than the tolerance,
//     max(floor_bytes, max_regression_fraction * BASE) (0 by default).
// Runs of different models or ONNX Runtime versions are refused (InputError) unless
// allow_different_model; then the differences are listed in `identity_differences`.
#include <map>
#include <string>
#include <vector>

#include "infermem/summary.h"
#include "infermem/watch_summary.h"

namespace infermem {

struct DiffOptions {
  // Practical thresholds on top of the noise: a growth below max(floor, fraction x BASE) is never
  // a regression. Both 0 by default: the noise alone decides.
  double max_regression_fraction = 0.0;  // --max-regression
  double floor_bytes = 0.0;              // --floor
  bool allow_different_model = false;    // --allow-different-model
};

struct FigureDiff {
  std::string arm;
  std::string figure;  // "loaded_bytes", "peak_bytes", "after_unload_bytes", "retained_bytes",
                       // "p50_ms"
  double base = kAbsent;
  double next = kAbsent;
  bool memory = true;  // latency is shown, never gated
  // soak --repeat: [min, max] of the figure over the repeats, kAbsent without.
  double base_low = kAbsent, base_high = kAbsent;
  double next_low = kAbsent, next_high = kAbsent;
  // The growth NEW may show before it regresses (memory figures compared, else kAbsent), and
  // what it came from: "spread" (both runs had repeats) or "noise" (a single run on a side).
  double allowed_bytes = kAbsent;
  std::string basis;
  bool regressed = false;
  // The noise model (docs/diff.md). The figure is compared net of the free heap the allocator held
  // at its phase end (held_*: kAbsent when unknown): net_change = median net NEW - median net BASE,
  // flagged when it exceeds noise_bytes (one-sided, `confidence`) and the options' tolerance.
  // mdd_bytes: the smallest growth this pair flags with probability `power`.
  double net_change_bytes = kAbsent;
  double noise_bytes = kAbsent;
  double mdd_bytes = kAbsent;
  double held_base = kAbsent, held_new = kAbsent;
  double confidence = kAbsent, power = kAbsent;
  std::string noise_method;  // "known-sigma" or "student-t (df N)"
  int runs_base = 0, runs_new = 0;
};

struct RunDiff {
  std::string base_label, new_label;  // how the runs are named in the output (their directories)
  // "model_sha256 <base> -> <new>", ... when allow_different_model let them through.
  std::vector<std::string> identity_differences;
  std::vector<FigureDiff> figures;
  // The ONNX Runtime each arm ran on: "1.29.0", or "1.22.0 -> 1.29.0" when the runs differ.
  std::map<std::string, std::string> arm_ort_versions;
  std::vector<std::string> only_in_base, only_in_new;
  // Why NEW regressed, beyond figures: failed arms, missing arms, no arms, a new leak verdict.
  std::vector<std::string> failures;
  // What is shown but is no regression: an arm that failed in BASE, an arm only in NEW.
  std::vector<std::string> notes;
  bool regressed() const;
  // Every reason, failures first, then one line per regressed figure.
  std::vector<std::string> reasons() const;
};

// The one place an arm's status is read (the status becomes an enum; this is the line to change).
bool arm_ran_ok(const ArmSummary& arm);

// "model_sha256 abc -> def" for each of model_sha256 and ort_version that both runs record and
// that differ.
std::vector<std::string> identity_differences(const RunSummary& base, const RunSummary& next);

// Throws InputError (exit 2) naming both values when the runs measure different models or ONNX
// Runtime versions and options.allow_different_model is off.
RunDiff diff_runs(const RunSummary& base, const RunSummary& next, const DiffOptions& options);

// Loads BASE_DIR/summary.json and NEW_DIR/summary.json (InputError when either is not a run) and
// diffs them; the labels are the directories.
RunDiff diff_run_dirs(const std::string& base_dir, const std::string& new_dir,
                      const DiffOptions& options);

// Two watches of the same command (`infermem diff WATCH WATCH`, docs/diff.md): the tree's peak,
// last total and growth per minute side by side. NEW regresses when its command did not end ok,
// its verdict became `leak`, its growth rate's interval lies wholly above BASE's, or (only with
// a tolerance: --floor or --max-regression, as a watch has no noise model) its peak grew beyond
// it. InputError when the commands differ.
RunDiff diff_watches(const WatchSummary& base, const WatchSummary& next,
                     const DiffOptions& options);

}  // namespace infermem
