#include "infermem/process_tree.h"

#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>
#include <algorithm>
#include <charconv>
#include <cstring>

#include "infermem/error.h"
#include "probe/proc_parse.h"
#include "probe/proc_reader.h"

namespace infermem::probe {
namespace {

// Numeric entries of a /proc directory ("/proc", "/proc/PID/task").
std::vector<int> numeric_entries(const std::string& dir) {
  std::vector<int> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    int n = 0;
    const char* end = e->d_name + std::strlen(e->d_name);
    auto [p, ec] = std::from_chars(e->d_name, end, n);
    if (ec == std::errc() && p == end && n > 0) out.push_back(n);
  }
  ::closedir(d);
  return out;
}

// Space-separated pids ("123 456 ") appended to `out`.
void parse_pid_list(std::string_view text, std::vector<int>& out) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    while (p < end && (*p == ' ' || *p == '\n')) ++p;
    int n = 0;
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc()) break;
    if (n > 0) out.push_back(n);
    p = next;
  }
}

// The parent pid from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so read after the last ')').
int parent_of(int pid) {
  auto text = read_text_file(fmt::format("/proc/{}/stat", pid));
  if (!text) return 0;
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 4 >= text->size()) return 0;
  int ppid = 0;
  const char* p = text->data() + close + 4;  // ") S " then the ppid
  std::from_chars(p, text->data() + text->size(), ppid);
  return ppid;
}

bool has_children_files() {
  static const bool has =
      read_text_file(fmt::format("/proc/self/task/{}/children", ::getpid())).has_value();
  return has;
}

// Whether the root's memory cgroup is a cgroup of its own rather than the hierarchy's root.
bool own_memory_cgroup(int pid) {
  auto text = read_text_file(fmt::format("/proc/{}/cgroup", pid));
  if (!text) return false;
  CgroupRef ref = parse_proc_cgroup(*text);
  if (ref.v1_memory_path) return *ref.v1_memory_path != "/";
  return ref.v2_path && *ref.v2_path != "/";
}

}  // namespace

std::vector<int> child_pids(int pid) {
  std::vector<int> out;
  if (has_children_files()) {
    for (int tid : numeric_entries(fmt::format("/proc/{}/task", pid)))
      if (auto text = read_text_file(fmt::format("/proc/{}/task/{}/children", pid, tid)))
        parse_pid_list(*text, out);
  } else {
    for (int other : numeric_entries("/proc"))
      if (other != pid && parent_of(other) == pid) out.push_back(other);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

struct ProcessTree::Process {
  Process(int pid_, int ppid_, unsigned detail_sources)
      : pid(pid_),
        ppid(ppid_),
        fast(pid_, kStatm),
        detail(pid_, detail_sources),
        rollup(pid_, kSmapsRollup) {
    if (auto comm = read_text_file(fmt::format("/proc/{}/comm", pid)))
      name = comm->substr(0, comm->find('\n'));
  }
  int pid;
  int ppid;
  std::string name;
  ProcReader fast;
  ProcReader detail;
  ProcReader rollup;  // smaps_rollup alone: its own, lower rate
  Values values;
};

ProcessTree::ProcessTree(TreeOptions options) : options_(options) {
  if (options_.root_pid <= 0) throw InputError(fmt::format("invalid pid {}", options_.root_pid));
  options_.detail_every = std::max<std::uint64_t>(options_.detail_every, 1);
  options_.rescan_every = std::max<std::uint64_t>(options_.rescan_every, 1);
  options_.rollup_every = std::max<std::uint64_t>(options_.rollup_every, 1);
  options_.cgroup = options_.cgroup && own_memory_cgroup(options_.root_pid);
  add_process(options_.root_pid, parent_of(options_.root_pid));  // throws for the root
}

ProcessTree::~ProcessTree() = default;

const std::string& ProcessTree::cgroup_dir() const {
  static const std::string none;
  return processes_.empty() ? none : processes_.front()->detail.cgroup_dir();
}

void ProcessTree::add_process(int pid, int ppid) {
  const bool root = processes_.empty();
  const unsigned detail = kStatus | (root && options_.cgroup ? kCgroup : 0u);
  try {
    processes_.push_back(std::make_unique<Process>(pid, ppid, detail));
  } catch (const InputError&) {
    if (root) throw;  // a child that exited before it could be opened is simply gone
  }
}

void ProcessTree::rescan() {
  for (std::size_t i = 0; i < processes_.size(); ++i) {
    const int parent = processes_[i]->pid;
    for (int child : child_pids(parent)) {
      bool known = std::any_of(processes_.begin(), processes_.end(),
                               [&](const auto& p) { return p->pid == child; });
      if (!known) add_process(child, parent);
    }
  }
}

void ProcessTree::sample(TreeSample& out) {
  const bool detail = samples_ % options_.detail_every == 0;
  const bool rollup = samples_ % options_.rollup_every == 0;
  if (samples_ % options_.rescan_every == 0 && !processes_.empty()) rescan();
  ++samples_;
  out.detail = detail || rollup;
  out.rollup = rollup;
  out.rss_bytes = 0;
  out.anon_bytes = 0;
  out.total.values.clear();
  out.root_alive = !processes_.empty() && processes_.front()->pid == options_.root_pid;
  std::size_t n = 0;
  Values sum;
  for (auto it = processes_.begin(); it != processes_.end();) {
    Process& p = **it;
    p.values.clear();
    bool ok = p.fast.read(p.values);
    if (ok && (detail || rollup)) ok = p.detail.read(p.values);
    if (ok && rollup) ok = p.rollup.read(p.values);
    if (!ok) {
      if (p.pid == options_.root_pid) out.root_alive = false;
      it = processes_.erase(it);
      continue;
    }
    if (out.processes.size() <= n) out.processes.emplace_back();
    ProcessSample& s = out.processes[n++];
    s.pid = p.pid;
    s.ppid = p.ppid;
    s.name = p.name;
    s.rss_bytes = p.values.get(Key::kRss);
    s.anon_bytes = p.values.has(Key::kRssAnon) ? p.values.get(Key::kRssAnon) : 0;
    out.rss_bytes += s.rss_bytes;
    out.anon_bytes += s.anon_bytes;
    s.detail.values.clear();
    if (out.detail) {
      s.detail = p.values.to_reading();
      for (int k = 0; k < kKeyCount; ++k) {
        const Key key = static_cast<Key>(k);
        if (!p.values.has(key)) continue;
        const bool per_cgroup = key >= Key::kCgroupCurrent && key <= Key::kCgroupOomKill;
        double v = p.values.get(key);
        sum.set(key, per_cgroup || !sum.has(key) ? v : sum.get(key) + v);
      }
    }
    ++it;
  }
  out.processes.resize(n);
  if (out.detail) out.total = sum.to_reading();
}

}  // namespace infermem::probe
