// infermem analyze FILE: a verdict on memory recorded elsewhere (an infermem trace, a CSV, a
// psrecord log, Lambda REPORT lines from CloudWatch), one per series, as a table or JSON.
#include <fmt/format.h>
#include <algorithm>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/gate.h"
#include "infermem/importers.h"
#include "infermem/units.h"
#include "infermem/verdict.h"

namespace infermem::cli {
namespace {

// Said whenever a series carries only a high-water mark, as Lambda's REPORT lines do.
constexpr std::string_view kHwmStatement =
    "Max Memory Used is a high-water mark of the whole execution environment's lifetime, not a "
    "per-invocation figure: it can only stay level or rise while the environment lives, whatever "
    "the function frees. What it can show: the peak each environment reached, how close that "
    "came to Memory Size (the limit), and whether environments keep reaching new peaks late in "
    "their life. What it cannot show: a leak or its absence, how much one invocation retains, or "
    "what is in use now; a one-time large request and a slow leak look alike in it. To judge a "
    "leak, record a current figure over time: per-invocation RSS from inside the function "
    "(VmRSS from /proc/self/status logged with each request), `infermem watch` on the same "
    "workload, or `infermem soak MODEL.onnx` with the same model and request mix.";

struct AnalyzeFlags {
  std::string file;
  ImportOptions import;
  bool json = false;
  std::string fail_on;
  bool allow_short = false;
};

struct Judged {
  const ImportedSeries* imported;
  Verdict verdict;
  std::vector<CheckResult> checks;
};

bool hwm_only(const Series& series) {
  return std::none_of(series.points.begin(), series.points.end(),
                      [](const SeriesPoint& p) { return present(p.current_bytes); }) &&
         std::any_of(series.points.begin(), series.points.end(),
                     [](const SeriesPoint& p) { return present(p.hwm_bytes); });
}

double peak_bytes(const Series& series) {
  double peak = kAbsent;
  for (const auto& p : series.points)
    for (double v : {p.current_bytes, p.hwm_bytes})
      if (present(v) && (!present(peak) || v > peak)) peak = v;
  return peak;
}

std::string signed_bytes(double bytes, std::string_view per) {
  if (!present(bytes)) return "-";
  return fmt::format("{}{}/{}", bytes > 0 ? "+" : "", format_bytes(bytes), per);
}

// "+64.0 KiB/req [60.1 KiB, 68.2 KiB]": a growth rate and its confidence interval, when known.
std::string growth_with_ci(double growth, double ci_low, double ci_high, std::string_view per) {
  std::string text = signed_bytes(growth, per);
  if (present(growth) && present(ci_low) && present(ci_high))
    text += fmt::format(" [{}, {}]", format_bytes(ci_low), format_bytes(ci_high));
  return text;
}

std::string min_detectable(const Verdict& v) {
  if (present(v.min_detectable_bytes_per_request))
    return format_bytes(v.min_detectable_bytes_per_request) + "/req";
  if (present(v.min_detectable_bytes_per_minute))
    return format_bytes(v.min_detectable_bytes_per_minute) + "/min";
  return "-";
}

void print_list(std::string_view title, const std::vector<std::string>& items, std::size_t most) {
  if (items.empty()) return;
  fmt::print("  {}:\n", title);
  for (std::size_t i = 0; i < std::min(most, items.size()); ++i) fmt::print("    - {}\n", items[i]);
}

void print_table(const Imported& imported, const std::vector<Judged>& judged,
                 const std::string& file) {
  fmt::print("infermem analyze: {} ({}, {} lines, {} skipped)\n", file, imported.format,
             imported.lines, imported.skipped_lines);
  for (const auto& note : imported.notes) fmt::print("  note: {}\n", note);
  const std::vector<std::string> headers = {"SERIES",          "POINTS",     "VERDICT",
                                            "GROWTH/REQ [CI]", "GROWTH/MIN", "MIN DETECTABLE"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& j : judged) {
    const Verdict& v = j.verdict;
    rows.push_back({j.imported->series.name, std::to_string(j.imported->series.points.size()),
                    std::string(name(v.kind)),
                    growth_with_ci(v.growth_bytes_per_request, v.growth_ci_low_bytes_per_request,
                                   v.growth_ci_high_bytes_per_request, "req"),
                    growth_with_ci(v.growth_bytes_per_minute, v.growth_ci_low_bytes_per_minute,
                                   v.growth_ci_high_bytes_per_minute, "min"),
                    min_detectable(v)});
  }
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t c = 0; c < headers.size(); ++c) {
    widths[c] = headers[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row[c].size());
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c)
      line += c == 1 ? fmt::format("{:>{}}  ", cells[c], widths[c])
                     : fmt::format("{:<{}}  ", cells[c], widths[c]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::print("{}\n", line);
  };
  fmt::print("\n");
  print_row(headers);
  for (const auto& row : rows) print_row(row);
  for (const auto& j : judged) {
    fmt::print("\n{}: {}\n", j.imported->series.name, j.verdict.kind);
    for (const auto& note : j.imported->notes) fmt::print("  {}\n", note);
    print_list("evidence", j.verdict.evidence, j.verdict.evidence.size());
    if (j.verdict.kind != VerdictKind::stable) {
      print_list("likely causes", j.verdict.causes, 3);
      print_list("remediations", j.verdict.remediations, 3);
    }
    for (const auto& check : j.checks)
      if (!check.passed) fmt::print("  FAIL {}: {}\n", check.check, check.message);
  }
  if (std::any_of(judged.begin(), judged.end(),
                  [](const Judged& j) { return hwm_only(j.imported->series); }))
    fmt::print("\n{}\n", kHwmStatement);
}

nlohmann::json to_json(const Imported& imported, const std::vector<Judged>& judged,
                       const std::string& file, bool gated) {
  nlohmann::json out = {{"file", file},
                        {"format", imported.format},
                        {"lines", imported.lines},
                        {"skipped_lines", imported.skipped_lines},
                        {"notes", imported.notes},
                        {"series", nlohmann::json::array()}};
  bool any_hwm_only = false;
  for (const auto& j : judged) {
    const Series& s = j.imported->series;
    nlohmann::json entry = {{"name", s.name},
                            {"points", s.points.size()},
                            {"current_source", s.current_source},
                            {"hwm_source", s.hwm_source},
                            {"notes", j.imported->notes},
                            {"verdict", j.verdict.to_json()}};
    if (double peak = peak_bytes(s); present(peak)) entry["peak_bytes"] = peak;
    if (present(j.imported->limit_bytes)) entry["limit_bytes"] = j.imported->limit_bytes;
    if (gated) {
      entry["checks"] = nlohmann::json::array();
      for (const auto& c : j.checks)
        entry["checks"].push_back(
            {{"check", c.check}, {"passed", c.passed}, {"message", c.message}});
    }
    out["series"].push_back(std::move(entry));
    any_hwm_only = any_hwm_only || hwm_only(s);
  }
  if (any_hwm_only) out["hwm_statement"] = kHwmStatement;
  return out;
}

int analyze(const AnalyzeFlags& flags) {
  Imported imported = import_file(flags.file, flags.import);
  if (!flags.import.unit.empty() && imported.format != "csv")
    imported.notes.push_back(
        fmt::format("--unit applies to CSV only; ignored for {}", imported.format));
  Thresholds thresholds;
  if (auto f = parse_fail_on(flags.fail_on)) thresholds.fail_on = *f;
  thresholds.allow_short = flags.allow_short;
  std::vector<Judged> judged;
  bool failed = false;
  for (const auto& s : imported.series) {
    Judged j{&s, judge(s.series, s.context), {}};
    if (thresholds.any()) {
      GateSubject subject;
      subject.name = s.series.name;
      subject.peak_bytes = peak_bytes(s.series);
      subject.verdict = j.verdict;
      j.checks = evaluate_gate(thresholds, subject);
      failed = failed || std::any_of(j.checks.begin(), j.checks.end(),
                                     [](const CheckResult& c) { return !c.passed; });
    }
    judged.push_back(std::move(j));
  }
  if (flags.json)
    fmt::print("{}\n", to_json(imported, judged, flags.file, thresholds.any()).dump(2));
  else
    print_table(imported, judged, flags.file);
  return failed ? kExitCheckFailed : kExitOk;
}

const Registration registration{Command{
    "analyze", 40, [](CLI::App& app, int& exit_code) {
      auto* cmd = app.add_subcommand(
          "analyze",
          "A verdict on recorded memory: an infermem trace, a CSV (time and memory columns), a "
          "psrecord log, or AWS Lambda REPORT lines exported from CloudWatch");
      auto flags = std::make_shared<AnalyzeFlags>();
      cmd->add_option("file", flags->file, "the recorded file")->required();
      cmd->add_option("--format", flags->import.format, "auto, trace, csv, psrecord or lambda")
          ->check(CLI::IsMember({"auto", "trace", "csv", "psrecord", "lambda"}))
          ->default_val("auto");
      cmd->add_option("--unit", flags->import.unit,
                      "CSV: the memory columns' unit (B, KiB, MiB, GiB), overriding the header");
      cmd->add_option("--time-column", flags->import.time_column, "CSV: the time column's name");
      cmd->add_option("--memory-column", flags->import.memory_column,
                      "CSV: the current-memory column's name");
      cmd->add_flag("--json", flags->json, "machine-readable output");
      cmd->add_option("--fail-on", flags->fail_on,
                      "exit 1 when a series' verdict is a leak, or anything but stable/plateau")
          ->check(CLI::IsMember({"leak", "any"}));
      cmd->add_flag("--allow-short", flags->allow_short,
                    "with --fail-on: accept a series too short to judge instead of failing");
      cmd->callback([flags, &exit_code] { exit_code = analyze(*flags); });
    }}};

}  // namespace
}  // namespace infermem::cli
