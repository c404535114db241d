#pragma once
// The verdict engine: one verdict with evidence, likely causes and remediations for a series.
// Kinds: stable, plateau, leak, fragmentation, unload-retention, hwm-artifact, too-short.
// judge() runs rules that each return structured findings; the kind is decided from the
// findings, and the evidence text is rendered from them in one place (render_finding).
#include <fmt/format.h>

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "infermem/series.h"

namespace infermem {

enum class VerdictKind {
  stable,
  plateau,
  leak,
  fragmentation,
  unload_retention,
  hwm_artifact,
  too_short,
};
inline constexpr VerdictKind kVerdictKinds[] = {
    VerdictKind::stable,        VerdictKind::plateau,          VerdictKind::leak,
    VerdictKind::fragmentation, VerdictKind::unload_retention, VerdictKind::hwm_artifact,
    VerdictKind::too_short};
// "stable", "plateau", "leak", "fragmentation", "unload-retention", "hwm-artifact", "too-short".
std::string_view name(VerdictKind kind);
std::optional<VerdictKind> parse_verdict_kind(std::string_view text);
// JSON holds the kind's name (summary.json, analyze --json); an unknown name is an InputError.
void to_json(nlohmann::json& j, VerdictKind kind);
void from_json(const nlohmann::json& j, VerdictKind& kind);

// Findings: what each rule measured, as figures. Bytes are bytes; rates are bytes per `unit`
// ("request", "minute" or "sample"); absent figures are NaN.
namespace finding {
struct TooShort {  // the series cannot tell a verdict
  std::size_t points = 0, needed = 0;
  double first_bytes = kAbsent, last_bytes = kAbsent;  // first and last current figure
  double min_detectable = kAbsent;                     // where a slope could be fitted
  std::string unit, source;
  bool rose_undecided = false;  // it rose, but too few points to tell a leak from a plateau
};
struct HwmOnly {  // only a high-water mark (or too few current points beside it)
  std::string source;
  std::size_t points = 0, decreases = 0, current_points = 0, needed = 0;
  double first_bytes = kAbsent, last_bytes = kAbsent;
};
struct PointsJudged {  // the phase and warm-up cut
  std::size_t judged = 0, total = 0, before_infer = 0, warmup = 0;
  std::string source;
};
struct GrowthFit {  // Theil-Sen slope after warm-up with its interval
  double slope = 0, ci_low = 0, ci_high = 0, span = 0;
  std::string unit;
  double slope_per_minute = kAbsent, span_minutes = kAbsent;  // when both axes exist
  std::size_t interval_blocks = 0;
  double widened_lag1 = kAbsent;  // the autocorrelation the interval was widened for
  // The fitted line on the fit's axis (`unit`): y = intercept + slope * x over [x_from, x_to];
  // x_from is where the warm-up cut fell. Reports draw it over the series.
  double intercept = kAbsent, x_from = kAbsent, x_to = kAbsent;
};
struct Trend {  // Mann-Kendall: on block maxima and minima, or (short windows) on the points
  bool on_points = false;
  std::size_t blocks = 0;                     // blocks, or points when on_points
  double z_max = 0, z_min = 0, z_needed = 0;  // on_points: z_max = z_min = the points' z
};
struct Noise {
  double sigma = 0, min_detectable = kAbsent, detect_sigmas = 0, floor_bytes = 0;
  std::string unit;
};
struct Sustained {  // decisive for a leak: the last half grows at a comparable rate
  double last_half_slope = 0, whole_slope = 0;
  std::string unit;
};
struct InUseLeak {  // decisive for a leak of live allocations
  double slope = 0, ci_low = 0, ci_high = 0, span = 0, rise = 0, z_max = 0, z_min = 0,
         last_half_slope = 0;
  std::size_t warmup = 0;
  std::string unit;
};
struct InUseLag {  // current memory has not followed the in-use leak yet
  double current_slope = 0;
  std::string unit, source;
};
struct InUseHeadroom {  // how long RSS can stay flat (gap <= 0: no estimate)
  double current_level = 0, in_use_level = 0, rate = 0;
  std::string unit;
};
struct PlateauLevel {  // decisive for a plateau
  double level_start = 0, level_end = 0, rise = 0;
  std::string source;
};
struct Step {
  std::size_t at = 0;  // point index in the phase-cut series
};
struct Decelerating {
  double last_half_slope = 0;
  std::string unit;
};
struct Churn {  // one figure per load/infer/unload cycle
  std::string what;
  std::size_t cycles = 0;
  double first = 0, last = 0, slope_per_cycle = 0;
};
struct ChurnGrowing {};  // decisive for a leak across cycles
struct ChurnRetention {  // decisive for unload-retention
  double retained = 0, baseline = 0;
};
struct AllocatorHeld {  // current memory rose more than the allocator's in-use bytes
  enum class Outcome { first_touch, fragmentation, below_threshold } outcome{};
  double current_growth = 0, in_use_growth = 0, unexplained = 0, material = 0, running_level = 0;
  double anon_level = kAbsent, in_use_level = kAbsent;  // first_touch
};
struct TrimGaveBack {  // malloc_trim gave back what unload retained
  double retained = 0, given_back = 0, material = 0, running_level = 0;
  bool is_material = false;
  bool by_arm = false;  // the arm's own trim (SeriesContext::trim_by_arm): evidence, no verdict
  double left = 0;      // after trim, above the baseline
};
struct HwmRising {  // decisive for hwm-artifact on a series that also has current memory
  std::string source;
  double hwm_rise = 0, current_rise = 0;
};
struct InjectedLeak {};  // soak --inject-leak was used
struct InUseRate {       // a leak's rate refined from the allocator's in-use bytes
  double slope = 0, ci_low = 0, ci_high = 0;  // the reported rate and its 95% interval
  double rss_slope = 0;                       // what current memory's fit said
  std::size_t warmup = 0, increments = 0, steps = 0;
  double lag1 = 0;  // the residuals' autocorrelation the interval was widened for
  std::string unit, source;
};
// The allocator's free bytes (held but free) judged on their own (src/verdict/fragmentation.cpp):
// fragmentation when they grow over the run or stay far above in-use after the load; a flat gap
// is not.
struct FreeHeld {
  enum class Outcome { growing, high_after_load, flat } outcome{};
  std::size_t points = 0;
  double first_level = 0, last_level = 0;  // medians of the first and last tenth of the window
  double slope = 0, ci_low = 0, ci_high = 0, span = 0, rise = 0, z_min = 0, last_half_slope = 0;
  double growth_floor = 0;  // the rise growth must pass
  std::string unit;
  double after_load_held = kAbsent, after_load_in_use = kAbsent;  // at the last unload/trim
  double after_load_floor = 0, after_load_multiple = 0;
  bool replaces_leak = false;  // current memory's "leak" is this free memory
};
}  // namespace finding

using FindingDetail =
    std::variant<finding::TooShort, finding::HwmOnly, finding::PointsJudged, finding::GrowthFit,
                 finding::Trend, finding::Noise, finding::Sustained, finding::InUseLeak,
                 finding::InUseLag, finding::InUseHeadroom, finding::PlateauLevel, finding::Step,
                 finding::Decelerating, finding::Churn, finding::ChurnGrowing,
                 finding::ChurnRetention, finding::AllocatorHeld, finding::TrimGaveBack,
                 finding::HwmRising, finding::InjectedLeak, finding::InUseRate, finding::FreeHeld>;

struct Finding {
  FindingDetail detail;
  std::optional<VerdictKind> implies;  // the kind this finding decides, if it decides one
};

// The evidence sentence for a finding (the one place verdict prose is written).
std::string render_finding(const Finding& f);

struct Verdict {
  VerdictKind kind = VerdictKind::stable;
  double growth_bytes_per_request = kAbsent;  // robust slope after warm-up
  double growth_ci_low_bytes_per_request = kAbsent;
  double growth_ci_high_bytes_per_request = kAbsent;
  double growth_bytes_per_minute = kAbsent;
  double growth_ci_low_bytes_per_minute = kAbsent;
  double growth_ci_high_bytes_per_minute = kAbsent;
  double min_detectable_bytes_per_request = kAbsent;  // from the noise this run measured
  double min_detectable_bytes_per_minute = kAbsent;   // the same, on the time axis
  double plateau_level_bytes = kAbsent;               // for plateau
  std::vector<std::string> evidence;      // numbers, each naming its source (rendered findings)
  std::vector<std::string> causes;        // from the pattern catalogue
  std::vector<std::string> remediations;  // from the pattern catalogue
  std::vector<Finding> findings;          // what evidence was rendered from (not in JSON)
  static constexpr std::size_t kNoFinding = static_cast<std::size_t>(-1);
  std::size_t decisive = kNoFinding;  // index into findings of the one that decided `kind`

  // The finding that decided the kind, or nullptr (a verdict read from JSON has none).
  const Finding* decisive_finding() const {
    return decisive < findings.size() ? &findings[decisive] : nullptr;
  }

  // JSON: kind, growth_bytes_per_request, growth_ci_bytes_per_request [lo, hi],
  // growth_bytes_per_minute, min_detectable_bytes_per_request, evidence, causes, remediations;
  // plus growth_ci_bytes_per_minute, min_detectable_bytes_per_minute, plateau_level_bytes.
  // Absent figures (NaN) are null. from_json accepts what to_json writes (missing keys: absent).
  // Findings are not written: the evidence is their text.
  nlohmann::json to_json() const;
  static Verdict from_json(const nlohmann::json& j);
};

// Rules (warm-up, Theil-Sen, Mann-Kendall, plateau/leak/step, fragmentation, churn, HWM, short
// series): see docs/verdicts.md. Fast on 100k points (the slope fit bins above 1500 points).
Verdict judge(const Series& series, const SeriesContext& context = {});

}  // namespace infermem

template <>
struct fmt::formatter<infermem::VerdictKind> : fmt::formatter<std::string_view> {
  template <class FormatContext>
  auto format(infermem::VerdictKind kind, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(infermem::name(kind), ctx);
  }
};
