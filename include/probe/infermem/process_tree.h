#pragma once
// A process and its descendants read together, for `watch`: children that come and go (a
// pre-fork server's workers) are found and dropped as they appear and exit. Every sample reads
// only /proc/PID/statm of each process (resident and anonymous pages: the cheapest reading the
// kernel offers); every `detail_every`-th sample also reads status (the split by kind, VmHWM) and
// the root's memory cgroup, and every `rollup_every`-th smaps_rollup (PSS), which walks every
// mapping's page tables and costs milliseconds on a large process. Files stay open.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "infermem/probe.h"

namespace infermem::probe {

struct TreeOptions {
  int root_pid = 0;
  std::uint64_t detail_every = 1;  // status + cgroup every Nth sample (1: always)
  std::uint64_t rollup_every = 1;  // smaps_rollup every Nth sample
  std::uint64_t rescan_every = 1;  // look for new children every Nth sample
  // Read the root's memory cgroup on detail samples, unless it is the hierarchy's root (the whole
  // machine's figures would not describe the process).
  bool cgroup = true;
};

// One process in a sample.
struct ProcessSample {
  int pid = 0;
  int ppid = 0;
  std::string name;       // /proc/PID/comm
  double rss_bytes = 0;   // statm resident
  double anon_bytes = 0;  // statm resident - shared
  Reading detail;         // status (+ smaps_rollup) keys, on detail samples only
};

struct TreeSample {
  bool root_alive = true;  // false once the root could not be read (it exited)
  bool detail = false;     // status was read in this sample
  bool rollup = false;     // smaps_rollup was read in this sample
  double rss_bytes = 0;    // sum over the tree (statm)
  double anon_bytes = 0;   // sum over the tree (statm)
  // Detail samples: every numeric status (and on rollup samples smaps_rollup) key summed over the
  // tree (hwm_bytes is then the sum of each process's own VmHWM: exact for one process, an upper
  // bound on the tree's peak otherwise), plus the root's cgroup keys (not summed: the cgroup is one
  // figure).
  Reading total;
  std::vector<ProcessSample> processes;  // root first, then in the order they were found
};

class ProcessTree {
 public:
  // InputError naming the pid when /proc/PID/status of the root cannot be read.
  explicit ProcessTree(TreeOptions options);
  ~ProcessTree();
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;

  // Takes one sample into `out` (its vectors are reused: no allocation once the tree is stable).
  void sample(TreeSample& out);
  std::uint64_t samples_taken() const { return samples_; }
  int root_pid() const { return options_.root_pid; }
  // The root's memory cgroup directory, empty when none is read.
  const std::string& cgroup_dir() const;

 private:
  struct Process;
  void rescan();
  void add_process(int pid, int ppid);

  TreeOptions options_;
  std::uint64_t samples_ = 0;
  std::vector<std::unique_ptr<Process>> processes_;  // root first
};

// The children of `pid` (every thread's /proc/PID/task/TID/children), or, on a kernel without
// those files, of a scan of /proc. Empty when pid has none or has exited.
std::vector<int> child_pids(int pid);

}  // namespace infermem::probe
