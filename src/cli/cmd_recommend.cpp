// infermem recommend RUN_DIR: the arm of a soak run that fits a goal, and how to apply it.
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/recommend.h"
#include "infermem/summary.h"
#include "infermem/watch_summary.h"

namespace infermem::cli {
namespace {

struct RecommendFlags {
  std::string run_dir;
  std::string goal = "peak";
  double max_latency_ratio = 0;
  double max_peak_ratio = 0;
};

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<RecommendFlags>();
  auto* sub = app.add_subcommand(
      "recommend", "The arm of a soak run that best fits a goal, and how to apply it");
  sub->add_option("run_dir", f->run_dir, "A soak --out directory")->required();
  sub->add_option("--goal", f->goal, "peak|retained|latency: the figure to make lowest")
      ->capture_default_str();
  sub->add_option("--max-latency-ratio", f->max_latency_ratio,
                  "Exclude arms whose p50 is above this multiple of ort-default's (e.g. 1.05)");
  sub->add_option("--max-peak-ratio", f->max_peak_ratio,
                  "Exclude arms whose peak is above this multiple of ort-default's");
  sub->callback([f, &exit_code] {
    const Goal goal = parse_goal(f->goal);
    if (f->max_latency_ratio < 0 || f->max_peak_ratio < 0)
      throw InputError("--max-latency-ratio and --max-peak-ratio take a positive ratio");
    if (is_watch_dir(f->run_dir))
      throw InputError(fmt::format(
          "{}: a watch, which has no arms to choose from (recommend picks among a soak's arms: "
          "soak the model with --arms, then recommend that run)",
          f->run_dir));
    const RunSummary run = RunSummary::load(f->run_dir);
    const Recommendation r = recommend(run, goal, {f->max_latency_ratio, f->max_peak_ratio});
    fmt::print("{}", render_text(r, goal));
    exit_code = kExitOk;
  });
}

const Registration reg{{"recommend", 65, attach}};

}  // namespace
}  // namespace infermem::cli
