#include <fmt/format.h>
#include <cstring>
#include <set>
#include <string_view>

#include "infermem/error.h"
#include "probe/categorize.h"
#include "probe/proc_reader.h"

namespace infermem::probe {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// "/usr/lib/libfoo.so (deleted)" -> "/usr/lib/libfoo.so": a replaced file still counts as itself.
std::string_view without_deleted(std::string_view path) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted)
    path.remove_suffix(kDeleted.size());
  return path;
}

bool is_shared_memory(const Mapping& m) {
  std::string_view path = m.path;
  if (starts_with(path, "/dev/shm/") || starts_with(path, "/SYSV") ||
      starts_with(path, "/memfd:") || starts_with(path, "[anon_shmem"))
    return true;
  // Shared anonymous mappings appear as "/dev/zero (deleted)" or without a path.
  return m.shared() && (path.empty() || starts_with(path, "/dev/zero"));
}

bool is_anonymous(const Mapping& m) {
  return m.path.empty() || starts_with(m.path, "[anon:");
}

// A private read-write anonymous mapping whose lower neighbour is a small PROT_NONE anonymous
// mapping ending exactly where it starts: the guard page below a pthread stack.
bool is_guarded_stack(const std::vector<Mapping>& mappings, std::size_t index) {
  if (index == 0) return false;
  const Mapping& m = mappings[index];
  const Mapping& below = mappings[index - 1];
  return std::strncmp(m.perms, "rw-p", 4) == 0 && std::strncmp(below.perms, "---p", 4) == 0 &&
         below.end == m.start && is_anonymous(below) && below.size_bytes() <= kMaxGuardBytes;
}

// Files with code in them (any executable mapping): all of their mappings, including read-only
// and data segments, count as libraries and executables.
std::set<std::string_view> code_files(const std::vector<Mapping>& mappings) {
  std::set<std::string_view> files;
  for (const auto& m : mappings)
    if (m.executable() && starts_with(m.path, "/")) files.insert(without_deleted(m.path));
  return files;
}

Category classify_with(const std::vector<Mapping>& mappings, std::size_t index,
                       const std::set<std::string_view>& code) {
  const Mapping& m = mappings[index];
  std::string_view path = m.path;
  if (path.find("libonnxruntime") != std::string_view::npos) return Category::kOnnxRuntime;
  if (path == "[heap]") return Category::kHeap;
  if (starts_with(path, "[stack")) return Category::kThreadStacks;
  if (is_shared_memory(m)) return Category::kSharedMemory;
  if (starts_with(path, "/")) {
    std::string_view file = without_deleted(path);
    if (code.count(file) || file.find(".so") != std::string_view::npos) return Category::kLibraries;
    return Category::kMappedFiles;
  }
  if (is_anonymous(m))
    return is_guarded_stack(mappings, index) ? Category::kThreadStacks : Category::kAnonymous;
  return Category::kOther;
}

void add(CategoryUsage& usage, const Mapping& m) {
  usage.rss_bytes += m.rss_bytes;
  usage.pss_bytes += m.pss_bytes;
  usage.anonymous_bytes += m.anonymous_bytes;
  usage.swap_bytes += m.swap_bytes;
  usage.mappings_count += 1;
}

}  // namespace

const char* category_name(Category c) {
  switch (c) {
    case Category::kOnnxRuntime:
      return "onnxruntime";
    case Category::kLibraries:
      return "libraries";
    case Category::kMappedFiles:
      return "mapped-files";
    case Category::kHeap:
      return "heap";
    case Category::kAnonymous:
      return "anonymous";
    case Category::kThreadStacks:
      return "thread-stacks";
    case Category::kSharedMemory:
      return "shared-memory";
    case Category::kOther:
      return "other";
  }
  return "other";
}

Category classify(const std::vector<Mapping>& mappings, std::size_t index) {
  return classify_with(mappings, index, code_files(mappings));
}

void tally_mappings(const std::vector<Mapping>& mappings,
                    CategoryUsage (&categories)[kCategoryCount], CategoryUsage& total) {
  auto code = code_files(mappings);
  for (std::size_t i = 0; i < mappings.size(); ++i) {
    add(categories[static_cast<int>(classify_with(mappings, i, code))], mappings[i]);
    add(total, mappings[i]);
  }
}

Snapshot take_snapshot(int pid) {
  if (pid <= 0) throw InputError(fmt::format("invalid pid {}", pid));
  Snapshot snap;
  snap.pid = pid;
  ProcReader reader(pid, kStatus | kCgroup);  // throws naming /proc/PID/status
  std::string smaps_path = fmt::format("/proc/{}/smaps", pid);
  int error = 0;
  auto smaps = read_text_file(smaps_path, &error);
  if (!smaps)
    throw InputError(fmt::format("cannot read {}: {} (is pid {} running and readable?)", smaps_path,
                                 std::strerror(error), pid));
  Values values;
  if (!reader.read(values) || !values.has(Key::kRss))
    throw InputError(fmt::format("pid {} has exited: /proc/{}/status has no VmRSS", pid, pid));
  tally_mappings(parse_smaps(*smaps), snap.categories, snap.total);
  Reading all = values.to_reading();
  for (auto [figure, v] : all.values)
    (name(figure).starts_with("cgroup_") ? snap.cgroup : snap.status).values.set(figure, v);
  snap.cgroup_dir = reader.cgroup_dir();
  return snap;
}

}  // namespace infermem::probe
