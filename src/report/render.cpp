// One entry point for every format of a run's report.
#include "infermem/render.h"

#include "report/renderers.h"

namespace infermem {

std::string render(const RunSummary& run, Format format) {
  switch (format) {
    case Format::terminal:
      return report::terminal_table(run);
    case Format::markdown:
      return report::markdown(run);
    case Format::json:
      return report::summary_json(run);
    case Format::junit:
      return report::junit(run);
  }
  return {};
}

}  // namespace infermem
