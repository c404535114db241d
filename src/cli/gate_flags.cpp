#include "cli/gate_flags.h"

#include "infermem/input_file.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

void apply_flags(const GateFlags& f, Thresholds& t) {
  if (!f.max_growth.empty())
    t.max_growth_bytes_per_request = static_cast<double>(parse_size(f.max_growth, "--max-growth"));
  if (!f.max_growth_rate.empty())
    t.max_growth_bytes_per_minute =
        static_cast<double>(parse_size(f.max_growth_rate, "--max-growth-rate"));
  if (!f.max_peak.empty())
    t.max_peak_bytes = static_cast<double>(parse_size(f.max_peak, "--max-peak"));
  if (!f.max_retained.empty()) parse_retained_threshold(f.max_retained, t);
  if (auto fail_on = parse_fail_on(f.fail_on)) t.fail_on = *fail_on;
  if (f.allow_short) t.allow_short = true;
}

}  // namespace

bool GateFlags::any() const {
  return !max_growth.empty() || !max_growth_rate.empty() || !max_peak.empty() ||
         !max_retained.empty() || !fail_on.empty() || !config.empty() || allow_short;
}

void add_gate_flags(CLI::App& sub, GateFlags& f) {
  sub.add_option("--max-growth", f.max_growth, "Gate: growth per request");
  sub.add_option("--max-growth-rate", f.max_growth_rate, "Gate: growth per minute");
  sub.add_option("--max-peak", f.max_peak, "Gate: peak RSS");
  sub.add_option("--max-retained", f.max_retained,
                 "Gate: retained after unload, SIZE or PCT of loaded");
  sub.add_option("--fail-on", f.fail_on, "Gate: fail on a verdict: leak|any")
      ->check(CLI::IsMember({"leak", "any"}));
  sub.add_flag("--allow-short", f.allow_short,
               "Gate: with --fail-on, accept an arm too short to judge instead of failing");
  sub.add_option("--config", f.config, "Gate thresholds from a TOML file");
}

GateConfig gate_from(const GateFlags& f) {
  GateConfig g;
  if (!f.config.empty()) {
    open_regular_input(f.config, "--config");
    g = load_gate_config(f.config);
  }
  apply_flags(f, g.defaults);
  for (auto& [_, t] : g.per_arm) apply_flags(f, t);
  return g;
}

}  // namespace infermem::cli
