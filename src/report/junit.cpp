// JUnit XML for CI: one <testsuite>, one <testcase classname=subject name=check> per check;
// failures and skips carry the check's message. Text is escaped and made valid UTF-8 / XML 1.0.
#include <fmt/format.h>
#include <array>
#include <string>

#include "infermem/render.h"
#include "infermem/report_figures.h"
#include "report/renderers.h"

namespace infermem {
namespace {

using report::omitted;
using report::shown;
using report::SoakFigure;
using report::WatchFigure;
// JUnit's cases pass or fail; a memory figure has no place there but in a check's message.
constexpr std::string_view kCi =
    "JUnit is pass or fail per case: report.md and summary.json have it";

constexpr std::array kSoak{
    omitted(SoakFigure::run_facts, "the suite is named \"infermem soak\"; report.md has the run"),
    omitted(SoakFigure::interrupted, "an interrupted arm's run case fails with its status"),
    omitted(SoakFigure::notes, kCi),
    omitted(SoakFigure::baseline, kCi),
    omitted(SoakFigure::loaded, kCi),
    omitted(SoakFigure::peak, "a max-peak check's message states it"),
    omitted(SoakFigure::after_unload, kCi),
    omitted(SoakFigure::after_trim, kCi),
    omitted(SoakFigure::retained, "a max-retained check's message states it"),
    omitted(SoakFigure::retained_anon, kCi),
    omitted(SoakFigure::retained_file, kCi),
    omitted(SoakFigure::latency_p50, kCi),
    omitted(SoakFigure::latency_p95, kCi),
    omitted(SoakFigure::latency_p99, kCi),
    omitted(SoakFigure::throughput, kCi),
    shown(SoakFigure::requests),
    shown(SoakFigure::status),
    omitted(SoakFigure::arm_setup, kCi),
    shown(SoakFigure::verdict),
    omitted(SoakFigure::evidence, "a verdict check's message quotes the deciding evidence"),
    omitted(SoakFigure::time_to_verdict, kCi),
    omitted(SoakFigure::repeat_spread, kCi),
    omitted(SoakFigure::cache_totals, kCi),
    shown(SoakFigure::checks),
    omitted(SoakFigure::charts, "JUnit carries no charts: report.html draws them"),
    omitted(SoakFigure::attribution, kCi),
    omitted(SoakFigure::replay_policies, "replay's exit code says whether a policy holds"),
};
static_assert(report::covers_each_once(kSoak), "junit.xml of a soak: every SoakFigure, once");

constexpr std::array kWatch{
    shown(WatchFigure::watched),
    omitted(WatchFigure::sampling, kCi),
    omitted(WatchFigure::ended, "the run case's status line says how the process ended"),
    shown(WatchFigure::exit),
    omitted(WatchFigure::oom, "the run case fails with status oom-killed"),
    omitted(WatchFigure::memory_limit, kCi),
    omitted(WatchFigure::interrupted, "the run case's status says interrupted"),
    omitted(WatchFigure::notes, kCi),
    omitted(WatchFigure::last, kCi),
    omitted(WatchFigure::peak, "a max-peak check's message states it"),
    omitted(WatchFigure::last_anon, kCi),
    omitted(WatchFigure::hwm, kCi),
    omitted(WatchFigure::processes, kCi),
    omitted(WatchFigure::window_peak, kCi),
    shown(WatchFigure::verdict),
    omitted(WatchFigure::growth, "a max-growth-rate check's message states it"),
    omitted(WatchFigure::evidence, "a verdict check's message quotes the deciding evidence"),
    shown(WatchFigure::checks),
    omitted(WatchFigure::cache_stats, kCi),
    omitted(WatchFigure::charts, "JUnit carries no charts: report.html draws them"),
};
static_assert(report::covers_each_once(kWatch), "junit.xml of a watch: every WatchFigure, once");

}  // namespace

std::string render_junit(const std::string& suite, const std::vector<CheckResult>& results) {
  std::size_t failures = 0, skipped = 0;
  for (const auto& r : results) {
    failures += !r.passed;
    skipped += r.passed && r.skipped;
  }
  std::string body;
  for (const auto& r : results) {
    body += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n",
                        report::markup_escape(r.subject), report::markup_escape(r.check));
    if (!r.passed)
      body += fmt::format("      <failure message=\"{0}\" type=\"memory\">{0}</failure>\n",
                          report::markup_escape(r.message));
    else if (r.skipped)
      body += fmt::format("      <skipped message=\"{}\"/>\n", report::markup_escape(r.message));
    else
      body += fmt::format("      <system-out>{}</system-out>\n", report::markup_escape(r.message));
    body += "    </testcase>\n";
  }
  std::string name = report::markup_escape(suite);
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\">\n"
      "  <testsuite name=\"{0}\" tests=\"{1}\" failures=\"{2}\" errors=\"0\" skipped=\"{3}\">\n"
      "{4}"
      "  </testsuite>\n"
      "</testsuites>\n",
      name, results.size(), failures, skipped, body);
}

namespace report {

// Per arm, its gate checks, then one "run" case even without thresholds (the arm ran to the
// end, or how it did not), so CI always sees every arm.
std::string junit(const RunSummary& run) {
  std::vector<CheckResult> all;
  for (const auto& a : run.arms) {
    all.insert(all.end(), a.checks.begin(), a.checks.end());
    const bool ok = a.status == ArmStatus::ok;
    all.push_back({a.name, "run", ok,
                   ok ? fmt::format("arm {}: ok, {} requests, verdict {}", a.name, a.requests_done,
                                    a.verdict.kind)
                      : fmt::format("arm {}: {}: {}", a.name, name(a.status), a.status_detail)});
  }
  return render_junit("infermem soak", all);
}

std::string watch_junit(const WatchSummary& w) {
  std::vector<CheckResult> all = w.checks;
  const std::string subject = fmt::format("pid {}", w.pid);
  all.push_back({subject, "run", w.ran_ok(),
                 fmt::format("{}: {}, verdict {}", subject, watch_status_line(w), w.verdict.kind)});
  return render_junit("infermem watch", all);
}

}  // namespace report
}  // namespace infermem
