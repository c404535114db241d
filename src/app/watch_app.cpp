#include "infermem/watch_app.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "app/watch_metrics.h"
#include "app/watch_session.h"
#include "infermem/cache_stats_file.h"
#include "infermem/cgroup_limit.h"
#include "infermem/error.h"
#include "infermem/process_exit.h"
#include "infermem/process_tree.h"
#include "infermem/spawn.h"
#include "infermem/trace.h"
#include "infermem/units.h"

namespace infermem {
namespace {

// Status (the split by kind, VmHWM) and the search for new children are read about this often,
// smaps_rollup (PSS: milliseconds of CPU on a large process) about every second, however short the
// interval: statm alone is read at every sample (docs/measurement.md has the costs).
constexpr double kDetailEveryMs = 100;
constexpr double kRollupEveryMs = 1000;
// /proc/PID/cmdline as words (pid mode: how the report names the process).
std::vector<std::string> cmdline_of(int pid) {
  std::vector<std::string> words;
  int fd = ::open(fmt::format("/proc/{}/cmdline", pid).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return words;
  std::string text(4096, '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n <= 0) return words;
  text.resize(static_cast<std::size_t>(n));
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\0', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) words.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return words;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

// The command in a process group of its own (Ctrl-C reaches infermem, which stops the command
// and its children), joining the cgroup first when there is one, with infermem's environment plus
// `env`. An exec that fails is an InputError naming the command: nothing was watched.
pid_t spawn(const std::vector<std::string>& command, const std::string& procs_file,
            const std::vector<std::string>& env) {
  SpawnSpec spec;
  spec.program = command.front();
  spec.argv = command;
  spec.env = environment_with(env);
  spec.cgroup_procs = procs_file;
  const Spawned child = spawn_process(spec);
  if (child.exec_errno != 0) {
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    throw InputError(
        fmt::format("cannot execute '{}': {}", command.front(), std::strerror(child.exec_errno)));
  }
  return child.pid;
}

}  // namespace

void PreparedWatch::stop_command() {
  if (!started || reaped) return;
  wait_status = stop_and_reap(pid, 2000);
  reaped = true;
}

bool PreparedWatch::try_reap() {
  if (!started || reaped) return reaped;
  if (auto status = infermem::try_reap(pid)) {
    wait_status = *status;
    reaped = true;
  }
  return reaped;
}

void PreparedWatch::reap() {
  if (!started || reaped) return;
  int status = 0;
  if (::waitpid(pid, &status, 0) == pid) {
    wait_status = status;
    reaped = true;
  }
}

void PreparedWatchDeleter::operator()(PreparedWatch* watch) const {
  delete watch;
}

WatchHandle prepare_watch(const WatchOptions& options) {
  WatchHandle w(new PreparedWatch);
  w->options = options;
  const bool command_mode = options.pid == 0;
  // The metrics port first: a port in use must fail before a command is started.
  if (options.metrics_port >= 0)
    w->metrics = std::make_unique<WatchMetrics>(options.metrics_bind, options.metrics_port);
  const double interval = std::max(options.interval_ms, 0.001);
  probe::TreeOptions tree;
  tree.detail_every = static_cast<std::uint64_t>(std::max(1.0, kDetailEveryMs / interval));
  tree.rescan_every = tree.detail_every;
  tree.rollup_every = static_cast<std::uint64_t>(std::max(1.0, kRollupEveryMs / interval));
  if (command_mode) {
    if (options.memory_limit_bytes > 0) {
      std::string why;
      auto created = MemoryCgroup::create(fmt::format("infermem-watch-{}", ::getpid()),
                                          options.memory_limit_bytes, &why);
      if (created)
        w->cgroup.emplace(std::move(*created));
      else
        w->cgroup_note = fmt::format(
            "--memory-limit was not applied: no memory cgroup could be created here ({}); the "
            "command ran without a limit",
            why);
    }
    if (w->options.cache_stats_path.empty())
      w->options.cache_stats_path =
          std::filesystem::absolute(options.out_dir + "/cache-stats.json").string();
    w->pid = spawn(options.command, w->cgroup ? w->cgroup->procs_file() : "",
                   {fmt::format("{}={}", kCacheStatsEnv, w->options.cache_stats_path)});
    w->started = true;
    w->command = options.command;
    try {
      tree.root_pid = w->pid;
      w->tree = std::make_unique<probe::ProcessTree>(tree);
    } catch (const InputError&) {
      // It exited at once: the watch still reports how it ended (no samples).
    }
  } else {
    w->pid = options.pid;
    tree.root_pid = options.pid;
    try {
      w->tree = std::make_unique<probe::ProcessTree>(tree);
    } catch (const InputError& e) {
      throw InputError(fmt::format("--pid {}: {}", options.pid, e.what()));
    }
    w->command = cmdline_of(options.pid);
  }
  if (w->metrics) {
    if (w->metrics->port() < 0)
      throw InputError(
          fmt::format("--metrics-port {}: no port is listening", options.metrics_port));
    w->metrics->describe(w->pid, joined(w->command), options.metric_labels);
  }
  return w;
}

int metrics_port(const PreparedWatch& watch) {
  return watch.metrics ? watch.metrics->port() : -1;
}

int watched_pid(const PreparedWatch& watch) {
  return watch.pid;
}

void abandon_watch(PreparedWatch& watch) {
  watch.stop_command();
}

namespace {

// How the command infermem started ended, in watch's words, into the end record's "exit".
void classify_command(PreparedWatch& w, bool stopped_by_us, double elapsed_ms,
                      double last_rss_bytes, trace::Record& r, nlohmann::json& exit) {
  ProcessEnd end;
  end.wait_status = w.wait_status;
  if (stopped_by_us) end.stop = exit.value("interrupted", false) ? Stop::interrupted : Stop::at_end;
  end.ended = exit.value("ended", "");
  end.at = fmt::format("{:.2f} s", elapsed_ms / 1000.0);
  if (w.cgroup) end.memory_limit_bytes = static_cast<double>(w.options.memory_limit_bytes);
  end.last_rss_bytes = last_rss_bytes;
  if (w.cgroup) {
    end.oom_kills = w.cgroup->oom_kills().value_or(0);
    end.cgroup_version = w.cgroup->version();
  }
  const ExitClass c = classify_exit(end, command_wording());
  r.extra[trace::key::kStatus] = std::string(name(c.status));
  r.extra[trace::key::kStatusDetail] = c.detail;
  if (c.exit_code) exit["code"] = *c.exit_code;
  if (!c.signal.empty()) exit["signal"] = c.signal;
  if (c.status != ArmStatus::oom_killed) return;
  exit["oom_at_ms"] = elapsed_ms;
  if (present(last_rss_bytes)) exit["oom_last_rss_bytes"] = last_rss_bytes;
  if (auto peak = w.cgroup ? w.cgroup->max_usage_bytes() : std::nullopt)
    exit["oom_cgroup_peak_bytes"] = static_cast<double>(*peak);
}

}  // namespace

trace::Record watch_end_record(PreparedWatch& w, const std::string& ended, bool interrupted,
                               double elapsed_ms, double last_rss_bytes) {
  trace::Record r;
  r.type = trace::RecordType::arm;
  r.t_ms = elapsed_ms;
  r.arm = "tree";
  r.pid = w.pid;
  r.src = trace::Src::watch;
  r.edge = trace::Edge::result;
  nlohmann::json exit = {{"ended", ended}, {"interrupted", interrupted}};
  const bool stopped_by_us = w.started && !w.reaped;
  if (stopped_by_us) w.stop_command();
  if (w.started) {
    classify_command(w, stopped_by_us, elapsed_ms, last_rss_bytes, r, exit);
  } else {
    r.extra[trace::key::kStatus] = std::string(
        name(interrupted && ended != "exited" ? ArmStatus::interrupted : ArmStatus::ok));
    r.extra[trace::key::kStatusDetail] =
        ended == "exited"
            ? "the process exited (it is not a child of infermem: its exit status cannot be read)"
            : fmt::format("still running when the watch ended ({}); left running", ended);
  }
  r.extra[trace::key::kExit] = exit;
  return r;
}

int watch_exit_code(const WatchSummary& s, std::vector<std::string>& problems) {
  bool check_failed = false;
  for (const auto& c : s.checks)
    if (!c.passed) {
      check_failed = true;
      problems.push_back(fmt::format("check failed: {}: {}", c.check, c.message));
    }
  if (s.interrupted) return kExitInterrupted;
  if (s.status == ArmStatus::failed || s.status == ArmStatus::crashed) {
    problems.push_back(fmt::format("the watched command {}: {}", name(s.status), s.status_detail));
    return kExitWorkload;
  }
  if (s.status == ArmStatus::oom_killed) {
    problems.push_back(fmt::format("the watched command was OOM-killed: {}", s.status_detail));
    return kExitCheckFailed;
  }
  return check_failed ? kExitCheckFailed : kExitOk;
}

}  // namespace infermem
