// infermem's own trace.jsonl -> one Series per arm (soak) or one for the process (watch).
// A soak arm is read exactly as soak judged it (infermem/arm_figures.h: the child's per-request
// readings in warm/infer, the context from phase ends), so analyze of a soak trace gives soak's
// verdict. Any other trace (watch, or samples from outside only) gives every sample with a
// memory value, and the context from the last reading in phases baseline, load, unload and trim.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>

#include "infermem/arm_figures.h"
#include "infermem/error.h"
#include "infermem/trace.h"
#include "trace/import_util.h"

namespace infermem::import_detail {
namespace {

double first_present(const trace::Record& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = r.value(k)) return *v;
  return kAbsent;
}

bool has_memory_value(const trace::Record& r) {
  return r.value("rss_bytes") || r.value("hwm_bytes") || r.value("malloc_in_use_bytes") ||
         r.value("jemalloc_allocated_bytes");
}

bool is_soak_arm(const std::vector<trace::Record>& records) {
  return std::any_of(records.begin(), records.end(), [](const trace::Record& r) {
    return r.type == trace::kSample && r.src == "child" &&
           (r.phase == "warm" || r.phase == "infer");
  });
}

ImportedSeries soak_arm(const std::vector<trace::Record>& records, const std::string& name) {
  ImportedSeries imported;
  const ArmAccumulator arm = accumulate_arm(records);
  imported.series = arm.series(name);
  imported.context = arm.context(arm.figures());
  return imported;
}

// Tracks the last reading of each phase; a run of unload readings ends a churn cycle.
class ContextBuilder {
 public:
  void reading(const std::string& phase, double rss) {
    if (last_phase_ == "unload" && phase != "unload") end_unload();
    last_phase_ = phase;
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

ImportedSeries any_samples(const std::vector<trace::Record>& records, const std::string& name) {
  ImportedSeries imported;
  Series& s = imported.series;
  s.name = name;
  ContextBuilder context;
  std::map<std::string, int> sources;  // src -> samples
  for (const auto& r : records) {
    const bool phase_end = r.type == trace::kPhase && r.extra.value("edge", "end") == "end";
    if (phase_end) context.reading(r.phase, first_present(r, {"rss_bytes"}));
    if (r.type != trace::kSample || !has_memory_value(r)) continue;
    SeriesPoint p;
    p.t_ms = r.t_ms;
    p.req = r.req;
    p.phase = r.phase;
    p.current_bytes = first_present(r, {"rss_bytes"});
    p.hwm_bytes = first_present(r, {"hwm_bytes"});
    p.allocator_in_use_bytes =
        first_present(r, {"jemalloc_allocated_bytes", "malloc_in_use_bytes"});
    if (auto cycle = r.value("cycle"); cycle && *cycle >= 0 && *cycle < 1e9)
      p.cycle = static_cast<int>(*cycle);
    context.reading(p.phase, p.current_bytes);
    ++sources[r.src.empty() ? "unknown" : r.src];
    s.points.push_back(std::move(p));
  }
  imported.context = context.finish();
  std::string counts;
  for (const auto& [src, n] : sources)
    counts += fmt::format("{}{} from {}", counts.empty() ? "" : ", ", n, src);
  s.current_source = fmt::format("VmRSS in trace samples ({})", counts);
  s.hwm_source = "VmHWM in trace samples (process-lifetime high-water mark)";
  std::stable_sort(s.points.begin(), s.points.end(),
                   [](const SeriesPoint& a, const SeriesPoint& b) { return a.t_ms < b.t_ms; });
  return imported;
}

}  // namespace

Imported import_trace(std::string_view text, const ImportOptions& options) {
  Imported result;
  result.format = "trace";
  SkipTally skips;
  std::vector<std::string> order;  // arms in order of first appearance
  std::map<std::string, std::vector<trace::Record>> by_arm;
  std::map<std::string, int> pid_of;
  std::vector<std::string> trace_notes;
  bool injected_everywhere = false;
  std::map<std::string, bool> injected;

  for_each_line(text, [&](std::uint64_t number, std::string_view line) {
    ++result.lines;
    if (trim(line).empty()) return;
    std::string why;
    auto record = trace::parse_line(line, &why);
    if (!record) return skips.skip(number, why);
    if (auto leak = record->value("inject_leak_bytes"); leak && *leak > 0)
      (record->arm.empty() ? injected_everywhere : injected[record->arm]) = true;
    if (record->type == trace::kNote) {
      for (const char* key : {"text", "message"})
        if (auto it = record->extra.find(key);
            it != record->extra.end() && it->is_string() && trace_notes.size() < 10)
          trace_notes.push_back("trace note: " + it->get<std::string>());
      return;
    }
    if (record->type == trace::kHeader) return;
    auto [it, inserted] = by_arm.try_emplace(record->arm);
    if (inserted) order.push_back(record->arm);
    if (record->pid != 0) pid_of.try_emplace(record->arm, record->pid);
    it->second.push_back(std::move(*record));
  });
  result.skipped_lines = skips.count();

  for (const std::string& arm : order) {
    const auto& records = by_arm[arm];
    const std::string name = !arm.empty()        ? arm
                             : pid_of.count(arm) ? fmt::format("pid {}", pid_of[arm])
                                                 : base_name(options.source_name);
    ImportedSeries imported =
        is_soak_arm(records) ? soak_arm(records, name) : any_samples(records, name);
    if (imported.series.points.empty()) continue;
    imported.context.injected_leak = injected_everywhere || injected[arm];
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
