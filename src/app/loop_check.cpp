#include "infermem/loop_check.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <variant>

#include "infermem/request_scope.h"
#include "infermem/units.h"
#include "infermem/verdict.h"

namespace infermem {
namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool grows(VerdictKind kind) {
  return kind == VerdictKind::leak || kind == VerdictKind::fragmentation;
}

std::string interval(double lo, double hi) {
  if (!present(lo) || !present(hi)) return "no interval";
  return fmt::format("95% interval [{}, {}]", format_bytes(lo), format_bytes(hi));
}

}  // namespace

LoopCheck::LoopCheck(LoopLimits limits) : limits_(limits) {
  limits_.min_iterations = std::max<std::size_t>(limits_.min_iterations, 12);
  limits_.max_iterations = std::max(limits_.max_iterations, limits_.min_iterations);
  series_.name = "loop";
  series_.current_source = "VmRSS (/proc/self/statm) after each iteration";
}

void LoopCheck::begin() {
  peak_reset_ = self::reset_hwm();
  rss_before_ = self::rss_bytes();
  started_ms_ = now_ms();
  series_.points.clear();
  SeriesPoint p;
  p.req = 0;
  p.t_ms = 0;
  p.current_bytes = rss_before_;
  p.allocator_in_use_bytes = self::allocator_in_use_bytes();
  series_.points.push_back(p);
  done_ = 0;
  target_ = limits_.min_iterations;
}

void LoopCheck::record() {
  ++done_;
  judged_at_done_ = false;
  SeriesPoint p;
  p.req = static_cast<std::int64_t>(done_);
  p.t_ms = now_ms() - started_ms_;
  p.current_bytes = self::rss_bytes();
  p.allocator_in_use_bytes = self::allocator_in_use_bytes();
  series_.points.push_back(p);
}

LoopCheck::~LoopCheck() = default;
LoopCheck::LoopCheck(LoopCheck&&) noexcept = default;
LoopCheck& LoopCheck::operator=(LoopCheck&&) noexcept = default;

bool LoopCheck::need_more() {
  if (done_ < target_) return true;
  last_ = std::make_unique<Verdict>(judge(series_));
  judged_at_done_ = true;
  const Verdict& last = *last_;
  double seen = last.min_detectable_bytes_per_request;
  bool enough = last.kind != VerdictKind::too_short && present(seen) &&
                seen <= 0.5 * limits_.max_growth_bytes;
  // A growth already over the cap needs no longer window.
  if (grows(last.kind) && present(last.growth_ci_low_bytes_per_request) &&
      last.growth_ci_low_bytes_per_request >= limits_.max_growth_bytes)
    enough = true;
  if (enough || done_ >= limits_.max_iterations) return false;
  target_ = std::min(limits_.max_iterations, target_ * 2);
  return true;
}

LoopReport LoopCheck::finish() {
  LoopReport r;
  if (!judged_at_done_ || !last_) last_ = std::make_unique<Verdict>(judge(series_));
  const Verdict& v = *last_;
  r.kind = std::string(name(v.kind));
  r.verdict_json = v.to_json().dump();
  r.iterations = done_;
  r.rss_before_bytes = rss_before_;
  r.peak_bytes = peak_reset_ ? std::max(self::hwm_bytes(), self::rss_bytes()) : kAbsent;
  r.min_detectable_bytes = v.min_detectable_bytes_per_request;
  r.rate_bytes = v.growth_bytes_per_request;
  r.rate_ci_low_bytes = v.growth_ci_low_bytes_per_request;
  r.rate_ci_high_bytes = v.growth_ci_high_bytes_per_request;
  r.rate_source = "resident set (VmRSS)";
  // A leak of live allocations decided on the allocator's figures: that rate is the one judged.
  if (const Finding* f = v.decisive_finding())
    if (const auto* in_use = std::get_if<finding::InUseLeak>(&f->detail)) {
      r.rate_bytes = in_use->slope;
      r.rate_ci_low_bytes = in_use->ci_low;
      r.rate_ci_high_bytes = in_use->ci_high;
      r.rate_source = "allocator in-use bytes";
    }

  r.growth_failed = grows(v.kind) && (!present(r.rate_ci_high_bytes) ||
                                      r.rate_ci_high_bytes >= limits_.max_growth_bytes);
  r.peak_failed = present(limits_.max_peak_bytes) && present(r.peak_bytes) &&
                  r.peak_bytes > limits_.max_peak_bytes;
  bool seen = present(r.min_detectable_bytes) && v.kind != VerdictKind::too_short &&
              r.min_detectable_bytes <= limits_.max_growth_bytes;
  r.undecided = !r.growth_failed && !seen && !limits_.allow_undecided;
  r.passed = !r.growth_failed && !r.peak_failed && !r.undecided;

  std::string outcome;
  if (r.growth_failed)
    outcome = fmt::format("FAIL: memory grows per iteration, over the {} cap",
                          format_bytes(limits_.max_growth_bytes));
  else if (r.peak_failed)
    outcome = fmt::format("FAIL: peak over the {} cap", format_bytes(limits_.max_peak_bytes));
  else if (r.undecided)
    outcome = fmt::format(
        "FAIL: undecided: after {} iterations the smallest growth the engine could see is {}, "
        "above the {} cap",
        r.iterations,
        present(r.min_detectable_bytes) ? format_bytes(r.min_detectable_bytes) : "n/a",
        format_bytes(limits_.max_growth_bytes));
  else
    outcome = fmt::format("pass: no growth of {} or more per iteration",
                          format_bytes(limits_.max_growth_bytes));
  std::string rate =
      present(r.rate_bytes)
          ? fmt::format(
                "{}/iteration, {} ({}, {} iterations, smallest detectable {})",
                format_bytes(r.rate_bytes), interval(r.rate_ci_low_bytes, r.rate_ci_high_bytes),
                r.rate_source, r.iterations,
                present(r.min_detectable_bytes) ? format_bytes(r.min_detectable_bytes) : "n/a")
          : fmt::format("n/a ({} iterations)", r.iterations);
  std::string peak =
      present(r.peak_bytes)
          ? fmt::format("{} (VmHWM during the loop, {} before it){}", format_bytes(r.peak_bytes),
                        format_bytes(r.rss_before_bytes),
                        present(limits_.max_peak_bytes)
                            ? fmt::format(", cap {}", format_bytes(limits_.max_peak_bytes))
                            : "")
          : std::string(
                "n/a (/proc/self/clear_refs is not writable here; the peak is not checked)");
  r.message =
      fmt::format("verdict: {}\nrate: {}\npeak: {}\nkind: {}", outcome, rate, peak, name(v.kind));
  return r;
}

LoopReport check_loop(const std::function<void()>& body, const LoopLimits& limits) {
  LoopCheck check(limits);
  check.begin();
  std::size_t done = 0;
  do {
    for (; done < check.target(); ++done) {
      body();
      check.record();
    }
  } while (check.need_more());
  return check.finish();
}

double parse_limit(const std::string& text, const std::string& what) {
  return static_cast<double>(parse_size(text, what));
}

}  // namespace infermem
