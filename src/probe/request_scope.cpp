#include "infermem/request_scope.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string_view>

#include "infermem/series.h"
#include "probe/proc_parse.h"
#include "probe/proc_reader.h"

namespace infermem {
namespace {

// /proc/self files opened once per process and read with pread (no allocation, no open per
// reading). /proc/self resolves at open: after fork() a child would read its parent's files, so
// the descriptors are reopened when the pid changed.
class SelfFiles {
 public:
  static SelfFiles& get() {
    static SelfFiles files;
    return files;
  }
  int statm() { return fd(statm_); }
  int status() { return fd(status_); }
  int clear_refs() { return fd(clear_refs_); }

 private:
  struct File {
    const char* path;
    int flags;
    int fd = -1;
    pid_t pid = 0;
  };
  File statm_{"/proc/self/statm", O_RDONLY | O_CLOEXEC};
  File status_{"/proc/self/status", O_RDONLY | O_CLOEXEC};
  File clear_refs_{"/proc/self/clear_refs", O_WRONLY | O_CLOEXEC};
  std::mutex mutex_;

  int fd(File& f) {
    pid_t pid = ::getpid();
    std::lock_guard lock(mutex_);
    if (f.pid != pid) {
      if (f.fd >= 0) ::close(f.fd);
      f.fd = ::open(f.path, f.flags);
      f.pid = pid;
    }
    return f.fd;
  }
};

// ru_maxrss counts KiB, statm pages: one page of slack when comparing them.
constexpr double kPageSlack = 4096;

double page_size() {
  static const double size = static_cast<double>(::sysconf(_SC_PAGESIZE));
  return size;
}

// Scopes open now. The mark is reset only when a scope opens with none open, so while a scope
// is open nobody resets it: its peak covers at least its own window.
std::mutex g_scopes_mutex;
int g_open_scopes = 0;
bool g_reset_works = true;  // cleared the first time clear_refs cannot be written

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// getrusage's ru_maxrss is max(the mm's high-water mark, the marks of threads that exited), and
// clear_refs resets only the first. Read in bytes; NaN on failure.
double rusage_maxrss_bytes() {
  struct rusage usage {};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return kAbsent;
  return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

}  // namespace

namespace self {

double rss_bytes() {
  int fd = SelfFiles::get().statm();
  char buffer[128];
  ssize_t n = fd >= 0 ? ::pread(fd, buffer, sizeof buffer - 1, 0) : -1;
  if (n <= 0) return kAbsent;
  // "size resident shared text lib data dt", in pages.
  std::string_view text(buffer, static_cast<std::size_t>(n));
  auto space = text.find(' ');
  if (space == std::string_view::npos) return kAbsent;
  std::uint64_t pages = 0;
  auto rest = text.substr(space + 1);
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pages);
  if (ec != std::errc() || end == rest.data()) return kAbsent;
  return static_cast<double>(pages) * page_size();
}

double hwm_bytes() {
  int fd = SelfFiles::get().status();
  char buffer[4096];
  ssize_t n = fd >= 0 ? ::pread(fd, buffer, sizeof buffer, 0) : -1;
  if (n <= 0) return kAbsent;
  probe::Values values;
  probe::parse_status(std::string_view(buffer, static_cast<std::size_t>(n)), values);
  return values.get(probe::Key::kHwm);
}

bool reset_hwm() {
  int fd = SelfFiles::get().clear_refs();
  return fd >= 0 && ::pwrite(fd, "5", 1, 0) == 1;
}

double allocator_in_use_bytes() {
  probe::Values values;
  probe::read_allocator(values);
  return values.get(probe::Key::kMallocInUse);
}

}  // namespace self

RequestScope::RequestScope(RequestScopeOptions options) : options_(options) {
  if (options_.peak) {
    std::lock_guard lock(g_scopes_mutex);
    if (g_open_scopes++ == 0 && g_reset_works) {
      g_reset_works = self::reset_hwm();
      peak_reset_ = g_reset_works;
    }
  }
  figures_.rss_start_bytes = self::rss_bytes();
  if (options_.peak) rusage_open_bytes_ = rusage_maxrss_bytes();
  figures_.allocator_in_use_growth_bytes =
      options_.allocator ? self::allocator_in_use_bytes() : kAbsent;
  start_ns_ = now_ns();
}

RequestScope::~RequestScope() {
  close();
}

RequestFigures RequestScope::close() {
  if (closed_) return figures_;
  closed_ = true;
  figures_.duration_ms = static_cast<double>(now_ns() - start_ns_) / 1e6;
  figures_.rss_end_bytes = self::rss_bytes();
  figures_.growth_bytes = figures_.rss_end_bytes - figures_.rss_start_bytes;
  if (options_.allocator)
    figures_.allocator_in_use_growth_bytes =
        self::allocator_in_use_bytes() - figures_.allocator_in_use_growth_bytes;
  figures_.peak_bytes = kAbsent;
  if (options_.peak) {
    bool readable = false;
    {
      std::lock_guard lock(g_scopes_mutex);
      readable = peak_reset_ || g_reset_works;
    }
    // This scope still counts as open, so no other scope resets the mark before this read.
    if (readable) {
      // getrusage (half a microsecond) instead of /proc/self/status (a dozen) when it is the
      // mark: it was at open (not above the resident set: no exited thread's older mark over
      // it), or it moved since (then it is the mark again, which only rises since its reset).
      double maxrss = rusage_maxrss_bytes();
      bool is_mark = present(maxrss) && present(rusage_open_bytes_) &&
                     (maxrss > rusage_open_bytes_ ||
                      rusage_open_bytes_ <= figures_.rss_start_bytes + kPageSlack);
      figures_.peak_bytes = is_mark ? maxrss : self::hwm_bytes();
    }
    figures_.peak_shared = readable && !peak_reset_;
    std::lock_guard lock(g_scopes_mutex);
    --g_open_scopes;
  }
  if (options_.peak) {
    // The kernel's mark lags RSS by its per-thread counter batching; the close reading is a
    // floor the peak can never be under.
    if (std::isfinite(figures_.peak_bytes) && std::isfinite(figures_.rss_end_bytes) &&
        figures_.rss_end_bytes > figures_.peak_bytes)
      figures_.peak_bytes = figures_.rss_end_bytes;
  }
  return figures_;
}

}  // namespace infermem
