#pragma once
// The CI gate: a thin layer over the verdict a person reads. Thresholds from flags or a config
// file; one check per threshold per arm; exit 1 when any check fails.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/verdict.h"

namespace infermem {

struct Thresholds {
  std::optional<double> max_growth_bytes_per_request;
  std::optional<double> max_growth_bytes_per_minute;
  std::optional<double> max_peak_bytes;
  std::optional<double> max_retained_bytes;
  std::optional<double> max_retained_fraction_of_loaded;  // "--max-retained 20%" -> 0.20
  std::string fail_on;  // "" (thresholds only), "leak", or "any" (any verdict but stable/plateau)
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

// Reads thresholds from a TOML file (a flat subset: `max_growth = "16KiB"`, `fail_on = "leak"`,
// optionally under a [gate] table). Unknown keys and bad values: InputError naming file and line.
Thresholds load_thresholds_file(const std::string& path);
// The same from text already read; `origin` names it in errors ("infermem.toml:3: ...").
Thresholds parse_thresholds_text(std::string_view text, const std::string& origin);

}  // namespace infermem
