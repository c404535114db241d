#pragma once
// The pattern catalogue: for each verdict kind, its signature, likely causes in ONNX Runtime /
// glibc / Python stacks, remediations, and the infermem arms that show the effect. The code is
// the source; docs/patterns.md mirrors it (a test checks every kind has an entry there). Every
// command and arm the catalogue prints is one `infermem soak` accepts (tests/e2e runs them).
#include <string>
#include <vector>

#include "infermem/verdict.h"

namespace infermem {

struct Pattern {
  VerdictKind kind;
  std::string signature;  // what the series looks like
  std::vector<std::string> causes;
  std::vector<std::string> remediations;
  std::vector<std::string> arms;         // built-in arms (`--arms a,b`) whose comparison shows it
  std::vector<std::string> custom_arms;  // custom arm specs (`--arm 'NAME:key=value'`)

  // `infermem soak MODEL --arms ... --arm '...'`: the comparison, as a command to copy.
  std::string soak_command(const std::string& model) const;
};

const std::vector<Pattern>& pattern_catalogue();
// The remediations a verdict of `kind` prints: the catalogue's, then the comparison command.
std::vector<std::string> remediation_texts(VerdictKind kind);
// The entry for `kind` (every kind has one).
const Pattern& pattern_for(VerdictKind kind);

}  // namespace infermem
