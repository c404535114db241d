// infermem's own trace.jsonl -> one Series per arm (soak) or one for the process (watch).
// A soak arm is read exactly as soak judged it (infermem/arm_figures.h: the child's per-request
// readings in warm/infer, the context from phase ends), so analyze of a soak trace gives soak's
// verdict. Any other trace (watch, or samples from outside only) gives every sample with a
// memory value, and the context from the last reading in phases baseline, load, unload and trim.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "infermem/arm_figures.h"
#include "infermem/error.h"
#include "infermem/series_builder.h"
#include "infermem/trace.h"
#include "trace/import_util.h"

namespace infermem::import_detail {
namespace {

using namespace trace::key;

double first_present(const trace::Record& r, std::initializer_list<std::string_view> keys) {
  for (auto k : keys)
    if (auto v = r.value(k)) return *v;
  return kAbsent;
}

bool has_memory_value(const trace::Record& r) {
  return r.value(kRssBytes) || r.value(kHwmBytes) || r.value(kMallocInUseBytes) ||
         r.value(kJemallocAllocatedBytes);
}

// A soak arm: the child wrote samples in its warm/infer phases.
bool is_soak_sample(const trace::Record& r) {
  return r.type == trace::kSample && r.src == trace::src::kChild &&
         (r.phase == "warm" || r.phase == "infer");
}

// Tracks the last reading of each phase; a run of unload readings ends a churn cycle.
class ContextBuilder {
 public:
  void reading(const std::string& phase, double rss) {
    // A cycle ends at the first phase after its unload (and after the arm's trim that follows
    // the unload, whose reading then stands for the cycle).
    if (phase == "trim" && present(last_unload_bytes_) && present(rss)) last_unload_bytes_ = rss;
    if ((last_phase_ == "unload" || last_phase_ == "trim") && phase != "unload" && phase != "trim")
      end_unload();
    if (last_phase_ != phase) last_phase_ = phase;
    if (!present(rss)) return;
    if (phase == "baseline") context_.baseline_bytes = rss;
    if (phase == "load") context_.loaded_bytes = rss;
    if (phase == "unload") context_.after_unload_bytes = last_unload_bytes_ = rss;
    if (phase == "trim") context_.after_trim_bytes = rss;
  }
  SeriesContext finish() {
    end_unload();
    return context_;
  }

 private:
  void end_unload() {
    if (present(last_unload_bytes_))
      context_.after_unload_per_cycle_bytes.push_back(last_unload_bytes_);
    last_unload_bytes_ = kAbsent;
  }
  SeriesContext context_;
  std::string last_phase_;
  double last_unload_bytes_ = kAbsent;
};

// One arm's (or the one process's) records, consumed as they are read. Both readings are built
// until the end, when the arm turns out to be a soak arm or not.
struct ArmState {
  explicit ArmState(std::size_t max_points) : samples(max_points) {}
  int pid = 0;
  bool soak = false;
  bool injected = false;
  ArmAccumulator accumulator;  // soak's reading
  SeriesBuilder samples;       // any other trace: every sample with a memory value
  ContextBuilder context;
  std::map<std::string, int> sources;  // src -> samples

  void add(const trace::Record& r) {
    soak = soak || is_soak_sample(r);
    accumulator.add(r);
    const bool phase_end = r.type == trace::kPhase && r.text(kEdge) == trace::edge::kEnd;
    if (phase_end) context.reading(r.phase, first_present(r, {kRssBytes}));
    if (r.type != trace::kSample || !has_memory_value(r)) return;
    SeriesPoint p;
    p.t_ms = r.t_ms;
    p.req = r.req;
    p.phase = r.phase;
    p.current_bytes = first_present(r, {kRssBytes});
    p.hwm_bytes = first_present(r, {kHwmBytes});
    p.allocator_in_use_bytes = first_present(r, {kJemallocAllocatedBytes, kMallocInUseBytes});
    if (auto cycle = r.value(kCycle); cycle && *cycle >= 0 && *cycle < 1e9)
      p.cycle = static_cast<int>(*cycle);
    context.reading(p.phase, p.current_bytes);
    ++sources[r.src.empty() ? "unknown" : r.src];
    samples.add(p);
  }

  ImportedSeries finish(const std::string& name) {
    ImportedSeries imported;
    if (soak) {
      const ArmFigures figures = accumulator.figures();
      imported.series = accumulator.series(name);
      imported.context = accumulator.context(figures);
      imported.figures = figures_of(imported.series.points);
      imported.cache_events = accumulator.cache_events();
      imported.arm_begin_ms = accumulator.arm_begin_ms();
      return imported;
    }
    Series& s = imported.series;
    s.name = name;
    imported.context = context.finish();
    imported.figures = samples.figures();
    if (samples.merged()) imported.notes.push_back(merged_note(samples));
    s.points = samples.take_points(/*sort_by_time=*/true);
    std::string counts;
    for (const auto& [src, n] : sources)
      counts += fmt::format("{}{} from {}", counts.empty() ? "" : ", ", n, src);
    s.current_source = fmt::format("VmRSS in trace samples ({})", counts);
    s.hwm_source = "VmHWM in trace samples (process-lifetime high-water mark)";
    return imported;
  }
};

}  // namespace

Imported import_trace(trace::Source& source, const ImportOptions& options) {
  Imported result;
  result.format = "trace";
  SkipTally skips;
  std::vector<std::string> order;  // arms in order of first appearance
  std::map<std::string, std::unique_ptr<ArmState>> arms;
  std::vector<std::string> trace_notes;
  bool injected_everywhere = false;

  trace::Reader reader(source);
  reader.on_skip = [&](std::uint64_t number, std::string_view why) { skips.skip(number, why); };
  while (auto record = reader.next()) {
    // soak's header carries inject_leak_bytes when --inject-leak was used (every arm has it).
    const auto leak = record->value(kInjectLeakBytes);
    const bool injected = leak && *leak > 0;
    if (injected && record->arm.empty()) injected_everywhere = true;
    if (record->type == trace::kNote) {
      for (auto k : {kText, kMessage})
        if (auto text = record->text(k); !text.empty() && trace_notes.size() < 10)
          trace_notes.push_back("trace note: " + text);
      // An arm's notes also go to its reading: the cache scenario's load/evict/refused events.
      if (record->arm.empty()) continue;
    }
    if (record->type == trace::kHeader) continue;
    auto [it, inserted] = arms.try_emplace(record->arm);
    if (inserted) {
      it->second = std::make_unique<ArmState>(options.max_points);
      order.push_back(record->arm);
    }
    ArmState& arm = *it->second;
    if (record->pid != 0 && arm.pid == 0) arm.pid = record->pid;
    arm.injected = arm.injected || injected;
    arm.add(*record);
  }
  result.lines = source.lines();
  result.skipped_lines = skips.count();

  for (const std::string& name : order) {
    ArmState& arm = *arms[name];
    const std::string shown = !name.empty()  ? name
                              : arm.pid != 0 ? fmt::format("pid {}", arm.pid)
                                             : base_name(options.source_name);
    ImportedSeries imported = arm.finish(shown);
    if (imported.series.points.empty()) continue;
    imported.context.injected_leak = injected_everywhere || arm.injected;
    result.series.push_back(std::move(imported));
  }
  skips.add_notes(result.notes);
  result.notes.insert(result.notes.end(), trace_notes.begin(), trace_notes.end());
  if (result.series.empty())
    throw InputError(fmt::format(
        "{}: no usable samples: the trace has no sample records with rss_bytes, hwm_bytes or "
        "malloc_in_use_bytes ({} lines, {} malformed{}{})",
        options.source_name, result.lines, skips.count(), skips.count() ? "; " : "",
        skips.first_reason()));
  return result;
}

}  // namespace infermem::import_detail
