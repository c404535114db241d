#pragma once
// The CI gate: a thin layer over the verdict a person reads. Thresholds from flags or a config
// file; one check per threshold per arm; exit 1 when any check fails.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/verdict.h"

namespace infermem {

// What verdict fails the gate: none (thresholds only), a leak, or any verdict but stable/plateau.
enum class FailOn { none, leak, any };
std::string_view name(FailOn fail_on);  // "none", "leak", "any"
std::optional<FailOn> parse_fail_on(std::string_view text);

struct Thresholds {
  std::optional<double> max_growth_bytes_per_request;
  std::optional<double> max_growth_bytes_per_minute;
  std::optional<double> max_peak_bytes;
  std::optional<double> max_retained_bytes;
  std::optional<double> max_retained_fraction_of_loaded;  // "--max-retained 20%" -> 0.20
  FailOn fail_on = FailOn::none;
  // With fail_on leak or any, a too-short verdict fails the verdict check (the run could not be
  // judged) unless this is set (--allow-short / allow_short = true).
  bool allow_short = false;
  bool any() const;
};

// What the gate looks at for one arm (or one watched process / analyzed series).
struct GateSubject {
  std::string name;
  double peak_bytes = kAbsent;
  double loaded_bytes = kAbsent;
  double retained_bytes = kAbsent;
  Verdict verdict;
};

struct CheckResult {
  std::string subject;  // arm name
  std::string check;    // "max-growth", "max-peak", "verdict", ...
  bool passed = true;
  std::string message;   // says the figure, the limit and its source
  bool skipped = false;  // the figure was not measured (passed stays true; JUnit <skipped/>)
};

std::vector<CheckResult> evaluate_gate(const Thresholds& thresholds, const GateSubject& subject);

// Parses "--max-retained" style values: "64MiB" -> bytes, "20%" -> fraction.
void parse_retained_threshold(const std::string& text, Thresholds& into);

// The gate's configuration file (infermem.toml, real TOML read by toml++): threshold keys
// (`max_growth = "16KiB"`, `fail_on = "leak"`, ...) at the top level or under [gate], and
// per-arm overrides under [arms.NAME] (each starts from the defaults and changes what it sets).
struct GateConfig {
  Thresholds defaults;
  std::map<std::string, Thresholds> per_arm;
  // The thresholds of one arm (or series): its [arms.NAME] table, else the defaults.
  const Thresholds& for_subject(const std::string& name) const;
};

// Reads and parses a config file. Unknown keys and tables, bad values and TOML syntax errors:
// InputError naming the file, the line and the key ("infermem.toml:3: max_grwth: ...").
GateConfig load_gate_config(const std::string& path);
// The same from text already read; `origin` names it in errors.
GateConfig parse_gate_config_text(std::string_view text, const std::string& origin);

}  // namespace infermem
