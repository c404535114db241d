// infermem diff BASE_RUN NEW_RUN: compare two soak runs arm by arm; exit 1 on a regression.
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/run_diff.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct DiffFlags {
  std::string base, next, max_regression = "0%", floor = "0";
  bool json = false, allow_different_model = false;
};

int run(const DiffFlags& flags) {
  DiffOptions o;
  o.max_regression_fraction = parse_percent(flags.max_regression, "--max-regression");
  o.floor_bytes = static_cast<double>(parse_size(flags.floor, "--floor"));
  o.allow_different_model = flags.allow_different_model;
  const RunDiff d = diff_run_dirs(flags.base, flags.next, o);
  fmt::print("{}", render(d, flags.json ? Format::json : Format::terminal));
  for (const auto& r : d.reasons()) fmt::print(stderr, "infermem: regression: {}\n", r);
  return d.regressed() ? kExitCheckFailed : kExitOk;
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<DiffFlags>();
  auto* sub = app.add_subcommand(
      "diff", "Compare two soak runs arm by arm; exit 1 on a memory regression or a failed arm");
  sub->add_option("base_run", f->base, "The reference run directory")->required();
  sub->add_option("new_run", f->next, "The run to judge")->required();
  sub->add_option(
         "--max-regression", f->max_regression,
         "A memory figure regresses only when it also grows by more than this share of BASE")
      ->capture_default_str();
  sub->add_option("--floor", f->floor,
                  "...and by more than this many bytes (the noise decides alone by default)")
      ->capture_default_str();
  sub->add_flag("--allow-different-model", f->allow_different_model,
                "Compare runs of different models or ONNX Runtime versions");
  sub->add_flag("--json", f->json, "Machine-readable output");
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"diff", 70, attach}};

}  // namespace
}  // namespace infermem::cli
