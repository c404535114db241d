#pragma once
// Reads one process's memory files into fixed Values, keeping the files open so that a reading at
// 1 kHz costs one pread per file and no allocation. Shared by read_process() and the Sampler.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probe/proc_parse.h"

namespace infermem::probe {

// A kernel text file read whole with pread from offset 0 on a descriptor opened once.
class ProcFile {
 public:
  ProcFile() = default;
  explicit ProcFile(std::string path);
  ~ProcFile();
  ProcFile(ProcFile&& other) noexcept;
  ProcFile& operator=(ProcFile&& other) noexcept;
  ProcFile(const ProcFile&) = delete;
  ProcFile& operator=(const ProcFile&) = delete;

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }
  int open_errno() const { return open_errno_; }
  // The whole file into `buffer` (grown when needed); nullopt when unreadable, errno kept.
  // single_record: the file is one seq_file record (status, smaps_rollup, cgroup files), so one
  // short pread is all of it; otherwise (smaps) read until end of file.
  std::optional<std::string_view> read(std::vector<char>& buffer, bool single_record = true);

 private:
  std::string path_;
  int fd_ = -1;
  int open_errno_ = 0;
};

// The memory cgroup of a process: its directory and layout (v1 or v2), found through
// /proc/PID/cgroup and the usual mount points under `sys_root` (normally "/sys/fs/cgroup").
struct CgroupDir {
  std::string dir;  // empty when no memory cgroup could be found
  bool v2 = false;
};
CgroupDir find_memory_cgroup(std::string_view proc_cgroup_text,
                             const std::string& sys_root = "/sys/fs/cgroup");

class CgroupReader {
 public:
  explicit CgroupReader(const CgroupDir& where);
  void read(std::vector<char>& buffer, Values& out);
  const CgroupDir& where() const { return where_; }

 private:
  CgroupDir where_;
  ProcFile current_, peak_, limit_, stat_, events_;
};

class ProcReader {
 public:
  // pid 0 = this process. Throws InputError naming the pid and file when /proc/PID/status
  // cannot be opened (no such process, or not ours to read).
  ProcReader(int pid, unsigned sources);
  // False when /proc/PID/status (or statm, when read without status) could no longer be read,
  // or statm says the process has no memory left (the process exited).
  bool read(Values& out);
  int pid() const { return pid_; }
  const std::string& cgroup_dir() const;

 private:
  int pid_;
  unsigned sources_;
  std::vector<char> buffer_;
  ProcFile status_, rollup_, statm_;
  double page_bytes_ = 0;
  std::string smaps_path_;  // fallback when smaps_rollup is missing (kernels before 4.14)
  std::unique_ptr<CgroupReader> cgroup_;
};

// In-process allocator figures (glibc mallinfo2, or jemalloc/tcmalloc found at run time).
void read_allocator(Values& out);

// Reads a whole small file; nullopt when it cannot be read.
std::optional<std::string> read_text_file(const std::string& path, int* error = nullptr);

}  // namespace infermem::probe
