#pragma once
// How the command `infermem watch` started ended, into the summary's status, detail, exit code,
// signal and OOM figures. Private to src/app (watch_app.cpp's). soak classifies its workers on its
// own (src/workload/exit_status.h): a worker also reports its own end, a command does not.
#include <cstdint>
#include <optional>

#include "infermem/watch_summary.h"

namespace infermem {

struct CommandEnd {
  int wait_status = 0;          // as waitpid() gave it
  bool stopped_by_us = false;   // infermem stopped it because the watch ended (--duration, Ctrl-C)
  std::uint64_t oom_kills = 0;  // oom_kill count of the command's memory cgroup (0: none)
  int cgroup_version = 0;
  std::optional<double> cgroup_peak_bytes;  // that cgroup's own peak, when readable
};

// Reads s.interrupted, s.ended, s.elapsed_ms, s.last_rss_bytes and s.memory_limit_bytes. ok: exit
// 0, or stopped by infermem (interrupted on Ctrl-C); failed: any other exit code; oom-killed:
// SIGKILL with the cgroup's OOM counter raised; crashed: any other signal.
void classify_command_end(const CommandEnd& end, WatchSummary& s);

}  // namespace infermem
