#include "verdict/fragmentation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "infermem/units.h"
#include "verdict/stats.h"

namespace infermem::fragmentation {
namespace {

constexpr double kTrendZ = 1.96;            // Mann-Kendall on block minima, two-sided 5%
constexpr std::size_t kTrendBlocks = 20;    // blocks for the minima
constexpr std::size_t kMinPoints = 10;      // fewer: not judged
constexpr double kSustainedFraction = 0.5;  // the last half grows at half the whole rate or more
constexpr double kLevelFraction = 0.1;      // first and last levels: medians of a tenth

// What stays free after the load: free bytes, bounded by the anonymous memory not in use (a
// trim returns free pages to the kernel while mallinfo2 still counts them free).
double held_after_load(const SeriesContext& c) {
  if (!present(c.after_load_free_bytes)) return kAbsent;
  double held = c.after_load_free_bytes;
  if (present(c.after_load_anon_bytes) && present(c.after_load_in_use_bytes))
    held = std::min(held, std::max(0.0, c.after_load_anon_bytes - c.after_load_in_use_bytes));
  return held;
}

void fit_growth(std::span<const double> x, std::span<const double> y, finding::FreeHeld& h) {
  stats::SlopeFit fit = stats::theil_sen_blocked(x, y);
  if (!fit.valid) return;
  h.slope = fit.slope;
  h.ci_low = fit.ci_low;
  h.ci_high = fit.ci_high;
  h.span = x.back() - x.front();
  h.rise = fit.slope * h.span;
  auto bounds = stats::block_bounds(y.size(), kTrendBlocks);
  auto minima = stats::block_summary(y, bounds, stats::BlockStat::kMin);
  stats::TrendTest t = stats::mann_kendall(minima);
  h.z_min = t.valid ? t.z : 0;
  const std::size_t half = x.size() / 2;
  stats::SlopeFit last = stats::theil_sen(x.subspan(half), y.subspan(half));
  h.last_half_slope = last.valid ? last.slope : 0;
  const std::size_t tenth = std::max<std::size_t>(
      1, static_cast<std::size_t>(kLevelFraction * static_cast<double>(y.size())));
  h.first_level = stats::median(y.first(tenth));
  h.last_level = stats::median(y.last(tenth));
}

}  // namespace

std::optional<finding::FreeHeld> analyse(const Window& w, const SeriesContext& context) {
  std::vector<double> x, y;
  for (std::size_t i = 0; i < w.free.size() && i < w.x.size(); ++i)
    if (present(w.free[i])) {
      x.push_back(w.x[i]);
      y.push_back(w.free[i]);
    }
  if (y.size() < kMinPoints ||
      static_cast<double>(y.size()) < kMinCoverage * static_cast<double>(w.free.size()))
    return std::nullopt;
  finding::FreeHeld h;
  h.points = y.size();
  h.unit = w.unit;
  h.growth_floor = std::max(kGrowthFloorBytes, w.material);
  fit_growth(x, y, h);
  const bool growing = h.ci_low > 0 && h.rise > h.growth_floor && h.z_min > kTrendZ &&
                       h.last_half_slope >= kSustainedFraction * h.slope;
  h.after_load_held = held_after_load(context);
  h.after_load_in_use = context.after_load_in_use_bytes;
  h.after_load_floor = kAfterLoadFloorBytes;
  h.after_load_multiple = kAfterLoadInUseMultiple;
  const bool high_after = present(h.after_load_held) && present(h.after_load_in_use) &&
                          h.after_load_held > kAfterLoadFloorBytes &&
                          h.after_load_held > kAfterLoadInUseMultiple * h.after_load_in_use;
  using Outcome = finding::FreeHeld::Outcome;
  h.outcome = growing ? Outcome::growing : high_after ? Outcome::high_after_load : Outcome::flat;
  return h;
}

std::string render(const finding::FreeHeld& h) {
  const char* unit = h.unit.c_str();
  std::string growth = fmt::format(
      "The allocator's free bytes (held but free) went from {} to {} over {} points: {}/{} "
      "(95% CI {} .. {}), a rise of {} (fragmentation needs a rise above {}, block minima "
      "trending up: z = {:.2f}, and a last half still growing)",
      format_bytes(h.first_level), format_bytes(h.last_level), h.points, format_bytes(h.slope),
      unit, format_bytes(h.ci_low), format_bytes(h.ci_high), format_bytes(h.rise),
      format_bytes(h.growth_floor), h.z_min);
  std::string after =
      present(h.after_load_held)
          ? fmt::format(
                "; after the load {} stays free beside {} in use (fragmentation needs "
                "above {} and {:.0f}x in use)",
                format_bytes(h.after_load_held), format_bytes(h.after_load_in_use),
                format_bytes(h.after_load_floor), h.after_load_multiple)
          : std::string();
  using Outcome = finding::FreeHeld::Outcome;
  const char* conclusion =
      h.outcome == Outcome::growing
          ? ". Free memory the allocator cannot reuse or return grows: fragmentation."
      : h.outcome == Outcome::high_after_load
          ? ". Free memory stays far above what is in use after the load: fragmentation."
          : ". A flat or small gap of free memory is the allocator's normal free lists, not "
            "fragmentation.";
  return growth + after + conclusion +
         (h.replaces_leak ? " Current memory's growth is this free memory, not live allocations."
                          : "");
}

}  // namespace infermem::fragmentation
