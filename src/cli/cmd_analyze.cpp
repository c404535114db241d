// infermem analyze FILE: a verdict on memory recorded elsewhere (an infermem trace, a CSV, a
// psrecord log, Lambda REPORT lines from CloudWatch), one per series, as a table or JSON. The
// command parses flags; the pipeline (import, judge, gate) is the app's, rendering the report's.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "infermem/analyze_app.h"
#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/render.h"

namespace infermem::cli {
namespace {

struct AnalyzeFlags {
  AnalyzeOptions options;
  bool json = false;
  std::string html;
  std::string fail_on;
};

void attach(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "analyze",
      "A verdict on recorded memory: an infermem trace, a CSV (time and memory columns), a "
      "psrecord log, or AWS Lambda REPORT lines exported from CloudWatch");
  auto flags = std::make_shared<AnalyzeFlags>();
  cmd->add_option("file", flags->options.file, "the recorded file (a regular file, or - for stdin)")
      ->required();
  cmd->add_option("--format", flags->options.import.format, "auto, trace, csv, psrecord or lambda")
      ->check(CLI::IsMember({"auto", "trace", "csv", "psrecord", "lambda"}))
      ->default_val("auto");
  cmd->add_option("--unit", flags->options.import.unit,
                  "CSV: the memory columns' unit (B, KiB, MiB, GiB), overriding the header");
  cmd->add_option("--time-column", flags->options.import.time_column,
                  "CSV: the time column's name");
  cmd->add_option("--memory-column", flags->options.import.memory_column,
                  "CSV: the current-memory column's name");
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->add_option("--html", flags->html,
                  "also write a self-contained page with each series' chart to this file");
  cmd->add_option("--fail-on", flags->fail_on,
                  "exit 1 when a series' verdict is a leak, or anything but stable/plateau")
      ->check(CLI::IsMember({"leak", "any"}));
  cmd->add_flag("--allow-short", flags->options.allow_short,
                "with --fail-on: accept a series too short to judge instead of failing");
  cmd->callback([flags, &exit_code] {
    flags->options.fail_on = parse_fail_on(flags->fail_on);
    flags->options.charts = !flags->html.empty();
    const report::Analysis a = analyze(flags->options);
    if (!flags->html.empty()) write_file_atomic(flags->html, render(a, Format::html));
    if (flags->json)
      fmt::print("{}", render(a, Format::json));
    else
      fmt::print("{}", render(a, Format::terminal));
    exit_code = a.any_check_failed() ? kExitCheckFailed : kExitOk;
  });
}

const Registration reg{{"analyze", 20, attach}};

}  // namespace
}  // namespace infermem::cli
