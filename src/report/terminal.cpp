// The terminal reporter: the comparison table soak and `infermem report` print, and the closing
// summary `infermem watch` prints. One screen: the details are report.md's.
#include <fmt/format.h>
#include <algorithm>
#include <array>
#include <sstream>

#include "infermem/numbers.h"
#include "infermem/report_figures.h"
#include "infermem/units.h"
#include "report/renderers.h"

namespace infermem::report {
namespace {

constexpr std::string_view kDetails =
    "report.md and summary.json carry it; the terminal shows one screen";
constexpr std::string_view kNoCharts = "a terminal draws no charts: report.html does";

constexpr std::array kSoak{
    omitted(SoakFigure::run_facts,
            "soak names the model and scenario as it starts; report.md heads with them"),
    omitted(SoakFigure::interrupted, "soak exits 130 and says so on stderr; report.md states it"),
    omitted(SoakFigure::notes, "soak prints each note after the table; report.md lists them"),
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
    omitted(SoakFigure::requests, kDetails),
    shown(SoakFigure::status),
    omitted(SoakFigure::arm_setup, kDetails),
    shown(SoakFigure::verdict),
    omitted(SoakFigure::evidence, kDetails),
    shown(SoakFigure::time_to_verdict),
    omitted(SoakFigure::repeat_spread, kDetails),
    omitted(SoakFigure::cache_totals, kDetails),
    omitted(SoakFigure::checks,
            "soak prints each failed check on stderr; report.md lists them all"),
    omitted(SoakFigure::charts, kNoCharts),
    omitted(SoakFigure::attribution, kDetails),
    omitted(SoakFigure::replay_policies, "infermem replay prints its own table beside this one"),
};
static_assert(covers_each_once(kSoak), "the terminal table: every SoakFigure, once");

constexpr std::array kWatch{
    shown(WatchFigure::watched),
    shown(WatchFigure::sampling),
    shown(WatchFigure::ended),
    shown(WatchFigure::exit),
    shown(WatchFigure::oom),
    omitted(WatchFigure::memory_limit, "the user gave it on the command line; report.md states it"),
    omitted(WatchFigure::interrupted, "the ended line says \"interrupted\""),
    shown(WatchFigure::notes),
    shown(WatchFigure::last),
    shown(WatchFigure::peak),
    shown(WatchFigure::last_anon),
    shown(WatchFigure::hwm),
    shown(WatchFigure::processes),
    omitted(WatchFigure::window_peak,
            "up to a thousand rows: report.md lists the first ten and the last"),
    shown(WatchFigure::verdict),
    shown(WatchFigure::growth),
    shown(WatchFigure::evidence),
    shown(WatchFigure::checks),
    omitted(WatchFigure::cache_stats, kDetails),
    omitted(WatchFigure::charts, kNoCharts),
};
static_assert(covers_each_once(kWatch), "watch's closing summary: every WatchFigure, once");

std::string bytes(double v) {
  return present(v) ? format_bytes(v) : "-";
}
std::string mib(double v) {
  return present(v) ? format_mib(v) : "-";
}

}  // namespace

std::string terminal_table(const RunSummary& s) {
  Table t = comparison(s);
  std::vector<std::size_t> width(t.header.size());
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    width[c] = t.header[c].size();
    for (const auto& r : t.rows) width[c] = std::max(width[c], r[c].size());
  }
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c == 0)
        out << fmt::format("{:<{}}", cells[c], width[c]);
      else
        out << "  " << fmt::format("{:>{}}", cells[c], width[c]);
    }
    out << '\n';
  };
  line(t.header);
  for (const auto& r : t.rows) line(r);
  return out.str();
}

std::string watch_text(const WatchSummary& w) {
  std::ostringstream out;
  out << fmt::format("watched pid {} ({}) for {:.1f} s, {} samples every {} ms; ended: {}\n", w.pid,
                     watch_command_line(w), seconds_from_ms(w.elapsed_ms), w.samples, w.interval_ms,
                     w.ended);
  out << fmt::format("status: {}\n", watch_status_line(w));
  if (present(w.oom_at_ms))
    out << fmt::format("OOM-killed at {:.2f} s, last tree memory sampled {}{}\n",
                       seconds_from_ms(w.oom_at_ms), bytes(w.oom_last_rss_bytes),
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
  if (const std::string growth = watch_growth_text(w); !growth.empty()) out << " — " << growth;
  out << '\n';
  for (const auto& e : w.verdict.evidence) out << "  - " << e << '\n';
  for (const auto& c : w.checks)
    out << fmt::format("check {}: {} — {}\n", c.check, c.passed ? "pass" : "FAIL", c.message);
  for (const auto& n : w.notes) out << "note: " << n << '\n';
  return out.str();
}

}  // namespace infermem::report
