// `infermem diff`: the noise model (docs/diff.md, measured with bench/diff_bench.cpp).
#include "report/diff_noise.h"

#include <algorithm>
#include <cmath>

#include "infermem/figure.h"
#include "infermem/numbers.h"

namespace infermem {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// Normal quantiles: one-sided 99% and 95%; a single run on each side: z * sqrt(2) sigma.
constexpr double kZConfidence = 2.3263;
constexpr double kZPower = 1.6449;
constexpr double kZSingle = 2.3263 * 1.41421356;

// Run-to-run standard deviation of one run's figure, net of the held free heap (glibc arms), and
// of the figure itself where that heap is unknown (other allocators, runs recorded without
// malloc's counters): bench/diff_bench.cpp, identical pairs (docs/diff.md).
constexpr double kSigmaKnownBytes = 0.25 * kMiB;
constexpr double kSigmaKnownFraction = 0.005;    // of the model's footprint
constexpr double kSigmaOtherBytes = 0.5 * kMiB;  // jemalloc & co: phases without glibc's heap
constexpr double kSigmaOtherFraction = 0.03;
// Runs that recorded no malloc counters at all (older summaries, hand-written ones): the steps
// are in the figure and nothing says how large. The rule of the previous diff, measured on the
// 8 MiB mlp and the 64 MiB transformer: a noise of max(4 MiB, 40% of the footprint) at 99%.
constexpr double kSigmaStepBytes = 4.0 * kMiB / (kZSingle);
constexpr double kSigmaStepFraction = 0.40 / (kZSingle);

// A median of n runs scatters ~1.2533 / sqrt(n) as much as one run (large-n; conservative here).
constexpr double kMedianEfficiency = 1.2533;

// One-sided 99% quantile of Student's t with df degrees of freedom.
double t_quantile(int df) {
  static const double table[] = {0,     31.821, 6.965, 4.541, 3.747, 3.365, 3.143,
                                 2.998, 2.896,  2.821, 2.764, 2.718, 2.681, 2.650,
                                 2.624, 2.602,  2.583, 2.567, 2.552, 2.539, 2.528};
  if (df >= 1 && df <= 20) return table[df];
  return df > 20 ? 2.4 : kZConfidence;
}

bool glibc(const ArmSummary& a) {
  auto it = a.config.find("allocator");
  return it == a.config.end() || it->second == "glibc" || it->second == "default" ||
         it->second.empty();
}

// The free heap held resident at a phase end. glibc's free chunks are resident (they were
// written when allocated) until malloc_trim hands their pages back without shrinking the free
// count, so up to the first trim the free bytes are taken as they are. Not min(free, RssAnon -
// in use): in use counts mmapped blocks ONNX Runtime allocated and only partly touched (the
// transformer's infer phase: 72.5 MiB in use, 63.5 MiB RssAnon), and that bound called a 12 MiB
// free heap 2.6 MiB, which read as a 9 MiB regression between identical runs. After a trim that
// bound is the best there is (what the trim released is still counted free). jemalloc's
// resident - allocated is always bounded: it moved by 2 MiB between identical runs whose RSS and
// in-use bytes did not move (the 8 MiB mlp, mixed), while the bound held with no false
// regression in 50 pairs.
double held_at(const PhaseEnd& phase, bool bounded) {
  const double free_b = phase.value(Figure::malloc_free_bytes);
  if (!present(free_b)) return kAbsent;
  if (!bounded) return std::max(free_b, 0.0);
  const double in_use = phase.value(Figure::malloc_in_use_bytes);
  const double anon = phase.value(Figure::rss_anon_bytes);
  if (!present(in_use) || !present(anon)) return kAbsent;
  return std::clamp(std::min(free_b, anon - in_use), 0.0, free_b);
}

// Whether a trim phase comes before PHASE in the arm's phases.
bool trimmed_before(const std::vector<PhaseEnd>& phases, const PhaseEnd& phase) {
  for (const auto& p : phases) {
    if (&p == &phase) return false;
    if (p.phase == Phase::trim) return true;
  }
  return false;
}

// The figures diff compares against the noise (run_diff.cpp); any other has no sample.
bool compared(MemoryFigure figure) {
  return figure == MemoryFigure::loaded || figure == MemoryFigure::peak ||
         figure == MemoryFigure::after_unload || figure == MemoryFigure::retained;
}

double footprint(const ArmSummary& a) {
  const double f = a.memory.loaded_bytes - a.memory.baseline_bytes;
  return present(f) && f > 0 ? f : 0.0;
}

}  // namespace

double held_free_bytes(const ArmSummary& a, MemoryFigure figure) {
  // Known where the phases carry the allocator's free bytes (glibc; jemalloc: resident -
  // allocated); tcmalloc and mimalloc record none.
  const auto& ph = a.phases;
  const bool other_allocator = !glibc(a);
  auto held_at_end = [&](const PhaseEnd* p) {
    if (!p) return kAbsent;
    return held_at(*p, other_allocator || p->phase == Phase::trim || trimmed_before(ph, *p));
  };
  // The phase end each figure is read at (arm_figures.cpp): the first baseline and load, the
  // last unload or trim; for the peak, the load, warm or infer end with the highest RSS.
  switch (figure) {
    case MemoryFigure::baseline:
      return held_at_end(first_end(ph, Phase::baseline));
    case MemoryFigure::loaded:
      return held_at_end(first_end(ph, Phase::load));
    case MemoryFigure::after_unload:
      return held_at_end(last_end(ph, Phase::unload));
    case MemoryFigure::peak: {
      const PhaseEnd* best = nullptr;
      for (const auto& p : ph) {
        if (!(p.phase == Phase::load || p.phase == Phase::warm || p.phase == Phase::infer))
          continue;
        // On a tie the later phase: the peak is read through inference.
        if (!best || p.value(Figure::rss_bytes) >= best->value(Figure::rss_bytes)) best = &p;
      }
      return held_at_end(best);
    }
    case MemoryFigure::retained: {
      const double end = held_at_end(
          last_end(ph, present(a.memory.after_trim_bytes) ? Phase::trim : Phase::unload));
      const double base = held_at_end(first_end(ph, Phase::baseline));
      return present(end) && present(base) ? end - base : kAbsent;
    }
    default:
      return kAbsent;
  }
}

NoiseSample noise_sample(const ArmSummary& arm, MemoryFigure figure) {
  NoiseSample s;
  std::vector<const ArmSummary*> runs;
  for (const auto& r : arm.repeats)
    if (r.status == ArmStatus::ok) runs.push_back(&r);
  if (runs.empty()) runs.push_back(&arm);
  // Every figure is taken from its own run's baseline: the process before any session varies
  // by up to 2.3 MiB between identical runs (docs/diff.md), and that shift carries through every
  // absolute figure. retained_bytes is relative to the baseline already.
  for (int pass = 0; pass < 2; ++pass) {
    s.net.clear();
    for (const auto* r : runs) {
      const double value = compared(figure) ? r->memory.*field(figure) : kAbsent;
      const bool relative = figure == MemoryFigure::retained;
      const double baseline = relative ? 0.0 : r->memory.baseline_bytes;
      if (!present(value) || !present(baseline)) continue;
      double held = 0, held_baseline = 0;
      if (pass == 0) {
        ArmSummary run;  // a repeat carries its own phases; the arm's config names the allocator
        run.config = arm.config;
        run.phases = r->phases;
        run.memory = r->memory;
        held = held_free_bytes(run, figure);
        held_baseline = relative ? 0.0 : held_free_bytes(run, MemoryFigure::baseline);
        if (!present(held) || !present(held_baseline)) {
          s.held_known = false;
          break;
        }
      }
      s.net.push_back(value - held - (baseline - held_baseline));
    }
    // Without the held heap of every run, the step is in the figure: compare the figures.
    if (s.held_known) break;
  }
  const double f = footprint(arm);
  bool counters = false;  // the phases carry the allocator's counters (a run of this version)
  for (const auto* r : runs)
    for (const auto& p : r->phases)
      if (p.has(Figure::malloc_free_bytes) || p.has(Figure::malloc_in_use_bytes)) counters = true;
  if (s.held_known) {
    s.sigma_run = std::max(kSigmaKnownBytes, kSigmaKnownFraction * f);
  } else if (counters && !glibc(arm)) {
    s.sigma_run = std::max(kSigmaOtherBytes, kSigmaOtherFraction * f);
  } else {
    s.sigma_run = std::max(kSigmaStepBytes, kSigmaStepFraction * f);
    // After unload (and retained without trim) NEW may keep what BASE held at its peak and gave
    // back by the end of unload: whether glibc returns freed memory is luck of the heap's layout
    // (the 64 MiB transformer read 71 or 126 MiB after unload in identical runs, peak 153).
    const bool after_unload =
        figure == MemoryFigure::after_unload ||
        (figure == MemoryFigure::retained && !present(arm.memory.after_trim_bytes));
    const double given_back = arm.memory.peak_bytes - arm.memory.after_unload_bytes;
    if (after_unload && present(given_back) && given_back > 0) s.allowance = given_back;
  }
  return s;
}

NoiseBound noise_bound(const NoiseSample& base, const NoiseSample& next) {
  NoiseBound b;
  b.runs_base = static_cast<int>(base.net.size());
  b.runs_new = static_cast<int>(next.net.size());
  if (base.net.empty() || next.net.empty()) return b;
  b.net_change = median(next.net) - median(base.net);
  // Pooled variance of the repeats (sides with two runs or more).
  double ss = 0;
  int df = 0;
  for (const auto* side : {&base, &next}) {
    if (side->net.size() < 2) continue;
    double m = 0;
    for (double v : side->net) m += v / static_cast<double>(side->net.size());
    for (double v : side->net) ss += (v - m) * (v - m);
    df += static_cast<int>(side->net.size()) - 1;
  }
  const double sigma_run = std::max(base.sigma_run, next.sigma_run);
  const double pooled = df > 0 ? std::sqrt(ss / df) : 0.0;
  auto scale = [](int n) {
    return n == 1 ? 1.0 : kMedianEfficiency * kMedianEfficiency / static_cast<double>(n);
  };
  const double spread_of_diff = std::sqrt(scale(b.runs_base) + scale(b.runs_new));
  if (pooled > sigma_run) {
    const double t = t_quantile(df);
    b.noise = t * pooled * spread_of_diff;
    b.mdd = (t + kZPower) * pooled * spread_of_diff;
    b.method = "student-t (df " + std::to_string(df) + ")";
  } else {
    b.noise = kZConfidence * sigma_run * spread_of_diff;
    b.mdd = (kZConfidence + kZPower) * sigma_run * spread_of_diff;
    b.method = "known-sigma";
  }
  // Runs without malloc's counters: what one of them gave back at unload, the other may keep.
  const double allowance = std::max(base.allowance, next.allowance);
  if (allowance > b.noise) {
    b.mdd += allowance - b.noise;
    b.noise = allowance;
    b.method += ", given back at unload";
  }
  return b;
}

}  // namespace infermem
