#pragma once
// analyze as an application: import a recording made elsewhere (trace/), judge each series
// (verdict/), gate it, and hand the finished report::Analysis to the renderers (report/).
#include <optional>
#include <string>

#include "infermem/analysis.h"
#include "infermem/gate.h"
#include "infermem/importers.h"

namespace infermem {

struct AnalyzeOptions {
  std::string file;  // a regular file, or "-" for stdin
  ImportOptions import;
  std::optional<FailOn> fail_on;  // gate on the verdicts when set
  bool allow_short = false;       // with fail_on: a series too short to judge passes
  bool charts = false;            // also the chart figures of each series (for the HTML page)
};

// Imports, judges and gates every series of the file. InputError naming the file or the line
// when the input is not one of the formats.
report::Analysis analyze(const AnalyzeOptions& options);

}  // namespace infermem
