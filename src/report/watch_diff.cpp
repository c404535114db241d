// `infermem diff WATCH WATCH`: two watches of one command, the tree's figures side by side.
#include <fmt/format.h>
#include <algorithm>

#include "infermem/error.h"
#include "infermem/run_diff.h"
#include "infermem/units.h"

namespace infermem {
namespace {

std::string command_of(const WatchSummary& w) {
  std::string out;
  for (const auto& a : w.command) out += (out.empty() ? "" : " ") + a;
  return out;
}

FigureDiff figure(const std::string& name, double base, double next) {
  FigureDiff f;
  f.arm = "tree";
  f.figure = name;
  f.base = base;
  f.next = next;
  f.runs_base = f.runs_new = 1;
  return f;
}

std::string rate(const Verdict& v) {
  return fmt::format("{}/min [{} .. {}]", format_bytes(v.growth_bytes_per_minute),
                     format_bytes(v.growth_ci_low_bytes_per_minute),
                     format_bytes(v.growth_ci_high_bytes_per_minute));
}

}  // namespace

RunDiff diff_watches(const WatchSummary& base, const WatchSummary& next,
                     const DiffOptions& options) {
  if (base.command != next.command)
    throw InputError(fmt::format(
        "two watches of different commands ('{}' and '{}'): their figures do not compare; diff "
        "compares two watches of the same command",
        command_of(base), command_of(next)));
  RunDiff d;
  d.figures.push_back(figure("peak_bytes", base.peak_rss_bytes, next.peak_rss_bytes));
  d.figures.push_back(figure("last_bytes", base.last_rss_bytes, next.last_rss_bytes));
  d.figures.push_back(figure("growth_per_minute", base.verdict.growth_bytes_per_minute,
                             next.verdict.growth_bytes_per_minute));
  if (next.status != ArmStatus::ok)
    d.failures.push_back(fmt::format("the watched command in NEW ended {}: {}", name(next.status),
                                     next.status_detail));
  if (next.verdict.kind == VerdictKind::leak && base.verdict.kind != VerdictKind::leak)
    d.failures.push_back(fmt::format("the verdict became leak (BASE: {}), growing {}",
                                     name(base.verdict.kind), rate(next.verdict)));
  else if (present(next.verdict.growth_ci_low_bytes_per_minute) &&
           present(base.verdict.growth_ci_high_bytes_per_minute) &&
           next.verdict.growth_ci_low_bytes_per_minute >
               std::max(0.0, base.verdict.growth_ci_high_bytes_per_minute))
    d.failures.push_back(fmt::format("growth rose from {} to {}: the intervals do not overlap",
                                     rate(base.verdict), rate(next.verdict)));
  const double tolerance =
      std::max(options.floor_bytes, options.max_regression_fraction * base.peak_rss_bytes);
  if (options.floor_bytes <= 0 && options.max_regression_fraction <= 0)
    d.notes.push_back(
        "the peak is shown, not gated: how much identical watches of a live service differ is "
        "not known (give --floor or --max-regression to gate it)");
  else if (present(base.peak_rss_bytes) && present(next.peak_rss_bytes) &&
           next.peak_rss_bytes - base.peak_rss_bytes > tolerance)
    d.failures.push_back(fmt::format("the tree's peak grew from {} to {}, more than {}",
                                     format_bytes(base.peak_rss_bytes),
                                     format_bytes(next.peak_rss_bytes), format_bytes(tolerance)));
  return d;
}

}  // namespace infermem
