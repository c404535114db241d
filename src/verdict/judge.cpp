// The verdict engine. The rules and their thresholds are documented in docs/verdicts.md; keep the
// two in step.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <span>

#include "infermem/figure.h"
#include "infermem/units.h"
#include "infermem/verdict.h"
#include "verdict/fragmentation.h"
#include "verdict/in_use_rate.h"
#include "verdict/limits.h"
#include "verdict/patterns.h"
#include "verdict/series_analysis.h"
#include "verdict/stats.h"

namespace infermem {
namespace {

using namespace analysis;
// ---- the rules: each appends findings; `implies` marks the ones that decide a kind ------------

struct Findings {
  std::vector<Finding> list;
  void add(FindingDetail detail, std::optional<VerdictKind> implies = std::nullopt) {
    list.push_back({std::move(detail), implies});
  }
  // The kind so far: the last finding that decides one (later rules refine earlier ones).
  VerdictKind kind() const {
    for (auto it = list.rbegin(); it != list.rend(); ++it)
      if (it->implies) return *it->implies;
    return VerdictKind::stable;
  }
};

// The phase and warm-up cut, the slope with its interval, the trend test and the noise.
void rule_growth(const Points& pts, const Growth& g, const std::string& source, Findings& f) {
  f.add(finding::PointsJudged{g.judged, pts.with_current, pts.dropped_before_infer, g.warmup,
                              source});
  finding::GrowthFit fit{g.fit.slope, g.fit.ci_low, g.fit.ci_high, g.span, pts.unit()};
  if (pts.per_request && pts.has_time) {
    fit.slope_per_minute = g.fit_minutes.slope;
    fit.span_minutes = g.span_minutes;
  }
  fit.interval_blocks = std::min(stats::kIntervalBlocks, g.judged / 3);
  fit.intercept = g.fit.intercept;
  fit.x_from = g.x_from;
  fit.x_to = g.x_to;
  if (g.lag1 > 1.96 / std::sqrt(static_cast<double>(std::max<std::size_t>(1, fit.interval_blocks))))
    fit.widened_lag1 = std::min(g.lag1, 0.9);
  f.add(fit);
  if (g.block_max.valid || g.trend_on_points)
    f.add(finding::Trend{g.trend_on_points, g.trend_on_points ? g.judged : g.blocks, g.block_max.z,
                         g.block_min.z, kTrendZ});
  f.add(finding::Noise{g.sigma, g.min_detectable, kDetectSigmas, kMeaningfulBytes, pts.unit()});
}

// The series itself: leak (of current memory, or of live allocations RSS has not followed yet),
// plateau (grew, then flattened, or a one-time step), or nothing (stable). A short window that
// rose but cannot tell a leak from a plateau is too-short.
void rule_series(const Points& pts, const Growth& g, const std::optional<Growth>& in_use_leak,
                 const std::string& source, const std::string& name, Findings& f) {
  const char* unit = pts.unit();
  if (g.leak) {
    f.add(finding::Sustained{g.last_half.slope, g.fit.slope, unit}, VerdictKind::leak);
  } else if (in_use_leak) {
    const Growth& gi = *in_use_leak;
    f.add(finding::InUseLeak{gi.fit.slope, gi.fit.ci_low, gi.fit.ci_high, gi.span,
                             gi.fit.slope * gi.span, gi.block_max.z, gi.block_min.z,
                             gi.last_half.slope, gi.warmup, unit},
          VerdictKind::leak);
    f.add(finding::InUseLag{g.fit.slope, unit, source});
    f.add(finding::InUseHeadroom{g.level_end, gi.level_end, gi.fit.slope, unit});
  } else if (g.grew && g.short_window && !g.flattened) {
    finding::TooShort t{g.judged,
                        kMinTrendPoints,
                        g.level_start,
                        g.level_end,
                        g.min_detectable,
                        unit,
                        source + " of '" + name + "'"};
    t.rose_undecided = true;
    f.add(t, VerdictKind::too_short);
  } else if (g.grew) {
    f.add(finding::PlateauLevel{g.level_start, g.level_end, g.rise, source}, VerdictKind::plateau);
  }
  if (g.significant_slope && !g.leak) {
    if (g.step_like)
      f.add(finding::Step{g.step_at});
    else
      f.add(finding::Decelerating{g.last_half.slope, unit});
  }
}

// Churn: growth from cycle to cycle is a leak; a bounded offset above baseline is retention.
void rule_churn(const Series& series, const SeriesContext& context, double meaningful,
                Findings& f) {
  auto churn = analyse_churn(series, context, meaningful);
  if (!churn) return;
  f.add(finding::Churn{churn->what, churn->per_cycle.size(), churn->per_cycle.front(),
                       churn->per_cycle.back(), churn->slope_per_cycle});
  if (churn->growing)
    f.add(finding::ChurnGrowing{}, VerdictKind::leak);
  else if (present(churn->retained) && churn->retained > meaningful &&
           f.kind() != VerdictKind::leak)
    f.add(finding::ChurnRetention{churn->retained, context.baseline_bytes},
          VerdictKind::unload_retention);
}

// Fragmentation from the allocator's in-use bytes: current memory rose, live allocations did
// not; the unexplained rise must be material and not first touch of allocated pages.
void rule_allocator_held(const Points& pts, const Growth& g, double material, double running_level,
                         Findings& f) {
  VerdictKind kind = f.kind();
  if (kind != VerdictKind::leak && kind != VerdictKind::plateau) return;
  std::vector<double> in_use_x, in_use_y;
  const auto& axis = pts.axis();
  for (std::size_t i = g.warmup; i < pts.in_use.size(); ++i)
    if (present(pts.in_use[i])) {
      in_use_x.push_back(axis[i]);
      in_use_y.push_back(pts.in_use[i]);
    }
  if (in_use_y.size() < std::max(kMinJudgedPoints, g.judged * 4 / 5)) return;
  SlopeFit in_use_fit = stats::theil_sen(in_use_x, in_use_y);
  double current_growth = kind == VerdictKind::leak ? g.fit.slope * g.span : g.rise;
  double in_use_growth = in_use_y.back() - in_use_y.front();
  if (in_use_fit.valid) in_use_growth = in_use_fit.slope * g.span;
  if (kind == VerdictKind::plateau) {
    std::vector<double> head;
    for (std::size_t i = 0; i < std::min(pts.in_use.size(), std::max<std::size_t>(3, g.warmup / 2));
         ++i)
      if (present(pts.in_use[i])) head.push_back(pts.in_use[i]);
    if (!head.empty())
      in_use_growth = stats::median(tail(in_use_y, in_use_y.size() * 2 / 3)) - stats::median(head);
  }
  if (in_use_growth >= 0.25 * current_growth) return;
  finding::AllocatorHeld held;
  held.current_growth = current_growth;
  held.in_use_growth = in_use_growth;
  held.unexplained = current_growth - std::max(0.0, in_use_growth);
  held.material = material;
  held.running_level = running_level;
  // First touch is not fragmentation: when the anonymous resident memory is still within what
  // the allocator has handed out (an arena reserved at warm-up, then written into by larger
  // shapes), RSS rose by touching allocated pages, not by holding freed ones.
  std::vector<double> anon_last, in_use_last;
  for (std::size_t i = pts.current.size() - std::max<std::size_t>(1, g.judged / 3);
       i < pts.current.size(); ++i)
    if (present(pts.anon[i]) && present(pts.in_use[i])) {
      anon_last.push_back(pts.anon[i]);
      in_use_last.push_back(pts.in_use[i]);
    }
  bool first_touch = anon_last.size() >= kMinJudgedPoints / 2 &&
                     stats::median(anon_last) <= stats::median(in_use_last) + kFirstTouchSlackBytes;
  using Outcome = finding::AllocatorHeld::Outcome;
  if (held.unexplained > material && first_touch) {
    held.outcome = Outcome::first_touch;
    held.anon_level = stats::median(anon_last);
    held.in_use_level = stats::median(in_use_last);
    f.add(held);
  } else if (held.unexplained > material) {
    held.outcome = Outcome::fragmentation;
    f.add(held, VerdictKind::fragmentation);
  } else {
    held.outcome = Outcome::below_threshold;
    f.add(held);
  }
}

// Fragmentation from unload and malloc_trim: what unload kept, trim gave back.
void rule_trim(const SeriesContext& context, const Growth& rep, double meaningful, double material,
               double running_level, bool decides, Findings& f) {
  if (!present(context.baseline_bytes) || !present(context.after_unload_bytes) ||
      !present(context.after_trim_bytes))
    return;
  double retained = context.after_unload_bytes - context.baseline_bytes;
  double given_back = context.after_unload_bytes - context.after_trim_bytes;
  double left = context.after_trim_bytes - context.baseline_bytes;
  // !decides: the free bytes decide fragmentation (rule_free_held); a trim is evidence only.
  if (!decides || (context.trim_by_arm && f.kind() != VerdictKind::leak)) {
    // The arm's trim is its remedy: judge it on what it leaves; say what the trim returned. (A
    // growth the trim gives back still reads as fragmentation below, never as a leak.)
    if (context.trim_by_arm && retained > meaningful && given_back > 0)
      f.add(
          finding::TrimGaveBack{retained, given_back, material, running_level, false, true, left});
    return;
  }
  VerdictKind kind = f.kind();
  bool trim_explains =
      retained > meaningful && given_back >= 0.5 * retained && given_back > material;
  if (kind == VerdictKind::leak)
    trim_explains = trim_explains && left < 0.5 * rep.fit.slope * rep.span;
  if (trim_explains && kind != VerdictKind::fragmentation)
    f.add(finding::TrimGaveBack{retained, given_back, material, running_level, true},
          VerdictKind::fragmentation);
  else if (!trim_explains && retained > meaningful && given_back >= 0.5 * retained &&
           given_back <= material)
    f.add(finding::TrimGaveBack{retained, given_back, material, running_level, false});
}

// Fragmentation on the allocator's free bytes, judged on their own (src/verdict/fragmentation.cpp).
// Returns whether they were known well enough to judge; then they decide fragmentation, never
// replacing a leak of live allocations, and replacing a leak of current memory only when the free
// bytes' rise is at least half of it.
bool rule_free_held(const Points& pts, const Growth& g, bool in_use_leak, double material,
                    const SeriesContext& context, Findings& f) {
  fragmentation::Window w{tail(pts.axis(), g.warmup), tail(pts.free, g.warmup), pts.unit(),
                          material};
  auto held = fragmentation::analyse(w, context);
  if (!held) return false;
  bool decides = fragmentation::fragmenting(*held) && !in_use_leak;
  if (decides && f.kind() == VerdictKind::leak) {
    held->replaces_leak = held->rise >= 0.5 * g.fit.slope * g.span;
    decides = held->replaces_leak;
  }
  f.add(*held, decides ? std::optional(VerdictKind::fragmentation) : std::nullopt);
  return true;
}

// A high-water mark that climbs while current memory does not.
void rule_hwm(const Series& series, const Points& pts, const Growth& g, double meaningful,
              Findings& f) {
  VerdictKind kind = f.kind();
  if (kind != VerdictKind::stable && kind != VerdictKind::plateau) return;
  std::vector<double> hwm;
  for (std::size_t i = g.warmup; i < pts.hwm.size(); ++i)
    if (present(pts.hwm[i])) hwm.push_back(pts.hwm[i]);
  if (hwm.size() < kMinJudgedPoints) return;
  std::size_t decreases = 0;
  for (std::size_t i = 1; i < hwm.size(); ++i) decreases += hwm[i] < hwm[i - 1];
  auto bounds = stats::block_bounds(hwm.size(), 10);
  auto maxima = stats::block_summary(hwm, bounds, BlockStat::kMax);
  std::size_t rising = 0;
  for (std::size_t k = 1; k < maxima.size(); ++k) rising += maxima[k] > maxima[k - 1];
  double hwm_rise = hwm.back() - hwm.front();
  double current_rise = std::max(0.0, g.fit.slope * g.span);
  if (decreases == 0 && maxima.size() >= 2 && 10 * rising >= 6 * (maxima.size() - 1) &&
      hwm_rise > meaningful && current_rise < 0.5 * hwm_rise)
    f.add(finding::HwmRising{series.hwm_source.empty() ? std::string(name(Figure::hwm_bytes))
                                                       : series.hwm_source,
                             hwm_rise, current_rise},
          VerdictKind::hwm_artifact);
}

void fill_catalogue(Verdict& v) {
  const Pattern& p = pattern_for(v.kind);
  v.causes = p.causes;
  v.remediations = remediation_texts(v.kind);
}

// Decides the kind from the findings (the last one that decides a kind; stable when none does,
// quoting the growth fit) and renders the evidence from them.
Verdict conclude(Findings&& f) {
  Verdict v;
  v.findings = std::move(f.list);
  for (std::size_t i = v.findings.size(); i-- > 0;)
    if (v.findings[i].implies) {
      v.kind = *v.findings[i].implies;
      v.decisive = i;
      break;
    }
  if (v.decisive == Verdict::kNoFinding)
    for (std::size_t i = 0; i < v.findings.size(); ++i)
      if (std::holds_alternative<finding::GrowthFit>(v.findings[i].detail)) v.decisive = i;
  for (const auto& finding : v.findings) v.evidence.push_back(render_finding(finding));
  fill_catalogue(v);
  return v;
}

Verdict judge_hwm_only(const Series& series, std::size_t current_points,
                       const SeriesContext& context) {
  finding::HwmOnly h;
  h.source = series.hwm_source.empty() ? std::string(name(Figure::hwm_bytes)) : series.hwm_source;
  std::vector<double> hwm;
  for (const auto& p : series.points)
    if (std::isfinite(p.hwm_bytes)) hwm.push_back(p.hwm_bytes);
  for (std::size_t i = 1; i < hwm.size(); ++i) h.decreases += hwm[i] < hwm[i - 1];
  h.points = hwm.size();
  h.first_bytes = hwm.front();
  h.last_bytes = hwm.back();
  h.current_points = current_points;
  h.needed = kMinJudgedPoints;
  Findings f;
  f.add(h, VerdictKind::hwm_artifact);
  if (context.injected_leak) f.add(finding::InjectedLeak{});
  return conclude(std::move(f));
}

void set_growth_figures(Verdict& v, const Points& pts, const Growth& rep) {
  if (pts.per_request) {
    v.growth_bytes_per_request = rep.fit.valid ? rep.fit.slope : kAbsent;
    v.growth_ci_low_bytes_per_request = rep.fit.valid ? rep.fit.ci_low : kAbsent;
    v.growth_ci_high_bytes_per_request = rep.fit.valid ? rep.fit.ci_high : kAbsent;
    v.min_detectable_bytes_per_request = rep.min_detectable;
  }
  if (pts.has_time) {
    v.growth_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.slope : kAbsent;
    v.growth_ci_low_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.ci_low : kAbsent;
    v.growth_ci_high_bytes_per_minute = rep.fit_minutes.valid ? rep.fit_minutes.ci_high : kAbsent;
    v.min_detectable_bytes_per_minute = rep.min_detectable_minutes;
  }
}

// The growth figures from the in-use rate (refine_rate); the smallest detectable rate stays the
// series' own.
void set_refined_figures(Verdict& v, const Points& pts, const RefinedRate& r) {
  if (pts.per_request) {
    v.growth_bytes_per_request = r.per_x.slope;
    v.growth_ci_low_bytes_per_request = r.per_x.ci_low;
    v.growth_ci_high_bytes_per_request = r.per_x.ci_high;
  }
  const in_use::RateFit& m = pts.per_request ? r.per_minute : r.per_x;
  if (pts.has_time && m.valid) {
    v.growth_bytes_per_minute = m.slope;
    v.growth_ci_low_bytes_per_minute = m.ci_low;
    v.growth_ci_high_bytes_per_minute = m.ci_high;
  }
}

}  // namespace

Verdict judge(const Series& series, const SeriesContext& context) {
  Points pts = extract(series);
  bool has_hwm = std::any_of(series.points.begin(), series.points.end(),
                             [](const SeriesPoint& p) { return std::isfinite(p.hwm_bytes); });
  std::size_t n = pts.current.size();
  if (n < kMinJudgedPoints && has_hwm) return judge_hwm_only(series, n, context);
  std::string source = series.current_source.empty() ? "current_bytes" : series.current_source;
  std::optional<Growth> growth;
  if (n >= kMinFitPoints) growth = analyse_growth(pts);
  // Too short: fewer points than a verdict needs, unless they already show a sustained rise.
  if (n < kMinJudgedPoints && !(growth && growth->leak)) {
    finding::TooShort t;
    t.points = n;
    t.needed = kMinJudgedPoints;
    t.unit = pts.unit();
    t.source = fmt::format("'{}' ({})", series.name, source);
    if (n > 0) {
      t.first_bytes = pts.current.front();
      t.last_bytes = pts.current.back();
    }
    if (growth && growth->fit.valid) t.min_detectable = growth->min_detectable;
    Findings f;
    f.add(t, VerdictKind::too_short);
    if (context.injected_leak) f.add(finding::InjectedLeak{});
    Verdict v = conclude(std::move(f));
    if (growth) set_growth_figures(v, pts, *growth);
    return v;
  }
  const Growth& g = *growth;
  // A leak of live allocations that RSS does not show yet (freed heap being reused).
  std::optional<Growth> in_use_leak;
  if (!g.leak)
    if (auto iu = in_use_points(pts)) {
      Growth gi = analyse_growth(*iu);
      if (gi.leak) in_use_leak = gi;
    }
  const Growth& rep = in_use_leak ? *in_use_leak : g;  // the figures the verdict reports
  double meaningful = std::max(kDetectSigmas * g.sigma, kMeaningfulBytes);
  // Fragmentation must be material; the level the process runs at is the larger of the loaded
  // level and the judged median.
  double running_level = stats::median(tail(pts.current, g.warmup));
  if (present(context.loaded_bytes)) running_level = std::max(running_level, context.loaded_bytes);
  double material = std::max(kMaterialBytes, kMaterialFraction * running_level);

  Findings f;
  rule_growth(pts, g, source, f);
  rule_series(pts, g, in_use_leak, source, series.name, f);
  rule_churn(series, context, meaningful, f);
  const bool free_known = rule_free_held(pts, g, in_use_leak.has_value(), material, context, f);
  if (!in_use_leak && !free_known) rule_allocator_held(pts, g, material, running_level, f);
  rule_trim(context, rep, meaningful, material, running_level, !free_known, f);
  if (has_hwm) rule_hwm(series, pts, g, meaningful, f);
  std::optional<RefinedRate> refined;
  if (g.leak || in_use_leak) refined = refine_rate(pts, g, in_use_leak.has_value());
  if (refined) {
    const in_use::RateFit& r = refined->per_x;
    f.add(finding::InUseRate{r.slope, r.ci_low, r.ci_high, rep.fit.slope, r.warmup, r.increments,
                             r.steps, r.lag1, pts.unit(), source});
  }
  if (context.injected_leak) f.add(finding::InjectedLeak{});
  bool plateau_found = std::any_of(f.list.begin(), f.list.end(), [](const Finding& x) {
    return std::holds_alternative<finding::PlateauLevel>(x.detail);
  });
  Verdict v = conclude(std::move(f));
  set_growth_figures(v, pts, rep);
  if (refined) set_refined_figures(v, pts, *refined);
  if (plateau_found && v.kind != VerdictKind::hwm_artifact) v.plateau_level_bytes = g.level_end;
  return v;
}

}  // namespace infermem
