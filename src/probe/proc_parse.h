#pragma once
// Parsers for the kernel's memory texts (/proc/PID/status, smaps, smaps_rollup, /proc/PID/cgroup,
// cgroup v1/v2 memory files) and the fixed table of value keys they fill. Pure functions of text,
// so recorded files test them and fuzzers drive them; status and rollup parsing never allocates.
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/probe.h"

namespace infermem::probe {

// Every value key the probe produces. Fixed slots let the sampler's hot path keep readings in
// plain arrays; names are converted only when a Reading leaves the probe.
enum class Key : int {
  kRss,
  kRssAnon,
  kRssFile,
  kRssShmem,
  kHwm,
  kSwap,
  kThreads,
  kPss,
  kPssAnon,
  kPssFile,
  kPrivateDirty,
  kSharedClean,
  kSmapsSwap,
  kCgroupCurrent,
  kCgroupPeak,
  kCgroupLimit,
  kCgroupAnon,
  kCgroupFile,
  kCgroupOomKill,
  kMallocArena,
  kMallocMmap,
  kMallocInUse,
  kMallocFree,
  kMallocKeepcost,
  kJemallocAllocated,
  kJemallocActive,
  kJemallocResident,
  kJemallocRetained,
  kAllocatorIsJemalloc,
  kAllocatorIsTcmalloc,
  kAllocatorIsMimalloc,
  kAllocatorIsSanitizer,
};
inline constexpr int kKeyCount = static_cast<int>(Key::kAllocatorIsSanitizer) + 1;
Figure figure_of(Key key);  // the trace figure a key reads

// One reading in fixed slots; NaN means "not read".
struct Values {
  double slot[kKeyCount];
  Values() { clear(); }
  void clear() {
    for (double& v : slot) v = NAN;
  }
  void set(Key k, double v) { slot[static_cast<int>(k)] = v; }
  bool has(Key k) const { return !std::isnan(slot[static_cast<int>(k)]); }
  double get(Key k) const { return slot[static_cast<int>(k)]; }
  // Keeps, per key, the larger of this and `other` (an absent side never wins over a present one).
  void max_with(const Values& other);
  Reading to_reading() const;
};

// /proc/PID/status: VmRSS, RssAnon, RssFile, RssShmem, VmHWM, VmSwap, Threads. Lines missing on
// old kernels (RssAnon before 4.5) leave their keys absent.
void parse_status(std::string_view text, Values& out);

// /proc/PID/statm ("size resident shared text lib data dt", in pages): rss_bytes (resident, the
// same counters as VmRSS) and rss_anon_bytes (resident - shared: shared counts file and shmem
// pages, as RssFile + RssShmem do). A process without memory (a zombie, a kernel thread) reads
// all zeros: nothing is set then, and neither for text that is not statm.
void parse_statm(std::string_view text, double page_bytes, Values& out);

// /proc/PID/smaps_rollup: Pss, Pss_Anon, Pss_File, Private_Dirty, Shared_Clean, Swap.
void parse_smaps_rollup(std::string_view text, Values& out);

// One mapping of /proc/PID/smaps. Per-mapping byte fields; NaN when the kernel has no such line.
struct Mapping {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  char perms[5] = {'-', '-', '-', '-', '\0'};
  std::string path;  // empty for anonymous mappings
  double rss_bytes = 0;
  double pss_bytes = 0;
  double pss_anon_bytes = NAN;
  double pss_file_bytes = NAN;
  double private_dirty_bytes = 0;
  double shared_clean_bytes = 0;
  double anonymous_bytes = 0;
  double swap_bytes = 0;
  bool readable() const { return perms[0] == 'r'; }
  bool executable() const { return perms[2] == 'x'; }
  bool shared() const { return perms[3] == 's'; }
  std::uint64_t size_bytes() const { return end - start; }
};
std::vector<Mapping> parse_smaps(std::string_view text);

// Kernels without smaps_rollup (before 4.14): the same keys summed over every mapping. Pss_Anon
// and Pss_File are only summed where the kernel prints them.
void sum_smaps(const std::vector<Mapping>& mappings, Values& out);

// Where a process's memory cgroup is, from /proc/PID/cgroup.
struct CgroupRef {
  std::optional<std::string> v1_memory_path;  // "4:memory:/a/b" -> "/a/b"
  std::optional<std::string> v2_path;         // "0::/a/b" -> "/a/b"
};
CgroupRef parse_proc_cgroup(std::string_view text);

// A single-number cgroup file (memory.current, memory.limit_in_bytes, ...). "max" and v1's
// "unlimited" (page-rounded LONG_MAX) give nullopt, as does anything that is not a number.
std::optional<double> parse_cgroup_number(std::string_view text);

// "key value" lines (memory.stat, memory.events, memory.oom_control): the value of `key`.
std::optional<double> parse_keyed_number(std::string_view text, std::string_view key);

}  // namespace infermem::probe
