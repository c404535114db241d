// infermem replay LOG --models DIR --memory-limit L --policy P...: a service's own traffic under
// each cache policy, each in fresh children under the limit (docs/replay.md).
#include <fmt/format.h>
#include <unistd.h>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "cli/out_dir.h"
#include "cli/run_flags.h"
#include "infermem/error.h"
#include "infermem/replay_app.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct ReplayFlags {
  std::string log, models, memory_limit, speed = "1x", out, headroom = "20%";
  std::string model_field = "model", settings = "ort-default";
  std::vector<std::string> policies;
  bool force = false;
};

// Every flag checked, then the log and the models (plan_replay), then the run directory made:
// a bad input writes nothing.
ReplayOptions validated(const ReplayFlags& f, PlannedReplay& plan, OutDir& out) {
  ReplayOptions o;
  o.log_path = f.log;
  o.models_dir = f.models;
  o.model_field = f.model_field;
  o.policy_texts = f.policies;
  o.settings = f.settings;
  o.speed = parse_replay_speed(f.speed);
  o.memory_limit_bytes = parse_memory_limit(f.memory_limit);
  o.headroom = parse_percent(f.headroom, "--headroom");
  if (o.headroom < 0 || o.headroom >= 1)
    throw InputError(
        fmt::format("--headroom {}: give a percentage from 0% to below 100%", f.headroom));
  if (f.model_field.empty()) throw InputError("--model-field: give a field name");
  o.command_line = invoked_command_line();
  plan = plan_replay(o);
  out = create_out_dir(f.out, f.force, default_out_dir());
  o.out_dir = out.path;
  return o;
}

int run(const ReplayFlags& f) {
  PlannedReplay plan;
  OutDir out;
  const ReplayOptions o = validated(f, plan, out);
  install_stop_handlers();
  fmt::print(stderr, "infermem replay: {} ({} requests, {} policies), output in {}\n", f.log,
             plan.log.events.size(), plan.arms.size(), o.out_dir);
  const ReplayReport report = run_replay(o, plan, ProgressPrinter(isatty(STDERR_FILENO) == 1));
  fmt::print("\n{}", render_replay_text(report, plan, o));
  fmt::print(
      "\nreport: {0}/report.md, {0}/report.html, summary: {0}/summary.json, trace: "
      "{0}/trace.jsonl\n",
      o.out_dir);
  return replay_exit_code(report);
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ReplayFlags>();
  auto* sub = app.add_subcommand(
      "replay",
      "Replay a service's request log under cache policies, each in fresh processes under a "
      "memory limit, and say which policy holds the traffic");
  sub->add_option("log", f->log,
                  "The request log: CSV (timestamp, model[, shape, input]), JSON Lines, or a "
                  "CloudWatch Logs Insights CSV export (@timestamp, @message)")
      ->required();
  sub->add_option("--models", f->models, "The folder holding <model id>.onnx for every id")
      ->required();
  sub->add_option("--memory-limit", f->memory_limit,
                  fmt::format("Each policy's children run in a memory cgroup with this limit (at "
                              "least {}; 'none' for no limit)",
                              format_bytes(static_cast<double>(kMinMemoryLimitBytes))))
      ->required();
  sub->add_option("--policy", f->policies,
                  "A cache policy to replay under, lru:COUNT or budget:SIZE; repeat it")
      ->required();
  sub->add_option("--speed", f->speed,
                  "10x: ten times the log's pace; max: as fast as requests are served")
      ->capture_default_str();
  sub->add_option("--headroom", f->headroom,
                  "A policy holds when its peak is at most the limit less this share")
      ->capture_default_str();
  sub->add_option("--settings", f->settings,
                  "The session and allocator settings every policy runs on: a built-in arm "
                  "(lean) or 'NAME:key=value,...' as soak's --arm (its cache comes from --policy)")
      ->capture_default_str();
  sub->add_option("--model-field", f->model_field,
                  "The column or JSON field that holds the model id")
      ->capture_default_str();
  sub->add_option("--out", f->out,
                  "Output directory, new or empty (default infermem-runs/<timestamp>)");
  sub->add_flag("--force", f->force, "Write into a non-empty --out directory");
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"replay", 14, attach}};

}  // namespace
}  // namespace infermem::cli
