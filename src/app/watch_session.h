#pragma once
// A prepared watch (private to src/app): what prepare_watch attached to or started, shared by
// watch_app.cpp (attach or spawn, how the command ended) and watch_run.cpp (the sampling loop).
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/watch_metrics.h"
#include "infermem/cgroup_limit.h"
#include "infermem/process_tree.h"
#include "infermem/trace.h"
#include "infermem/watch_app.h"

namespace infermem {

class PreparedWatch {
 public:
  WatchOptions options;
  int pid = 0;
  bool started = false;  // command mode: infermem started it (and reaps it)
  std::optional<MemoryCgroup> cgroup;
  std::string cgroup_note;
  std::unique_ptr<probe::ProcessTree> tree;
  std::unique_ptr<WatchMetrics> metrics;
  std::vector<std::string> command;
  bool reaped = false;
  int wait_status = 0;

  ~PreparedWatch() { stop_command(); }
  // Stops a command infermem started (its whole process group), TERM then KILL after 2 s.
  void stop_command();
  // True once the command infermem started has ended (and is reaped).
  bool try_reap();
  // Waits for the command's end (its root is gone from /proc).
  void reap();
};

// The end record of a watch (`arm`, edge "result"): status, how the watch and the process ended
// ("exit"), the verdict kind and the gate's checks (filled by the caller), the cache stats. How a
// command infermem started ended is classified by the one exit classifier
// (infermem/process_exit.h) in watch's words.
trace::Record watch_end_record(PreparedWatch& w, const std::string& ended, bool interrupted,
                               double elapsed_ms, double last_rss_bytes);

}  // namespace infermem
