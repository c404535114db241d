#pragma once
// The files a run leaves in its --out directory, beside the trace.jsonl it wrote as it ran. One
// writer for every command that runs something (soak, merge, watch, replay), so each leaves the
// same set of files; `infermem report` re-renders them from the summary.
#include <string>
#include <string_view>

#include "infermem/atomic_file.h"
#include "infermem/render.h"

namespace infermem {

// Every file of a run directory (an --out given with --force may only replace these).
inline constexpr std::string_view kRunFiles[] = {"trace.jsonl", "summary.json", "report.md",
                                                 "report.html", "junit.xml",    "metrics.prom"};

// The reports `infermem report DIR` re-renders from the summary: report.md, report.html and
// metrics.prom (the Prometheus text format of the finished run's figures: for node_exporter's
// textfile collector or a Pushgateway), each written whole or not at all.
template <typename Summary>
void write_rendered_reports(const Summary& s, const std::string& dir) {
  write_file_atomic(dir + "/report.md", render(s, Format::markdown));
  write_file_atomic(dir + "/report.html", render(s, Format::html));
  write_file_atomic(dir + "/metrics.prom", render(s, Format::prometheus));
}

// Everything a finished run leaves beside its trace: summary.json, the rendered reports and
// junit.xml.
template <typename Summary>
void write_run_reports(const Summary& s, const std::string& dir) {
  write_file_atomic(dir + "/summary.json", render(s, Format::json));
  write_rendered_reports(s, dir);
  write_file_atomic(dir + "/junit.xml", render(s, Format::junit));
}

}  // namespace infermem
