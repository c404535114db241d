#pragma once
// The report stage's renderers of a run, one per format; infermem/render.h dispatches to them.
#include <string>

#include "infermem/summary.h"

namespace infermem::report {

std::string terminal_table(const RunSummary& run);
std::string markdown(const RunSummary& run);
std::string summary_json(const RunSummary& run);
std::string junit(const RunSummary& run);

}  // namespace infermem::report
