// infermem merge DIR... -o RUN: the shards of one soak plan (soak --shard K/N) joined into one
// run directory that report, diff, recommend and the gate read like a local soak's.
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "cli/gate_flags.h"
#include "infermem/merge_app.h"
#include "infermem/render.h"
#include "infermem/soak_app.h"

namespace infermem::cli {
namespace {

struct MergeFlags {
  std::vector<std::string> dirs;
  std::string out;
  GateFlags gate;
};

int run(const MergeFlags& f) {
  MergeOptions o;
  o.shard_dirs = f.dirs;
  o.out_dir = f.out;
  o.gate = gate_from(f.gate);
  o.command_line = invoked_command_line();
  check_merge_out(o.out_dir);
  RunSummary s = merge_shards(o);
  fmt::print("{}", render(s, Format::terminal));
  for (const auto& n : s.notes) fmt::print("note: {}\n", n);
  fmt::print("\nmerged {0} shards: {1}/report.md, {1}/report.html, summary: {1}/summary.json\n",
             f.dirs.size(), f.out);
  std::vector<std::string> problems;
  const int code = soak_exit_code(s, problems);
  for (const auto& p : problems) fmt::print(stderr, "infermem: {}\n", p);
  return code;
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<MergeFlags>();
  auto* sub = app.add_subcommand(
      "merge",
      "Join the run directories of one soak plan's shards (soak --shard K/N) into one run "
      "directory, judged and gated as an unsharded soak");
  sub->add_option("dirs", f->dirs, "Every shard's run directory (soak --out), any order")
      ->required();
  sub->add_option("-o,--out", f->out, "The merged run directory: new or empty")->required();
  add_gate_flags(*sub, f->gate);
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"merge", 12, attach}};

}  // namespace
}  // namespace infermem::cli
