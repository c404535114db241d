// What watch's reporters share: the command line, the status line, the windows listed and the
// ModelCache counters in words (terminal.cpp, markdown.cpp, html.cpp, junit.cpp render them).
#include <fmt/format.h>
#include <sstream>

#include "infermem/numbers.h"
#include "infermem/units.h"
#include "infermem/watch_summary.h"
#include "report/renderers.h"

namespace infermem::report {

std::string watch_status_line(const WatchSummary& w) {
  std::string s(name(w.status));
  if (!w.status_detail.empty()) s += " (" + w.status_detail + ")";
  return s;
}

std::string watch_growth_text(const WatchSummary& w) {
  const Verdict& v = w.verdict;
  if (!present(v.growth_bytes_per_minute)) return "";
  auto bytes = [](double b) { return present(b) ? format_bytes(b) : std::string("-"); };
  return fmt::format("growth {}/min [{} .. {}]", bytes(v.growth_bytes_per_minute),
                     bytes(v.growth_ci_low_bytes_per_minute),
                     bytes(v.growth_ci_high_bytes_per_minute));
}

std::string watch_command_line(const WatchSummary& w) {
  std::string out;
  for (const auto& a : w.command) out += (out.empty() ? "" : " ") + a;
  return out;
}

// The first ten windows and the last: enough to see the honest per-window peak against the
// lifetime high-water mark without listing up to a thousand rows.
std::vector<const WatchWindow*> shown_windows(const WatchSummary& w) {
  std::vector<const WatchWindow*> out;
  for (std::size_t i = 0; i < w.windows.size() && out.size() < 10; ++i)
    out.push_back(&w.windows[i]);
  if (w.windows.size() > 10) out.push_back(&w.windows.back());
  return out;
}

std::vector<std::string> watch_cache_lines(const WatchSummary& w) {
  std::vector<std::string> lines;
  if (!w.cache) return lines;
  const CacheStatsSnapshot& snap = *w.cache;
  auto size = [](std::uint64_t bytes) -> std::string {
    return bytes > 0 ? format_bytes(static_cast<double>(bytes)) : "-";
  };
  if (snap.last) {
    const ModelCacheStats& c = snap.last->stats;
    lines.push_back(fmt::format(
        "ModelCache of pid {} (from {}): {} hits, {} misses, {} loads, {} evictions, {} idle "
        "unloads, {} refusals",
        snap.last->pid, snap.path, c.hits, c.misses, c.loads, c.evictions, c.idle_unloads,
        c.refusals));
    lines.push_back(fmt::format("resident at the end: {} models, {} (peak {}); budget {}, limit {}",
                                c.models_resident, size(c.bytes_resident),
                                size(c.peak_bytes_resident), size(c.budget_bytes),
                                size(c.limit_bytes)));
    for (const auto& [model, f] : c.models)
      lines.push_back(fmt::format("model {}: cost {}, {} loads, {} hits of {} requests{}", model,
                                  size(f.cost.total()), f.loads, f.hits, f.requests,
                                  f.resident ? ", resident" : ""));
  } else {
    lines.push_back(fmt::format("ModelCache stats file {}: no snapshot could be read", snap.path));
  }
  if (!snap.read_errors.empty())
    lines.push_back(
        fmt::format("the stats file was refused: {}", nlohmann::json(snap.read_errors).dump()));
  return lines;
}

}  // namespace infermem::report
