#include "infermem/analyze_app.h"

#include <fmt/format.h>

#include "infermem/charts.h"
#include "infermem/verdict.h"

namespace infermem {

report::Analysis analyze(const AnalyzeOptions& options) {
  Imported imported = import_file(options.file, options.import);
  if (!options.import.unit.empty() && imported.format != "csv")
    imported.notes.push_back(
        fmt::format("--unit applies to CSV only; ignored for {}", imported.format));
  Thresholds thresholds;
  if (options.fail_on) thresholds.fail_on = *options.fail_on;
  thresholds.allow_short = options.allow_short;
  report::Analysis a;
  a.file = options.file;
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
    if (options.charts)
      out.charts =
          make_arm_charts(s.series, out.verdict, s.context, {}, s.cache_events, s.arm_begin_ms);
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

}  // namespace infermem
