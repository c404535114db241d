#include "infermem/watch_app.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include "app/watch_metrics.h"
#include "infermem/atomic_file.h"
#include "infermem/cache_stats_file.h"
#include "infermem/cgroup_limit.h"
#include "infermem/error.h"
#include "infermem/host.h"
#include "infermem/process_exit.h"
#include "infermem/process_tree.h"
#include "infermem/render.h"
#include "infermem/series_builder.h"
#include "infermem/spawn.h"
#include "infermem/trace.h"
#include "infermem/units.h"
#include "infermem/version.h"

namespace infermem {
namespace {

using Clock = std::chrono::steady_clock;
namespace key = trace::key;

std::atomic<bool> g_stop{false};

// The running verdict is judged again this often (the engine is fast on the
// bounded series).
constexpr double kJudgeEveryMs = 2000;
// Status (the split by kind, VmHWM) and the search for new children are read
// about this often, smaps_rollup (PSS: milliseconds of CPU on a large process)
// about every second, however short the interval: statm alone is read at every
// sample (docs/measurement.md has the costs).
constexpr double kDetailEveryMs = 100;
constexpr double kRollupEveryMs = 1000;
// Without a terminal, one plain progress line this often.
constexpr double kPlainEveryMs = 5000;

double since_ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

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

// Sleeps until `until` or a stop request, in short steps: a signal may be
// delivered to another thread (the metrics server's), so the main thread cannot
// count on being woken by it.
void sleep_until(Clock::time_point until) {
  for (;;) {
    if (g_stop.load()) return;
    auto now = Clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
}

// The command in a process group of its own (Ctrl-C reaches infermem, which
// stops the command and its children), joining the cgroup first when there is
// one, with infermem's environment plus `env`. An exec that fails is an
// InputError naming the command: nothing was watched.
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

class PreparedWatch {
 public:
  WatchOptions options;
  int pid = 0;
  bool started = false;  // command mode: infermem started it (and reaps it)
  std::optional<MemoryCgroup> cgroup;
  std::string cgroup_note;
  std::unique_ptr<probe::ProcessTree> tree;
  std::unique_ptr<WatchMetrics> metrics;
  std::vector<std::string> command;
  bool reaped = false;
  int wait_status = 0;

  ~PreparedWatch() { stop_command(); }

  // Stops a command infermem started (its whole process group), TERM then KILL
  // after 2 s.
  void stop_command() {
    if (!started || reaped) return;
    wait_status = stop_and_reap(pid, 2000);
    reaped = true;
  }

  bool try_reap() {
    if (!started || reaped) return reaped;
    if (auto status = infermem::try_reap(pid)) {
      wait_status = *status;
      reaped = true;
    }
    return reaped;
  }
};

void PreparedWatchDeleter::operator()(PreparedWatch* watch) const {
  delete watch;
}

WatchHandle prepare_watch(const WatchOptions& options) {
  WatchHandle w(new PreparedWatch);
  w->options = options;
  const bool command_mode = options.pid == 0;
  // The metrics port first: a port in use must fail before a command is
  // started.
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
            "--memory-limit was not applied: no memory cgroup "
            "could be created here ({}); the "
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

void request_watch_stop() {
  g_stop.store(true);
}

namespace {

// The records of a watch, streamed to trace.jsonl as they are taken.
class TraceOut {
 public:
  explicit TraceOut(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw WriteError(fmt::format("{}: cannot create it: {}", path, std::strerror(errno)));
    writer_ = std::make_unique<trace::Writer>(fd_);
  }
  ~TraceOut() {
    if (fd_ >= 0) ::close(fd_);
  }
  void write(const trace::Record& r) {
    if (!writer_->write(r) && !failed_) failed_ = true;
  }
  void finish() {
    if (failed_ || ::fsync(fd_) != 0)
      throw WriteError(
          fmt::format("{}: a record could not be written: {}", path_, std::strerror(errno)));
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<trace::Writer> writer_;
  bool failed_ = false;
};

trace::Record record(const char* type, double t_ms, const std::string& arm, int pid) {
  trace::Record r;
  r.type = type;
  r.t_ms = t_ms;
  r.arm = arm;
  r.pid = pid;
  r.src = trace::src::kWatch;
  return r;
}

double value_or(const probe::Reading& r, const char* k, double fallback = kAbsent) {
  return r.get(k).value_or(fallback);
}

std::string live_line(const WatchSummary& s, double elapsed_ms, double anon, double hwm,
                      const Verdict& v, std::size_t processes) {
  std::string growth = "growth -";
  if (present(v.growth_bytes_per_minute))
    growth = fmt::format("growth {}/min [{} .. {}]", format_bytes(v.growth_bytes_per_minute),
                         format_bytes(v.growth_ci_low_bytes_per_minute),
                         format_bytes(v.growth_ci_high_bytes_per_minute));
  return fmt::format(
      "{:6.1f}s  RSS {} (anon {})  VmHWM {}  {} over {:.0f}s  verdict {}  {} "
      "process{}",
      elapsed_ms / 1000.0, present(s.last_rss_bytes) ? format_bytes(s.last_rss_bytes) : "-",
      present(anon) ? format_bytes(anon) : "-", present(hwm) ? format_bytes(hwm) : "-", growth,
      elapsed_ms / 1000.0, v.kind, processes, processes == 1 ? "" : "es");
}

}  // namespace

WatchSummary run_watch(PreparedWatch& w,
                       const std::function<void(const WatchProgress&)>& progress) {
  const WatchOptions& o = w.options;
  WatchSummary s;
  s.tool_version = INFERMEM_VERSION;
  s.host = host_name();
  s.started_at = utc_now();
  s.mode = o.pid == 0 ? "command" : "pid";
  s.pid = w.pid;
  s.command = w.command;
  s.interval_ms = o.interval_ms;
  s.window_ms = o.window_ms;
  if (o.memory_limit_bytes > 0 && w.cgroup)
    s.memory_limit_bytes = static_cast<double>(o.memory_limit_bytes);
  if (w.cgroup)
    s.cgroup_dir = w.cgroup->path();
  else if (w.tree)
    s.cgroup_dir = w.tree->cgroup_dir();
  if (!w.cgroup_note.empty()) s.notes.push_back(w.cgroup_note);

  TraceOut out(o.out_dir + "/trace.jsonl");
  const Clock::time_point t0 = Clock::now();
  {
    trace::Record h = record(trace::kHeader, 0, "", w.pid);
    h.src.clear();
    h.extra = {
        {key::kTool, "infermem"}, {key::kToolVersion, s.tool_version}, {key::kCommand, "watch"},
        {key::kHost, s.host},     {key::kStartedAt, s.started_at},     {"mode", s.mode},
        {"argv", s.command}};
    h.values[key::kIntervalMs] = o.interval_ms;
    if (present(s.memory_limit_bytes)) h.values[key::kCgroupLimitBytes] = s.memory_limit_bytes;
    out.write(h);
  }

  SeriesBuilder series;
  probe::TreeSample sample;
  WatchMetricsValues metrics;
  std::map<int, std::size_t> process_index;  // pid -> index in s.processes
  Verdict running;
  running.kind = VerdictKind::too_short;
  double last_judged_ms = 0, last_plain_ms = 0, last_live_ms = -1e9, last_sample_ms = 0;
  std::size_t last_processes = 0;
  WatchWindow window;
  window.start_ms = 0;
  double hwm_now = kAbsent, anon_now = kAbsent, cgroup_peak = kAbsent, oom_kills = kAbsent;

  auto close_window = [&](double end_ms) {
    window.end_ms = end_ms;
    window.lifetime_hwm_bytes = hwm_now;
    ++s.windows_total;
    trace::Record n = record(trace::kNote, end_ms, "tree", w.pid);
    n.extra[key::kEvent] = "window";
    if (present(window.peak_rss_bytes)) n.values[key::kWindowPeakRssBytes] = window.peak_rss_bytes;
    if (present(hwm_now)) n.values[key::kHwmBytes] = hwm_now;
    n.values[key::kDurationMs] = end_ms - window.start_ms;
    out.write(n);
    s.windows.push_back(window);
    if (s.windows.size() > WatchSummary::kMaxWindows) s.windows.erase(s.windows.begin());
    window = WatchWindow{};
    window.start_ms = end_ms;
  };

  // The service's ModelCache counters, from its stats file: a `note` (event
  // "cache") for each new snapshot, another (event "cache-stats-refused") when
  // the file starts being refused or for a new reason; metrics; summary.json's
  // "cache".
  std::optional<CacheStatsReader> cache_stats;
  if (!o.cache_stats_path.empty()) cache_stats.emplace(o.cache_stats_path);
  CacheStatsProblem last_cache_problem = CacheStatsProblem::missing;
  auto read_cache_stats = [&](double t_ms) {
    if (!cache_stats) return;
    const bool fresh = cache_stats->poll();
    const CacheStatsProblem problem = cache_stats->problem();
    if (fresh) {
      const CacheStatsFile& f = *cache_stats->last();
      trace::Record n = record(trace::kNote, t_ms, "tree", f.pid);
      n.extra[key::kEvent] = "cache";
      n.extra["cache"] = f.stats.to_json();
      out.write(n);
      if (w.metrics) w.metrics->update_cache(f);
    } else if (problem != CacheStatsProblem::none && problem != CacheStatsProblem::missing) {
      if (w.metrics) w.metrics->count_cache_read_error(name(problem));
      if (problem != last_cache_problem) {
        trace::Record n = record(trace::kNote, t_ms, "tree", w.pid);
        n.extra[key::kEvent] = "cache-stats-refused";
        n.extra["reason"] = name(problem);
        n.extra["message"] = fmt::format("cache stats file {} refused: {}", cache_stats->path(),
                                         cache_stats->problem_detail());
        out.write(n);
      }
    }
    if (problem != CacheStatsProblem::missing) last_cache_problem = problem;
  };

  auto judged_series = [&]() {
    Series judged;
    judged.name = "tree";
    judged.current_source = fmt::format(
        "the process tree's total VmRSS (/proc/PID/statm of each "
        "process) sampled every {} ms",
        o.interval_ms);
    judged.hwm_source = "summed VmHWM (the processes' lifetime high-water marks)";
    judged.points = series.points();
    s.series_source = judged.current_source;
    return judged;
  };
  auto judge_now = [&]() { return judge(judged_series()); };

  Clock::time_point next = t0;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(o.interval_ms));
  bool stopped_by_us = false;
  s.ended = "exited";
  for (;;) {
    if (g_stop.load()) {
      s.ended = "interrupted";
      s.interrupted = true;
      break;
    }
    const double t_ms = since_ms(t0);
    if (o.duration_ms > 0 && t_ms >= o.duration_ms) {
      s.ended = "duration";
      break;
    }
    if (w.try_reap() || !w.tree) break;
    w.tree->sample(sample);
    if (!sample.root_alive) {
      if (w.started) {
        int status = 0;
        if (::waitpid(w.pid, &status, 0) == w.pid) {
          w.wait_status = status;
          w.reaped = true;
        }
      }
      break;
    }
    ++s.samples;
    last_sample_ms = t_ms;
    last_processes = sample.processes.size();
    // The tree's total at every sample (statm), the split and VmHWM on detail
    // samples.
    trace::Record r = record(trace::kSample, t_ms, "tree", w.pid);
    r.values[key::kRssBytes] = sample.rss_bytes;
    r.values[key::kRssAnonBytes] = sample.anon_bytes;
    r.values[key::kProcessesCount] = static_cast<double>(sample.processes.size());
    anon_now = sample.anon_bytes;
    if (sample.detail) {
      for (const auto& [k, v] : sample.total.values)
        if (k != key::kRssBytes && k != key::kRssAnonBytes) r.values[k] = v;
      hwm_now = value_or(sample.total, key::kHwmBytes);
      metrics.file_bytes = value_or(sample.total, key::kRssFileBytes);
      metrics.shmem_bytes = value_or(sample.total, key::kRssShmemBytes);
      if (sample.rollup) metrics.pss_bytes = value_or(sample.total, key::kPssBytes);
      metrics.cgroup_usage_bytes = value_or(sample.total, key::kCgroupCurrentBytes);
      metrics.cgroup_limit_bytes = value_or(sample.total, key::kCgroupLimitBytes);
      cgroup_peak = value_or(sample.total, key::kCgroupPeakBytes, cgroup_peak);
      oom_kills = value_or(sample.total, key::kCgroupOomKillCount, oom_kills);
    }
    out.write(r);
    if (sample.detail) read_cache_stats(t_ms);
    // Each process: its own record on detail samples (status, smaps_rollup),
    // its figures always.
    for (const auto& p : sample.processes) {
      auto [it, inserted] = process_index.try_emplace(p.pid, s.processes.size());
      if (inserted) {
        WatchedProcess wp;
        wp.pid = p.pid;
        wp.ppid = p.ppid;
        wp.name = p.name;
        wp.first_seen_ms = t_ms;
        s.processes.push_back(wp);
      }
      WatchedProcess& wp = s.processes[it->second];
      wp.last_seen_ms = t_ms;
      wp.last_rss_bytes = p.rss_bytes;
      wp.peak_rss_bytes =
          present(wp.peak_rss_bytes) ? std::max(wp.peak_rss_bytes, p.rss_bytes) : p.rss_bytes;
      if (sample.detail) {
        wp.hwm_bytes = value_or(p.detail, key::kHwmBytes, wp.hwm_bytes);
        trace::Record pr = record(trace::kSample, t_ms, fmt::format("pid {}", p.pid), p.pid);
        pr.values = p.detail.values;
        pr.extra["name"] = p.name;
        out.write(pr);
      }
    }
    s.last_rss_bytes = sample.rss_bytes;
    s.last_anon_bytes = sample.anon_bytes;
    s.peak_rss_bytes =
        present(s.peak_rss_bytes) ? std::max(s.peak_rss_bytes, sample.rss_bytes) : sample.rss_bytes;
    if (present(hwm_now)) s.hwm_bytes = hwm_now;
    SeriesPoint point;
    point.t_ms = t_ms;
    point.current_bytes = sample.rss_bytes;
    point.anon_bytes = sample.anon_bytes;
    if (sample.detail) point.hwm_bytes = hwm_now;
    series.add(point);

    while (t_ms >= window.start_ms + o.window_ms) close_window(window.start_ms + o.window_ms);
    window.peak_rss_bytes = present(window.peak_rss_bytes)
                                ? std::max(window.peak_rss_bytes, sample.rss_bytes)
                                : sample.rss_bytes;

    if (t_ms - last_judged_ms >= kJudgeEveryMs) {
      running = judge_now();
      last_judged_ms = t_ms;
      if (w.metrics) w.metrics->set_verdict(running.kind);
    }
    if (w.metrics) {
      metrics.rss_bytes = sample.rss_bytes;
      metrics.anon_bytes = sample.anon_bytes;
      metrics.hwm_bytes = hwm_now;
      metrics.processes = static_cast<double>(sample.processes.size());
      metrics.growth_bytes_per_second = running.growth_bytes_per_minute / 60.0;
      metrics.growth_low_bytes_per_second = running.growth_ci_low_bytes_per_minute / 60.0;
      metrics.growth_high_bytes_per_second = running.growth_ci_high_bytes_per_minute / 60.0;
      w.metrics->update(metrics);
      w.metrics->add_samples(1);
    }
    if (t_ms - last_live_ms >= 250) {
      last_live_ms = t_ms;
      WatchProgress p;
      p.line = live_line(s, t_ms, anon_now, hwm_now, running, sample.processes.size());
      if (t_ms - last_plain_ms >= kPlainEveryMs || s.samples == 1) {
        last_plain_ms = t_ms;
        p.periodic = true;
      }
      progress(p);
    }

    next += interval;
    const auto now = Clock::now();
    if (next < now) next = now;  // after a stall, skip the missed ticks (no burst)
    sleep_until(next);
  }
  s.elapsed_ms = since_ms(t0);
  if (window.end_ms == 0 && present(window.peak_rss_bytes)) close_window(s.elapsed_ms);

  // How it ended.
  if (w.started && !w.reaped) {
    stopped_by_us = true;
    w.stop_command();
  }
  if (w.started && w.reaped) {
    ProcessEnd end;
    end.wait_status = w.wait_status;
    if (stopped_by_us) end.stop = s.interrupted ? Stop::interrupted : Stop::at_end;
    end.ended = s.ended;
    end.at = fmt::format("{:.2f} s", s.elapsed_ms / 1000.0);
    end.memory_limit_bytes = s.memory_limit_bytes;
    end.last_rss_bytes = s.last_rss_bytes;
    if (w.cgroup) {
      end.oom_kills = w.cgroup->oom_kills().value_or(0);
      end.cgroup_version = w.cgroup->version();
    }
    const ExitClass c = classify_exit(end, command_wording());
    s.status = c.status;
    s.status_detail = c.detail;
    s.exit_code = c.exit_code;
    s.signal = c.signal;
    if (c.status == ArmStatus::oom_killed) {
      s.oom_at_ms = s.elapsed_ms;
      s.oom_last_rss_bytes = s.last_rss_bytes;
      if (w.cgroup)
        if (auto peak = w.cgroup->max_usage_bytes())
          s.oom_cgroup_peak_bytes = static_cast<double>(*peak);
    }
  } else if (!w.started) {
    if (s.ended == "exited") {
      s.status_detail =
          "the process exited (it is not a child of infermem: "
          "its exit status cannot be read)";
    } else {
      s.status_detail =
          fmt::format("still running when the watch ended ({}); left running", s.ended);
      if (s.interrupted) s.status = ArmStatus::interrupted;
    }
  }
  // The service's last counters: it publishes them once more as its cache is
  // destroyed.
  read_cache_stats(s.elapsed_ms);
  if (cache_stats && (cache_stats->last() || !cache_stats->errors().empty()))
    s.cache = cache_stats->to_json();
  if (present(cgroup_peak) && !present(s.oom_cgroup_peak_bytes) &&
      s.status == ArmStatus::oom_killed)
    s.oom_cgroup_peak_bytes = cgroup_peak;
  if (present(oom_kills) && oom_kills > 0 && s.status != ArmStatus::oom_killed)
    s.notes.push_back(fmt::format(
        "the memory cgroup counted {} OOM kill(s) of processes in the tree", oom_kills));
  for (auto& p : s.processes) p.exited = p.last_seen_ms < last_sample_ms || s.ended == "exited";

  {
    const Series judged = judged_series();
    s.verdict = judge(judged);
    s.charts = make_arm_charts(judged, s.verdict, SeriesContext{}, {});
  }
  GateSubject subject{"tree", s.peak_rss_bytes, kAbsent, kAbsent, s.verdict};
  s.checks = evaluate_gate(o.gate.for_subject("tree"), subject);
  if (series.merged())
    s.notes.push_back(
        fmt::format("the verdict judged {} evenly spaced points of {} samples "
                    "(each the last of {} in a row)",
                    series.points().size(), s.samples, series.stride()));

  trace::Record end = record(trace::kArm, s.elapsed_ms, "tree", w.pid);
  end.extra[key::kEdge] = trace::edge::kResult;
  end.extra[key::kStatus] = std::string(name(s.status));
  end.extra[key::kStatusDetail] = s.status_detail;
  end.extra[key::kVerdict] = std::string(name(s.verdict.kind));
  out.write(end);
  out.finish();

  WatchProgress last;
  last.final = true;
  last.line = live_line(s, s.elapsed_ms, s.last_anon_bytes, s.hwm_bytes, s.verdict, last_processes);
  progress(last);
  if (w.metrics) w.metrics->set_verdict(s.verdict.kind);

  write_file_atomic(o.out_dir + "/summary.json", render(s, Format::json));
  write_file_atomic(o.out_dir + "/report.md", render(s, Format::markdown));
  write_file_atomic(o.out_dir + "/report.html", render(s, Format::html));
  write_file_atomic(o.out_dir + "/junit.xml", render(s, Format::junit));
  return s;
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
