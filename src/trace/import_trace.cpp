// infermem's own trace.jsonl -> one Series per arm (soak) or one for the process (watch).
// Points come from "sample" records; the SeriesContext from the last reading in each of the
// phases baseline, load, unload and trim (samples or phase records that carry rss_bytes).
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <map>

#include "infermem/error.h"
#include "infermem/trace.h"
#include "trace/import_util.h"

namespace infermem::import_detail {
namespace {

struct ArmState {
  ImportedSeries imported;
  std::string last_phase;  // of the previous reading, to find the end of each unload phase
  double last_unload_bytes = kAbsent;
  bool saw_allocator_jemalloc = false;
  std::map<std::string, int> sources;  // src -> samples
  int pid = 0;
};

double first_present(const trace::Record& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys)
    if (auto v = r.value(k)) return *v;
  return kAbsent;
}

// A reading of `phase` at the end of which memory stood at `rss`: updates the context.
void note_phase_reading(ArmState& arm, const std::string& phase, double rss) {
  SeriesContext& c = arm.imported.context;
  if (arm.last_phase == "unload" && phase != "unload" && present(arm.last_unload_bytes)) {
    c.after_unload_per_cycle_bytes.push_back(arm.last_unload_bytes);
    arm.last_unload_bytes = kAbsent;
  }
  arm.last_phase = phase;
  if (!present(rss)) return;
  if (phase == "baseline") c.baseline_bytes = rss;
  if (phase == "load") c.loaded_bytes = rss;
  if (phase == "unload") c.after_unload_bytes = arm.last_unload_bytes = rss;
  if (phase == "trim") c.after_trim_bytes = rss;
}

}  // namespace

Imported import_trace(std::string_view text, const ImportOptions& options) {
  Imported result;
  result.format = "trace";
  SkipTally skips;
  std::vector<std::string> order;  // arms in order of first appearance
  std::map<std::string, ArmState> arms;
  std::vector<std::string> trace_notes;

  auto arm_state = [&](const std::string& arm) -> ArmState& {
    auto [it, inserted] = arms.try_emplace(arm);
    if (inserted) order.push_back(arm);
    return it->second;
  };

  for_each_line(text, [&](std::uint64_t number, std::string_view line) {
    ++result.lines;
    if (trim(line).empty()) return;
    std::string why;
    auto record = trace::parse_line(line, &why);
    if (!record) return skips.skip(number, why);
    if (record->type == trace::kNote) {
      for (const char* key : {"text", "message"}) {
        auto it = record->extra.find(key);
        if (it != record->extra.end() && it->is_string() && trace_notes.size() < 10)
          trace_notes.push_back("trace note: " + it->get<std::string>());
      }
      return;
    }
    const double rss = first_present(*record, {"rss_bytes"});
    if (record->type == trace::kPhase) {
      if (present(rss)) note_phase_reading(arm_state(record->arm), record->phase, rss);
      return;
    }
    if (record->type == trace::kArm) {
      if (auto leak = record->value("inject_leak_bytes"); leak && *leak > 0)
        arm_state(record->arm).imported.context.injected_leak = true;
      return;
    }
    if (record->type != trace::kSample) return;
    SeriesPoint p;
    p.t_ms = record->t_ms;
    p.req = record->req;
    p.phase = record->phase;
    p.current_bytes = rss;
    p.hwm_bytes = first_present(*record, {"hwm_bytes"});
    p.allocator_in_use_bytes =
        first_present(*record, {"malloc_in_use_bytes", "jemalloc_allocated_bytes"});
    if (auto cycle = record->value("cycle"); cycle && *cycle >= 0 && *cycle < 1e9)
      p.cycle = static_cast<int>(*cycle);
    if (!present(p.current_bytes) && !present(p.hwm_bytes) && !present(p.allocator_in_use_bytes))
      return skips.skip(number, "sample without rss_bytes, hwm_bytes or malloc_in_use_bytes");
    ArmState& arm = arm_state(record->arm);
    if (!record->value("malloc_in_use_bytes") && record->value("jemalloc_allocated_bytes"))
      arm.saw_allocator_jemalloc = true;
    if (arm.pid == 0) arm.pid = record->pid;
    ++arm.sources[record->src.empty() ? "unknown" : record->src];
    note_phase_reading(arm, p.phase, p.current_bytes);
    arm.imported.series.points.push_back(std::move(p));
  });
  result.skipped_lines = skips.count();

  for (const std::string& name : order) {
    ArmState& arm = arms[name];
    if (arm.last_phase == "unload" && present(arm.last_unload_bytes))
      arm.imported.context.after_unload_per_cycle_bytes.push_back(arm.last_unload_bytes);
    Series& s = arm.imported.series;
    if (s.points.empty()) continue;
    s.name = !name.empty()  ? name
             : arm.pid != 0 ? fmt::format("pid {}", arm.pid)
                            : base_name(options.source_name);
    std::string sources;
    for (const auto& [src, n] : arm.sources)
      sources += fmt::format("{}{} {}", sources.empty() ? "" : ", ", n, src);
    s.current_source = fmt::format("VmRSS from trace samples ({})", sources);
    s.hwm_source = "VmHWM (process-lifetime high-water mark) from trace samples";
    std::stable_sort(s.points.begin(), s.points.end(),
                     [](const SeriesPoint& a, const SeriesPoint& b) { return a.t_ms < b.t_ms; });
    if (arm.saw_allocator_jemalloc)
      arm.imported.notes.push_back("allocator in-use bytes are jemalloc's stats.allocated");
    result.series.push_back(std::move(arm.imported));
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
