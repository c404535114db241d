// A watch's summary from its trace alone (infermem/watch_summary.h): what `infermem watch` writes
// at the end and what `infermem report` rebuilds are the same fold over the same records.
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>

#include "infermem/error.h"
#include "infermem/input_file.h"
#include "infermem/watch_summary.h"

namespace infermem {
namespace {

namespace key = trace::key;

double value_or(const trace::Record& r, Figure k, double fallback = kAbsent) {
  return r.value(k).value_or(fallback);
}

double max_of(double a, double b) {
  return present(a) ? std::max(a, b) : b;
}

// A record with figures besides the three every tree sample has read status (a detail sample).
bool is_detail(const trace::Record& r) {
  for (auto [f, v] : r.values)
    if (f != Figure::rss_bytes && f != Figure::rss_anon_bytes && f != Figure::processes_count)
      return true;
  return false;
}

std::string json_text(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

double json_double(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_number() ? it->get<double>() : kAbsent;
}

std::vector<CheckResult> checks_of(const nlohmann::json& j) {
  std::vector<CheckResult> out;
  if (!j.is_array()) return out;
  for (const auto& c : j) {
    if (!c.is_object()) continue;
    CheckResult r;
    r.subject = "tree";
    r.check = json_text(c, "check");
    r.message = json_text(c, "message");
    r.passed = c.value("passed", true);
    r.skipped = c.value("skipped", false);
    out.push_back(r);
  }
  return out;
}

}  // namespace

void WatchTraceReader::add(const trace::Record& r) {
  if (r.type == trace::RecordType::header) {
    if (r.text(key::kCommand) != "watch") return;
    header_ = true;
    s_.tool_version = r.text(key::kToolVersion);
    s_.host = r.text(key::kHost);
    s_.started_at = r.text(key::kStartedAt);
    s_.mode = r.text("mode");
    s_.pid = r.pid;
    if (auto argv = r.extra.find("argv"); argv != r.extra.end() && argv->is_array())
      for (const auto& a : *argv)
        if (a.is_string()) s_.command.push_back(a.get<std::string>());
    s_.interval_ms = value_or(r, Figure::interval_ms, 0);
    s_.window_ms = value_or(r, Figure::window_ms, 0);
    s_.memory_limit_bytes = value_or(r, Figure::cgroup_limit_bytes);
    s_.cgroup_dir = r.text(key::kCgroupDir);
    s_.series_source = fmt::format(
        "the process tree's total VmRSS (/proc/PID/statm of each process) sampled every {} ms",
        s_.interval_ms);
  } else if (!header_ || r.src != trace::Src::watch) {
    return;
  } else if (r.type == trace::RecordType::sample) {
    sample(r);
  } else if (r.type == trace::RecordType::note) {
    note(r);
  } else if (r.type == trace::RecordType::arm && r.edge == trace::Edge::result) {
    end(r);
  }
}

void WatchTraceReader::sample(const trace::Record& r) {
  const double rss = value_or(r, Figure::rss_bytes);
  if (r.arm != "tree") {  // one process, on a detail sample
    auto it = process_index_.find(r.pid);
    if (it == process_index_.end()) return;
    WatchedProcess& p = s_.processes[it->second];
    p.last_seen_ms = r.t_ms;
    if (!present(p.first_seen_ms)) p.first_seen_ms = r.t_ms;
    if (present(rss)) {
      p.last_rss_bytes = rss;
      p.peak_rss_bytes = max_of(p.peak_rss_bytes, rss);
    }
    p.hwm_bytes = value_or(r, Figure::hwm_bytes, p.hwm_bytes);
    return;
  }
  ++s_.samples;
  const bool detail = is_detail(r);
  if (detail) {
    hwm_now_ = value_or(r, Figure::hwm_bytes);
    cgroup_peak_ = value_or(r, Figure::cgroup_peak_bytes, cgroup_peak_);
    oom_kills_ = value_or(r, Figure::cgroup_oom_kill_count, oom_kills_);
    last_detail_ms_ = r.t_ms;
  }
  s_.last_rss_bytes = rss;
  s_.last_anon_bytes = value_or(r, Figure::rss_anon_bytes);
  if (present(rss)) s_.peak_rss_bytes = max_of(s_.peak_rss_bytes, rss);
  if (present(hwm_now_)) s_.hwm_bytes = hwm_now_;
  SeriesPoint point;
  point.t_ms = r.t_ms;
  point.current_bytes = rss;
  point.anon_bytes = s_.last_anon_bytes;
  if (detail) point.hwm_bytes = hwm_now_;
  series_.add(point);
}

void WatchTraceReader::note(const trace::Record& r) {
  const std::string event = r.text(key::kEvent);
  if (event == "window") {
    WatchWindow w;
    w.start_ms = last_window_end_ms_;
    w.end_ms = last_window_end_ms_ = r.t_ms;
    w.peak_rss_bytes = value_or(r, Figure::window_peak_rss_bytes);
    w.lifetime_hwm_bytes = value_or(r, Figure::hwm_bytes);
    ++s_.windows_total;
    s_.windows.push_back(w);
    if (s_.windows.size() > WatchSummary::kMaxWindows) s_.windows.erase(s_.windows.begin());
  } else if (event == "process") {
    if (!process_index_.try_emplace(r.pid, s_.processes.size()).second) return;
    WatchedProcess p;
    p.pid = r.pid;
    p.name = r.text(key::kName);
    if (auto it = r.extra.find(key::kProcess); it != r.extra.end() && it->is_object())
      p.ppid = it->value("ppid", 0);
    s_.processes.push_back(p);
  } else if (!r.text(key::kText).empty()) {
    s_.notes.push_back(r.text(key::kText));
  }
}

void WatchTraceReader::end(const trace::Record& r) {
  ended_ = true;
  s_.elapsed_ms = r.t_ms;
  s_.status = parse_arm_status(r.text(key::kStatus)).value_or(ArmStatus::crashed);
  s_.status_detail = r.text(key::kStatusDetail);
  const nlohmann::json exit = r.extra.value(key::kExit, nlohmann::json::object());
  s_.ended = json_text(exit, "ended");
  s_.interrupted = exit.value("interrupted", false);
  if (auto code = exit.find("code"); code != exit.end() && code->is_number_integer())
    s_.exit_code = code->get<int>();
  s_.signal = json_text(exit, "signal");
  s_.oom_at_ms = json_double(exit, "oom_at_ms");
  s_.oom_last_rss_bytes = json_double(exit, "oom_last_rss_bytes");
  s_.oom_cgroup_peak_bytes = json_double(exit, "oom_cgroup_peak_bytes");
  s_.checks = checks_of(r.extra.value(key::kChecks, nlohmann::json()));
  if (auto c = r.extra.find(key::kCacheStats); c != r.extra.end() && !c->is_null()) {
    try {
      s_.cache = CacheStatsSnapshot::from_json(*c);
    } catch (const InputError& e) {
      s_.notes.push_back(fmt::format("the end record's {} could not be read ({}); left out",
                                     key::kCacheStats, e.what()));
    }
  }
}

Series WatchTraceReader::judged_series() const {
  Series judged;
  judged.name = "tree";
  judged.current_source = s_.series_source;
  judged.hwm_source = "summed VmHWM (the processes' lifetime high-water marks)";
  judged.points = series_.points();
  return judged;
}

WatchSummary WatchTraceReader::summary(const std::string& what) const {
  if (!header_)
    throw InputError(
        fmt::format("{}: not a watch's trace (no header with \"command\": \"watch\")", what));
  WatchSummary s = s_;
  if (!ended_) {
    s.ended = "unknown";
    s.elapsed_ms = present(series_.figures().last_t_ms) ? series_.figures().last_t_ms : 0;
    s.notes.push_back("the trace has no end record: the watch was stopped before it finished");
  }
  if (present(cgroup_peak_) && !present(s.oom_cgroup_peak_bytes) &&
      s.status == ArmStatus::oom_killed)
    s.oom_cgroup_peak_bytes = cgroup_peak_;
  if (present(oom_kills_) && oom_kills_ > 0 && s.status != ArmStatus::oom_killed)
    s.notes.push_back(fmt::format(
        "the memory cgroup counted {} OOM kill(s) of processes in the tree", oom_kills_));
  for (auto& p : s.processes) p.exited = p.last_seen_ms < last_detail_ms_ || s.ended == "exited";
  const Series judged = judged_series();
  s.verdict = judge(judged);
  s.charts = make_arm_charts(judged, s.verdict, SeriesContext{}, {});
  if (series_.merged())
    s.notes.push_back(fmt::format(
        "the verdict judged {} evenly spaced points of {} samples (each the last of {} in a row)",
        series_.points().size(), s.samples, series_.stride()));
  return s;
}

WatchSummary watch_summary_from_trace(trace::Source& source, const std::string& what) {
  trace::Reader reader(source);
  WatchTraceReader fold;
  while (auto r = reader.next()) fold.add(*r);
  return fold.summary(what);
}

WatchSummary load_watch_summary(const std::string& dir) {
  const std::string path = dir + "/trace.jsonl";
  trace::Source source = trace::Source::open(path, "watch trace");
  return watch_summary_from_trace(source, path);
}

bool is_watch_dir(const std::string& dir) {
  struct stat st {};
  const std::string summary = dir + "/summary.json";
  if (::stat(summary.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    constexpr std::uint64_t kMaxSummaryBytes = 256ull << 20;
    const nlohmann::json j = nlohmann::json::parse(
        read_regular_file(summary, "run summary", kMaxSummaryBytes), nullptr, false);
    return j.is_object() && j.value("command", "") == "watch";
  }
  const std::string path = dir + "/trace.jsonl";
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  trace::Reader reader(trace::Source::open(path, "trace"));
  auto first = reader.next();
  return first && first->type == trace::RecordType::header && first->text(key::kCommand) == "watch";
}

}  // namespace infermem
