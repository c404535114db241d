#pragma once
// Comparing two soak runs arm by arm (`infermem diff BASE NEW`), see docs/diff.md.
//
// A NEW run regresses when:
//   - one of its arms did not run to the end (status other than ok), an arm of BASE is missing
//     from it, or it has no arms at all: a failure is never waved through;
//   - an arm's verdict became `leak` (BASE's was not);
//   - a memory figure grew beyond what identical runs also show. With `soak --repeat` in both
//     runs (memory_spread), NEW's [min, max] must lie above BASE's by more than the tolerance;
//     otherwise NEW - BASE must exceed both the tolerance and the figure's measured noise floor.
// The tolerance is max(floor_bytes, max_regression_fraction * BASE).
// Runs of different models or ONNX Runtime versions are refused (InputError) unless
// allow_different_model; then the differences are listed in `identity_differences`.
#include <map>
#include <string>
#include <vector>

#include "infermem/summary.h"

namespace infermem {

struct DiffOptions {
  double max_regression_fraction = 0.10;   // --max-regression 10%
  double floor_bytes = 4.0 * 1024 * 1024;  // --floor: changes below this are never regressions
  bool allow_different_model = false;      // --allow-different-model
};

// How much a figure moves between two identical single runs, measured with bench/diff_bench.cpp
// (docs/diff.md). The moves come in steps the size of one of the model's buffers (ONNX Runtime's
// prepacked weights kept or not, the weights' heap block given back at unload or not), so the
// allowance is max(bytes, fraction * footprint), footprint = BASE's loaded - baseline; after
// unload (and retained without trim) also what BASE held at its peak and gave back at unload.
struct NoiseFloor {
  double bytes = 0;
  double fraction_of_footprint = 0;
};
NoiseFloor noise_floor(const std::string& figure);

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
  // what it came from: "spread" (both runs had repeats) or "noise" (single runs).
  double allowed_bytes = kAbsent;
  std::string basis;
  bool regressed = false;
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

}  // namespace infermem
