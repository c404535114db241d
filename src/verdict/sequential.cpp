#include "infermem/sequential.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <stdexcept>

#include "infermem/verdict.h"
#include "verdict/stats.h"

namespace infermem {
namespace {

constexpr double kZ95 = 1.959964;
// judge() reports no leak smaller than this over its judged window (kMeaningfulBytes there).
constexpr double kMeaningfulBytes = 1024.0 * 1024;
// A look's fit runs on at most this many bin medians: Theil-Sen is quadratic in its points, and
// the autocorrelation-aware interval is computed on 30 blocks of them anyway.
constexpr std::size_t kLookBins = 150;

struct LookFit {
  stats::SlopeFit fit;
  std::size_t judged = 0;
  double span = 0;
};

LookFit fit_window(std::span<const double> x_in, std::span<const double> y_in) {
  LookFit out;
  const std::size_t n = std::min(x_in.size(), y_in.size());
  const auto cut = static_cast<std::size_t>(kSequentialWarmupFraction * static_cast<double>(n));
  auto x = x_in.subspan(cut, n - cut);
  auto y = y_in.subspan(cut, n - cut);
  out.judged = x.size();
  if (out.judged < kSequentialMinPoints) return out;
  out.span = x.back() - x.front();
  std::vector<double> xb(x.begin(), x.end()), yb(y.begin(), y.end());
  if (out.judged > kLookBins) {
    auto bounds = stats::block_bounds(out.judged, kLookBins);
    xb = stats::block_summary(x, bounds, stats::BlockStat::kMedian);
    yb = stats::block_summary(y, bounds, stats::BlockStat::kMedian);
  }
  out.fit = stats::theil_sen_blocked(xb, yb);
  return out;
}

}  // namespace

std::string_view name(SequentialDecision decision) {
  switch (decision) {
    case SequentialDecision::keep_going:
      return "continue";
    case SequentialDecision::settled_leak:
      return "settled-leak";
    case SequentialDecision::settled_stable:
      return "settled-stable";
  }
  return "continue";
}

double sequential_spending(double alpha, double t) {
  return alpha * std::clamp(t, 0.0, 1.0);
}

double normal_upper_quantile(double p) {
  if (!(p > 0) || !(p < 1)) throw std::logic_error("normal_upper_quantile: p outside (0, 1)");
  double lo = -40, hi = 40;  // P(Z > z) = erfc(z / sqrt 2) / 2 falls with z: bisect
  for (int i = 0; i < 200; ++i) {
    double mid = (lo + hi) / 2;
    (0.5 * std::erfc(mid / std::sqrt(2.0)) > p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

SequentialRule::SequentialRule(SequentialConfig config) : config_(config) {
  if (config_.max_requests <= 0) throw std::logic_error("SequentialRule: no planned max_requests");
}

SequentialLook SequentialRule::look(std::span<const double> x, std::span<const double> y) {
  SequentialLook out;
  out.look = ++looks_;
  out.requests = x.empty() ? 0 : static_cast<std::int64_t>(x.back());
  // Alpha is spent at every look, decided or not: the boundary is the plan's, not the data's.
  const double t = static_cast<double>(out.requests) / static_cast<double>(config_.max_requests);
  const double spend = sequential_spending(config_.alpha, t) - spent_;
  spent_ += std::max(0.0, spend);
  out.alpha_spent = spent_;
  out.z_boundary =
      spend > 1e-15 ? normal_upper_quantile(spend) : std::numeric_limits<double>::infinity();
  if (std::isfinite(out.z_boundary)) last_boundary_ = out.z_boundary;

  LookFit lf = fit_window(x, y);
  out.judged = lf.judged;
  if (!lf.fit.valid || lf.span <= 0) return out;
  out.slope = lf.fit.slope;
  out.ci_low = lf.fit.ci_low;
  out.ci_high = lf.fit.ci_high;
  const double half_width = (lf.fit.ci_high - lf.fit.ci_low) / 2;
  out.standard_error = half_width / kZ95;
  // A noise-free window (VmRSS moves in pages: a flat process often reads the same figure) has a
  // zero-width interval: its slope is exact, and any rise is as significant as can be.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (out.standard_error > 0)
    out.z = out.slope / out.standard_error;
  else
    out.z = out.slope > 0 ? kInf : (out.slope < 0 ? -kInf : 0.0);
  out.relative_half_width = out.slope > 0 ? half_width / out.slope : kAbsent;
  const double z_power = normal_upper_quantile(1 - config_.power);
  const double boundary_for_power = present(last_boundary_) ? last_boundary_ : out.z_boundary;
  out.min_detectable =
      std::max((boundary_for_power + z_power) * out.standard_error, kMeaningfulBytes / lf.span);
  const bool significant = out.z >= out.z_boundary;
  if (significant && present(out.relative_half_width) &&
      out.relative_half_width <= config_.leak_precision)
    out.decision = SequentialDecision::settled_leak;
  else if (!significant && out.z < boundary_for_power &&
           out.min_detectable <= config_.detect_bytes_per_request)
    out.decision = SequentialDecision::settled_stable;
  return out;
}

SequentialLook replay_looks(SequentialRule& rule, std::span<const double> x,
                            std::span<const double> y, std::size_t look_every) {
  const std::size_t n = std::min(x.size(), y.size());
  SequentialLook last;
  for (std::size_t end = std::min(look_every, n); end > 0; end = std::min(end + look_every, n)) {
    last = rule.look(x.first(end), y.first(end));
    if (last.decision != SequentialDecision::keep_going || end == n) break;
  }
  return last;
}

SequentialDecision SequentialConfirmation::confirm(SequentialDecision decision,
                                                   const Series& series) {
  if (decision == SequentialDecision::keep_going) {
    leak_seen_ = false;
    return decision;
  }
  const VerdictKind kind = judge(series).kind;
  if (decision == SequentialDecision::settled_stable) {
    leak_seen_ = false;
    const bool agrees = kind != VerdictKind::leak && kind != VerdictKind::fragmentation &&
                        kind != VerdictKind::too_short;
    return agrees ? decision : SequentialDecision::keep_going;
  }
  const bool confirmed = kind == VerdictKind::leak && leak_seen_;
  leak_seen_ = kind == VerdictKind::leak;
  return confirmed ? decision : SequentialDecision::keep_going;
}

SequentialLook replay_confirmed_looks(SequentialRule& rule, std::span<const double> x,
                                      std::span<const double> y, std::size_t look_every) {
  const std::size_t n = std::min(x.size(), y.size());
  Series series;
  series.points.reserve(n);
  SequentialConfirmation confirmation;
  SequentialLook last;
  for (std::size_t end = std::min(look_every, n); end > 0; end = std::min(end + look_every, n)) {
    for (std::size_t i = series.points.size(); i < end; ++i) {
      SeriesPoint p;
      p.req = static_cast<std::int64_t>(x[i]);
      p.phase = Phase::infer;
      p.current_bytes = y[i];
      series.points.push_back(p);
    }
    last = rule.look(x.first(end), y.first(end));
    last.decision = confirmation.confirm(last.decision, series);
    if (last.decision != SequentialDecision::keep_going || end == n) break;
  }
  return last;
}

bool fixed_leak_test(std::span<const double> x, std::span<const double> y) {
  LookFit lf = fit_window(x, y);
  return lf.fit.valid && lf.fit.ci_low > 0;
}

double smallest_settleable_detect(std::int64_t max_requests) {
  if (max_requests <= 0) return kSequentialDetectFloor;
  const double span = (1 - kSequentialWarmupFraction) * static_cast<double>(max_requests);
  return std::max(kSequentialDetectFloor, kMeaningfulBytes / span);
}

nlohmann::json TimeToVerdict::to_json() const {
  auto num = [](double v) { return present(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"stopped_by", stopped_by},
          {"requests", requests},
          {"seconds", num(seconds)},
          {"looks", looks},
          {"slope_bytes_per_request", num(slope)},
          {"slope_ci_bytes_per_request", {num(ci_low), num(ci_high)}},
          {"min_detectable_bytes_per_request", num(min_detectable)}};
}

TimeToVerdict TimeToVerdict::from_json(const nlohmann::json& j) {
  auto num = [](const nlohmann::json& v) { return v.is_number() ? v.get<double>() : kAbsent; };
  TimeToVerdict t;
  t.stopped_by = j.value("stopped_by", std::string());
  t.requests = j.value("requests", std::int64_t{0});
  t.seconds = num(j.value("seconds", nlohmann::json()));
  t.looks = j.value("looks", 0);
  t.slope = num(j.value("slope_bytes_per_request", nlohmann::json()));
  const auto ci = j.value("slope_ci_bytes_per_request", nlohmann::json::array());
  if (ci.is_array() && ci.size() == 2) {
    t.ci_low = num(ci[0]);
    t.ci_high = num(ci[1]);
  }
  t.min_detectable = num(j.value("min_detectable_bytes_per_request", nlohmann::json()));
  return t;
}

}  // namespace infermem
