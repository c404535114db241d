#pragma once
// The closed set of figures a report shows: one enum for a soak run, one for a watch. Every
// reporter (terminal, Markdown, HTML, JUnit, JSON, Prometheus) declares, per report model, a
// constexpr table saying for each figure that it renders it or why it leaves it out, and proves
// with a static_assert that every figure is in its table exactly once:
//
//   constexpr std::array kSoak{shown(SoakFigure::peak), ..., omitted(SoakFigure::charts, "...")};
//   static_assert(covers_each_once(kSoak));
//
// A new figure is one new enumerator (before count_): then every reporter fails to compile until
// it shows the figure or says why not. The model holds every figure (summary.h,
// watch_summary.h); a reporter only renders, converting a figure to its format's unit at most.
#include <array>
#include <cstddef>
#include <string_view>

namespace infermem::report {

// What the report of a soak run shows (report.md's table and arm sections, the terminal table).
enum class SoakFigure {
  run_facts,        // model path and sha256, scenario and seed, versions, host, start time
  interrupted,      // the run was stopped: figures are partial
  notes,            // degradations and warnings
  baseline,         // memory.baseline_bytes
  loaded,           // memory.loaded_bytes
  peak,             // memory.peak_bytes
  after_unload,     // memory.after_unload_bytes
  after_trim,       // memory.after_trim_bytes
  retained,         // memory.retained_bytes
  retained_anon,    // memory.retained_anon_bytes
  retained_file,    // memory.retained_file_bytes
  latency_p50,      // latency_ms.p50
  latency_p95,      // latency_ms.p95
  latency_p99,      // latency_ms.p99
  throughput,       // requests per second
  requests,         // requests done
  status,           // how the arm's child ended, with its detail
  arm_setup,        // pid, config, ONNX Runtime version, peak method
  verdict,          // the verdict's kind
  evidence,         // the verdict's evidence, likely causes, remediations
  time_to_verdict,  // soak --until-confident
  repeat_spread,    // soak --repeat: [min, max] of each figure
  cache_totals,     // the cache scenario: resident models, loads, evictions, refusals
  checks,           // the gate's checks
  charts,           // ArmCharts: memory over requests and time, latency, churn, cache
  attribution,      // soak --attribute: the top allocation sites
  replay_policies,  // infermem replay: each cache policy's OOM kills, hit rate, loads, latency
                    // and peak, whether it holds, and the policy recommended
  count_            // not a figure: the number of figures
};

// What the report of `infermem watch` shows.
enum class WatchFigure {
  watched,       // pid, mode, command line, versions, host, start time
  sampling,      // samples, interval, elapsed time
  ended,         // duration, exited or interrupted
  exit,          // status with its detail (exit code, signal)
  oom,           // when the OOM kill was seen, the last total before it, the cgroup's peak
  memory_limit,  // --memory-limit and its cgroup
  interrupted,   // the watch was stopped: figures are partial
  notes,         // degradations and warnings
  last,          // the tree's total at the last sample
  peak,          // the tree's highest total sampled
  last_anon,     // the anonymous part of the last total
  hwm,           // the root's VmHWM
  processes,     // each process: pid, ppid, name, last, peak, VmHWM, when seen
  window_peak,   // each window's peak beside the lifetime VmHWM at its end
  verdict,       // the verdict's kind on the tree's total
  growth,        // growth per minute with its confidence interval
  evidence,      // the judged series, the verdict's evidence, causes, remediations
  checks,        // the gate's checks
  cache_stats,   // the watched service's ModelCache counters
  charts,        // ArmCharts of the tree's total over time
  count_         // not a figure: the number of figures
};

// One row of a reporter's table: the figure, and why the reporter leaves it out ("" when it
// shows it).
template <typename Figure>
struct Coverage {
  Figure figure;
  std::string_view omitted_because;
};

template <typename Figure>
constexpr Coverage<Figure> shown(Figure f) {
  return {f, {}};
}
// `why` says where the reader finds the figure instead, or why the format cannot carry it.
template <typename Figure>
constexpr Coverage<Figure> omitted(Figure f, std::string_view why) {
  return {f, why};
}

// Every enumerator before count_, in order.
template <typename Figure>
constexpr auto all_figures() {
  std::array<Figure, static_cast<std::size_t>(Figure::count_)> all{};
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<Figure>(i);
  return all;
}
inline constexpr auto kSoakFigures = all_figures<SoakFigure>();
inline constexpr auto kWatchFigures = all_figures<WatchFigure>();

// True when the table has every figure exactly once, nothing else, and a reason for each one it
// omits that is more than a word.
template <typename Figure, std::size_t N>
constexpr bool covers_each_once(const std::array<Coverage<Figure>, N>& table) {
  for (Figure f : all_figures<Figure>()) {
    std::size_t n = 0;
    for (const auto& c : table) n += c.figure == f;
    if (n != 1) return false;
  }
  for (const auto& c : table)
    if (c.omitted_because.data() != nullptr && c.omitted_because.size() < 8) return false;
  return N == all_figures<Figure>().size();
}

}  // namespace infermem::report
