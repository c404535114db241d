#pragma once
// A fresh memory cgroup with a limit, for one child (v2 unified or v1 memory controller).
// The child joins it itself between fork and exec, so nothing it allocates escapes the limit.
#include <cstdint>
#include <optional>
#include <string>

namespace infermem {

class MemoryCgroup {
 public:
  // Returns nullopt and sets *why when no cgroup can be created here (not root, read-only
  // cgroupfs, no memory controller): the caller warns and goes on without a limit.
  static std::optional<MemoryCgroup> create(const std::string& name, std::uint64_t limit_bytes,
                                            std::string* why);
  MemoryCgroup(MemoryCgroup&& other) noexcept;
  MemoryCgroup& operator=(MemoryCgroup&&) = delete;
  ~MemoryCgroup();  // removes the cgroup (after its processes are gone)

  // Path of the file a process writes its pid into to join (async-signal-safe use after fork).
  const std::string& procs_file() const { return procs_file_; }
  const std::string& path() const { return path_; }
  int version() const { return version_; }
  // oom_kill count from memory.events (v2) or memory.oom_control (v1); nullopt when unreadable.
  std::optional<std::uint64_t> oom_kills() const;
  std::optional<std::uint64_t> max_usage_bytes() const;

 private:
  MemoryCgroup() = default;
  std::string path_;
  std::string procs_file_;
  int version_ = 0;
};

}  // namespace infermem
