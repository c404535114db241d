// infermem analyze FILE: a verdict on memory recorded elsewhere (an infermem trace, a CSV, a
// psrecord log, Lambda REPORT lines from CloudWatch), one per series, as a table or JSON. The
// command parses flags; importing (trace/), judging (verdict/) and rendering (report/) are the
// library's.
#include <fmt/format.h>

#include <memory>

#include "cli/command.h"
#include "infermem/atomic_file.h"
#include "infermem/charts.h"
#include "infermem/error.h"
#include "infermem/gate.h"
#include "infermem/importers.h"
#include "infermem/render.h"
#include "infermem/verdict.h"

namespace infermem::cli {
namespace {

struct AnalyzeFlags {
  std::string file;
  ImportOptions import;
  bool json = false;
  std::string html;
  std::string fail_on;
  bool allow_short = false;
};

report::Analysis analyze(const AnalyzeFlags& flags) {
  Imported imported = import_file(flags.file, flags.import);
  if (!flags.import.unit.empty() && imported.format != "csv")
    imported.notes.push_back(
        fmt::format("--unit applies to CSV only; ignored for {}", imported.format));
  Thresholds thresholds;
  if (auto f = parse_fail_on(flags.fail_on)) thresholds.fail_on = *f;
  thresholds.allow_short = flags.allow_short;
  report::Analysis a;
  a.file = flags.file;
  a.format = imported.format;
  a.lines = imported.lines;
  a.skipped_lines = imported.skipped_lines;
  a.notes = std::move(imported.notes);
  a.gated = thresholds.any();
  for (auto& s : imported.series) {
    report::AnalyzedSeries out;
    out.name = s.series.name;
    out.current_source = s.series.current_source;
    out.hwm_source = s.series.hwm_source;
    out.points = s.figures.points;
    out.peak_bytes = s.figures.peak_bytes();
    out.limit_bytes = s.limit_bytes;
    out.hwm_only = s.figures.hwm_only();
    out.notes = std::move(s.notes);
    out.verdict = judge(s.series, s.context);
    if (!flags.html.empty()) out.charts = make_arm_charts(s.series, out.verdict, s.context, {});
    if (a.gated) {
      GateSubject subject;
      subject.name = out.name;
      subject.peak_bytes = out.peak_bytes;
      subject.verdict = out.verdict;
      out.checks = evaluate_gate(thresholds, subject);
    }
    a.series.push_back(std::move(out));
  }
  return a;
}

void attach(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "analyze",
      "A verdict on recorded memory: an infermem trace, a CSV (time and memory columns), a "
      "psrecord log, or AWS Lambda REPORT lines exported from CloudWatch");
  auto flags = std::make_shared<AnalyzeFlags>();
  cmd->add_option("file", flags->file, "the recorded file (a regular file, or - for stdin)")
      ->required();
  cmd->add_option("--format", flags->import.format, "auto, trace, csv, psrecord or lambda")
      ->check(CLI::IsMember({"auto", "trace", "csv", "psrecord", "lambda"}))
      ->default_val("auto");
  cmd->add_option("--unit", flags->import.unit,
                  "CSV: the memory columns' unit (B, KiB, MiB, GiB), overriding the header");
  cmd->add_option("--time-column", flags->import.time_column, "CSV: the time column's name");
  cmd->add_option("--memory-column", flags->import.memory_column,
                  "CSV: the current-memory column's name");
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->add_option("--html", flags->html,
                  "also write a self-contained page with each series' chart to this file");
  cmd->add_option("--fail-on", flags->fail_on,
                  "exit 1 when a series' verdict is a leak, or anything but stable/plateau")
      ->check(CLI::IsMember({"leak", "any"}));
  cmd->add_flag("--allow-short", flags->allow_short,
                "with --fail-on: accept a series too short to judge instead of failing");
  cmd->callback([flags, &exit_code] {
    const report::Analysis a = analyze(*flags);
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
