// soak --repeat: one arm's repeats combined into medians with their spread.
#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "infermem/numbers.h"
#include "infermem/summary.h"

namespace infermem {
ArmSummary combine_repeats(const std::string& name, std::vector<ArmSummary> repeats) {
  if (repeats.size() == 1) {
    repeats[0].name = name;
    return std::move(repeats[0]);
  }
  std::vector<const ArmSummary*> basis;
  for (const auto& r : repeats)
    if (r.status == ArmStatus::ok) basis.push_back(&r);
  if (basis.empty())
    for (const auto& r : repeats) basis.push_back(&r);

  ArmSummary a;
  a.name = name;
  a.config = repeats.front().config;
  a.pid = repeats.front().pid;
  a.ort_version = repeats.front().ort_version;
  a.status = ArmStatus::ok;
  for (std::size_t k = 0; k < repeats.size(); ++k) {
    a.requests_done += repeats[k].requests_done;
    if (repeats[k].status != ArmStatus::ok && a.status == ArmStatus::ok) {
      a.status = repeats[k].status;
      a.status_detail = fmt::format("repeat {}: {}", k + 1, repeats[k].status_detail);
    }
  }
  for (MemoryFigure figure : kMemoryFigures) {
    double MemoryFigures::*f = field(figure);
    std::vector<double> all, used;
    for (const auto& r : repeats)
      if (present(r.memory.*f)) all.push_back(r.memory.*f);
    for (const auto* r : basis) used.push_back(r->memory.*f);
    a.memory.*f = median(used);
    // Over the repeats that have the figure (a crashed one may not).
    if (!all.empty()) {
      auto [lo, hi] = std::minmax_element(all.begin(), all.end());
      a.memory_spread[figure] = {*lo, *hi};
    }
  }
  a.memory.peak_method = repeats.front().memory.peak_method;
  auto med = [&](auto get) {
    std::vector<double> v;
    for (const auto* r : basis) v.push_back(get(*r));
    return median(v);
  };
  a.latency_ms.mean = med([](const ArmSummary& r) { return r.latency_ms.mean; });
  a.latency_ms.p50 = med([](const ArmSummary& r) { return r.latency_ms.p50; });
  a.latency_ms.p95 = med([](const ArmSummary& r) { return r.latency_ms.p95; });
  a.latency_ms.p99 = med([](const ArmSummary& r) { return r.latency_ms.p99; });
  a.throughput_rps = med([](const ArmSummary& r) { return r.throughput_rps; });
  a.last_rss_bytes = repeats.back().last_rss_bytes;

  // The verdict: the most frequent kind over the repeats (first in run order on a tie).
  std::map<VerdictKind, int> counts;
  for (const auto* r : basis) ++counts[r->verdict.kind];
  const ArmSummary* chosen = basis.front();
  for (const auto* r : basis)
    if (counts[r->verdict.kind] > counts[chosen->verdict.kind]) chosen = r;
  a.verdict = chosen->verdict;
  std::string tally;
  for (const auto& [kind, n] : counts)
    tally += fmt::format("{}{} x{}", tally.empty() ? "" : ", ", kind, n);
  a.verdict.evidence.insert(
      a.verdict.evidence.begin(),
      fmt::format("Verdicts over {} repeats: {}; shown: the most frequent.", basis.size(), tally));
  a.phases = chosen->phases;
  a.charts = chosen->charts;
  a.repeats = std::move(repeats);
  return a;
}

}  // namespace infermem
