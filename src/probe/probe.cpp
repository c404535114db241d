#include "infermem/probe.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "infermem/error.h"
#include "probe/proc_reader.h"

namespace infermem::probe {
namespace {

// Writes `text` to an existing kernel file; false when it cannot be opened or written.
bool write_control_file(const std::string& path, std::string_view text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = ::write(fd, text.data(), text.size());
  ::close(fd);
  return n == static_cast<ssize_t>(text.size());
}

}  // namespace

Reading read_process(int pid, unsigned sources) {
  if (pid <= 0) throw InputError(fmt::format("invalid pid {}", pid));
  ProcReader reader(pid, sources & ~static_cast<unsigned>(kAllocator));
  Values values;
  if (!reader.read(values))
    throw InputError(fmt::format("cannot read /proc/{}/status: {} (has pid {} exited?)", pid,
                                 std::strerror(errno), pid));
  return values.to_reading();
}

Reading read_self(unsigned sources) {
  ProcReader reader(0, sources);
  Values values;
  reader.read(values);
  return values.to_reading();
}

ResetResult reset_peaks(int pid) {
  if (pid == 0) pid = static_cast<int>(::getpid());
  ResetResult result;
  std::string dir = fmt::format("/proc/{}", pid);
  // 5 resets the peak resident set size (VmHWM) to the current one (Linux 4.0+).
  result.vm_hwm = write_control_file(dir + "/clear_refs", "5");
  if (auto text = read_text_file(dir + "/cgroup")) {
    CgroupDir where = find_memory_cgroup(*text);
    // v1 resets on any write; v2's memory.peak resets only for the writer's own descriptor
    // (Linux 6.12+), which is no use to a later reader, so v2 is reported as not reset.
    if (!where.dir.empty() && !where.v2)
      result.cgroup_peak = write_control_file(where.dir + "/memory.max_usage_in_bytes", "0");
  }
  return result;
}

}  // namespace infermem::probe
