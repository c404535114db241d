#pragma once
// A memory series: what the verdict engine judges. Built from a soak arm, a watched process, or
// an imported file (CSV, psrecord, Lambda REPORT lines, infermem trace).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "infermem/phase.h"

namespace infermem {

inline constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();
inline bool present(double v) {
  return !std::isnan(v);
}

struct SeriesPoint {
  double t_ms = 0;                 // since the series began
  std::int64_t req = -1;           // requests done so far, -1 when unknown
  Named<Phase> phase;              // none, warm, infer, unload, ... when known
  double current_bytes = kAbsent;  // a current figure (VmRSS, cgroup memory.current, ...)
  double hwm_bytes = kAbsent;      // a high-water mark (VmHWM, Lambda Max Memory Used, ...)
  double allocator_in_use_bytes = kAbsent;  // bytes the allocator has handed out and not freed
  // Bytes the allocator holds but has free (glibc mallinfo2 fordblks; jemalloc resident -
  // allocated), when known: what the fragmentation rule judges (docs/verdicts.md).
  double allocator_free_bytes = kAbsent;
  double anon_bytes = kAbsent;  // anonymous resident memory (RssAnon), when known
  double file_bytes = kAbsent;  // file-backed resident memory (RssFile), when known
  int cycle = -1;               // churn: which load/infer/unload cycle, -1 otherwise
};

struct Series {
  std::string name;            // arm name, "pid 1234", a Lambda log stream, a file name
  std::string current_source;  // how current_bytes was measured, e.g. "VmRSS sampled at 100 Hz"
  std::string hwm_source;  // e.g. "Lambda Max Memory Used (environment-lifetime high-water mark)"
  std::vector<SeriesPoint> points;
};

// Figures around a series that the engine uses when present (kAbsent otherwise).
struct SeriesContext {
  double baseline_bytes = kAbsent;  // runtime up, no session
  double loaded_bytes = kAbsent;    // session created
  double after_unload_bytes = kAbsent;
  double after_trim_bytes = kAbsent;
  // The arm trims after unload itself (soak's trim=on): after_trim is what it leaves, and what
  // the trim gave back is evidence of its remedy working, not a finding of fragmentation.
  bool trim_by_arm = false;
  // churn: one figure per cycle, VmRSS after the unload, or after the arm's own trim that follows
  // it when the arm trims (trim_by_arm): what the cycle leaves to the next one.
  std::vector<double> after_unload_per_cycle_bytes;
  bool injected_leak = false;  // soak --inject-leak was used (for evidence text only)
  // At the end of the run, after the inference load (the last unload or trim phase end, the
  // later one): the allocator's free and in-use bytes, when the trace has them.
  double after_load_free_bytes = kAbsent;
  double after_load_in_use_bytes = kAbsent;
  double after_load_anon_bytes = kAbsent;  // RssAnon at the same phase end
};

}  // namespace infermem
