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
  if (!w.cache.is_object()) return lines;
  auto count = [](const nlohmann::json& j, const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_number() ? fmt::format("{}", it->get<double>()) : "-";
  };
  auto size = [](const nlohmann::json& j, const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_number() && it->get<double>() > 0
               ? format_bytes(it->get<double>())
               : "-";
  };
  const std::string path = w.cache.value("path", std::string());
  const auto& c = w.cache.contains("cache") ? w.cache["cache"] : nlohmann::json();
  if (c.is_object()) {
    lines.push_back(fmt::format(
        "ModelCache of pid {} (from {}): {} hits, {} misses, {} loads, {} evictions, {} idle "
        "unloads, {} refusals",
        count(w.cache, "pid"), path, count(c, "hits"), count(c, "misses"), count(c, "loads"),
        count(c, "evictions"), count(c, "idle_unloads"), count(c, "refusals")));
    lines.push_back(fmt::format("resident at the end: {} models, {} (peak {}); budget {}, limit {}",
                                count(c, "models_resident"), size(c, "bytes_resident"),
                                size(c, "peak_bytes_resident"), size(c, "budget_bytes"),
                                size(c, "limit_bytes")));
    if (auto m = c.find("models"); m != c.end() && m->is_object())
      for (const auto& [model, f] : m->items())
        lines.push_back(fmt::format("model {}: cost {}, {} loads, {} hits of {} requests{}", model,
                                    size(f, "cost_bytes"), count(f, "loads"), count(f, "hits"),
                                    count(f, "requests"),
                                    f.value("resident", false) ? ", resident" : ""));
  } else {
    lines.push_back(fmt::format("ModelCache stats file {}: no snapshot could be read", path));
  }
  if (auto e = w.cache.find("read_errors"); e != w.cache.end() && e->is_object() && !e->empty())
    lines.push_back(fmt::format("the stats file was refused: {}", e->dump()));
  return lines;
}

}  // namespace infermem::report
