#pragma once
// `infermem watch` as an application: attach to a pid or start a command (fork/exec, never a
// shell), follow its process tree with the probe's ProcessTree, stream trace.jsonl (the one trace
// format: a "watch" source), serve Prometheus metrics when asked, and at the end judge the tree's
// total with the verdict engine, gate it and write summary.json, report.md and junit.xml.
// Everything a user gives is checked by prepare_watch before anything is written.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "infermem/gate.h"
#include "infermem/watch_summary.h"

namespace infermem {

struct WatchOptions {
  int pid = 0;                       // --pid (pid mode); 0 in command mode
  std::vector<std::string> command;  // after "--" (command mode)
  double interval_ms = 100;          // 1 ms .. 1 h
  double duration_ms = 0;            // 0: until the process exits or Ctrl-C
  double window_ms = 1000;
  std::uint64_t memory_limit_bytes = 0;  // command mode: a fresh memory cgroup with this limit
  std::string out_dir;                   // checked (new or empty) by the caller
  int metrics_port = -1;                 // -1: no metrics; 0: any free port
  std::string metrics_bind = "127.0.0.1";
  // --label KEY=VALUE: constant labels on every exported series (a fleet's model, model_version,
  // ort_version, pod), each checked by parse_metric_label and no name twice.
  std::map<std::string, std::string> metric_labels;
  // The stats file of the service's ModelCache (infermem/cache_stats_file.h), read at every
  // detail sample. --cache-stats in pid mode; in command mode "" means <out_dir>/cache-stats.json,
  // and the command is started with INFERMEM_CACHE_STATS naming it.
  std::string cache_stats_path;
  GateConfig gate;
};

// What the live line and the plain periodic lines show.
struct WatchProgress {
  std::string line;
  bool periodic = false;  // one of the plain lines to print without a terminal (every 5 s)
  bool final = false;     // the watch is over (the live line should end with a newline)
};

class PreparedWatch;
struct PreparedWatchDeleter {
  void operator()(PreparedWatch* watch) const;  // stops a command still running, then frees
};
using WatchHandle = std::unique_ptr<PreparedWatch, PreparedWatchDeleter>;

// Attaches to the pid or starts the command, and binds the metrics port. InputError naming the
// pid, the command or the port when one of them cannot be used (a command that cannot be
// executed, a pid that does not exist or cannot be read, a port in use); nothing is written and
// no process is left behind then.
WatchHandle prepare_watch(const WatchOptions& options);

// Samples until --duration, the process's end or request_watch_stop(); then judges, gates and
// writes trace.jsonl (streamed all along), summary.json, report.md and junit.xml into
// options.out_dir, which must exist. WriteError when an output cannot be written.
WatchSummary run_watch(PreparedWatch& watch,
                       const std::function<void(const WatchProgress&)>& progress);

// The port metrics are served on (after prepare_watch), -1 without --metrics-port.
int metrics_port(const PreparedWatch& watch);
// The watched pid (after prepare_watch).
int watched_pid(const PreparedWatch& watch);
// Stops the command infermem started (TERM, then KILL after 2 s) and reaps it: when the run
// cannot go on after prepare_watch (the output directory could not be created).
void abandon_watch(PreparedWatch& watch);

// One `--label KEY=VALUE`: KEY a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*), not reserved
// (starting with "__", Prometheus's own; instance and job, set by the scrape; pid, command and
// the per-series labels watch sets itself: kind, bound, reason, model_path), VALUE non-empty
// UTF-8 (an empty value is no label to Prometheus). InputError naming the flag and what is wrong.
std::pair<std::string, std::string> parse_metric_label(std::string_view text);
// All of them, in order: the same, and a name given twice is an InputError.
std::map<std::string, std::string> parse_metric_labels(const std::vector<std::string>& texts);

// Async-signal-safe: asks a running watch to stop (Ctrl-C, SIGTERM).
void request_watch_stop();

// The command contract's exit code: 130 interrupted; 3 when the watched command failed or
// crashed; 1 when it was OOM-killed or a gate check failed; else 0. One line per reason.
int watch_exit_code(const WatchSummary& watch, std::vector<std::string>& problems);

}  // namespace infermem
