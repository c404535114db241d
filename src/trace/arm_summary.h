#pragma once
// Reading a soak arm out of its trace records: the report model's figures, the series the
// verdict engine judges, and its context. soak (live) and analyze (from a file) share it.
#include <vector>

#include "infermem/series.h"
#include "infermem/summary.h"
#include "infermem/trace.h"

namespace infermem {

// Fills memory, latency, throughput, phases and requests_done of `arm` from its records
// (child records carry phase ends; parent samples give the last RSS seen from outside).
void summarize_arm(const std::vector<trace::Record>& records, ArmSummary& arm);

// The series the verdict engine judges: the child's per-request readings in warm/infer phases.
Series arm_series(const std::vector<trace::Record>& records, const std::string& name);
SeriesContext arm_context(const ArmSummary& arm, const std::vector<trace::Record>& records);

}  // namespace infermem
