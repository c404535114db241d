#pragma once
// How a process infermem started ended: one classifier for soak's workers and for the command
// `infermem watch` follows. From the wait status, what infermem did to it (killed it at
// --arm-timeout, stopped it on Ctrl-C or at the end of a watch), its memory cgroup's OOM-kill
// count and, for a worker, what its own records said, into a status (ok | failed | crashed |
// oom-killed | timeout | interrupted) and a line that says why. The rules are one; the words each
// command uses are data (ExitWording): soak says "at request 42", watch "at 2.50 s".
#include <cstdint>
#include <optional>
#include <string>

#include "infermem/arm_figures.h"

namespace infermem {

// What a process said of its own end (a soak worker's end record). A command says nothing.
struct SelfReport {
  bool reported_end = false;  // it wrote its end record
  bool finished_ok = false;   // ... with status "ok"
  std::string error;          // ... or the error it failed with
};
SelfReport self_report_of(const ArmAccumulator& records);

// What infermem did to it before it ended.
enum class Stop {
  none,
  timeout,      // killed at --arm-timeout
  interrupted,  // the user stopped the run (Ctrl-C, SIGTERM)
  at_end,       // the watch ended (--duration): stopping the command is not its failure
};

struct ProcessEnd {
  int wait_status = 0;  // as waitpid() gave it
  Stop stop = Stop::none;
  std::uint64_t oom_kills = 0;  // oom_kill count of the process's own memory cgroup (0: none)
  int cgroup_version = 0;       // of that cgroup
  double memory_limit_bytes = kAbsent;
  double last_rss_bytes = kAbsent;   // the last reading taken from outside
  std::optional<SelfReport> report;  // a worker's; none for a command
  // Named arguments of the wording: where it was when it ended ("request 42", "2.50 s"), what
  // was executed (for "could not start"), --arm-timeout, how the watch ended ("duration").
  std::string at;
  std::string program;
  double timeout_ms = 0;
  std::string ended;
};

// The words a command uses, as fmt templates over the named arguments {at}, {code}, {program},
// {signal}, {timeout_ms}, {ended}, {error}, {cgroup}, {limit}, {kills}, {last}, {rss}.
struct ExitWording {
  std::string ok;               // exit 0: "" (a worker) or "exited with status {code}"
  std::string exited;           // an exit code: "exited with code {code}"
  std::string could_not_start;  // exit 127 of a worker; "" when 127 is an ordinary exit code
  std::string failed;           // a worker's own error: "at request {at}: {error}"
  std::string killed;           // a signal: "killed by {signal} at request {at}"
  std::string oom;              // the OOM killer ({last}: last_rss or last_rss_unknown)
  std::string last_rss;         // "; last sampled RSS {rss}"
  std::string last_rss_unknown;
  std::string timed_out;    // "killed after {timeout_ms:.0f} ms"
  std::string interrupted;  // "stopped by Ctrl-C"
  std::string stopped_at_end;
};
// soak's worker: "killed by SIGSEGV at request 42", "exited with code 3", ...
const ExitWording& worker_wording();
// watch's command: "killed by SIGSEGV", "exited with status 3", ...
const ExitWording& command_wording();

struct ExitClass {
  ArmStatus status = ArmStatus::ok;
  std::string detail;
  std::optional<int> exit_code;  // when it exited by itself
  std::string signal;            // "SIGKILL" when a signal ended it (not infermem's own stop)
};

// ok: exit 0 (after a worker's own "ok"), or stopped at the watch's end. failed: a worker reported
// an error, or a command exited non-zero. crashed: a signal, or a worker's exit without a clean
// report. oom-killed: SIGKILL with the cgroup's OOM counter raised. timeout and interrupted: what
// infermem did (a worker that had finished before a Ctrl-C reached it still counts as ok).
ExitClass classify_exit(const ProcessEnd& end, const ExitWording& wording);

// "SIGSEGV", "SIGKILL", "SIGPIPE", ..., or "signal N".
std::string signal_name(int sig);

}  // namespace infermem
