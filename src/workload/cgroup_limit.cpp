#include "infermem/cgroup_limit.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace infermem {
namespace {

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path);
  if (!f) return false;
  f << text;
  f.flush();
  return static_cast<bool>(f);
}

std::optional<std::string> read_text(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::optional<std::uint64_t> keyed_value(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v;
  while (in >> k >> v)
    if (k == key) return v;
  return std::nullopt;
}

bool is_cgroup2(const char* path) {
  struct statfs fs {};
  return statfs(path, &fs) == 0 && fs.f_type == 0x63677270;  // CGROUP2_SUPER_MAGIC
}

}  // namespace

std::optional<MemoryCgroup> MemoryCgroup::create(const std::string& name, std::uint64_t limit_bytes,
                                                 std::string* why) {
  MemoryCgroup cg;
  // The cgroup filesystem's mount point; INFERMEM_CGROUP_ROOT names another one (a host that
  // mounts it elsewhere, or a test that needs cgroups to be unavailable).
  const char* root_env = std::getenv("INFERMEM_CGROUP_ROOT");
  const std::string root = root_env && *root_env ? root_env : "/sys/fs/cgroup";
  std::string base;
  if (is_cgroup2(root.c_str())) {
    base = root;
    cg.version_ = 2;
    auto controllers = read_text(base + "/cgroup.subtree_control").value_or("");
    if (controllers.find("memory") == std::string::npos)
      write_text(base + "/cgroup.subtree_control", "+memory");
  } else if (access((root + "/memory/memory.limit_in_bytes").c_str(), F_OK) == 0) {
    base = root + "/memory";
    cg.version_ = 1;
  } else {
    if (why)
      *why = fmt::format("no cgroup v2 hierarchy and no v1 memory controller under {}", root);
    return std::nullopt;
  }
  cg.path_ = base + "/" + name;
  if (mkdir(cg.path_.c_str(), 0755) != 0 && errno != EEXIST) {
    if (why) *why = fmt::format("cannot create {}: {}", cg.path_, std::strerror(errno));
    return std::nullopt;
  }
  std::string limit_file = cg.path_ + (cg.version_ == 2 ? "/memory.max" : "/memory.limit_in_bytes");
  if (!write_text(limit_file, std::to_string(limit_bytes))) {
    if (why) *why = fmt::format("cannot set {}: {}", limit_file, std::strerror(errno));
    rmdir(cg.path_.c_str());
    return std::nullopt;
  }
  // No swap escape: the limit must bind as it would in a container (absent files are fine).
  if (cg.version_ == 2) write_text(cg.path_ + "/memory.swap.max", "0");
  cg.procs_file_ = cg.path_ + "/cgroup.procs";
  return cg;
}

MemoryCgroup::MemoryCgroup(MemoryCgroup&& o) noexcept
    : path_(std::move(o.path_)), procs_file_(std::move(o.procs_file_)), version_(o.version_) {
  o.path_.clear();
}

MemoryCgroup::~MemoryCgroup() {
  if (path_.empty()) return;
  // The kernel may take a moment to release a killed process; retry briefly.
  for (int i = 0; i < 50; ++i) {
    if (rmdir(path_.c_str()) == 0 || errno == ENOENT) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::optional<std::uint64_t> MemoryCgroup::oom_kills() const {
  if (version_ == 2) {
    auto t = read_text(path_ + "/memory.events");
    return t ? keyed_value(*t, "oom_kill") : std::nullopt;
  }
  auto t = read_text(path_ + "/memory.oom_control");
  return t ? keyed_value(*t, "oom_kill") : std::nullopt;
}

std::optional<std::uint64_t> MemoryCgroup::max_usage_bytes() const {
  auto t = read_text(path_ + (version_ == 2 ? "/memory.peak" : "/memory.max_usage_in_bytes"));
  if (!t) return std::nullopt;
  try {
    return std::stoull(*t);
  } catch (...) {
    return std::nullopt;
  }
}

}  // namespace infermem
