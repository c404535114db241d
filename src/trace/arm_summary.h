#pragma once
// Reading a soak arm out of its trace records: the report model's figures, the series the
// verdict engine judges, and its context. soak (live, as records arrive from the child's pipe)
// and analyze (from a file) share it. Records are consumed one at a time and only what the
// figures need is kept (latencies, phase ends, one compact point per request), so a long soak
// does not hold its whole trace in the parent's memory.
#include <vector>

#include "infermem/series.h"
#include "infermem/summary.h"
#include "infermem/trace.h"

namespace infermem {

class ArmAccumulator {
 public:
  void add(const trace::Record& record);

  // Fills memory, latency, throughput, phases, requests_done and last_rss_bytes of `arm`.
  void summarize(ArmSummary& arm) const;
  // The child's per-request readings in warm/infer phases, named `name`.
  Series series(const std::string& name) const;
  // Baseline, loaded, after unload/trim from `arm` (summarized), per-cycle unload figures.
  SeriesContext context(const ArmSummary& arm) const;

 private:
  struct Peak {
    double bytes = kAbsent;
    bool sampler = false, hwm = false, outside = false;
    void consider(std::optional<double> v, bool& flag);
  };
  std::vector<double> latencies_;
  std::int64_t requests_done_ = 0;
  double inference_ms_ = 0;
  double last_outside_rss_ = kAbsent;
  Peak peak_;
  std::vector<trace::Record> phase_ends_;
  std::vector<SeriesPoint> points_;
};

// One pass over a whole list of records (a trace read from a file).
ArmAccumulator accumulate_arm(const std::vector<trace::Record>& records);

}  // namespace infermem
