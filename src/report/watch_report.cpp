// `infermem watch`'s report: summary.json, report.md, the closing terminal summary and junit.xml,
// all from WatchSummary and computing nothing.
#include <fmt/format.h>
#include <sstream>

#include "infermem/numbers.h"
#include "infermem/render.h"
#include "infermem/units.h"
#include "infermem/watch_summary.h"
#include "report/renderers.h"

namespace infermem {
namespace {

std::string bytes(double v) {
  return present(v) ? format_bytes(v) : "-";
}
std::string mib(double v) {
  return present(v) ? format_mib(v) : "-";
}

std::string status_line(const WatchSummary& w) {
  std::string s(name(w.status));
  if (!w.status_detail.empty()) s += " (" + w.status_detail + ")";
  return s;
}

}  // namespace

nlohmann::json WatchSummary::to_json() const {
  nlohmann::json j;
  j["tool"] = "infermem";
  j["command"] = "watch";
  j["tool_version"] = tool_version;
  j["host"] = host;
  j["started_at"] = started_at;
  j["mode"] = mode;
  j["pid"] = pid;
  j["argv"] = command;
  j["options"] = {{"interval_ms", interval_ms},
                  {"window_ms", window_ms},
                  {"memory_limit_bytes", json_number(memory_limit_bytes)}};
  j["cgroup_dir"] = cgroup_dir;
  j["elapsed_ms"] = elapsed_ms;
  j["samples_count"] = samples;
  j["ended"] = ended;
  j["status"] = std::string(name(status));
  j["status_detail"] = status_detail;
  j["exit_code"] = exit_code ? nlohmann::json(*exit_code) : nlohmann::json();
  j["signal"] = signal.empty() ? nlohmann::json() : nlohmann::json(signal);
  j["oom"] = {{"at_ms", json_number(oom_at_ms)},
              {"last_rss_bytes", json_number(oom_last_rss_bytes)},
              {"cgroup_peak_bytes", json_number(oom_cgroup_peak_bytes)}};
  j["memory"] = {{"last_rss_bytes", json_number(last_rss_bytes)},
                 {"peak_rss_bytes", json_number(peak_rss_bytes)},
                 {"last_anon_bytes", json_number(last_anon_bytes)},
                 {"hwm_bytes", json_number(hwm_bytes)}};
  auto procs = nlohmann::json::array();
  for (const auto& p : processes)
    procs.push_back({{"pid", p.pid},
                     {"ppid", p.ppid},
                     {"name", p.name},
                     {"first_seen_ms", json_number(p.first_seen_ms)},
                     {"last_seen_ms", json_number(p.last_seen_ms)},
                     {"last_rss_bytes", json_number(p.last_rss_bytes)},
                     {"peak_rss_bytes", json_number(p.peak_rss_bytes)},
                     {"hwm_bytes", json_number(p.hwm_bytes)},
                     {"exited", p.exited}});
  j["processes"] = procs;
  auto wins = nlohmann::json::array();
  for (const auto& w : windows)
    wins.push_back({{"start_ms", w.start_ms},
                    {"end_ms", w.end_ms},
                    {"peak_rss_bytes", json_number(w.peak_rss_bytes)},
                    {"lifetime_hwm_bytes", json_number(w.lifetime_hwm_bytes)}});
  j["windows"] = wins;
  j["windows_count"] = windows_total;
  j["verdict"] = verdict.to_json();
  j["series_source"] = series_source;
  auto checks_json = nlohmann::json::array();
  for (const auto& c : checks)
    checks_json.push_back(
        {{"check", c.check}, {"passed", c.passed}, {"skipped", c.skipped}, {"message", c.message}});
  j["checks"] = checks_json;
  j["notes"] = notes;
  j["interrupted"] = interrupted;
  if (!cache.is_null()) j["cache"] = cache;
  if (!charts.empty()) j["charts"] = charts.to_json();
  return j;
}

namespace report {

std::string watch_command_line(const WatchSummary& w) {
  std::string out;
  for (const auto& a : w.command) out += (out.empty() ? "" : " ") + a;
  return out;
}

// The first ten windows and the last: enough to see the honest per-window peak against the
// lifetime high-water mark without listing up to a thousand rows.
std::vector<const WatchWindow*> shown_windows(const WatchSummary& w) {
  std::vector<const WatchWindow*> out;
  for (std::size_t i = 0; i < w.windows.size() && out.size() < 10; ++i)
    out.push_back(&w.windows[i]);
  if (w.windows.size() > 10) out.push_back(&w.windows.back());
  return out;
}

std::vector<std::string> watch_cache_lines(const WatchSummary& w) {
  std::vector<std::string> lines;
  if (!w.cache.is_object()) return lines;
  auto count = [](const nlohmann::json& j, const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_number() ? fmt::format("{}", it->get<double>()) : "-";
  };
  auto size = [](const nlohmann::json& j, const char* k) -> std::string {
    auto it = j.find(k);
    return it != j.end() && it->is_number() && it->get<double>() > 0
               ? format_bytes(it->get<double>())
               : "-";
  };
  const std::string path = w.cache.value("path", std::string());
  const auto& c = w.cache.contains("cache") ? w.cache["cache"] : nlohmann::json();
  if (c.is_object()) {
    lines.push_back(fmt::format(
        "ModelCache of pid {} (from {}): {} hits, {} misses, {} loads, {} evictions, {} idle "
        "unloads, {} refusals",
        count(w.cache, "pid"), path, count(c, "hits"), count(c, "misses"), count(c, "loads"),
        count(c, "evictions"), count(c, "idle_unloads"), count(c, "refusals")));
    lines.push_back(fmt::format("resident at the end: {} models, {} (peak {}); budget {}, limit {}",
                                count(c, "models_resident"), size(c, "bytes_resident"),
                                size(c, "peak_bytes_resident"), size(c, "budget_bytes"),
                                size(c, "limit_bytes")));
    if (auto m = c.find("models"); m != c.end() && m->is_object())
      for (const auto& [model, f] : m->items())
        lines.push_back(fmt::format("model {}: cost {}, {} loads, {} hits of {} requests{}", model,
                                    size(f, "cost_bytes"), count(f, "loads"), count(f, "hits"),
                                    count(f, "requests"),
                                    f.value("resident", false) ? ", resident" : ""));
  } else {
    lines.push_back(fmt::format("ModelCache stats file {}: no snapshot could be read", path));
  }
  if (auto e = w.cache.find("read_errors"); e != w.cache.end() && e->is_object() && !e->empty())
    lines.push_back(fmt::format("the stats file was refused: {}", e->dump()));
  return lines;
}

std::string watch_text(const WatchSummary& w) {
  std::ostringstream out;
  out << fmt::format("watched pid {} ({}) for {:.1f} s, {} samples every {} ms; ended: {}\n", w.pid,
                     watch_command_line(w), w.elapsed_ms / 1000.0, w.samples, w.interval_ms,
                     w.ended);
  out << fmt::format("status: {}\n", status_line(w));
  if (present(w.oom_at_ms))
    out << fmt::format("OOM-killed at {:.2f} s, last tree memory sampled {}{}\n",
                       w.oom_at_ms / 1000.0, bytes(w.oom_last_rss_bytes),
                       present(w.oom_cgroup_peak_bytes)
                           ? fmt::format(", cgroup peak {}", bytes(w.oom_cgroup_peak_bytes))
                           : "");
  out << fmt::format("memory (tree total): last {}, peak sampled {}, anonymous {}; VmHWM {}\n",
                     bytes(w.last_rss_bytes), bytes(w.peak_rss_bytes), bytes(w.last_anon_bytes),
                     bytes(w.hwm_bytes));
  out << fmt::format("{:>8}  {:>8}  {:<16}  {:>10}  {:>10}  {:>10}\n", "pid", "ppid", "name",
                     "last MiB", "peak MiB", "VmHWM MiB");
  for (const auto& p : w.processes)
    out << fmt::format("{:>8}  {:>8}  {:<16}  {:>10}  {:>10}  {:>10}{}\n", p.pid, p.ppid, p.name,
                       mib(p.last_rss_bytes), mib(p.peak_rss_bytes), mib(p.hwm_bytes),
                       p.exited ? "  (exited)" : "");
  out << fmt::format("verdict: {}", w.verdict.kind);
  if (present(w.verdict.growth_bytes_per_minute))
    out << fmt::format(" — growth {}/min [{} .. {}]", bytes(w.verdict.growth_bytes_per_minute),
                       bytes(w.verdict.growth_ci_low_bytes_per_minute),
                       bytes(w.verdict.growth_ci_high_bytes_per_minute));
  out << '\n';
  for (const auto& e : w.verdict.evidence) out << "  - " << e << '\n';
  for (const auto& c : w.checks)
    out << fmt::format("check {}: {} — {}\n", c.check, c.passed ? "pass" : "FAIL", c.message);
  for (const auto& n : w.notes) out << "note: " << n << '\n';
  return out.str();
}

std::string watch_markdown(const WatchSummary& w) {
  std::ostringstream out;
  out << "# infermem watch report\n\n";
  out << fmt::format("- watched: pid {} (`{}`), {} mode\n", w.pid, watch_command_line(w), w.mode);
  out << fmt::format("- infermem {}, host {}, started {}\n", w.tool_version, w.host, w.started_at);
  out << fmt::format("- {} samples every {} ms over {:.1f} s; ended: {}\n", w.samples,
                     w.interval_ms, w.elapsed_ms / 1000.0, w.ended);
  out << fmt::format("- status: {}\n", status_line(w));
  if (present(w.memory_limit_bytes))
    out << fmt::format("- memory limit: {} (a fresh memory cgroup{})\n",
                       bytes(w.memory_limit_bytes),
                       w.cgroup_dir.empty() ? "" : ": " + w.cgroup_dir);
  if (present(w.oom_at_ms))
    out << fmt::format(
        "- **OOM-killed** at {:.2f} s; the last tree total sampled before it was {}{}\n",
        w.oom_at_ms / 1000.0, bytes(w.oom_last_rss_bytes),
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
                       p.first_seen_ms / 1000.0, p.last_seen_ms / 1000.0,
                       p.exited ? " (exited)" : "");
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
    out << fmt::format("| {:.2f}..{:.2f} | {} | {} |\n", win->start_ms / 1000.0,
                       win->end_ms / 1000.0, mib(win->peak_rss_bytes),
                       mib(win->lifetime_hwm_bytes));
  if (const auto cache = watch_cache_lines(w); !cache.empty()) {
    out << "\n## Model cache\n\n";
    for (const auto& line : cache) out << "- " << line << '\n';
  }
  out << fmt::format("\n## Verdict: **{}**\n\n", w.verdict.kind);
  if (!w.series_source.empty()) out << "Judged: " << w.series_source << ".\n\n";
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

std::string watch_junit(const WatchSummary& w) {
  std::vector<CheckResult> all = w.checks;
  const std::string subject = fmt::format("pid {}", w.pid);
  const bool ok = w.status == ArmStatus::ok || w.status == ArmStatus::interrupted;
  all.push_back({subject, "run", ok,
                 fmt::format("{}: {}, verdict {}", subject, status_line(w), w.verdict.kind)});
  return render_junit("infermem watch", all);
}

}  // namespace report
}  // namespace infermem
