// analyze's table and per-series details.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>

#include "infermem/analysis.h"
#include "infermem/units.h"
#include "report/renderers.h"

namespace infermem::report {

const std::string_view kHwmStatement =
    "Max Memory Used is a high-water mark of the whole execution environment's lifetime, not a "
    "per-invocation figure: it can only stay level or rise while the environment lives, whatever "
    "the function frees. What it can show: the peak each environment reached, how close that "
    "came to Memory Size (the limit), and whether environments keep reaching new peaks late in "
    "their life. What it cannot show: a leak or its absence, how much one invocation retains, or "
    "what is in use now; a one-time large request and a slow leak look alike in it. To judge a "
    "leak, record a current figure over time: per-invocation RSS from inside the function "
    "(VmRSS from /proc/self/status logged with each request), or `infermem soak MODEL.onnx` "
    "with the same model and request mix.";

bool Analysis::any_hwm_only() const {
  return std::any_of(series.begin(), series.end(),
                     [](const AnalyzedSeries& s) { return s.hwm_only; });
}

bool Analysis::any_check_failed() const {
  return std::any_of(series.begin(), series.end(), [](const AnalyzedSeries& s) {
    return std::any_of(s.checks.begin(), s.checks.end(),
                       [](const CheckResult& c) { return !c.passed; });
  });
}

namespace {

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

void list(std::string& out, std::string_view title, const std::vector<std::string>& items,
          std::size_t most) {
  if (items.empty()) return;
  fmt::format_to(std::back_inserter(out), "  {}:\n", title);
  for (std::size_t i = 0; i < std::min(most, items.size()); ++i)
    fmt::format_to(std::back_inserter(out), "    - {}\n", items[i]);
}

}  // namespace

std::string analysis_text(const Analysis& a) {
  std::string out;
  auto put = std::back_inserter(out);
  fmt::format_to(put, "infermem analyze: {} ({}, {} lines, {} skipped)\n", a.file, a.format,
                 a.lines, a.skipped_lines);
  for (const auto& note : a.notes) fmt::format_to(put, "  note: {}\n", note);
  const std::vector<std::string> headers = {"SERIES",          "POINTS",     "VERDICT",
                                            "GROWTH/REQ [CI]", "GROWTH/MIN", "MIN DETECTABLE"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : a.series) {
    const Verdict& v = s.verdict;
    rows.push_back({s.name, std::to_string(s.points), std::string(name(v.kind)),
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
  auto row_line = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t c = 0; c < cells.size(); ++c)
      line += c == 1 ? fmt::format("{:>{}}  ", cells[c], widths[c])
                     : fmt::format("{:<{}}  ", cells[c], widths[c]);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    fmt::format_to(put, "{}\n", line);
  };
  out += "\n";
  row_line(headers);
  for (const auto& row : rows) row_line(row);
  for (const auto& s : a.series) {
    fmt::format_to(put, "\n{}: {}\n", s.name, s.verdict.kind);
    for (const auto& note : s.notes) fmt::format_to(put, "  {}\n", note);
    if (const std::string cache = cache_totals(s.charts); !cache.empty())
      fmt::format_to(put, "  {}\n", cache);
    list(out, "evidence", s.verdict.evidence, s.verdict.evidence.size());
    if (s.verdict.kind != VerdictKind::stable) {
      list(out, "likely causes", s.verdict.causes, 3);
      list(out, "remediations", s.verdict.remediations, 3);
    }
    for (const auto& check : s.checks)
      if (!check.passed) fmt::format_to(put, "  FAIL {}: {}\n", check.check, check.message);
  }
  if (a.any_hwm_only()) fmt::format_to(put, "\n{}\n", kHwmStatement);
  return out;
}

}  // namespace infermem::report
