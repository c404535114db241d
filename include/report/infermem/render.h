#pragma once
// Renderers: one report model, one function per format, each only rendering. A renderer shows
// the figures the model holds and computes none of its own, so every format says the same.
// A new format is one new file in src/report/ and one enumerator here; the file proves at compile
// time that it shows or deliberately omits every figure (report_figures.h).
#include <string>
#include <vector>

#include "infermem/analysis.h"
#include "infermem/gate.h"
#include "infermem/memory_card.h"
#include "infermem/run_diff.h"
#include "infermem/summary.h"
#include "infermem/watch_summary.h"

namespace infermem {

enum class Format {
  terminal,  // the comparison table printed at the end of soak and by `infermem report`
  markdown,  // report.md
  json,      // summary.json
  junit,     // junit.xml: one case per arm ("run") and per gate check
  html,      // report.html: one self-contained page with charts (docs/report.md)
  // metrics.prom: the text exposition format of a finished run's figures (metric_families.h),
  // for a textfile collector or a Pushgateway (watch serves its live metrics itself).
  prometheus,
};

std::string render(const RunSummary& run, Format format);
// `infermem watch`: terminal (the closing summary), markdown (report.md), json (summary.json),
// junit (one case for the watched process, one per gate check), html, prometheus.
std::string render(const WatchSummary& watch, Format format);
// `infermem analyze`: terminal (a table with per-series details) or json.
std::string render(const report::Analysis& analysis, Format format);
// `infermem diff`: terminal (the comparison table, reasons, a result line) or json.
std::string render(const RunDiff& diff, Format format);
// `infermem inspect --measure`: terminal (the card a person reads), markdown or json
// (docs/memory-card.md names every field).
std::string render(const MemoryCard& card, Format format);

// JUnit XML: one <testsuite name=suite>, one <testcase> per check; failures carry the message.
// Escapes XML properly. Used by render(run, Format::junit) and by analyze.
std::string render_junit(const std::string& suite, const std::vector<CheckResult>& results);

// infermem replay's policies as a Markdown table, one row per policy: report.md, report.html
// and the terminal show the same columns.
std::string replay_policies_markdown(const ReplayTable& replay);

}  // namespace infermem
