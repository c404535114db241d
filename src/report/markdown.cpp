// The Markdown reporter: report.md of a soak run (the comparison of arms, one row per arm, then a
// section per arm) and of a watch. The comparison table is the terminal's and report.html's too.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "infermem/numbers.h"
#include "infermem/render.h"
#include "infermem/report_figures.h"
#include "infermem/summary.h"
#include "infermem/units.h"
#include "report/renderers.h"

namespace infermem {
namespace {

using report::omitted;
using report::shown;
using report::SoakFigure;
using report::WatchFigure;
constexpr std::string_view kNoCharts = "Markdown draws no charts: report.html does";

constexpr std::array kSoak{
    shown(SoakFigure::run_facts),
    shown(SoakFigure::interrupted),
    shown(SoakFigure::notes),
    shown(SoakFigure::baseline),
    shown(SoakFigure::loaded),
    shown(SoakFigure::peak),
    shown(SoakFigure::after_unload),
    shown(SoakFigure::after_trim),
    shown(SoakFigure::retained),
    shown(SoakFigure::retained_anon),
    shown(SoakFigure::retained_file),
    shown(SoakFigure::latency_p50),
    shown(SoakFigure::latency_p95),
    shown(SoakFigure::latency_p99),
    shown(SoakFigure::throughput),
    shown(SoakFigure::requests),
    shown(SoakFigure::status),
    shown(SoakFigure::arm_setup),
    shown(SoakFigure::verdict),
    shown(SoakFigure::evidence),
    shown(SoakFigure::time_to_verdict),
    shown(SoakFigure::repeat_spread),
    shown(SoakFigure::cache_totals),
    shown(SoakFigure::checks),
    omitted(SoakFigure::charts, kNoCharts),
    shown(SoakFigure::attribution),
    shown(SoakFigure::replay_policies),
};
static_assert(report::covers_each_once(kSoak), "report.md of a soak: every SoakFigure, once");

constexpr std::array kWatch{
    shown(WatchFigure::watched),     shown(WatchFigure::sampling),
    shown(WatchFigure::ended),       shown(WatchFigure::exit),
    shown(WatchFigure::oom),         shown(WatchFigure::memory_limit),
    shown(WatchFigure::interrupted), shown(WatchFigure::notes),
    shown(WatchFigure::last),        shown(WatchFigure::peak),
    shown(WatchFigure::last_anon),   shown(WatchFigure::hwm),
    shown(WatchFigure::processes),   shown(WatchFigure::window_peak),
    shown(WatchFigure::verdict),     shown(WatchFigure::growth),
    shown(WatchFigure::evidence),    shown(WatchFigure::checks),
    shown(WatchFigure::cache_stats), omitted(WatchFigure::charts, kNoCharts),
};
static_assert(report::covers_each_once(kWatch), "report.md of a watch: every WatchFigure, once");

std::string bytes(double v) {
  return present(v) ? format_bytes(v) : "-";
}

std::string mib(double v) {
  return std::isnan(v) ? "-" : format_mib(v);
}
std::string ms(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.2f}", v);
}
std::string mib_text(double v) {
  return std::isnan(v) ? "-" : format_mib(v) + " MiB";
}
std::string rps(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.1f}", v);
}
// "settled-leak: 700 req, 12.3 s" (soak --until-confident); "-" for an arm without it.
std::string time_to_verdict_text(const std::optional<TimeToVerdict>& t) {
  if (!t) return "-";
  return fmt::format("{}: {} req, {}", t->stopped_by, t->requests,
                     present(t->seconds) ? fmt::format("{:.1f} s", t->seconds) : "-");
}

}  // namespace

namespace {

// A Table as a Markdown table: the first column left-aligned, the figures right-aligned.
std::string markdown_table(const report::Table& t) {
  std::ostringstream out;
  out << '|';
  for (const auto& h : t.header) out << ' ' << h << " |";
  out << "\n|";
  for (std::size_t c = 0; c < t.header.size(); ++c) out << (c == 0 ? "---|" : "---:|");
  out << '\n';
  for (const auto& r : t.rows) {
    out << '|';
    for (const auto& cell : r) out << ' ' << cell << " |";
    out << '\n';
  }
  return out.str();
}

std::string ms1(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.1f}", v);
}

std::string percent(double fraction) {
  return present(fraction) ? fmt::format("{:.1f}%", fraction * 100) : "-";
}

// infermem replay: the log and the policies, before the arms' memory.
std::string replay_markdown(const ReplayTable& r) {
  std::ostringstream out;
  out << fmt::format(
      "\n## Cache policies\n\nThe log `{}` ({}): {} requests, {} malformed lines skipped; "
      "--memory-limit {}, --speed {}, {:g}% headroom. A policy holds when it served every "
      "request with no OOM kill and its peak stayed at most the limit less the headroom.\n\n",
      r.log_path, r.log_format, r.requests, r.skipped_lines,
      r.memory_limit_bytes ? format_bytes(static_cast<double>(r.memory_limit_bytes)) : "none",
      r.speed, r.headroom * 100);
  out << replay_policies_markdown(r);
  out << (r.recommended.empty()
              ? std::string("\nNo policy holds this traffic.\n")
              : fmt::format("\nRecommended: `--policy {}` (the terminal output and `infermem "
                            "recommend` give the lines that apply it).\n",
                            r.recommended));
  out << "\nThe sections below are each policy's memory, as soak reports an arm: its verdict "
         "judges the series over the policy's loads and evictions.\n";
  return out.str();
}

}  // namespace

std::string replay_policies_markdown(const ReplayTable& replay) {
  return markdown_table(report::replay_policies(replay));
}

namespace report {

std::string run_title(const RunSummary& s) {
  return s.replay ? "infermem replay report" : "infermem soak report";
}

Table replay_policies(const ReplayTable& r) {
  Table t;
  t.header = {"policy", "status",    "served", "lost",   "refused",  "OOM kills", "hit rate",
              "loads",  "evictions", "p50 ms", "p99 ms", "peak MiB", "holds"};
  for (const auto& p : r.policies)
    t.rows.push_back({p.policy, std::string(name(p.status)),
                      fmt::format("{}/{}", p.served, p.requests), std::to_string(p.lost),
                      std::to_string(p.refused), std::to_string(p.oom_kills), percent(p.hit_rate),
                      std::to_string(p.loads), std::to_string(p.evictions), ms1(p.p50_ms),
                      ms1(p.p99_ms), mib(p.peak_bytes), p.holds ? "yes" : "no: " + p.why_not});
  return t;
}

Table comparison(const RunSummary& s) {
  Table t;
  t.header = {"arm",          "baseline MiB",     "loaded MiB",
              "peak MiB",     "after unload MiB", "after trim MiB",
              "retained MiB", "anon MiB",         "file MiB",
              "p50 ms",       "p95 ms",           "p99 ms",
              "req/s",        "verdict",          "status"};
  for (const auto& a : s.arms)
    t.rows.push_back({a.name, mib(a.memory.baseline_bytes), mib(a.memory.loaded_bytes),
                      mib(a.memory.peak_bytes), mib(a.memory.after_unload_bytes),
                      mib(a.memory.after_trim_bytes), mib(a.memory.retained_bytes),
                      mib(a.memory.retained_anon_bytes), mib(a.memory.retained_file_bytes),
                      ms(a.latency_ms.p50), ms(a.latency_ms.p95), ms(a.latency_ms.p99),
                      rps(a.throughput_rps), std::string(name(a.verdict.kind)),
                      std::string(name(a.status))});
  if (std::any_of(s.arms.begin(), s.arms.end(), [](const auto& a) { return a.until_confident; })) {
    t.header.push_back("time to verdict");  // soak --until-confident
    for (std::size_t i = 0; i < s.arms.size(); ++i)
      t.rows[i].push_back(time_to_verdict_text(s.arms[i].until_confident));
  }
  return t;
}

std::string cache_totals(const ArmCharts& charts, bool of_a_repeat) {
  if (!charts.cache) return "";
  const CacheChart& c = *charts.cache;
  return fmt::format(
      "cache: at most {} model{} resident, {} load{}, {} eviction{}, {} refusal{} (the trace's "
      "load, evict and refused events{})",
      c.max_resident, c.max_resident == 1 ? "" : "s", c.total_loads, c.total_loads == 1 ? "" : "s",
      c.total_evictions, c.total_evictions == 1 ? "" : "s", c.total_refusals,
      c.total_refusals == 1 ? "" : "s", of_a_repeat ? "; the repeat the charts show" : "");
}

std::string attribution_markdown(const Attribution& at) {
  std::ostringstream out;
  out << fmt::format("\n## Growth attributed to call sites ({})\n\n", at.arm);
  out << "- " << at.outcome << ": " << at.message << '\n';
  if (!at.command.empty()) out << "- command: `" << at.command << "`\n";
  if (!at.data_file.empty()) out << "- heaptrack recording: `" << at.data_file << "`\n";
  for (std::size_t i = 0; i < at.sites.size(); ++i) {
    const auto& site = at.sites[i];
    out << fmt::format("\n{}. leaked {}, peak {}, {} calls\n", i + 1, mib_text(site.leaked_bytes),
                       mib_text(site.peak_bytes), site.calls);
    for (const auto& f : site.frames) out << "   - `" << f << "`\n";
  }
  return out.str();
}

std::string markdown(const RunSummary& s) {
  std::ostringstream out;
  out << "# " << run_title(s) << "\n\n";
  out << fmt::format("- model: `{}` (sha256 `{}`)\n", s.model_path, s.model_sha256.substr(0, 16));
  out << fmt::format("- scenario: {} (seed {})\n", s.scenario, s.seed);
  out << fmt::format("- infermem {} on ONNX Runtime {}, host {}, started {}\n", s.tool_version,
                     s.ort_version, s.host, s.started_at);
  if (s.interrupted) out << "- **interrupted**: the run was stopped; figures are partial\n";
  for (const auto& n : s.notes) out << "- note: " << n << '\n';
  if (s.replay) out << replay_markdown(*s.replay);
  out << "\nEach arm ran in its own fresh process. Memory is VmRSS read by the child at each "
         "phase end; peak is the highest RSS during warm-up and inference (method per arm "
         "below); retained = after trim (or after unload) minus baseline, split into anonymous "
         "(anon: heap "
         "and arenas) and file-backed (file: library code, mapped files) pages. Latency is timed "
         "around `Run()` only.\n\n";
  out << markdown_table(comparison(s));
  for (const auto& a : s.arms) {
    out << fmt::format("\n## {}\n\n", a.name);
    out << fmt::format("- status: {}{}\n", name(a.status),
                       a.status_detail.empty() ? "" : " (" + a.status_detail + ")");
    out << fmt::format("- pid {}, {} requests\n", a.pid, a.requests_done);
    if (!a.ort_version.empty()) out << fmt::format("- ONNX Runtime {}\n", a.ort_version);
    std::string cfg;
    for (const auto& [k, v] : a.config) cfg += (cfg.empty() ? "" : ", ") + k + "=" + v;
    out << "- config: " << cfg << '\n';
    if (!a.memory.peak_method.empty()) out << "- peak method: " << a.memory.peak_method << '\n';
    if (const std::string cache = cache_totals(a.charts, a.repeats.size() > 1); !cache.empty())
      out << "- " << cache << '\n';
    if (!a.memory_spread.empty()) {
      out << "- figures are medians over repeats (each a fresh process); spread min..max MiB:";
      for (const auto& [figure, range] : a.memory_spread)
        out << fmt::format(" {} {}..{};", name(figure), mib(range.lo), mib(range.hi));
      out << '\n';
    }
    out << fmt::format("- verdict: **{}**\n", a.verdict.kind);
    for (const auto& e : a.verdict.evidence) out << "  - " << e << '\n';
    if (!a.verdict.causes.empty()) {
      out << "- likely causes:\n";
      for (const auto& c : a.verdict.causes) out << "  - " << c << '\n';
    }
    if (!a.verdict.remediations.empty()) {
      out << "- remediations:\n";
      for (const auto& r : a.verdict.remediations) out << "  - " << r << '\n';
    }
    for (const auto& c : a.checks)
      out << fmt::format("- check {}: {} — {}\n", c.check, c.passed ? "pass" : "FAIL", c.message);
  }
  if (s.attribution) out << attribution_markdown(*s.attribution);
  return out.str();
}

std::string watch_markdown(const WatchSummary& w) {
  std::ostringstream out;
  out << "# infermem watch report\n\n";
  out << fmt::format("- watched: pid {} (`{}`), {} mode\n", w.pid, watch_command_line(w), w.mode);
  out << fmt::format("- infermem {}, host {}, started {}\n", w.tool_version, w.host, w.started_at);
  out << fmt::format("- {} samples every {} ms over {:.1f} s; ended: {}\n", w.samples,
                     w.interval_ms, report::seconds_from_ms(w.elapsed_ms), w.ended);
  out << fmt::format("- status: {}\n", watch_status_line(w));
  if (present(w.memory_limit_bytes))
    out << fmt::format("- memory limit: {} (a fresh memory cgroup{})\n",
                       bytes(w.memory_limit_bytes),
                       w.cgroup_dir.empty() ? "" : ": " + w.cgroup_dir);
  if (present(w.oom_at_ms))
    out << fmt::format(
        "- **OOM-killed** at {:.2f} s; the last tree total sampled before it was {}{}\n",
        report::seconds_from_ms(w.oom_at_ms), bytes(w.oom_last_rss_bytes),
        present(w.oom_cgroup_peak_bytes)
            ? fmt::format(" and the cgroup's peak {}", bytes(w.oom_cgroup_peak_bytes))
            : "");
  if (w.interrupted) out << "- **interrupted**: the watch was stopped; figures are partial\n";
  for (const auto& n : w.notes) out << "- note: " << n << '\n';
  out << "\nMemory is the process tree's total: every sample sums VmRSS (from /proc/PID/statm) "
         "over the watched process and each descendant alive at that moment.\n\n";
  out << fmt::format("- last {}, peak sampled {}, anonymous (last) {}\n", bytes(w.last_rss_bytes),
                     bytes(w.peak_rss_bytes), bytes(w.last_anon_bytes));
  out << fmt::format("- VmHWM of the watched process (its lifetime high-water mark): {}\n\n",
                     bytes(w.hwm_bytes));
  out << "## Processes\n\n| pid | ppid | name | last MiB | peak MiB | VmHWM MiB | seen s |\n"
         "|---:|---:|---|---:|---:|---:|---|\n";
  for (const auto& p : w.processes)
    out << fmt::format("| {} | {} | {} | {} | {} | {} | {:.2f}..{:.2f}{} |\n", p.pid, p.ppid,
                       p.name, mib(p.last_rss_bytes), mib(p.peak_rss_bytes), mib(p.hwm_bytes),
                       report::seconds_from_ms(p.first_seen_ms),
                       report::seconds_from_ms(p.last_seen_ms), p.exited ? " (exited)" : "");
  out << fmt::format(
      "\n## Windows of {} ms\n\nEach window's honest peak (the highest tree total sampled in it) "
      "beside the watched process's lifetime high-water mark at the window's end: what a Lambda "
      "REPORT line's Max Memory Used would have said for that invocation. {} windows in all",
      w.window_ms, w.windows_total);
  out << (w.windows_total > w.windows.size()
              ? fmt::format(" (summary.json keeps the last {})", w.windows.size())
              : std::string());
  out << ".\n\n| window s | peak in window MiB | lifetime VmHWM MiB |\n|---|---:|---:|\n";
  for (const WatchWindow* win : shown_windows(w))
    out << fmt::format("| {:.2f}..{:.2f} | {} | {} |\n", report::seconds_from_ms(win->start_ms),
                       report::seconds_from_ms(win->end_ms), mib(win->peak_rss_bytes),
                       mib(win->lifetime_hwm_bytes));
  if (const auto cache = watch_cache_lines(w); !cache.empty()) {
    out << "\n## Model cache\n\n";
    for (const auto& line : cache) out << "- " << line << '\n';
  }
  out << fmt::format("\n## Verdict: **{}**\n\n", w.verdict.kind);
  if (!w.series_source.empty()) out << "Judged: " << w.series_source << ".\n\n";
  if (const std::string growth = report::watch_growth_text(w); !growth.empty())
    out << "- " << growth << '\n';
  for (const auto& e : w.verdict.evidence) out << "- " << e << '\n';
  if (!w.verdict.causes.empty()) {
    out << "\nLikely causes:\n\n";
    for (const auto& c : w.verdict.causes) out << "- " << c << '\n';
  }
  if (!w.verdict.remediations.empty()) {
    out << "\nRemediations:\n\n";
    for (const auto& r : w.verdict.remediations) out << "- " << r << '\n';
  }
  if (!w.checks.empty()) out << "\n## Checks\n\n";
  for (const auto& c : w.checks)
    out << fmt::format("- {}: {} — {}\n", c.check, c.passed ? "pass" : "FAIL", c.message);
  return out.str();
}

}  // namespace report
}  // namespace infermem
