// `infermem watch`'s sampling loop: the process tree sampled into trace.jsonl (the one trace
// format), the live line and the metrics; at the end the summary is derived from that trace
// (WatchTraceReader), judged, gated and rendered.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>

#include "app/watch_session.h"
#include "infermem/atomic_file.h"
#include "infermem/cache_stats_file.h"
#include "infermem/error.h"
#include "infermem/host.h"
#include "infermem/render.h"
#include "infermem/run_files.h"
#include "infermem/series_builder.h"
#include "infermem/units.h"
#include "infermem/version.h"
#include "infermem/watch_summary.h"

namespace infermem {
namespace {

using Clock = std::chrono::steady_clock;
namespace key = trace::key;

std::atomic<bool> g_stop{false};

// The running verdict is judged again this often (the engine is fast on the bounded series).
constexpr double kJudgeEveryMs = 2000;
// Without a terminal, one plain progress line this often.
constexpr double kPlainEveryMs = 5000;

double since_ms(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Sleeps until `until` or a stop request, in short steps: a signal may be delivered to another
// thread (the metrics server's), so the main thread cannot count on being woken by it.
void sleep_until(Clock::time_point until) {
  for (;;) {
    if (g_stop.load()) return;
    auto now = Clock::now();
    if (now >= until) return;
    std::this_thread::sleep_for(
        std::min<Clock::duration>(until - now, std::chrono::milliseconds(50)));
  }
}

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
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<trace::Writer> writer_;
  bool failed_ = false;
};

trace::Record record(trace::RecordType type, double t_ms, const std::string& arm, int pid) {
  trace::Record r;
  r.type = type;
  r.t_ms = t_ms;
  r.arm = arm;
  r.pid = pid;
  r.src = trace::Src::watch;
  return r;
}

double value_or(const probe::Reading& r, Figure k, double fallback = kAbsent) {
  return r.get(k).value_or(fallback);
}

// What the live line shows.
struct LiveFigures {
  double rss = kAbsent, anon = kAbsent, hwm = kAbsent;
  std::size_t processes = 0;
};

std::string live_line(const LiveFigures& f, double elapsed_ms, const Verdict& v) {
  std::string growth = "growth -";
  if (present(v.growth_bytes_per_minute))
    growth = fmt::format("growth {}/min [{} .. {}]", format_bytes(v.growth_bytes_per_minute),
                         format_bytes(v.growth_ci_low_bytes_per_minute),
                         format_bytes(v.growth_ci_high_bytes_per_minute));
  return fmt::format(
      "{:6.1f}s  RSS {} (anon {})  VmHWM {}  {} over {:.0f}s  verdict {}  {} process{}",
      elapsed_ms / 1000.0, present(f.rss) ? format_bytes(f.rss) : "-",
      present(f.anon) ? format_bytes(f.anon) : "-", present(f.hwm) ? format_bytes(f.hwm) : "-",
      growth, elapsed_ms / 1000.0, v.kind, f.processes, f.processes == 1 ? "" : "es");
}

nlohmann::json checks_json(const std::vector<CheckResult>& checks) {
  auto out = nlohmann::json::array();
  for (const auto& c : checks)
    out.push_back(
        {{"check", c.check}, {"passed", c.passed}, {"skipped", c.skipped}, {"message", c.message}});
  return out;
}

// One watch from its first sample to its summary. Everything the summary says is written to the
// trace first; the summary is then read back from the trace.
class WatchRun {
 public:
  WatchRun(PreparedWatch& w, const std::function<void(const WatchProgress&)>& progress)
      : w_(w), o_(w.options), progress_(progress), out_(o_.out_dir + "/trace.jsonl") {
    if (!o_.cache_stats_path.empty()) cache_stats_.emplace(o_.cache_stats_path);
  }
  WatchSummary run();

 private:
  void write_header();
  bool take_sample(double t_ms);  // false: the watched process is gone
  void write_tree_record(double t_ms);
  void write_processes(double t_ms);
  void close_window(double end_ms);
  void read_cache_stats(double t_ms);
  void show(double t_ms);
  WatchSummary finish(const std::string& ended, bool interrupted);

  PreparedWatch& w_;
  const WatchOptions& o_;
  const std::function<void(const WatchProgress&)>& progress_;
  TraceOut out_;
  Clock::time_point t0_ = Clock::now();
  SeriesBuilder series_;  // the running verdict's
  probe::TreeSample sample_;
  WatchMetricsValues metrics_;
  std::map<int, bool> seen_;  // pids with their "process" note written
  Verdict running_;
  std::uint64_t samples_ = 0;
  double last_judged_ms_ = 0, last_plain_ms_ = 0, last_live_ms_ = -1e9;
  LiveFigures live_;
  WatchWindow window_;
  std::optional<CacheStatsReader> cache_stats_;
  CacheStatsProblem last_cache_problem_ = CacheStatsProblem::missing;
};

void WatchRun::write_header() {
  trace::Record h = record(trace::RecordType::header, 0, "", w_.pid);
  h.src = trace::Src::none;
  h.extra = {{key::kTool, "infermem"},     {key::kToolVersion, INFERMEM_VERSION},
             {key::kCommand, "watch"},     {key::kHost, host_name()},
             {key::kStartedAt, utc_now()}, {"mode", o_.pid == 0 ? "command" : "pid"},
             {"argv", w_.command}};
  h.values.set(Figure::interval_ms, o_.interval_ms);
  h.values.set(Figure::window_ms, o_.window_ms);
  if (o_.memory_limit_bytes > 0 && w_.cgroup)
    h.values.set(Figure::cgroup_limit_bytes, static_cast<double>(o_.memory_limit_bytes));
  if (w_.cgroup)
    h.extra[key::kCgroupDir] = w_.cgroup->path();
  else if (w_.tree)
    h.extra[key::kCgroupDir] = w_.tree->cgroup_dir();
  out_.write(h);
  if (!w_.cgroup_note.empty()) {
    trace::Record n = record(trace::RecordType::note, 0, "tree", w_.pid);
    n.extra[key::kText] = w_.cgroup_note;
    out_.write(n);
  }
}

void WatchRun::close_window(double end_ms) {
  trace::Record n = record(trace::RecordType::note, end_ms, "tree", w_.pid);
  n.extra[key::kEvent] = "window";
  if (present(window_.peak_rss_bytes))
    n.values.set(Figure::window_peak_rss_bytes, window_.peak_rss_bytes);
  if (present(live_.hwm)) n.values.set(Figure::hwm_bytes, live_.hwm);
  n.values.set(Figure::duration_ms, end_ms - window_.start_ms);
  out_.write(n);
  window_ = WatchWindow{};
  window_.start_ms = end_ms;
}

// The service's ModelCache counters, from its stats file: a `note` (event "cache") for each new
// snapshot, another (event "cache-stats-refused") when the file starts being refused or for a
// new reason; metrics; the end record's "cache_stats".
void WatchRun::read_cache_stats(double t_ms) {
  if (!cache_stats_) return;
  const bool fresh = cache_stats_->poll();
  const CacheStatsProblem problem = cache_stats_->problem();
  if (fresh) {
    const CacheStatsFile& f = *cache_stats_->last();
    trace::Record n = record(trace::RecordType::note, t_ms, "tree", f.pid);
    n.extra[key::kEvent] = "cache";
    n.extra["cache"] = f.stats.to_json();
    out_.write(n);
    if (w_.metrics) w_.metrics->update_cache(f);
  } else if (problem != CacheStatsProblem::none && problem != CacheStatsProblem::missing) {
    if (w_.metrics) w_.metrics->count_cache_read_error(name(problem));
    if (problem != last_cache_problem_) {
      trace::Record n = record(trace::RecordType::note, t_ms, "tree", w_.pid);
      n.extra[key::kEvent] = "cache-stats-refused";
      n.extra["reason"] = name(problem);
      n.extra["message"] = fmt::format("cache stats file {} refused: {}", cache_stats_->path(),
                                       cache_stats_->problem_detail());
      out_.write(n);
    }
  }
  if (problem != CacheStatsProblem::missing) last_cache_problem_ = problem;
}

// The tree's total at every sample (statm), the split and VmHWM on detail samples.
void WatchRun::write_tree_record(double t_ms) {
  trace::Record r = record(trace::RecordType::sample, t_ms, "tree", w_.pid);
  r.values.set(Figure::rss_bytes, sample_.rss_bytes);
  r.values.set(Figure::rss_anon_bytes, sample_.anon_bytes);
  r.values.set(Figure::processes_count, static_cast<double>(sample_.processes.size()));
  if (sample_.detail) {
    for (auto [f, v] : sample_.total.values)
      if (f != Figure::rss_bytes && f != Figure::rss_anon_bytes) r.values.set(f, v);
    live_.hwm = value_or(sample_.total, Figure::hwm_bytes);
    metrics_.file_bytes = value_or(sample_.total, Figure::rss_file_bytes);
    metrics_.shmem_bytes = value_or(sample_.total, Figure::rss_shmem_bytes);
    if (sample_.rollup) metrics_.pss_bytes = value_or(sample_.total, Figure::pss_bytes);
    metrics_.cgroup_usage_bytes = value_or(sample_.total, Figure::cgroup_current_bytes);
    metrics_.cgroup_limit_bytes = value_or(sample_.total, Figure::cgroup_limit_bytes);
  }
  out_.write(r);
}

// Each process on detail samples: a "process" note when first seen (its ppid and name), then its
// own record (status, smaps_rollup, and its statm VmRSS).
void WatchRun::write_processes(double t_ms) {
  for (const auto& p : sample_.processes) {
    const std::string arm = fmt::format("pid {}", p.pid);
    if (seen_.try_emplace(p.pid, true).second) {
      trace::Record n = record(trace::RecordType::note, t_ms, arm, p.pid);
      n.extra[key::kEvent] = "process";
      n.extra[key::kName] = p.name;
      n.extra[key::kProcess] = {{"ppid", p.ppid}};
      out_.write(n);
    }
    trace::Record pr = record(trace::RecordType::sample, t_ms, arm, p.pid);
    pr.values = p.detail.values;
    pr.values.set(Figure::rss_bytes, p.rss_bytes);
    pr.extra[key::kName] = p.name;
    out_.write(pr);
  }
}

bool WatchRun::take_sample(double t_ms) {
  w_.tree->sample(sample_);
  if (!sample_.root_alive) {
    w_.reap();
    return false;
  }
  ++samples_;
  live_.processes = sample_.processes.size();
  live_.rss = sample_.rss_bytes;
  live_.anon = sample_.anon_bytes;
  write_tree_record(t_ms);
  if (sample_.detail) {
    read_cache_stats(t_ms);
    write_processes(t_ms);
  }
  SeriesPoint point;
  point.t_ms = t_ms;
  point.current_bytes = sample_.rss_bytes;
  point.anon_bytes = sample_.anon_bytes;
  if (sample_.detail) point.hwm_bytes = live_.hwm;
  series_.add(point);
  while (t_ms >= window_.start_ms + o_.window_ms) close_window(window_.start_ms + o_.window_ms);
  window_.peak_rss_bytes = present(window_.peak_rss_bytes)
                               ? std::max(window_.peak_rss_bytes, sample_.rss_bytes)
                               : sample_.rss_bytes;
  return true;
}

// The running verdict, the metrics and the live line.
void WatchRun::show(double t_ms) {
  if (t_ms - last_judged_ms_ >= kJudgeEveryMs) {
    Series judged;
    judged.name = "tree";
    judged.points = series_.points();
    running_ = judge(judged);
    last_judged_ms_ = t_ms;
    if (w_.metrics) w_.metrics->set_verdict(running_.kind);
  }
  if (w_.metrics) {
    metrics_.rss_bytes = live_.rss;
    metrics_.anon_bytes = live_.anon;
    metrics_.hwm_bytes = live_.hwm;
    metrics_.processes = static_cast<double>(live_.processes);
    metrics_.growth_bytes_per_second = per_second_from_per_minute(running_.growth_bytes_per_minute);
    metrics_.growth_low_bytes_per_second =
        per_second_from_per_minute(running_.growth_ci_low_bytes_per_minute);
    metrics_.growth_high_bytes_per_second =
        per_second_from_per_minute(running_.growth_ci_high_bytes_per_minute);
    w_.metrics->update(metrics_);
    w_.metrics->add_samples(1);
  }
  if (t_ms - last_live_ms_ < 250) return;
  last_live_ms_ = t_ms;
  WatchProgress p;
  p.line = live_line(live_, t_ms, running_);
  if (t_ms - last_plain_ms_ >= kPlainEveryMs || samples_ == 1) {
    last_plain_ms_ = t_ms;
    p.periodic = true;
  }
  progress_(p);
}

WatchSummary WatchRun::run() {
  running_.kind = VerdictKind::too_short;
  window_.start_ms = 0;
  write_header();
  Clock::time_point next = t0_;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(o_.interval_ms));
  for (;;) {
    if (g_stop.load()) return finish("interrupted", true);
    const double t_ms = since_ms(t0_);
    if (o_.duration_ms > 0 && t_ms >= o_.duration_ms) return finish("duration", false);
    if (w_.try_reap() || !w_.tree || !take_sample(t_ms)) return finish("exited", false);
    show(t_ms);
    next += interval;
    const auto now = Clock::now();
    if (next < now) next = now;  // after a stall, skip the missed ticks (no burst)
    sleep_until(next);
  }
}

// The end: the open window, how the process ended, the service's last cache counters (it
// publishes them once more as its cache is destroyed), the verdict and the gate's checks on the
// summary read back from the trace, the end record; then the summary of the whole trace.
WatchSummary WatchRun::finish(const std::string& ended, bool interrupted) {
  const double elapsed_ms = since_ms(t0_);
  if (present(window_.peak_rss_bytes)) close_window(elapsed_ms);
  trace::Record end = watch_end_record(w_, ended, interrupted, elapsed_ms, live_.rss);
  read_cache_stats(elapsed_ms);
  if (cache_stats_ && (cache_stats_->last() || !cache_stats_->errors().empty()))
    end.extra[key::kCacheStats] = cache_stats_->to_json();

  WatchTraceReader fold;
  {
    trace::Source source = trace::Source::open(out_.path(), "watch trace");
    trace::Reader reader(source);
    while (auto r = reader.next()) fold.add(*r);
  }
  const WatchSummary before_end = fold.summary(out_.path());
  GateSubject subject{"tree", before_end.peak_rss_bytes, kAbsent, kAbsent, before_end.verdict};
  end.extra[key::kChecks] = checks_json(evaluate_gate(o_.gate.for_subject("tree"), subject));
  end.extra[key::kVerdict] = std::string(name(before_end.verdict.kind));
  out_.write(end);
  out_.finish();
  // The end record as a reader of the file sees it.
  if (auto read_back = trace::parse_line(trace::to_line(end))) fold.add(*read_back);
  WatchSummary s = fold.summary(out_.path());

  WatchProgress last;
  last.final = true;
  live_.rss = s.last_rss_bytes;
  live_.anon = s.last_anon_bytes;
  live_.hwm = s.hwm_bytes;
  last.line = live_line(live_, s.elapsed_ms, s.verdict);
  progress_(last);
  if (w_.metrics) w_.metrics->set_verdict(s.verdict.kind);

  write_run_reports(s, o_.out_dir);
  return s;
}

}  // namespace

WatchSummary run_watch(PreparedWatch& w,
                       const std::function<void(const WatchProgress&)>& progress) {
  return WatchRun(w, progress).run();
}

void request_watch_stop() {
  g_stop.store(true);
}

}  // namespace infermem
