#pragma once
// The report model of `infermem watch`: what was watched (a pid, or a command infermem started),
// how it ended, the process tree's memory over time with each process, each window's honest
// peak beside the kernel's lifetime high-water mark, the verdict on the tree's total and the
// gate's checks. Renderers (infermem/render.h) render it; summary.json is its JSON.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/cache_stats_file.h"
#include "infermem/charts.h"
#include "infermem/gate.h"
#include "infermem/series.h"
#include "infermem/series_builder.h"
#include "infermem/trace.h"
#include "infermem/verdict.h"

namespace infermem {

struct WatchedProcess {
  int pid = 0;
  int ppid = 0;
  std::string name;                // /proc/PID/comm
  double first_seen_ms = kAbsent;  // since the watch began
  double last_seen_ms = kAbsent;
  double last_rss_bytes = kAbsent;  // VmRSS at its last sample
  double peak_rss_bytes = kAbsent;  // highest VmRSS sampled
  double hwm_bytes = kAbsent;       // its own VmHWM (process lifetime), last read
  bool exited = false;              // gone before the watch ended
};

// One --window: the highest tree total sampled in it (what really was resident at worst in that
// window) beside the root's VmHWM at the window's end (the lifetime high-water mark a Lambda
// REPORT line shows as Max Memory Used).
struct WatchWindow {
  double start_ms = 0;
  double end_ms = 0;
  double peak_rss_bytes = kAbsent;
  double lifetime_hwm_bytes = kAbsent;
};

struct WatchSummary {
  std::string tool_version;
  std::string host;
  std::string started_at;            // ISO-8601 UTC
  std::string mode;                  // "pid" or "command"
  int pid = 0;                       // the watched process (the tree's root)
  std::vector<std::string> command;  // argv: as given (command mode) or /proc/PID/cmdline
  double interval_ms = 0;
  double window_ms = 0;
  double memory_limit_bytes = kAbsent;  // --memory-limit, command mode
  std::string cgroup_dir;               // the memory cgroup read, when one is
  double elapsed_ms = 0;
  std::uint64_t samples = 0;
  // How the watch ended: "duration", "exited" (the process ended by itself; see status),
  // "interrupted" (Ctrl-C or SIGTERM to infermem).
  std::string ended;
  // ok (exited 0, or still running when the watch ended), failed (exited non-zero), crashed
  // (killed by a signal), oom-killed, interrupted.
  ArmStatus status = ArmStatus::ok;
  std::string status_detail;  // "exited with status 3", "killed by SIGSEGV", ...
  std::optional<int> exit_code;
  std::string signal;                      // "SIGKILL" when killed by a signal
  double oom_at_ms = kAbsent;              // when the OOM kill was seen, since the watch began
  double oom_last_rss_bytes = kAbsent;     // the last tree total sampled before it
  double oom_cgroup_peak_bytes = kAbsent;  // the cgroup's own peak, when readable

  double last_rss_bytes = kAbsent;   // tree total, last sample
  double peak_rss_bytes = kAbsent;   // tree total, highest sample
  double last_anon_bytes = kAbsent;  // tree total, last sample
  double hwm_bytes = kAbsent;        // the root's VmHWM, last read
  std::vector<WatchedProcess> processes;
  std::vector<WatchWindow> windows;  // the latest kMaxWindows
  std::uint64_t windows_total = 0;
  static constexpr std::size_t kMaxWindows = 1000;

  Verdict verdict;  // on the tree's total
  std::string series_source;
  std::vector<CheckResult> checks;
  std::vector<std::string> notes;
  bool interrupted = false;
  // The watched service's stats file as watch last read it (its path, reads taken and refused,
  // the last ModelCache counters); none when watch was given no stats file. summary.json has it
  // as "cache".
  std::optional<CacheStatsSnapshot> cache;
  // What report.html draws: the tree total over time (the judged series, each window's min and
  // max) with the verdict's fit.
  ArmCharts charts;

  // The watched process did not fail: it ran to the watch's end or exited 0 (ok), or the user
  // stopped the watch (interrupted). junit.xml's run case passes on it.
  bool ran_ok() const { return status == ArmStatus::ok || status == ArmStatus::interrupted; }

  nlohmann::json to_json() const;
};

// A watch's summary from its trace alone: the records `infermem watch` writes (docs/watch.md), fed
// one at a time in trace order. watch builds its summary.json with it and `infermem report`
// rebuilds it from trace.jsonl, so the two cannot disagree. Memory is bounded: the judged series
// is a SeriesBuilder, the windows the latest kMaxWindows.
class WatchTraceReader {
 public:
  void add(const trace::Record& record);
  // The summary of the records so far, judged now: the verdict and charts on the tree's total,
  // the processes, windows, notes, and how it ended from the end record (none yet: "unknown").
  // InputError naming `what` when no watch header was read.
  WatchSummary summary(const std::string& what) const;
  // The tree's highest total so far (the gate's peak) and the judged series.
  double peak_rss_bytes() const { return s_.peak_rss_bytes; }
  Series judged_series() const;

 private:
  void sample(const trace::Record& r);
  void note(const trace::Record& r);
  void end(const trace::Record& r);
  WatchSummary s_;
  bool header_ = false, ended_ = false;
  double hwm_now_ = kAbsent, cgroup_peak_ = kAbsent, oom_kills_ = kAbsent;
  double last_detail_ms_ = kAbsent, last_window_end_ms_ = 0;
  std::map<int, std::size_t> process_index_;  // pid -> index in s_.processes
  SeriesBuilder series_;
};

// Reads a watch's trace.jsonl (or any source of one) to its end into its summary. InputError
// when it is not a watch's trace.
WatchSummary watch_summary_from_trace(trace::Source& source, const std::string& what);
// `dir`/trace.jsonl.
WatchSummary load_watch_summary(const std::string& dir);
// A watch's output directory: its summary.json says "command": "watch", or (no summary.json, a
// watch stopped before it wrote one) its trace's header does.
bool is_watch_dir(const std::string& dir);

}  // namespace infermem
