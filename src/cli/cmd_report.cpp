// infermem report RUN_DIR: re-render a run's reports: a soak's from its summary.json, a watch's
// from its trace.jsonl (the summary is derived from the trace, as watch derived it).
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/run_files.h"
#include "infermem/summary.h"
#include "infermem/watch_summary.h"

namespace infermem::cli {
namespace {

template <typename Summary>
void write_reports(const Summary& s, const std::string& run_dir) {
  write_rendered_reports(s, run_dir);
  fmt::print("{}", render(s, Format::terminal));
  fmt::print("\nreport: {0}/report.md, {0}/report.html, {0}/metrics.prom\n", run_dir);
}

void attach(CLI::App& app, int& exit_code) {
  auto run_dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("report",
                                 "Re-render a run's report.md, report.html, metrics.prom and "
                                 "table: a soak's from its summary.json, a "
                                 "watch's from its trace.jsonl");
  sub->add_option("run_dir", *run_dir, "A soak or watch --out directory")->required();
  sub->callback([run_dir, &exit_code] {
    if (is_watch_dir(*run_dir))
      write_reports(load_watch_summary(*run_dir), *run_dir);
    else
      write_reports(RunSummary::load(*run_dir), *run_dir);
    exit_code = kExitOk;
  });
}

const Registration reg{{"report", 60, attach}};

}  // namespace
}  // namespace infermem::cli
