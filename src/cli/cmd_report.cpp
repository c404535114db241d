// infermem report RUN_DIR: re-render a run's reports from its summary.json.
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/summary.h"

namespace infermem::cli {
namespace {

void attach(CLI::App& app, int& exit_code) {
  auto run_dir = std::make_shared<std::string>();
  auto* sub = app.add_subcommand(
      "report", "Re-render a soak run's report.md, report.html and table from its summary.json");
  sub->add_option("run_dir", *run_dir, "A soak --out directory")->required();
  sub->callback([run_dir, &exit_code] {
    RunSummary s = RunSummary::load(*run_dir);
    write_file_atomic(*run_dir + "/report.md", render(s, Format::markdown));
    write_file_atomic(*run_dir + "/report.html", render(s, Format::html));
    fmt::print("{}", render(s, Format::terminal));
    fmt::print("\nreport: {0}/report.md, {0}/report.html\n", *run_dir);
    exit_code = kExitOk;
  });
}

const Registration reg{{"report", 60, attach}};

}  // namespace
}  // namespace infermem::cli
