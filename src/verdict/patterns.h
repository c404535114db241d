#pragma once
// The pattern catalogue: for each verdict kind, its signature, likely causes in ONNX Runtime /
// glibc / Python stacks, remediations, and the infermem arms that show the effect. The code is
// the source; docs/patterns.md mirrors it (a test checks every kind has an entry there).
#include <string>
#include <vector>

namespace infermem {

struct Pattern {
  std::string kind;       // a verdict kind (PRODUCT.md)
  std::string signature;  // what the series looks like
  std::vector<std::string> causes;
  std::vector<std::string> remediations;
  std::vector<std::string> arms;  // infermem soak arms whose comparison shows the effect
};

const std::vector<Pattern>& pattern_catalogue();
// The entry for `kind`; throws std::out_of_range for a kind the catalogue does not know.
const Pattern& pattern_for(const std::string& kind);

}  // namespace infermem
