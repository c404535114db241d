// One entry point for every format of a run's report.
#include "infermem/render.h"

#include "infermem/error.h"
#include "report/diff_render.h"
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
    case Format::html:
      return report::html(run);
    case Format::prometheus:
      return report::soak_prometheus(run);
  }
  return {};
}

std::string render(const WatchSummary& watch, Format format) {
  switch (format) {
    case Format::terminal:
      return report::watch_text(watch);
    case Format::markdown:
      return report::watch_markdown(watch);
    case Format::json:
      return watch.to_json().dump(2) + "\n";
    case Format::junit:
      return report::watch_junit(watch);
    case Format::html:
      return report::watch_html(watch);
    case Format::prometheus:
      return report::watch_prometheus(watch);
  }
  return {};
}

std::string render(const report::Analysis& analysis, Format format) {
  switch (format) {
    case Format::terminal:
      return report::analysis_text(analysis);
    case Format::json:
      return report::analysis_json(analysis).dump(2) + "\n";
    case Format::html:
      return report::analysis_html(analysis);
    case Format::markdown:
    case Format::junit:
    case Format::prometheus:
      break;
  }
  throw InputError("analyze renders as a table, JSON or HTML only");
}

std::string render(const RunDiff& diff, Format format) {
  switch (format) {
    case Format::terminal:
      return render_diff_text(diff);
    case Format::json:
      return render_diff_json(diff);
    case Format::markdown:
    case Format::junit:
    case Format::html:
    case Format::prometheus:
      break;
  }
  throw InputError("diff renders as a table or JSON only");
}

}  // namespace infermem
