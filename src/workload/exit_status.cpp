#include "workload/exit_status.h"

#include <fmt/format.h>
#include <sys/wait.h>
#include <csignal>

#include "infermem/units.h"

namespace infermem {

std::string signal_name(int sig) {
  switch (sig) {
    case SIGKILL:
      return "SIGKILL";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGABRT:
      return "SIGABRT";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    default:
      return fmt::format("signal {}", sig);
  }
}

ArmEnd classify_child_end(const ChildEnd& end, const ArmAccumulator& records) {
  ArmEnd out;
  const int status = end.wait_status;
  if (WIFEXITED(status)) {
    int code = WEXITSTATUS(status);
    if (end.interrupted && !records.child_finished_ok()) {
      out.status = ArmStatus::interrupted;
      out.detail = "stopped by Ctrl-C";
    } else if (code == 0 && records.child_finished_ok()) {
      out.status = ArmStatus::ok;
    } else if (records.child_reported_end() && !records.child_error().empty()) {
      // The workload said what went wrong (ORT rejected an input, the model did not load).
      out.status = ArmStatus::failed;
      out.detail = fmt::format("at request {}: {}", end.req, records.child_error());
    } else {
      out.status = ArmStatus::crashed;
      out.detail = code == 127 ? fmt::format("could not start {}", end.program)
                               : fmt::format("exited with code {}", code);
    }
    return out;
  }
  if (!WIFSIGNALED(status)) return out;
  int sig = WTERMSIG(status);
  if (end.timed_out) {
    out.status = ArmStatus::timeout;
    out.detail = fmt::format("killed after {:.0f} ms", end.arm_timeout_ms);
  } else if (end.interrupted) {
    out.status = ArmStatus::interrupted;
    out.detail = "stopped by Ctrl-C";
  } else if (sig == SIGKILL && end.oom_kills > 0) {
    out.status = ArmStatus::oom_killed;
    out.detail = fmt::format(
        "killed by the kernel's OOM killer at request {} (cgroup v{} limit {}; oom_kill count {})",
        end.req, end.cgroup_version, format_bytes(static_cast<double>(end.memory_limit_bytes)),
        end.oom_kills);
    double last = records.figures().last_rss_bytes;
    if (present(last)) out.detail += fmt::format("; last sampled RSS {}", format_bytes(last));
  } else {
    out.status = ArmStatus::crashed;
    out.detail = fmt::format("killed by {} at request {}", signal_name(sig), end.req);
  }
  return out;
}

}  // namespace infermem
