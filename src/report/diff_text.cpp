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

std::string allowed(const FigureDiff& f) {
  if (!present(f.allowed_bytes)) return "-";
  return "+" + format_mib(f.allowed_bytes) + " " + f.basis;
}

}  // namespace

std::string render_diff_text(const RunDiff& d) {
  std::string out;
  for (const auto& s : d.identity_differences)
    out += fmt::format("different runs (--allow-different-model): {}\n", s);
  for (const auto& [arm, version] : d.arm_ort_versions)
    out += fmt::format("arm {}: ONNX Runtime {}\n", arm, version);
  out += fmt::format("{:<16} {:<26} {:>10} {:>10} {:>9} {:>16}\n", "arm", "figure", "base", "new",
                     "change", "allowed");
  for (const auto& f : d.figures) {
    out += fmt::format("{:<16} {:<26} {:>10} {:>10} {:>9} {:>16}{}\n", f.arm,
                       f.memory ? f.figure + " (MiB)" : f.figure, shown(f, f.base),
                       shown(f, f.next), change(f), allowed(f), f.regressed ? "  REGRESSED" : "");
    if (f.basis == "spread")
      out += fmt::format("{:<16} {:<26} {:>10} {:>10}\n", "", "  [min..max] of repeats",
                         format_mib(f.base_low) + ".." + format_mib(f.base_high),
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
