#pragma once
// How a soak child ended, as its arm's status and a line saying why: from its wait status, what
// the parent did to it (killed it at --arm-timeout, stopped it on Ctrl-C), its memory cgroup's
// OOM-kill count and what its own records said. Private to src/workload (the runner's).
// `infermem watch` classifies the command it started on its own (src/app/watch_exit.h): a
// command is not a worker and reports nothing of its own.
#include <cstdint>
#include <string>

#include "infermem/arm_figures.h"

namespace infermem {

struct ChildEnd {
  int wait_status = 0;          // as waitpid() gave it
  bool timed_out = false;       // the parent killed it at --arm-timeout
  bool interrupted = false;     // the user stopped the run (Ctrl-C, SIGTERM)
  std::int64_t req = 0;         // requests done when it ended, from its last record
  std::uint64_t oom_kills = 0;  // oom_kill count of the child's own memory cgroup (0: none)
  int cgroup_version = 0;       // of that cgroup
  std::uint64_t memory_limit_bytes = 0;  // --memory-limit
  double arm_timeout_ms = 0;             // --arm-timeout
  std::string program;                   // what was executed, for "could not start"
};

struct ArmEnd {
  ArmStatus status = ArmStatus::ok;
  std::string detail;
};

// ok: exit 0 after the child's own "ok" end record. failed: the child reported an error (ORT
// rejected an input, the model did not load). crashed: any other exit or a signal. oom-killed:
// SIGKILL with the cgroup's OOM counter raised. timeout and interrupted: what the parent did.
ArmEnd classify_child_end(const ChildEnd& end, const ArmAccumulator& records);

// "SIGSEGV", "SIGKILL", ..., or "signal N".
std::string signal_name(int sig);

}  // namespace infermem
