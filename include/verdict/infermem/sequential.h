#pragma once
// soak --until-confident: a group-sequential stopping rule for one arm's memory series. At
// planned looks (every K requests) it takes the series so far and decides: the leak is settled
// (significant at the look's alpha-spending boundary and its rate known to +-25%), stability is
// settled (no significant slope, and the smallest slope the run could have detected is under
// --detect), or continue. The boundary spends the total false-leak rate `alpha` over the looks
// (linear spending in the information fraction, a Bonferroni bound at each look), so stopping at
// the first look that crosses it keeps the false-leak rate at alpha however many looks there are,
// where the fixed-sample test repeated at every look does not. Pure: no I/O, no clock.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "infermem/series.h"

namespace infermem {

struct SequentialConfig {
  double alpha = 0.025;  // total one-sided false-leak rate over all looks (one fixed look's rate)
  double power = 0.8;    // of the minimum detectable slope (stable settles below --detect)
  double leak_precision = 0.25;  // leak settles when the 95% CI half-width / slope <= this
  double detect_bytes_per_request = 1024;  // --detect
  std::int64_t max_requests = 0;           // planned information: looks are fractions of this
};

enum class SequentialDecision { keep_going, settled_leak, settled_stable };
std::string_view name(SequentialDecision decision);  // "continue", "settled-leak", ...

// What one look measured (figures in bytes per request; absent when too few points).
struct SequentialLook {
  int look = 0;               // 1-based
  std::int64_t requests = 0;  // x of the last point
  std::size_t judged = 0;     // points after the warm-up cut
  double slope = kAbsent, ci_low = kAbsent, ci_high = kAbsent;
  double standard_error = kAbsent;           // from the autocorrelation-aware 95% interval
  double z = kAbsent, z_boundary = kAbsent;  // the look's alpha-spending boundary
  double alpha_spent = 0;                    // cumulative, after this look
  double min_detectable = kAbsent;           // (z_boundary + z_power) x SE, floored
  double relative_half_width = kAbsent;      // CI half-width / slope
  SequentialDecision decision = SequentialDecision::keep_going;
};

// The fraction of the series dropped as warm-up before each look's fit.
inline constexpr double kSequentialWarmupFraction = 0.2;
// Fewer judged points than this: no decision at a look.
inline constexpr std::size_t kSequentialMinPoints = 30;
// The smallest --detect accepted with no request cap (bytes per request): a per-request leak is
// at least one allocation, and glibc's smallest chunk is 32 bytes; 16 leaves room for less.
inline constexpr double kSequentialDetectFloor = 16;

// Cumulative alpha spent at information fraction t (linear, Lan-DeMets power family rho = 1).
double sequential_spending(double alpha, double t);
// The one-sided normal quantile: z with P(Z > z) = p (p in (0, 1)).
double normal_upper_quantile(double p);

class SequentialRule {
 public:
  explicit SequentialRule(SequentialConfig config);
  // One look at the series so far: x = requests done, y = bytes, x non-decreasing.
  SequentialLook look(std::span<const double> x, std::span<const double> y);
  const SequentialConfig& config() const { return config_; }
  int looks() const { return looks_; }

 private:
  SequentialConfig config_;
  int looks_ = 0;
  double spent_ = 0;
  double last_boundary_ = kAbsent;  // the last finite boundary (beyond the plan: no alpha left)
};

// Replays the rule over a recorded series: a look at every look_every points (and at the end),
// stopping at the first that settles; the last look when none did. Benches and tests use it.
SequentialLook replay_looks(SequentialRule& rule, std::span<const double> x,
                            std::span<const double> y, std::size_t look_every);

// What soak --until-confident acts on. A look's decision stands only when the verdict engine,
// run on the same series, agrees with it (a leak is `leak`; stable is not leak, fragmentation or
// too-short), and a leak must be seen at two looks in a row: growth toward a plateau (an arena
// filling as larger shapes arrive) can pass one look's test, but seldom the next look's as well.
class SequentialConfirmation {
 public:
  // The decision as it stands: `decision`, or keep_going when it is not confirmed.
  SequentialDecision confirm(SequentialDecision decision, const Series& series);

 private:
  bool leak_seen_ = false;  // the previous look's decision was a leak the engine agreed with
};

// replay_looks with the confirmation (x = requests done, y = current bytes of "infer" points):
// the last look's figures, with its decision as confirmed.
SequentialLook replay_confirmed_looks(SequentialRule& rule, std::span<const double> x,
                                      std::span<const double> y, std::size_t look_every);

// The fixed-sample leak test at one look, for comparison: the same fit's 95% interval lies
// above zero (what judge()'s significant slope asks, one-sided 2.5%).
bool fixed_leak_test(std::span<const double> x, std::span<const double> y);

// The smallest --detect a cap of max_requests (0: none) can settle: judge() reports no leak
// that adds up to less than 1 MiB over the judged window, which at the cap spans
// (1 - kSequentialWarmupFraction) x max_requests; never below kSequentialDetectFloor.
double smallest_settleable_detect(std::int64_t max_requests);

// An arm's time to verdict, in summary.json ("until_confident") and the table.
struct TimeToVerdict {
  std::string stopped_by;     // "settled-leak", "settled-stable", "cap"
  std::int64_t requests = 0;  // at the deciding look (or all done, at the cap)
  double seconds = kAbsent;   // from the arm's start to the deciding look
  int looks = 0;
  double slope = kAbsent, ci_low = kAbsent, ci_high = kAbsent, min_detectable = kAbsent;
  nlohmann::json to_json() const;
  static TimeToVerdict from_json(const nlohmann::json& j);
};

}  // namespace infermem
