// report.md and the terminal table: the comparison of arms, one row per arm.
#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "infermem/summary.h"
#include "infermem/units.h"
#include "report/renderers.h"

namespace infermem {
namespace {

std::string mib(double v) {
  return std::isnan(v) ? "-" : format_mib(v);
}
std::string ms(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.2f}", v);
}
std::string mib_text(double v) {
  return std::isnan(v) ? "-" : format_mib(v) + " MiB";
}
std::string rps(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.1f}", v);
}
// "settled-leak: 700 req, 12.3 s" (soak --until-confident); "-" for an arm without it.
std::string time_to_verdict_text(const std::optional<TimeToVerdict>& t) {
  if (!t) return "-";
  return fmt::format("{}: {} req, {}", t->stopped_by, t->requests,
                     present(t->seconds) ? fmt::format("{:.1f} s", t->seconds) : "-");
}

}  // namespace

namespace report {

Table comparison(const RunSummary& s) {
  Table t;
  t.header = {"arm",          "baseline MiB",     "loaded MiB",
              "peak MiB",     "after unload MiB", "after trim MiB",
              "retained MiB", "anon MiB",         "file MiB",
              "p50 ms",       "p95 ms",           "p99 ms",
              "req/s",        "verdict",          "status"};
  for (const auto& a : s.arms)
    t.rows.push_back({a.name, mib(a.memory.baseline_bytes), mib(a.memory.loaded_bytes),
                      mib(a.memory.peak_bytes), mib(a.memory.after_unload_bytes),
                      mib(a.memory.after_trim_bytes), mib(a.memory.retained_bytes),
                      mib(a.memory.retained_anon_bytes), mib(a.memory.retained_file_bytes),
                      ms(a.latency_ms.p50), ms(a.latency_ms.p95), ms(a.latency_ms.p99),
                      rps(a.throughput_rps), std::string(name(a.verdict.kind)),
                      std::string(name(a.status))});
  if (std::any_of(s.arms.begin(), s.arms.end(), [](const auto& a) { return a.until_confident; })) {
    t.header.push_back("time to verdict");  // soak --until-confident
    for (std::size_t i = 0; i < s.arms.size(); ++i)
      t.rows[i].push_back(time_to_verdict_text(s.arms[i].until_confident));
  }
  return t;
}

std::string cache_totals(const ArmCharts& charts, bool of_a_repeat) {
  if (!charts.cache) return "";
  const CacheChart& c = *charts.cache;
  return fmt::format(
      "cache: at most {} model{} resident, {} load{}, {} eviction{}, {} refusal{} (the trace's "
      "load, evict and refused events{})",
      c.max_resident, c.max_resident == 1 ? "" : "s", c.total_loads, c.total_loads == 1 ? "" : "s",
      c.total_evictions, c.total_evictions == 1 ? "" : "s", c.total_refusals,
      c.total_refusals == 1 ? "" : "s", of_a_repeat ? "; the repeat the charts show" : "");
}

std::string terminal_table(const RunSummary& s) {
  Table t = comparison(s);
  std::vector<std::size_t> width(t.header.size());
  for (std::size_t c = 0; c < t.header.size(); ++c) {
    width[c] = t.header[c].size();
    for (const auto& r : t.rows) width[c] = std::max(width[c], r[c].size());
  }
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (std::size_t c = 0; c < cells.size(); ++c) {
      if (c == 0)
        out << fmt::format("{:<{}}", cells[c], width[c]);
      else
        out << "  " << fmt::format("{:>{}}", cells[c], width[c]);
    }
    out << '\n';
  };
  line(t.header);
  for (const auto& r : t.rows) line(r);
  return out.str();
}

std::string attribution_markdown(const Attribution& at) {
  std::ostringstream out;
  out << fmt::format("\n## Growth attributed to call sites ({})\n\n", at.arm);
  out << "- " << at.outcome << ": " << at.message << '\n';
  if (!at.command.empty()) out << "- command: `" << at.command << "`\n";
  if (!at.data_file.empty()) out << "- heaptrack recording: `" << at.data_file << "`\n";
  for (std::size_t i = 0; i < at.sites.size(); ++i) {
    const auto& site = at.sites[i];
    out << fmt::format("\n{}. leaked {}, peak {}, {} calls\n", i + 1, mib_text(site.leaked_bytes),
                       mib_text(site.peak_bytes), site.calls);
    for (const auto& f : site.frames) out << "   - `" << f << "`\n";
  }
  return out.str();
}

std::string markdown(const RunSummary& s) {
  std::ostringstream out;
  out << "# infermem soak report\n\n";
  out << fmt::format("- model: `{}` (sha256 `{}`)\n", s.model_path, s.model_sha256.substr(0, 16));
  out << fmt::format("- scenario: {} (seed {})\n", s.scenario, s.seed);
  out << fmt::format("- infermem {} on ONNX Runtime {}, host {}, started {}\n", s.tool_version,
                     s.ort_version, s.host, s.started_at);
  if (s.interrupted) out << "- **interrupted**: the run was stopped; figures are partial\n";
  for (const auto& n : s.notes) out << "- note: " << n << '\n';
  out << "\nEach arm ran in its own fresh process. Memory is VmRSS read by the child at each "
         "phase end; peak is the highest RSS during warm-up and inference (method per arm "
         "below); retained = after trim (or after unload) minus baseline, split into anonymous "
         "(anon: heap "
         "and arenas) and file-backed (file: library code, mapped files) pages. Latency is timed "
         "around `Run()` only.\n\n";
  Table t = comparison(s);
  out << '|';
  for (const auto& h : t.header) out << ' ' << h << " |";
  out << "\n|";
  for (std::size_t c = 0; c < t.header.size(); ++c) out << (c == 0 ? "---|" : "---:|");
  out << '\n';
  for (const auto& r : t.rows) {
    out << '|';
    for (const auto& cell : r) out << ' ' << cell << " |";
    out << '\n';
  }
  for (const auto& a : s.arms) {
    out << fmt::format("\n## {}\n\n", a.name);
    out << fmt::format("- status: {}{}\n", name(a.status),
                       a.status_detail.empty() ? "" : " (" + a.status_detail + ")");
    out << fmt::format("- pid {}, {} requests\n", a.pid, a.requests_done);
    if (!a.ort_version.empty()) out << fmt::format("- ONNX Runtime {}\n", a.ort_version);
    std::string cfg;
    for (const auto& [k, v] : a.config) cfg += (cfg.empty() ? "" : ", ") + k + "=" + v;
    out << "- config: " << cfg << '\n';
    if (!a.memory.peak_method.empty()) out << "- peak method: " << a.memory.peak_method << '\n';
    if (const std::string cache = cache_totals(a.charts, a.repeats.size() > 1); !cache.empty())
      out << "- " << cache << '\n';
    if (!a.memory_spread.empty()) {
      out << "- figures are medians over repeats (each a fresh process); spread min..max MiB:";
      for (const auto& [figure, range] : a.memory_spread.items())
        if (range.is_array() && range.size() == 2)
          out << fmt::format(" {} {}..{};", figure, mib(range[0].get<double>()),
                             mib(range[1].get<double>()));
      out << '\n';
    }
    out << fmt::format("- verdict: **{}**\n", a.verdict.kind);
    for (const auto& e : a.verdict.evidence) out << "  - " << e << '\n';
    if (!a.verdict.causes.empty()) {
      out << "- likely causes:\n";
      for (const auto& c : a.verdict.causes) out << "  - " << c << '\n';
    }
    if (!a.verdict.remediations.empty()) {
      out << "- remediations:\n";
      for (const auto& r : a.verdict.remediations) out << "  - " << r << '\n';
    }
    for (const auto& c : a.checks)
      out << fmt::format("- check {}: {} — {}\n", c.check, c.passed ? "pass" : "FAIL", c.message);
  }
  if (s.attribution) out << attribution_markdown(*s.attribution);
  return out.str();
}

}  // namespace report
}  // namespace infermem
