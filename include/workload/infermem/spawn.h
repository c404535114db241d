#pragma once
// The one way infermem starts a process it then supervises: soak's workers and the command
// `infermem watch` follows. fork, then in the child (async-signal-safe calls only): a process
// group of its own (a timeout or Ctrl-C stops what it started too), the memory cgroup joined
// before exec, the record pipe on descriptor 3, a log on standard output and error, and exec
// (PATH searched when the program has no slash; never a shell). An exec that fails is passed
// back through a close-on-exec pipe.
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace infermem {

struct SpawnSpec {
  std::string program;            // what is executed: a path, or a name looked up on PATH
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // the whole environment, NAME=VALUE
  std::string cgroup_procs;       // a cgroup's procs file to join first ("": none)
  int records_fd = -1;            // becomes descriptor 3 in the child (-1: none)
  int log_fd = -1;                // becomes standard output and error (-1: inherited)
};

struct Spawned {
  pid_t pid = -1;
  // errno of a failed exec (0: it executed). The child has then exited with 127 and is still to
  // be reaped: a caller that refuses the run reaps it, one that reports it lets waitpid say so.
  int exec_errno = 0;
};

// WorkloadError when fork or the error pipe fails.
Spawned spawn_process(const SpawnSpec& spec);

// The wait status once `pid` (a child of this process) has ended; nullopt while it runs.
std::optional<int> try_reap(pid_t pid);
// Stops a child and its process group: SIGTERM, then SIGKILL after grace_ms; its wait status.
int stop_and_reap(pid_t pid, double grace_ms);

// infermem's own environment with each NAME=VALUE of `set` added, replacing a variable of that
// name.
std::vector<std::string> environment_with(const std::vector<std::string>& set);

}  // namespace infermem
