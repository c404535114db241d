#include "app/watch_exit.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <csignal>
#include <cstring>

#include "infermem/units.h"

namespace infermem {
namespace {

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

void classify_command_end(const CommandEnd& end, WatchSummary& s) {
  const int st = end.wait_status;
  if (end.stopped_by_us) {
    s.status = s.interrupted ? ArmStatus::interrupted : ArmStatus::ok;
    s.status_detail = fmt::format("stopped by infermem when the watch ended: {}", s.ended);
  } else if (WIFEXITED(st)) {
    s.exit_code = WEXITSTATUS(st);
    s.status = *s.exit_code == 0 ? ArmStatus::ok : ArmStatus::failed;
    s.status_detail = fmt::format("exited with status {}", *s.exit_code);
  } else if (WIFSIGNALED(st)) {
    const int sig = WTERMSIG(st);
    s.signal = signal_name(sig);
    if (sig == SIGKILL && end.oom_kills > 0) {
      s.status = ArmStatus::oom_killed;
      s.oom_at_ms = s.elapsed_ms;
      s.oom_last_rss_bytes = s.last_rss_bytes;
      if (end.cgroup_peak_bytes) s.oom_cgroup_peak_bytes = *end.cgroup_peak_bytes;
      s.status_detail = fmt::format(
          "killed by the kernel's OOM killer at {:.2f} s under --memory-limit {} (cgroup v{}, "
          "oom_kill count {}); last tree memory sampled {}",
          s.oom_at_ms / 1000.0, format_bytes(s.memory_limit_bytes), end.cgroup_version,
          end.oom_kills, present(s.last_rss_bytes) ? format_bytes(s.last_rss_bytes) : "-");
    } else {
      s.status = ArmStatus::crashed;
      s.status_detail = fmt::format("killed by {}", s.signal);
    }
  }
}

}  // namespace infermem
