// `infermem diff`, the terminal table.
#include <fmt/format.h>
#include <cmath>

#include "infermem/units.h"
#include "report/diff_render.h"

namespace infermem {
namespace {

std::string shown(const FigureDiff& f, double v) {
  if (!present(v)) return "-";
  return f.memory ? format_mib(v) : fmt::format("{:.2f}", v);
}

std::string change(const FigureDiff& f) {
  if (!present(f.base) || !present(f.next) || f.base == 0) return "-";
  return fmt::format("{:+.1f}%", 100.0 * (f.next - f.base) / std::fabs(f.base));
}

// "49.5 → 65.5 (±0.8)": the figures and the noise of their difference.
std::string figures(const FigureDiff& f) {
  std::string s = shown(f, f.base) + " → " + shown(f, f.next);
  if (present(f.noise_bytes)) s += " (±" + format_mib(f.noise_bytes) + ")";
  return s;
}

std::string signed_mib(double v) {
  if (!present(v)) return "-";
  return (v >= 0 ? "+" : "") + format_mib(v);
}

}  // namespace

std::string render_diff_text(const RunDiff& d) {
  std::string out;
  for (const auto& s : d.identity_differences)
    out += fmt::format("different runs (--allow-different-model): {}\n", s);
  for (const auto& [arm, version] : d.arm_ort_versions)
    out += fmt::format("arm {}: ONNX Runtime {}\n", arm, version);
  bool any_noise = false;
  double confidence = kAbsent, power = kAbsent;
  for (const auto& f : d.figures)
    if (present(f.noise_bytes)) {
      any_noise = true;
      confidence = f.confidence;
      power = f.power;
    }
  if (any_noise)
    out += fmt::format(
        "noise: {:.0f}% one-sided; net = growth net of the free heap the allocator held (identical "
        "runs "
        "keep or return it at random); MDD = smallest growth flagged with {:.0f}% probability\n",
        100 * confidence, 100 * power);
  // "→" is 3 bytes and 1 column: fmt pads by code points, so widths hold.
  out += fmt::format("{:<16} {:<26} {:>26} {:>9} {:>9} {:>7} {:>5}\n", "arm", "figure",
                     "base → new (±noise)", "change", "net", "MDD", "runs");
  for (const auto& f : d.figures) {
    const std::string runs =
        f.runs_base > 0 ? fmt::format("{}:{}", f.runs_base, f.runs_new) : std::string("-");
    out += fmt::format("{:<16} {:<26} {:>26} {:>9} {:>9} {:>7} {:>5}{}\n", f.arm,
                       f.memory ? f.figure + " (MiB)" : f.figure, figures(f), change(f),
                       signed_mib(f.net_change_bytes),
                       present(f.mdd_bytes) ? format_mib(f.mdd_bytes) : std::string("-"), runs,
                       f.regressed ? "  REGRESSED" : "");
    if (f.basis == "spread")
      out += fmt::format("{:<16} {:<26} {:>26}\n", "", "  [min..max] of repeats",
                         format_mib(f.base_low) + ".." + format_mib(f.base_high) + " → " +
                             format_mib(f.next_low) + ".." + format_mib(f.next_high));
  }
  for (const auto& a : d.only_in_base)
    out += fmt::format("arm {} is only in {}\n", a, d.base_label);
  for (const auto& a : d.only_in_new) out += fmt::format("arm {} is only in {}\n", a, d.new_label);
  for (const auto& n : d.notes) out += fmt::format("note: {}\n", n);
  const auto reasons = d.reasons();
  for (const auto& r : reasons) out += fmt::format("regression: {}\n", r);
  out += reasons.empty() ? std::string("result: no regression\n")
                         : fmt::format("result: REGRESSED ({} reason{})\n", reasons.size(),
                                       reasons.size() == 1 ? "" : "s");
  return out;
}

}  // namespace infermem
