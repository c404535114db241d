#pragma once
// Honest readings of a process's memory from the kernel (/proc/PID/status, smaps_rollup, the
// memory cgroup) and, in-process, from the allocator. A value that could not be read is absent,
// never zero and never estimated. docs/measurement.md says where every key comes from.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "infermem/figure.h"

namespace infermem::probe {

// One reading. Only figures that could be read are present (trace::kReadingFigures lists them).
struct Reading {
  Figures values;
  std::optional<double> get(Figure f) const { return values.get(f); }
};

// Which sources to read (cheap status-only for high-rate sampling; everything for phase ends).
// kStatm is the cheapest reading of all (/proc/PID/statm: rss_bytes and rss_anon_bytes only, no
// high-water mark); it is not part of kAll, whose kStatus gives the same figures and more.
enum Source : unsigned {
  kStatus = 1,
  kSmapsRollup = 2,
  kCgroup = 4,
  kAllocator = 8,
  kAll = 15,
  kStatm = 16,
};

// Reads another (or this) process from outside. kAllocator is ignored: an allocator can only be
// read from inside. Throws InputError naming the pid and the file if /proc/PID/status cannot be
// read (dead or foreign pid). Other missing files only leave their keys absent.
Reading read_process(int pid, unsigned sources = kStatus | kSmapsRollup | kCgroup);

// Reads this process; kAllocator adds glibc mallinfo2 figures, or jemalloc's / tcmalloc's when
// one of them is the loaded allocator (allocator_is_jemalloc_count = 1, ..._tcmalloc_count = 1).
Reading read_self(unsigned sources = kAll);

// Resets the kernel high-water marks of pid: VmHWM via `echo 5 > /proc/PID/clear_refs`, and the
// cgroup v1 memory.max_usage_in_bytes of its memory cgroup (shared with every process in it).
// cgroup v2 memory.peak resets only per open file descriptor, so it is reported as not reset.
struct ResetResult {
  bool vm_hwm = false;
  bool cgroup_peak = false;
};
ResetResult reset_peaks(int pid);

// ---- snapshot: what the resident set is made of, from /proc/PID/smaps --------------------------

// Categories of mappings, in table order. The heuristics are documented in docs/measurement.md.
enum class Category {
  kOnnxRuntime,   // path contains "libonnxruntime"
  kLibraries,     // other executables and shared libraries (any mapping of an ELF with code)
  kMappedFiles,   // other file-backed mappings: models, data files
  kHeap,          // [heap] (brk)
  kAnonymous,     // private anonymous mappings: malloc arenas, mmap'd blocks, ORT arena chunks
  kThreadStacks,  // [stack], and private anonymous rw mappings right above a small guard page
  kSharedMemory,  // /dev/shm, SYSV, memfd, shared anonymous
  kOther,         // [vdso], [vvar], [vsyscall], ...
};
inline constexpr int kCategoryCount = 8;
const char* category_name(Category c);  // "onnxruntime", "libraries", ...

struct CategoryUsage {
  double rss_bytes = 0;
  double pss_bytes = 0;
  double anonymous_bytes = 0;
  double swap_bytes = 0;
  std::uint64_t mappings_count = 0;
};

struct Snapshot {
  int pid = 0;
  CategoryUsage categories[kCategoryCount];
  CategoryUsage total;
  Reading status;  // from /proc/PID/status (rss_bytes is VmRSS: compare with total.rss_bytes)
  Reading cgroup;  // from the memory cgroup; empty when none could be read
  std::string cgroup_dir;  // the cgroup directory read, empty when none
};

// Throws InputError naming the pid and file if /proc/PID/smaps or status cannot be read.
Snapshot take_snapshot(int pid);

}  // namespace infermem::probe
