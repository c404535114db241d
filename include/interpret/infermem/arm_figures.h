#pragma once
// Reading one soak arm out of its trace records: its status, its figures (memory by phase,
// latency, throughput), the series the verdict engine judges and the context around it. soak
// (live, as records arrive from the child's pipe), analyze (from a file) and the calibration
// bench share it. Records are consumed one at a time and only what the figures need is kept
// (latencies, phase ends, one compact point per request), so a long soak does not hold its whole
// trace in memory.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/phase_end.h"
#include "infermem/series.h"
#include "infermem/trace.h"

namespace infermem {

// How an arm's child ended. `failed`: the workload reported an error (ORT rejected an input, a
// model did not load); `crashed`: a signal or an abnormal exit without a report.
enum class ArmStatus { ok, failed, crashed, oom_killed, timeout, interrupted };
std::string_view name(ArmStatus status);  // "ok", "failed", "crashed", "oom-killed", ...
std::optional<ArmStatus> parse_arm_status(std::string_view text);

struct MemoryFigures {
  double baseline_bytes = kAbsent;      // VmRSS at the end of phase baseline (runtime, no session)
  double loaded_bytes = kAbsent;        // VmRSS at the end of phase load
  double peak_bytes = kAbsent;          // highest reading from load end through inference
  double after_unload_bytes = kAbsent;  // VmRSS at the end of phase unload
  double after_trim_bytes = kAbsent;    // VmRSS at the end of phase trim (arms with trim=on)
  double retained_bytes = kAbsent;      // (after_trim or after_unload) - baseline
  // The same split by what kind of page stays: anonymous (heap, arenas: what trim can give
  // back) and file-backed (code and data of the runtime's libraries, a mapped model), from
  // RssAnon and RssFile at the same phase ends.
  double retained_anon_bytes = kAbsent;
  double retained_file_bytes = kAbsent;
  std::string peak_method;  // e.g. "max of: VmHWM after clear_refs reset at phase start; ..."
};

// The byte figures of MemoryFigures, each named as summary.json's "memory" names it. Listed in
// the order of those names ("retained_anon_bytes" sorts before "retained_bytes"): the order
// summary.json's objects keep, in which the reports list a run's spreads.
enum class MemoryFigure {
  after_trim,
  after_unload,
  baseline,
  loaded,
  peak,
  retained_anon,
  retained,
  retained_file
};
inline constexpr MemoryFigure kMemoryFigures[] = {
    MemoryFigure::after_trim, MemoryFigure::after_unload, MemoryFigure::baseline,
    MemoryFigure::loaded,     MemoryFigure::peak,         MemoryFigure::retained_anon,
    MemoryFigure::retained,   MemoryFigure::retained_file};
std::string_view name(MemoryFigure figure);  // "after_trim_bytes", ...
std::optional<MemoryFigure> parse_memory_figure(std::string_view text);
// The member of MemoryFigures that holds `figure`.
double MemoryFigures::*field(MemoryFigure figure);

struct LatencyFigures {
  double mean = kAbsent, p50 = kAbsent, p95 = kAbsent, p99 = kAbsent;  // ms, around Run() only
};

// Everything the records of one arm say, before any judgement.
struct ArmFigures {
  std::int64_t requests_done = 0;
  MemoryFigures memory;
  LatencyFigures latency_ms;
  double throughput_rps = kAbsent;
  std::vector<PhaseEnd> phases;     // each phase end in trace order, with its figures
  double last_rss_bytes = kAbsent;  // last sample from outside (useful when the child died)
  std::string ort_version;          // the ONNX Runtime the child reported running on ("" = unknown)
};

// One event of the cache scenario's trace (`note` records with `event: load|evict|refused`), kept
// where it happened among the arm's per-request points: the point index `before_point` is the
// first reading taken after it (points().size() when none followed).
struct CacheEvent {
  enum class Kind { load, evict, refused };
  Kind kind = Kind::load;
  std::size_t before_point = 0;
  double t_ms = 0;
  std::int64_t req = 0;  // requests done in the arm when it happened
};
std::optional<CacheEvent::Kind> parse_cache_event(std::string_view event);

class ArmAccumulator {
 public:
  void add(const trace::Record& record);

  ArmFigures figures() const;
  // The child's per-request readings in warm/infer phases, named `name`.
  Series series(const std::string& name) const;
  // The same points for charts: also the child's VmHWM (reset at each phase start, so the
  // high-water mark of the phase so far), which the judged series leaves out.
  Series chart_series(const std::string& name) const;
  // Latency quantiles around Run(): steps + 1 values, the nearest-rank percentiles 0, 100/steps,
  // ..., 100 (empty when no request was timed).
  std::vector<double> latency_quantiles_ms(int steps = 100) const;
  // The cache scenario's load, evict and refused events in trace order (empty in other scenarios).
  const std::vector<CacheEvent>& cache_events() const { return cache_events_; }
  // When the arm's child began (its `arm` begin record; kAbsent when none was seen).
  double arm_begin_ms() const { return arm_begin_ms_; }
  // Baseline, loaded, after unload/trim from `figures`, per-cycle unload figures.
  SeriesContext context(const ArmFigures& figures) const;

  // What the child's own end record said (status "ok" and no error when it finished cleanly).
  bool child_reported_end() const { return child_reported_end_; }
  bool child_finished_ok() const { return child_finished_ok_; }
  const std::string& child_error() const { return child_error_; }

 private:
  struct Peak {
    double bytes = kAbsent;
    bool sampler = false, hwm = false, outside = false, loaded = false;
    void consider(std::optional<double> v, bool& flag);
  };
  std::vector<double> latencies_;
  std::int64_t requests_done_ = 0;
  double inference_ms_ = 0;
  double last_outside_rss_ = kAbsent;
  bool saw_inference_ = false;
  bool hwm_reset_ = false;  // the current phase began with VmHWM reset (clear_refs worked)  // any
                            // reading or record of phases warm/infer
  Peak peak_;
  std::vector<trace::Record> phase_ends_;
  std::vector<SeriesPoint> points_;
  std::vector<double> point_hwm_;  // per point of points_: the child's VmHWM since phase start
  std::vector<CacheEvent> cache_events_;
  double arm_begin_ms_ = kAbsent;
  bool child_reported_end_ = false;
  bool child_finished_ok_ = false;
  std::string child_error_;
  std::string ort_version_;
};

// One pass over a whole list of records (a trace read from a file).
ArmAccumulator accumulate_arm(const std::vector<trace::Record>& records);

}  // namespace infermem
