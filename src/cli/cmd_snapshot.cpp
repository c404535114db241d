// `infermem snapshot --pid N [--json]`: what a process's resident set is made of right now.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/probe.h"
#include "infermem/trace.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

nlohmann::json usage_json(const probe::CategoryUsage& u) {
  return {{"rss_bytes", u.rss_bytes},
          {"pss_bytes", u.pss_bytes},
          {"anonymous_bytes", u.anonymous_bytes},
          {"swap_bytes", u.swap_bytes},
          {"mappings_count", u.mappings_count}};
}

nlohmann::json snapshot_json(const probe::Snapshot& snap) {
  nlohmann::json categories = nlohmann::json::object();
  for (int i = 0; i < probe::kCategoryCount; ++i)
    categories[probe::category_name(static_cast<probe::Category>(i))] =
        usage_json(snap.categories[i]);
  nlohmann::json cgroup = trace::figures_json(snap.cgroup.values);
  if (!snap.cgroup_dir.empty()) cgroup["dir"] = snap.cgroup_dir;
  return {{"pid", snap.pid},
          {"source", fmt::format("/proc/{}/smaps", snap.pid)},
          {"categories", categories},
          {"total", usage_json(snap.total)},
          {"status", trace::figures_json(snap.status.values)},
          {"cgroup", cgroup},
          {"allocator", nullptr},
          {"allocator_note", "allocator figures are only readable inside the process"}};
}

std::string optional_mib(const probe::Reading& r, Figure key) {
  auto v = r.get(key);
  return v ? format_mib(*v) + " MiB" : "n/a";
}

void print_table(const probe::Snapshot& snap) {
  fmt::print("pid {}: resident set by category, from /proc/{}/smaps\n\n", snap.pid, snap.pid);
  fmt::print("{:<15} {:>9} {:>9} {:>9} {:>9} {:>9}\n", "category", "RSS MiB", "PSS MiB", "anon MiB",
             "swap MiB", "mappings");
  auto row = [](const char* name, const probe::CategoryUsage& u) {
    fmt::print("{:<15} {:>9} {:>9} {:>9} {:>9} {:>9}\n", name, format_mib(u.rss_bytes),
               format_mib(u.pss_bytes), format_mib(u.anonymous_bytes), format_mib(u.swap_bytes),
               u.mappings_count);
  };
  for (int i = 0; i < probe::kCategoryCount; ++i)
    row(probe::category_name(static_cast<probe::Category>(i)), snap.categories[i]);
  row("total", snap.total);
  const auto& st = snap.status;
  fmt::print("\n/proc/{}/status: VmRSS {} (anon {}, file {}, shmem {}), VmHWM {}, VmSwap {}\n",
             snap.pid, optional_mib(st, Figure::rss_bytes),
             optional_mib(st, Figure::rss_anon_bytes), optional_mib(st, Figure::rss_file_bytes),
             optional_mib(st, Figure::rss_shmem_bytes), optional_mib(st, Figure::hwm_bytes),
             optional_mib(st, Figure::swap_bytes));
  if (snap.cgroup_dir.empty()) {
    fmt::print("memory cgroup: none readable\n");
  } else {
    const auto& cg = snap.cgroup;
    auto oom = cg.get(Figure::cgroup_oom_kill_count);
    fmt::print(
        "memory cgroup {}: current {}, peak {}, limit {}, anon {}, file {}, OOM kills {}\n",
        snap.cgroup_dir, optional_mib(cg, Figure::cgroup_current_bytes),
        optional_mib(cg, Figure::cgroup_peak_bytes),
        cg.get(Figure::cgroup_limit_bytes) ? optional_mib(cg, Figure::cgroup_limit_bytes) : "none",
        optional_mib(cg, Figure::cgroup_anon_bytes), optional_mib(cg, Figure::cgroup_file_bytes),
        oom ? fmt::format("{}", *oom) : "n/a");
  }
  fmt::print("allocator: only readable inside the process (infermem soak reports it)\n");
}

void attach(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string pid;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  auto* cmd = app.add_subcommand("snapshot", "What a process's resident set is made of now");
  cmd->add_option("--pid", flags->pid, "Process id to read")->required();
  cmd->add_flag("--json", flags->json, "Print JSON instead of a table");
  cmd->callback([flags, &exit_code] {
    // pid_max is at most 2^22 (PID_MAX_LIMIT on 64-bit Linux).
    const int pid = static_cast<int>(parse_count(flags->pid, "--pid", 1, 4'194'304));
    probe::Snapshot snap = probe::take_snapshot(pid);
    if (flags->json)
      fmt::print("{}\n", snapshot_json(snap).dump(2));
    else
      print_table(snap);
    exit_code = kExitOk;
  });
}

const Registration reg{{"snapshot", 30, attach}};

}  // namespace
}  // namespace infermem::cli
