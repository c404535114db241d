#include "infermem/card_app.h"

#include <algorithm>

#include "infermem/figure.h"
#include "infermem/model_info.h"
#include "infermem/numbers.h"

namespace infermem {
namespace {

// A figure at the last end of `phase` that has it (kAbsent when none does).
double phase_value(const ArmFigures& figures, Phase phase, Figure figure) {
  double out = kAbsent;
  for (const auto& ph : figures.phases)
    if (ph.phase == phase && ph.has(figure)) out = ph.value(figure);
  return out;
}

double max_present(double a, double b) {
  if (!present(a)) return b;
  if (!present(b)) return a;
  return std::max(a, b);
}

}  // namespace

CardMeasurements card_measurements(const CardRun& run) {
  CardMeasurements m;
  const ArmFigures ref = run.shape_runs.at(0).records.figures();
  m.ort_version = ref.ort_version;
  m.baseline_bytes = ref.memory.baseline_bytes;
  m.load_peak_bytes = max_present(phase_value(ref, Phase::load, Figure::peak_hwm_since_reset_bytes),
                                  phase_value(ref, Phase::load, Figure::peak_sampled_rss_bytes));
  m.steady_bytes = phase_value(ref, Phase::warm, Figure::rss_bytes);
  m.malloc_in_use_bytes = phase_value(ref, Phase::warm, Figure::malloc_in_use_bytes);
  m.ort_code_bytes = phase_value(ref, Phase::warm, Figure::ort_library_file_bytes);
  m.arena_reserved_bytes = phase_value(ref, Phase::warm, Figure::ort_arena_reserved_bytes);
  m.after_unload_bytes = ref.memory.after_unload_bytes;
  m.after_trim_bytes = ref.memory.after_trim_bytes;
  m.malloc_free_bytes = phase_value(ref, Phase::warm, Figure::malloc_free_bytes);
  m.baseline_anon_bytes = phase_value(ref, Phase::baseline, Figure::rss_anon_bytes);
  m.after_trim_anon_bytes = phase_value(ref, Phase::trim, Figure::rss_anon_bytes);
  m.baseline_file_bytes = phase_value(ref, Phase::baseline, Figure::rss_file_bytes);
  m.after_trim_file_bytes = phase_value(ref, Phase::trim, Figure::rss_file_bytes);
  m.baseline_malloc_in_use_bytes = phase_value(ref, Phase::baseline, Figure::malloc_in_use_bytes);
  m.after_trim_malloc_in_use_bytes = phase_value(ref, Phase::trim, Figure::malloc_in_use_bytes);
  const ArmFigures one_node = run.ort_state.records.figures();
  const double one_node_after = phase_value(one_node, Phase::trim, Figure::malloc_in_use_bytes);
  const double one_node_base = phase_value(one_node, Phase::baseline, Figure::malloc_in_use_bytes);
  if (present(one_node_after) && present(one_node_base))
    m.ort_state_in_use_bytes = one_node_after - one_node_base;
  const ArmFigures no_prepack = run.no_prepack.records.figures();
  const ArmFigures no_arena = run.no_arena.records.figures();
  m.steady_no_prepack_bytes = phase_value(no_prepack, Phase::warm, Figure::rss_bytes);
  m.steady_no_arena_bytes = phase_value(no_arena, Phase::warm, Figure::rss_bytes);
  m.malloc_in_use_no_prepack_bytes =
      phase_value(no_prepack, Phase::warm, Figure::malloc_in_use_bytes);
  m.malloc_in_use_no_arena_bytes = phase_value(no_arena, Phase::warm, Figure::malloc_in_use_bytes);
  for (std::size_t i = 0; i < run.shape_runs.size() && i < run.shapes.size(); ++i)
    m.shape_peaks.push_back(
        CardShapePeak{run.shapes[i].text, run.shape_runs[i].records.figures().memory.peak_bytes});
  return m;
}

MemoryCard measure_memory_card(const CardRunOptions& options) {
  const ModelInfo info = inspect_model(options.model_path);
  const CardRun run = run_card_children(options);
  CardMeasurements m = card_measurements(run);
  m.model_path = options.model_path;
  m.file_bytes = info.file_bytes;
  m.weight_bytes = info.weight_bytes;
  m.requests = options.requests;
  m.warm_requests = options.warm_requests;
  m.seed = options.seed;
  return build_memory_card(m);
}

}  // namespace infermem
