#include "infermem/run_diff.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>

#include "infermem/error.h"
#include "infermem/units.h"
#include "report/diff_noise.h"

namespace infermem {
namespace {

const ArmSummary* find_arm(const RunSummary& s, const std::string& name) {
  for (const auto& a : s.arms)
    if (a.name == name) return &a;
  return nullptr;
}

// [min, max] of one figure over a run's repeats; false when the run had no repeats.
bool spread_of(const ArmSummary& arm, MemoryFigure figure, double& low, double& high) {
  const auto it = arm.memory_spread.find(figure);
  if (it == arm.memory_spread.end()) return false;
  low = it->second.lo;
  high = it->second.hi;
  return std::isfinite(low) && std::isfinite(high) && low <= high;
}

std::string status_text(const ArmSummary& a) {
  std::string s(name(a.status));
  if (!a.status_detail.empty()) s += " (" + a.status_detail + ")";
  return s;
}

}  // namespace

bool arm_ran_ok(const ArmSummary& arm) {
  return arm.status == ArmStatus::ok;
}

bool RunDiff::regressed() const {
  return !failures.empty() || std::any_of(figures.begin(), figures.end(),
                                          [](const FigureDiff& f) { return f.regressed; });
}

std::vector<std::string> RunDiff::reasons() const {
  std::vector<std::string> out = failures;
  for (const auto& f : figures) {
    if (!f.regressed) continue;
    out.push_back(fmt::format(
        "arm {}: {} grew from {} to {} (+{} net of malloc's free heap; noise at {:.0f}%: {}{})",
        f.arm, f.figure, format_bytes(f.base), format_bytes(f.next),
        format_bytes(f.net_change_bytes), 100 * f.confidence, format_bytes(f.noise_bytes),
        f.runs_base > 1 || f.runs_new > 1
            ? fmt::format(", medians of {} and {} runs", f.runs_base, f.runs_new)
            : ""));
  }
  return out;
}

std::vector<std::string> identity_differences(const RunSummary& base, const RunSummary& next) {
  std::vector<std::string> out;
  auto check = [&](const char* what, const std::string& a, const std::string& b) {
    if (!a.empty() && !b.empty() && a != b) out.push_back(fmt::format("{} {} -> {}", what, a, b));
  };
  check("model_sha256", base.model_sha256, next.model_sha256);
  check("ort_version", base.ort_version, next.ort_version);
  // Another scenario draws other inputs (shapes, request mix): its figures are not comparable.
  check("scenario", base.scenario, next.scenario);
  // An arm's own ort= version: comparing an upgrade is a deliberate choice, as for the run's.
  for (const auto& b : next.arms)
    for (const auto& a : base.arms)
      if (a.name == b.name)
        check(("arm " + a.name + " ort_version").c_str(), a.ort_version, b.ort_version);
  return out;
}

namespace {

// One figure of an arm in both runs. A memory figure of two arms that ran to the end is judged
// against the noise and the tolerance; any other is shown only.
struct FigurePair {
  std::string_view figure;
  double base, next;
  std::optional<MemoryFigure> memory;  // none: latency, shown only
};

FigureDiff compare_figure(const ArmSummary& a, const ArmSummary& b, const FigurePair& p, bool gate,
                          const DiffOptions& options) {
  FigureDiff f;
  f.arm = b.name;
  f.figure = std::string(p.figure);
  f.base = p.base;
  f.next = p.next;
  f.memory = p.memory.has_value();
  const double x = p.base, y = p.next;
  if (!p.memory || !gate || !present(x) || !present(y)) return f;
  const double tolerance =
      std::max(options.floor_bytes, options.max_regression_fraction * std::fabs(x));
  double bl = 0, bh = 0, nl = 0, nh = 0;
  f.basis = "noise";
  const MemoryFigure figure = *p.memory;
  if (spread_of(a, figure, bl, bh) && spread_of(b, figure, nl, nh)) {
    f.base_low = bl;
    f.base_high = bh;
    f.next_low = nl;
    f.next_high = nh;
    f.basis = "spread";
  }
  const NoiseSample sb = noise_sample(a, figure);
  const NoiseSample sn = noise_sample(b, figure);
  const NoiseBound n = noise_bound(sb, sn);
  if (sb.held_known && sn.held_known) {
    f.held_base = held_free_bytes(a, figure);
    f.held_new = held_free_bytes(b, figure);
  }
  f.net_change_bytes = n.net_change;
  f.noise_bytes = n.noise;
  f.mdd_bytes = std::max(n.mdd, tolerance);
  f.noise_method = n.method;
  f.confidence = kDiffConfidence;
  f.power = kDiffPower;
  f.runs_base = n.runs_base;
  f.runs_new = n.runs_new;
  // The growth of the figure itself that would reach the threshold on the net.
  const double threshold = std::max(tolerance, n.noise);
  f.allowed_bytes = threshold + ((y - x) - n.net_change);
  f.regressed = n.runs_base > 0 && n.runs_new > 0 && n.net_change > threshold;
  return f;
}

}  // namespace

RunDiff diff_runs(const RunSummary& base, const RunSummary& next, const DiffOptions& options) {
  RunDiff d;
  d.identity_differences = identity_differences(base, next);
  if (!d.identity_differences.empty() && !options.allow_different_model) {
    std::string list;
    for (const auto& s : d.identity_differences) list += (list.empty() ? "" : "; ") + s;
    throw InputError(fmt::format(
        "the runs measure different things ({}); pass --allow-different-model to compare anyway",
        list));
  }

  if (next.arms.empty()) d.failures.push_back("the new run has no arms (nothing ran)");
  if (next.interrupted)
    d.failures.push_back("the new run was interrupted (its figures are partial)");
  for (const auto& a : base.arms)
    if (!find_arm(next, a.name)) {
      d.only_in_base.push_back(a.name);
      d.failures.push_back(
          fmt::format("arm {}: in the base run, missing from the new run", a.name));
    }

  for (const auto& b : next.arms) {
    const ArmSummary* a = find_arm(base, b.name);
    const std::string before = a ? a->ort_version : "";
    if (!b.ort_version.empty())
      d.arm_ort_versions[b.name] = before.empty() || before == b.ort_version
                                       ? b.ort_version
                                       : before + " -> " + b.ort_version;
    if (!a) {
      d.only_in_new.push_back(b.name);
      d.notes.push_back(fmt::format("arm {}: only in the new run, nothing to compare", b.name));
      if (!arm_ran_ok(b))
        d.failures.push_back(fmt::format("arm {}: {} in the new run", b.name, status_text(b)));
      continue;
    }
    // Figures of an arm that did not run to the end are partial: shown, never gated. A failure
    // in NEW is itself the regression; one in BASE only leaves nothing to compare against.
    const bool gate = arm_ran_ok(*a) && arm_ran_ok(b);
    if (!arm_ran_ok(b))
      d.failures.push_back(fmt::format("arm {}: {} in the new run", b.name, status_text(b)));
    else if (!arm_ran_ok(*a))
      d.notes.push_back(fmt::format("arm {}: {} in the base run; its figures are not compared",
                                    b.name, status_text(*a)));
    if (gate && b.verdict.kind == VerdictKind::leak && a->verdict.kind != VerdictKind::leak)
      d.failures.push_back(fmt::format("arm {}: verdict leak in the new run (base: {})", b.name,
                                       name(a->verdict.kind)));

    for (MemoryFigure figure : {MemoryFigure::loaded, MemoryFigure::peak,
                                MemoryFigure::after_unload, MemoryFigure::retained}) {
      double MemoryFigures::*m = field(figure);
      d.figures.push_back(
          compare_figure(*a, b, {name(figure), a->memory.*m, b.memory.*m, figure}, gate, options));
    }
    d.figures.push_back(compare_figure(
        *a, b, {"p50_ms", a->latency_ms.p50, b.latency_ms.p50, std::nullopt}, gate, options));
  }
  return d;
}

RunDiff diff_run_dirs(const std::string& base_dir, const std::string& new_dir,
                      const DiffOptions& options) {
  const bool base_watch = is_watch_dir(base_dir), new_watch = is_watch_dir(new_dir);
  if (base_watch != new_watch)
    throw InputError(fmt::format(
        "cannot diff a soak run and a watch: {} is a watch (one process tree over time), {} a "
        "soak run (figures per arm and per request); diff compares two soak runs, or two watches "
        "of the same command",
        base_watch ? base_dir : new_dir, base_watch ? new_dir : base_dir));
  // BASE is read (and refused) first: the arguments of one call are read in no fixed order.
  RunDiff d;
  if (base_watch) {
    const WatchSummary base = load_watch_summary(base_dir);
    d = diff_watches(base, load_watch_summary(new_dir), options);
  } else {
    const RunSummary base = RunSummary::load(base_dir);
    d = diff_runs(base, RunSummary::load(new_dir), options);
  }
  d.base_label = base_dir;
  d.new_label = new_dir;
  return d;
}

}  // namespace infermem
