#pragma once
// One phase end of an arm as summary.json's "phases" keep it: which phase, when it ended, the
// churn cycle, the figures read at that moment and, in the cache scenario, ModelCache's counters.
// ArmAccumulator reads them out of the trace's phase end records; diff's noise model (the free
// heap held at a phase end) and the memory card (a figure at the end of a phase) read them back.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infermem/figure.h"
#include "infermem/model_cache.h"
#include "infermem/phase.h"

namespace infermem {

// The figures a phase end keeps of its record.
inline constexpr Figure kPhaseEndFigures[] = {Figure::rss_bytes,
                                              Figure::rss_anon_bytes,
                                              Figure::rss_file_bytes,
                                              Figure::peak_sampled_rss_bytes,
                                              Figure::peak_hwm_since_reset_bytes,
                                              Figure::malloc_in_use_bytes,
                                              Figure::malloc_free_bytes,
                                              Figure::ort_arena_in_use_bytes,
                                              Figure::ort_arena_reserved_bytes,
                                              Figure::ort_library_rss_bytes,
                                              Figure::ort_library_file_bytes,
                                              Figure::duration_ms};

struct PhaseEnd {
  Named<Phase> phase;
  double t_ms = 0;                       // since the arm's child started
  std::optional<int> cycle;              // the churn cycle it ended (churn only)
  std::map<Figure, double> figures;      // those the record had: absent stays absent
  std::optional<ModelCacheStats> cache;  // the cache scenario's counters, models named by file

  double value(Figure figure) const;  // kAbsent when the record had none
  bool has(Figure figure) const { return figures.count(figure) != 0; }

  nlohmann::json to_json() const;
  // The inverse of to_json. `phase` and `t_ms` are required, a figure is a number or null (null
  // reads as absent), `cycle` a whole number, `cache` ModelCacheStats' own document; any other
  // key, or a value of the wrong kind, is an InputError naming the key.
  static PhaseEnd from_json(const nlohmann::json& j);
};

// A phase end's cache counters (ModelCacheStats' document, models named by file) as this
// version or an earlier one wrote them: a counter an earlier version did not write yet reads as
// 0, a model's cost without its split as its load; a value of the wrong kind is an InputError.
ModelCacheStats phase_cache_from_json(const nlohmann::json& j);

nlohmann::json to_json(const std::vector<PhaseEnd>& ends);
// A list of phase ends; an InputError names `where` and the entry that was wrong
// ("arm lean: phases[3]: \"rss_bytes\" is not a number").
std::vector<PhaseEnd> phase_ends_from_json(const nlohmann::json& j, const std::string& where);

// The first or the last end of `phase` in trace order; nullptr when there is none.
const PhaseEnd* first_end(const std::vector<PhaseEnd>& ends, Phase phase);
const PhaseEnd* last_end(const std::vector<PhaseEnd>& ends, Phase phase);

}  // namespace infermem
