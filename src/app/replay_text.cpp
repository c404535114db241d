// infermem replay: the policy that holds, its apply lines, the table and summary.json's object.
#include "app/replay_text.h"

#include <fmt/format.h>
#include <sstream>

#include "infermem/numbers.h"
#include "infermem/render.h"
#include "infermem/units.h"

namespace infermem {
namespace {

std::string ms_or_dash(double ms) {
  return present(ms) ? fmt::format("{:.1f}", ms) : "-";
}

std::string percent_or_dash(double fraction) {
  return present(fraction) ? fmt::format("{:.1f}%", fraction * 100) : "-";
}

std::string limit_text(const ReplayOptions& o) {
  return o.memory_limit_bytes ? format_bytes(static_cast<double>(o.memory_limit_bytes))
                              : std::string("none");
}

}  // namespace

ReplayTable ReplayReport::table(const PlannedReplay& plan, const ReplayOptions& o) const {
  ReplayTable t;
  t.log_path = o.log_path;
  t.log_format = plan.log.format;
  t.log_lines = plan.log.lines;
  t.requests = plan.log.events.size();
  t.skipped_lines = plan.log.skipped;
  t.skip_examples = plan.log.skip_examples;
  for (const auto& m : plan.models) t.models.emplace_back(m.id, m.path);
  t.memory_limit_bytes = o.memory_limit_bytes;
  t.headroom = o.headroom;
  t.speed = o.speed.text();
  t.policies = policies;
  if (recommendation) t.recommended = recommendation->arm;
  return t;
}

std::optional<Recommendation> recommend_policy(const ReplayReport& report, const ReplayOptions& o) {
  const PolicyOutcome* best = nullptr;
  for (const auto& p : report.policies) {
    if (!p.holds) continue;
    const double rate = present(p.hit_rate) ? p.hit_rate : 0;
    const double best_rate = best && present(best->hit_rate) ? best->hit_rate : 0;
    if (!best || rate > best_rate || (rate == best_rate && p.peak_bytes < best->peak_bytes))
      best = &p;
  }
  if (!best) return std::nullopt;
  Recommendation r;
  r.arm = best->policy;
  for (const auto& a : report.summary.arms)
    if (a.name == best->arm) r.config = a.config;
  r.headline = fmt::format(
      "Recommended for this traffic under --memory-limit {} with {:g}% headroom: --policy {}",
      limit_text(o), o.headroom * 100, best->policy);
  r.why.push_back(fmt::format(
      "peak: {}{}", format_bytes(best->peak_bytes),
      o.memory_limit_bytes
          ? fmt::format(" of {} ({:.1f}% of the limit)", limit_text(o),
                        100 * best->peak_bytes / static_cast<double>(o.memory_limit_bytes))
          : std::string()));
  r.why.push_back(
      fmt::format("OOM kills: 0; served {} of {} requests", best->served, best->requests));
  r.why.push_back(fmt::format("hit rate: {} ({} hits, {} loads, {} evictions)",
                              percent_or_dash(best->hit_rate), best->hits, best->loads,
                              best->evictions));
  r.why.push_back(fmt::format("p50: {} ms, p99: {} ms (from each request's due time to its answer)",
                              ms_or_dash(best->p50_ms), ms_or_dash(best->p99_ms)));
  for (const auto& p : report.policies)
    if (&p != best)
      r.rejected.push_back(p.holds ? fmt::format("{}: holds too, hit rate {}, peak {}", p.policy,
                                                 percent_or_dash(p.hit_rate),
                                                 format_bytes(p.peak_bytes))
                                   : fmt::format("{}: does not hold: {}", p.policy, p.why_not));
  r.rejected_title = "Other policies";
  r.lines = apply_lines(r.config, &r.notes);
  return r;
}

std::string render_replay_text(const ReplayReport& report, const PlannedReplay& plan,
                               const ReplayOptions& o) {
  std::ostringstream out;
  out << fmt::format(
      "replay of {} ({}): {} requests over {} model{}, --speed {}, --memory-limit "
      "{}\n",
      o.log_path, plan.log.format, plan.log.events.size(), plan.models.size(),
      plan.models.size() == 1 ? "" : "s", o.speed.text(), limit_text(o));
  out << fmt::format("malformed lines skipped: {}", plan.log.skipped);
  for (const auto& e : plan.log.skip_examples) out << "; " << e;
  out << "\n\n";
  out << replay_policies_markdown(report.table(plan, o));
  if (!report.summary.notes.empty()) {
    out << "\nNotes:\n";
    for (const auto& n : report.summary.notes) out << "  " << n << '\n';
  }
  out << '\n';
  if (report.recommendation)
    out << render_text(*report.recommendation, Goal::peak);
  else
    out << fmt::format(
        "No policy holds this traffic under --memory-limit {} with {:g}% headroom (served "
        "every request, no OOM kill, peak at most the limit less the headroom).\n",
        limit_text(o), o.headroom * 100);
  return out.str();
}

}  // namespace infermem
