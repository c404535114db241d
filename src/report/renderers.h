#pragma once
// The report stage's renderers of a run, one per format; infermem/render.h dispatches to them.
#include <string>
#include <string_view>
#include <vector>

#include "infermem/summary.h"
#include "infermem/units.h"
#include "infermem/watch_summary.h"

namespace infermem::report {

// The comparison of arms, one row per arm: the table every format of a run shows.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};
Table comparison(const RunSummary& run);
// infermem replay's policies, one row per policy: report.md and report.html show the same.
Table replay_policies(const ReplayTable& replay);
// The run's title: "infermem soak report", or "infermem replay report" for a replay.
std::string run_title(const RunSummary& run);

// The cache scenario's totals of an arm in words (its charts' model; "" for other scenarios):
// report.md and report.html say the same, as analyze's text and page do. of_a_repeat: the charts
// are of one of the arm's repeats.
std::string cache_totals(const ArmCharts& charts, bool of_a_repeat = false);

// The only arithmetic a reporter does: a figure of the model in the unit its format shows.
constexpr double seconds_from_ms(double ms) {
  return ms / 1000;
}

std::string terminal_table(const RunSummary& run);
std::string markdown(const RunSummary& run);
std::string summary_json(const RunSummary& run);
std::string junit(const RunSummary& run);
std::string html(const RunSummary& run);

std::string soak_prometheus(const RunSummary& run);

std::string watch_text(const WatchSummary& watch);
std::string watch_prometheus(const WatchSummary& watch);
std::string watch_markdown(const WatchSummary& watch);
std::string watch_junit(const WatchSummary& watch);
std::string watch_html(const WatchSummary& watch);
// Text for XML and HTML: &, <, >, " and ' escaped, invalid UTF-8 and the control characters XML
// 1.0 forbids replaced by U+FFFD (markup.cpp).
std::string markup_escape(std::string_view s);
// How the watched process ended: its status and, in brackets, the detail.
std::string watch_status_line(const WatchSummary& watch);
// The verdict's growth per minute with its confidence interval: "growth 1.0 MiB/min [.. ..]"
// ("" when not estimated).
std::string watch_growth_text(const WatchSummary& watch);
// The watched command as one line: its argv joined by spaces.
std::string watch_command_line(const WatchSummary& watch);
// The windows report.md and report.html list: the first ten and the last.
std::vector<const WatchWindow*> shown_windows(const WatchSummary& watch);
// The watched service's ModelCache counters as report.md and report.html state them (empty when
// watch read none): one line each.
std::vector<std::string> watch_cache_lines(const WatchSummary& watch);

}  // namespace infermem::report
