#include "probe/proc_reader.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "infermem/error.h"

#if defined(INFERMEM_SANITIZED)
#include <sanitizer/allocator_interface.h>
#endif

namespace infermem::probe {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Joins a mount point and a cgroup path ("/" stays the mount point itself).
std::string join(const std::string& root, const std::string& path) {
  if (path == "/") return root;
  return root + path;
}

struct CgroupLayout {
  const char* current;
  const char* peak;
  const char* limit;
  const char* stat;
  const char* events;
  const char* stat_anon;  // key in memory.stat
  const char* stat_file;
  const char* stat_anon_fallback;  // v1 without hierarchy totals
  const char* stat_file_fallback;
};
constexpr CgroupLayout kV1 = {"memory.usage_in_bytes",
                              "memory.max_usage_in_bytes",
                              "memory.limit_in_bytes",
                              "memory.stat",
                              "memory.oom_control",
                              "total_rss",
                              "total_cache",
                              "rss",
                              "cache"};
constexpr CgroupLayout kV2 = {"memory.current", "memory.peak",   "memory.max",
                              "memory.stat",    "memory.events", "anon",
                              "file",           nullptr,         nullptr};

}  // namespace

// ---- ProcFile ----------------------------------------------------------------------------------

ProcFile::ProcFile(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) open_errno_ = errno;
}

ProcFile::~ProcFile() {
  if (fd_ >= 0) ::close(fd_);
}

ProcFile::ProcFile(ProcFile&& other) noexcept
    : path_(std::move(other.path_)), fd_(other.fd_), open_errno_(other.open_errno_) {
  other.fd_ = -1;
}

ProcFile& ProcFile::operator=(ProcFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = other.fd_;
    open_errno_ = other.open_errno_;
    other.fd_ = -1;
  }
  return *this;
}

std::optional<std::string_view> ProcFile::read(std::vector<char>& buffer, bool single_record) {
  if (fd_ < 0) return std::nullopt;
  if (buffer.size() < 16384) buffer.resize(16384);
  std::size_t used = 0;
  for (;;) {
    std::size_t room = buffer.size() - used;
    ssize_t n = ::pread(fd_, buffer.data() + used, room, static_cast<off_t>(used));
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    used += static_cast<std::size_t>(n);
    // A single-record seq file returns its whole text in one read when it fits, so a short read
    // is the end; this saves a second pread, which would make the kernel render the file again.
    // Multi-record files (smaps) return a page or so per read: read until 0.
    if (n == 0 || (single_record && static_cast<std::size_t>(n) < room)) break;
    if (buffer.size() - used < 4096) buffer.resize(buffer.size() * 2);
  }
  return std::string_view(buffer.data(), used);
}

std::optional<std::string> read_text_file(const std::string& path, int* error) {
  ProcFile file(path);
  std::vector<char> buffer;
  auto text = file.read(buffer, /*single_record=*/false);
  if (!text) {
    if (error) *error = file.is_open() ? errno : file.open_errno();
    return std::nullopt;
  }
  return std::string(*text);
}

// ---- cgroups -----------------------------------------------------------------------------------

CgroupDir find_memory_cgroup(std::string_view proc_cgroup_text, const std::string& sys_root) {
  CgroupRef ref = parse_proc_cgroup(proc_cgroup_text);
  // A v1 memory controller, when mounted, is where memory is accounted (hybrid hosts also have a
  // "0::" line whose unified hierarchy has no memory controller).
  if (ref.v1_memory_path) {
    std::string dir = join(sys_root + "/memory", *ref.v1_memory_path);
    if (file_exists(dir + "/" + kV1.current)) return {dir, false};
  }
  if (ref.v2_path) {
    for (const char* mount : {"", "/unified"}) {
      std::string dir = join(sys_root + mount, *ref.v2_path);
      if (file_exists(dir + "/" + kV2.current)) return {dir, true};
    }
  }
  return {};
}

CgroupReader::CgroupReader(const CgroupDir& where) : where_(where) {
  if (where_.dir.empty()) return;
  const CgroupLayout& layout = where_.v2 ? kV2 : kV1;
  auto open = [&](const char* name) { return ProcFile(where_.dir + "/" + name); };
  current_ = open(layout.current);
  peak_ = open(layout.peak);
  limit_ = open(layout.limit);
  stat_ = open(layout.stat);
  events_ = open(layout.events);
}

void CgroupReader::read(std::vector<char>& buffer, Values& out) {
  if (where_.dir.empty()) return;
  const CgroupLayout& layout = where_.v2 ? kV2 : kV1;
  auto number = [&](ProcFile& file, Key key) {
    if (auto text = file.read(buffer))
      if (auto v = parse_cgroup_number(*text)) out.set(key, *v);
  };
  number(current_, Key::kCgroupCurrent);
  number(peak_, Key::kCgroupPeak);
  number(limit_, Key::kCgroupLimit);  // absent when "max" / unlimited
  if (auto text = stat_.read(buffer)) {
    auto keyed = [&](const char* name, const char* fallback, Key key) {
      auto v = parse_keyed_number(*text, name);
      if (!v && fallback) v = parse_keyed_number(*text, fallback);
      if (v) out.set(key, *v);
    };
    keyed(layout.stat_anon, layout.stat_anon_fallback, Key::kCgroupAnon);
    keyed(layout.stat_file, layout.stat_file_fallback, Key::kCgroupFile);
  }
  if (auto text = events_.read(buffer))
    if (auto v = parse_keyed_number(*text, "oom_kill")) out.set(Key::kCgroupOomKill, *v);
}

// ---- ProcReader --------------------------------------------------------------------------------

ProcReader::ProcReader(int pid, unsigned sources)
    : pid_(pid == 0 ? static_cast<int>(::getpid()) : pid), sources_(sources) {
  std::string dir = fmt::format("/proc/{}", pid_);
  status_ = ProcFile(dir + "/status");
  if (!status_.is_open() || !status_.read(buffer_))
    throw InputError(fmt::format("cannot read {}/status: {} (is pid {} running and readable?)", dir,
                                 std::strerror(status_.is_open() ? errno : status_.open_errno()),
                                 pid_));
  if (sources_ & kStatm) {
    statm_ = ProcFile(dir + "/statm");
    page_bytes_ = static_cast<double>(::sysconf(_SC_PAGESIZE));
  }
  if (sources_ & kSmapsRollup) {
    rollup_ = ProcFile(dir + "/smaps_rollup");
    if (!rollup_.is_open() && rollup_.open_errno() == ENOENT) smaps_path_ = dir + "/smaps";
  }
  if (sources_ & kCgroup) {
    CgroupDir where;
    if (auto text = read_text_file(dir + "/cgroup")) where = find_memory_cgroup(*text);
    cgroup_ = std::make_unique<CgroupReader>(where);
  }
}

const std::string& ProcReader::cgroup_dir() const {
  static const std::string none;
  return cgroup_ ? cgroup_->where().dir : none;
}

bool ProcReader::read(Values& out) {
  if (sources_ & kStatm) {
    auto text = statm_.read(buffer_);
    if (text) parse_statm(*text, page_bytes_, out);
    if (!(sources_ & kStatus) && !out.has(Key::kRss)) return false;
  }
  if (sources_ & kStatus) {
    auto text = status_.read(buffer_);
    if (!text) return false;
    parse_status(*text, out);
  }
  if (sources_ & kSmapsRollup) {
    if (auto text = rollup_.read(buffer_)) {
      parse_smaps_rollup(*text, out);
    } else if (!smaps_path_.empty()) {
      if (auto smaps = read_text_file(smaps_path_)) sum_smaps(parse_smaps(*smaps), out);
    }
  }
  if (cgroup_) cgroup_->read(buffer_, out);
  if ((sources_ & kAllocator) && pid_ == static_cast<int>(::getpid())) read_allocator(out);
  return true;
}

// ---- allocators --------------------------------------------------------------------------------

#if !defined(INFERMEM_SANITIZED)
namespace {

using MallctlFn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
using TcmallocPropertyFn = int (*)(const char*, std::size_t*);

// Looked up at run time so that infermem has no link dependency on any allocator: whichever one
// the process loaded (LD_PRELOAD or linked) is the one we ask.
struct AllocatorHooks {
  MallctlFn mallctl = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
  TcmallocPropertyFn tcmalloc_property = reinterpret_cast<TcmallocPropertyFn>(
      dlsym(RTLD_DEFAULT, "MallocExtension_GetNumericProperty"));
  bool mimalloc = dlsym(RTLD_DEFAULT, "mi_version") != nullptr;
};

const AllocatorHooks& hooks() {
  static const AllocatorHooks h;
  return h;
}

bool read_jemalloc(MallctlFn mallctl, Values& out) {
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return false;  // refresh the stats
  struct {
    const char* name;
    Key key;
  } const stats[] = {{"stats.allocated", Key::kJemallocAllocated},
                     {"stats.active", Key::kJemallocActive},
                     {"stats.resident", Key::kJemallocResident},
                     {"stats.retained", Key::kJemallocRetained}};
  for (const auto& s : stats) {
    std::size_t value = 0;
    len = sizeof value;
    if (mallctl(s.name, &value, &len, nullptr, 0) == 0) out.set(s.key, static_cast<double>(value));
  }
  out.set(Key::kAllocatorIsJemalloc, 1);
  if (out.has(Key::kJemallocAllocated))
    out.set(Key::kMallocInUse, out.get(Key::kJemallocAllocated));
  // What jemalloc holds resident beyond what is allocated (dirty pages not yet purged, metadata):
  // the counterpart of glibc's fordblks. Identical runs purge more or less of it by the time a
  // phase ends (jemalloc's decay is on the clock), so `diff` compares figures net of it.
  if (out.has(Key::kJemallocAllocated) && out.has(Key::kJemallocResident))
    out.set(Key::kMallocFree,
            std::max(0.0, out.get(Key::kJemallocResident) - out.get(Key::kJemallocAllocated)));
  return true;
}

}  // namespace
#endif

void read_allocator(Values& out) {
#if defined(INFERMEM_SANITIZED)
  // Under AddressSanitizer every malloc goes to ASan's allocator; glibc's figures would describe
  // a heap nobody uses.
  out.set(Key::kAllocatorIsSanitizer, 1);
  out.set(Key::kMallocInUse, static_cast<double>(__sanitizer_get_current_allocated_bytes()));
  out.set(Key::kMallocFree, static_cast<double>(__sanitizer_get_free_bytes()));
  return;
#else
  const AllocatorHooks& h = hooks();
  if (h.mallctl && read_jemalloc(h.mallctl, out)) return;
  if (h.tcmalloc_property) {
    std::size_t in_use = 0;
    if (h.tcmalloc_property("generic.current_allocated_bytes", &in_use))
      out.set(Key::kMallocInUse, static_cast<double>(in_use));
    out.set(Key::kAllocatorIsTcmalloc, 1);
    return;
  }
  if (h.mimalloc) {
    // mimalloc has no in-use figure comparable to mallinfo2; glibc's would describe an unused heap.
    out.set(Key::kAllocatorIsMimalloc, 1);
    return;
  }
  struct mallinfo2 mi = ::mallinfo2();
  out.set(Key::kMallocArena, static_cast<double>(mi.arena));
  out.set(Key::kMallocMmap, static_cast<double>(mi.hblkhd));
  out.set(Key::kMallocInUse, static_cast<double>(mi.uordblks + mi.hblkhd));
  out.set(Key::kMallocFree, static_cast<double>(mi.fordblks));
  out.set(Key::kMallocKeepcost, static_cast<double>(mi.keepcost));
#endif
}

}  // namespace infermem::probe
