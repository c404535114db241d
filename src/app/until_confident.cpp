#include "app/until_confident.h"

#include <fmt/format.h>
#include <algorithm>
#include <vector>

#include "infermem/error.h"
#include "infermem/units.h"

namespace infermem {
namespace {

// The arm's inference readings: what the rule looks at (x = requests done, y = VmRSS).
struct InferPoints {
  std::vector<double> x, y;
  double first_t_ms = kAbsent, last_t_ms = kAbsent;
};

InferPoints infer_points(const Series& series) {
  InferPoints p;
  for (const auto& pt : series.points) {
    if (pt.phase != Phase::infer || pt.req < 0 || !present(pt.current_bytes)) continue;
    if (p.x.empty()) p.first_t_ms = pt.t_ms;
    p.last_t_ms = pt.t_ms;
    p.x.push_back(static_cast<double>(pt.req));
    p.y.push_back(pt.current_bytes);
  }
  return p;
}

double seconds_since_begin(const ArmAccumulator& records, double t_ms) {
  const double begin = records.arm_begin_ms();
  return present(begin) && present(t_ms) ? (t_ms - begin) / 1000.0 : kAbsent;
}

}  // namespace

void UntilConfident::plan(ArmState& state, const Series& series) const {
  std::int64_t planned = options_.requests;
  if (!options_.request_cap) {
    // --max-time alone: the planned requests are what the cap allows at the rate seen so far.
    InferPoints p = infer_points(series);
    const double elapsed = p.last_t_ms - p.first_t_ms;
    const double done = p.x.empty() ? 0 : p.x.back() - p.x.front();
    planned = elapsed > 0 && done > 0
                  ? static_cast<std::int64_t>(p.x.back() + done / elapsed * options_.duration_ms)
                  : options_.requests;
    planned = std::clamp<std::int64_t>(planned, kMinLookEvery, options_.requests);
  }
  SequentialConfig c;
  c.max_requests = planned;
  c.detect_bytes_per_request = options_.detect_bytes_per_request;
  state.rule.emplace(c);
  state.look_every = std::max(kMinLookEvery, (planned + kMaxLooks - 1) / kMaxLooks);
}

bool UntilConfident::settled(const std::string& arm, std::int64_t requests,
                             const ArmAccumulator& records) {
  ArmState& state = arms_[arm];
  if (state.settled) return true;
  if (requests < state.next_look) return false;
  Series series = records.series(arm);
  if (!state.rule) plan(state, series);
  InferPoints p = infer_points(series);
  state.next_look = requests + state.look_every;
  if (p.x.empty()) return false;
  state.last = state.rule->look(p.x, p.y);
  state.last.decision = state.confirmation.confirm(state.last.decision, series);
  if (state.last.decision == SequentialDecision::keep_going) return false;
  state.settled = true;
  state.decided_seconds = seconds_since_begin(records, p.last_t_ms);
  return true;
}

TimeToVerdict UntilConfident::result(const std::string& arm, const ArmAccumulator& records) const {
  TimeToVerdict t;
  auto it = arms_.find(arm);
  const ArmState* state = it == arms_.end() ? nullptr : &it->second;
  if (state && state->settled) {
    t.stopped_by = std::string(name(state->last.decision));
    t.requests = state->last.requests;
    t.seconds = state->decided_seconds;
  } else {
    t.stopped_by = "cap";
    InferPoints p = infer_points(records.series(arm));
    t.requests =
        p.x.empty() ? records.figures().requests_done : static_cast<std::int64_t>(p.x.back());
    t.seconds = seconds_since_begin(records, p.last_t_ms);
  }
  if (state) {
    t.looks = state->rule ? state->rule->looks() : 0;
    t.slope = state->last.slope;
    t.ci_low = state->last.ci_low;
    t.ci_high = state->last.ci_high;
    t.min_detectable = state->last.min_detectable;
  }
  return t;
}

void check_until_confident(const SoakOptions& o) {
  if (!o.until_confident) return;
  if (!o.request_cap && !(o.duration_ms > 0))
    throw InputError(
        "--until-confident: give a cap, --max-requests N and/or --max-time DURATION: an arm "
        "whose verdict never settles must stop somewhere");
  if (o.scenario == Scenario::churn || o.scenario == Scenario::cache)
    throw InputError(fmt::format(
        "--until-confident: --scenario {} is not one steady stream of requests (loads and "
        "unloads step its memory); use steady or mixed",
        name(o.scenario)));
  if (!(o.detect_bytes_per_request > 0))
    throw InputError("--detect: give a size per request above 0 (e.g. 1KiB)");
  const double smallest = smallest_settleable_detect(o.request_cap ? o.requests : 0);
  if (o.detect_bytes_per_request < smallest)
    throw InputError(
        o.request_cap
            ? fmt::format(
                  "--detect {}/request cannot be met: --max-requests {} can resolve no less than "
                  "{}/request (a leak must add up to 1 MiB over the {}% of requests judged "
                  "after warm-up); raise --detect or --max-requests",
                  format_bytes(o.detect_bytes_per_request), o.requests, format_bytes(smallest),
                  static_cast<int>(100 * (1 - kSequentialWarmupFraction)))
            : fmt::format("--detect {}/request cannot be met: no leak per request is smaller "
                          "than {} (an allocation); raise --detect",
                          format_bytes(o.detect_bytes_per_request), format_bytes(smallest)));
}

nlohmann::json until_confident_options(const SoakOptions& o) {
  nlohmann::json j = {{"detect_bytes_per_request", o.detect_bytes_per_request},
                      {"alpha", SequentialConfig{}.alpha},
                      {"leak_precision", SequentialConfig{}.leak_precision}};
  j["max_requests"] = o.request_cap ? nlohmann::json(o.requests) : nlohmann::json(nullptr);
  j["max_time_ms"] = o.duration_ms > 0 ? nlohmann::json(o.duration_ms) : nlohmann::json(nullptr);
  return j;
}

}  // namespace infermem
