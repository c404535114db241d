// Findings -> text: every evidence sentence of a verdict is written here, one function per
// kind of finding (include/verdict/infermem/verdict.h), from the figures the finding carries.
#include <fmt/format.h>

#include <string>
#include <variant>

#include "infermem/units.h"
#include "infermem/verdict.h"
#include "verdict/fragmentation.h"
#include "verdict/limits.h"
#include "verdict/stats.h"

namespace infermem {
namespace {

using namespace finding;
using limits::kMinShortLeakPoints;
using limits::kMinTrendPoints;

std::string per(double bytes, const char* unit) {
  return present(bytes) ? format_bytes(bytes) + "/" + unit : "n/a";
}

std::string span_text(double span_minutes) {
  return span_minutes < 1 ? fmt::format("{:.1f} s", 60 * span_minutes)
                          : fmt::format("{:.1f} minutes", span_minutes);
}

std::string material_basis(double running_level) {
  return fmt::format("max(8 MiB, 10% of the running level {})", format_bytes(running_level));
}

std::string text(const TooShort& t) {
  std::string detectable =
      present(t.min_detectable)
          ? fmt::format(" The smallest leak it could have shown is {}.",
                        per(t.min_detectable, t.unit.c_str()))
          : std::string(" No growth rate can be estimated from so few points.");
  if (t.rose_undecided)
    return fmt::format(
        "Too short to judge: {} rose from {} to {} over {} judged points, too few to "
        "tell sustained growth from a plateau (a trend test on block extremes needs {} "
        "points).{} Record a longer series (more requests).",
        t.source, format_bytes(t.first_bytes), format_bytes(t.last_bytes), t.points, t.needed,
        detectable);
  return fmt::format(
      "Too short to judge {}: {} point{} carry current memory after the warm phase{}; a "
      "verdict needs at least {} (or a rise sustained over at least {}).{} Record a "
      "longer series (more requests).",
      t.source, t.points, t.points == 1 ? "" : "s",
      present(t.first_bytes) && t.points >= 2
          ? fmt::format(" (from {} to {})", format_bytes(t.first_bytes), format_bytes(t.last_bytes))
          : std::string(),
      t.needed, kMinShortLeakPoints, detectable);
}

std::string text(const HwmOnly& h) {
  std::string out = fmt::format(
      "Only a high-water mark is available ({}): {} points from {} to {}, {}.", h.source, h.points,
      format_bytes(h.first_bytes), format_bytes(h.last_bytes),
      h.decreases == 0 ? "never decreasing" : fmt::format("decreasing {} times", h.decreases));
  if (h.current_points > 0)
    out += fmt::format(" Only {} points carry current memory: too few to judge a trend (need {}).",
                       h.current_points, h.needed);
  return out +
         " A high-water mark only records the largest value so far: it cannot show a "
         "leak or its absence, and no growth rate can be estimated from it. To judge a "
         "leak, record current memory over time: VmRSS per request or per invocation "
         "(from inside the function), or `infermem soak` with the same model.";
}

std::string text(const PointsJudged& p) {
  return fmt::format(
      "Judged {} of {} points of current memory ({}): {} before the first 'infer' "
      "phase and {} warm-up points dropped (until the level stabilised; at least 10%, "
      "at most half).",
      p.judged, p.total, p.source, p.before_infer, p.warmup);
}

std::string text(const GrowthFit& g) {
  const char* unit = g.unit.c_str();
  return fmt::format(
      "Growth after warm-up: {} (95% CI {} .. {}) by Theil-Sen over {:.0f} {}s{}. The "
      "interval is {}.",
      per(g.slope, unit), format_bytes(g.ci_low), format_bytes(g.ci_high), g.span, unit,
      present(g.slope_per_minute) ? fmt::format("; {} over {}", per(g.slope_per_minute, "minute"),
                                                span_text(g.span_minutes))
                                  : std::string(),
      g.interval_blocks >= stats::kMinIntervalBlocks
          ? fmt::format("Sen's on {} block medians{}, so autocorrelated readings do "
                        "not narrow it",
                        g.interval_blocks,
                        present(g.widened_lag1)
                            ? fmt::format(", widened for their lag-1 autocorrelation "
                                          "{:.2f}",
                                          g.widened_lag1)
                            : std::string())
          : std::string("Sen's on the points themselves (too few for block medians)"));
}

std::string text(const Trend& t) {
  if (t.on_points)
    return fmt::format(
        "Mann-Kendall on the {} judged points: z = {:.2f} (a trend needs above {:.2f}; "
        "too few points for the test on block extremes, which needs {}).",
        t.blocks, t.z_max, t.z_needed, kMinTrendPoints);
  return fmt::format(
      "Mann-Kendall on {} block maxima: z = {:.2f}; on block minima: z = {:.2f} (a "
      "trend needs both above {:.2f}, so allocator sawtooth does not read as growth).",
      t.blocks, t.z_max, t.z_min, t.z_needed);
}

std::string text(const Noise& n) {
  return fmt::format(
      "Noise: {} residual sigma around the line; the smallest detectable growth is {} "
      "(the largest of: a rise of {:.0f} sigma over the judged window, the CI "
      "half-width, and a rise of {} over the window, below which growth is not called "
      "a leak).",
      format_bytes(n.sigma), per(n.min_detectable, n.unit.c_str()), n.detect_sigmas,
      format_bytes(n.floor_bytes));
}

std::string text(const Sustained& s) {
  return fmt::format(
      "The growth is sustained: the last half grows at {} ({:.0f}% of the whole "
      "window's rate).",
      per(s.last_half_slope, s.unit.c_str()), 100.0 * s.last_half_slope / s.whole_slope);
}

std::string text(const InUseLeak& l) {
  const char* unit = l.unit.c_str();
  return fmt::format(
      "The leak is in the allocator's in-use bytes (live allocations): they grow at {} "
      "(95% CI {} .. {}) by Theil-Sen over {:.0f} {}s after {} warm-up points, +{} over "
      "the judged window; block maxima and minima trend up (z = {:.2f}, {:.2f}); the "
      "last half grows at {}; not a step. The reported growth figures are the in-use "
      "bytes' rates.",
      per(l.slope, unit), format_bytes(l.ci_low), format_bytes(l.ci_high), l.span, unit, l.warmup,
      format_bytes(l.rise), l.z_max, l.z_min, per(l.last_half_slope, unit));
}

std::string text(const InUseLag& l) {
  return fmt::format(
      "Current memory ({}) has not followed yet ({}): freed heap the process already "
      "holds is being reused for the leaked allocations, so RSS stays flat until that "
      "free heap is used up, then rises at the leak's rate.",
      l.source, per(l.current_slope, l.unit.c_str()));
}

std::string text(const InUseHeadroom& h) {
  double gap = h.current_level - h.in_use_level;
  if (h.rate > 0 && gap > 0)
    return fmt::format(
        "Current memory ({}) is {} above the in-use bytes ({}): at {} RSS must start "
        "rising within at most ~{:.0f} more {}s. An upper bound: that gap also holds "
        "code, stacks and other memory that is not free heap (malloc's free bytes are "
        "not in this series).",
        format_bytes(h.current_level), format_bytes(gap), format_bytes(h.in_use_level),
        per(h.rate, h.unit.c_str()), gap / h.rate, h.unit);
  return fmt::format(
      "The in-use bytes ({}) already exceed current memory ({}: allocated pages not "
      "all touched yet), so RSS can start rising at any time; no estimate of when.",
      format_bytes(h.in_use_level), format_bytes(h.current_level));
}

std::string text(const PlateauLevel& p) {
  return fmt::format(
      "The level rose from {} to {} (+{}) and then flattened: plateau at {} (median of "
      "the last third; {}).",
      format_bytes(p.level_start), format_bytes(p.level_end), format_bytes(p.rise),
      format_bytes(p.level_end), p.source);
}

std::string text(const Step& s) {
  return fmt::format(
      "The rise is a one-time step near point {} (a two-level fit explains it better "
      "than a line), not sustained growth.",
      s.at);
}

std::string text(const Decelerating& d) {
  return fmt::format("The growth decelerates: the last half grows at only {}.",
                     per(d.last_half_slope, d.unit.c_str()));
}

std::string text(const Churn& c) {
  return fmt::format("{} over {} cycles: {} .. {}; {} per cycle by Theil-Sen.", c.what, c.cycles,
                     format_bytes(c.first), format_bytes(c.last), format_bytes(c.slope_per_cycle));
}

std::string text(const ChurnGrowing&) {
  return std::string("Memory grows from cycle to cycle: unloading does not give it back.");
}

std::string text(const ChurnRetention& r) {
  return fmt::format(
      "After unload memory sits {} above the baseline ({}), but per-cycle growth is not "
      "significant (bounded).",
      format_bytes(r.retained), format_bytes(r.baseline));
}

std::string text(const AllocatorHeld& h) {
  const std::string rose =
      fmt::format("Current memory rose {} while the allocator's in-use bytes rose {}",
                  format_bytes(h.current_growth), format_bytes(h.in_use_growth));
  switch (h.outcome) {
    case AllocatorHeld::Outcome::first_touch:
      return fmt::format(
          "{}, but anonymous resident memory ({}) stays within what is allocated ({}): "
          "pages of allocated buffers (e.g. an arena reserved during warm-up) touched "
          "for the first time by larger inputs, not freed memory held by the allocator.",
          rose, format_bytes(h.anon_level), format_bytes(h.in_use_level));
    case AllocatorHeld::Outcome::fragmentation:
      return fmt::format(
          "{}: the growth is held by the allocator, not by live allocations ({} "
          "unexplained, above the {} materiality threshold: {}).",
          rose, format_bytes(h.unexplained), format_bytes(h.material),
          material_basis(h.running_level));
    case AllocatorHeld::Outcome::below_threshold:
      break;
  }
  return fmt::format(
      "{}; the {} the allocator holds beyond live allocations is below the {} "
      "materiality threshold for fragmentation ({}).",
      rose, format_bytes(h.unexplained), format_bytes(h.material), material_basis(h.running_level));
}

std::string text(const TrimGaveBack& t) {
  if (t.by_arm)
    return fmt::format(
        "After unload {} stayed above the baseline; the arm's own malloc_trim gave "
        "back {} ({:.0f}%) and it leaves {}: judged on what it leaves, not named for "
        "the freed heap its trim returns.",
        format_bytes(t.retained), format_bytes(t.given_back), 100.0 * t.given_back / t.retained,
        format_bytes(t.left));
  if (t.is_material)
    return fmt::format(
        "After unload {} stayed above the baseline; malloc_trim gave back {} ({:.0f}%): "
        "freed memory the allocator kept, not live objects.",
        format_bytes(t.retained), format_bytes(t.given_back), 100.0 * t.given_back / t.retained);
  return fmt::format(
      "After unload {} stayed above the baseline and malloc_trim gave back {}: below "
      "the {} materiality threshold for fragmentation ({}).",
      format_bytes(t.retained), format_bytes(t.given_back), format_bytes(t.material),
      material_basis(t.running_level));
}

std::string text(const HwmRising& h) {
  return fmt::format(
      "The high-water mark ({}) rose {} and never fell, while current memory rose {}: a "
      "high-water mark cannot show a leak or its absence; judge current memory.",
      h.source, format_bytes(h.hwm_rise), format_bytes(h.current_rise));
}

std::string text(const InjectedLeak&) {
  return std::string("This run injected a leak on purpose (soak --inject-leak).");
}

std::string text(const InUseRate& r) {
  const char* unit = r.unit.c_str();
  return fmt::format(
      "Rate from the allocator's in-use bytes (live allocations, which do not move in "
      "page-sized steps as {} does): {} (95% CI {} .. {}), the least-squares slope "
      "after {} warm-up points, with {} one-time step{} (e.g. an arena extension) "
      "given a level of its own, the interval widened for the residuals' lag-1 "
      "autocorrelation {:.2f}; {}'s own fit said {}. The reported growth figures are "
      "this rate.",
      r.source, per(r.slope, unit), format_bytes(r.ci_low), format_bytes(r.ci_high), r.warmup,
      r.steps, r.steps == 1 ? "" : "s", r.lag1, r.source, per(r.rss_slope, unit));
}

std::string text(const FreeHeld& h) {
  return fragmentation::render(h);
}

}  // namespace

std::string render_finding(const Finding& finding) {
  return std::visit([](const auto& detail) { return text(detail); }, finding.detail);
}

}  // namespace infermem
