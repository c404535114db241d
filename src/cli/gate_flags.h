#pragma once
// The gate's flags (--max-growth, --max-growth-rate, --max-peak, --max-retained, --fail-on,
// --allow-short, --config), shared by every command that gates a soak run: soak and merge.
#include <CLI/CLI.hpp>
#include <string>

#include "infermem/gate.h"

namespace infermem::cli {

struct GateFlags {
  std::string max_growth, max_growth_rate, max_peak, max_retained, fail_on, config;
  bool allow_short = false;
  bool any() const;  // whether any gate flag was given
};

void add_gate_flags(CLI::App& sub, GateFlags& flags);

// Thresholds from --config (defaults and [arms.NAME] tables), then the flags, which apply to
// every arm and win over the file. InputError naming the flag or file on a bad value.
GateConfig gate_from(const GateFlags& flags);

}  // namespace infermem::cli
