// report.html: one self-contained page (uPlot, its style, the page's script and the run's chart
// figures inlined; nothing is fetched when it is opened). It shows what report.md shows, plus the
// charts of the figures the report model holds (ArmCharts); the page script only draws them.
#include <fmt/format.h>
#include <array>
#include <cmath>
#include <string>

#include "infermem/analysis.h"
#include "infermem/numbers.h"
#include "infermem/report_figures.h"
#include "infermem/summary.h"
#include "infermem/units.h"
#include "infermem/watch_summary.h"
#include "report/html_assets.h"
#include "report/renderers.h"

namespace infermem {
namespace {

using report::shown;
using report::SoakFigure;
using report::WatchFigure;

// report.html is the full report: it shows every figure, the charts included.
constexpr std::array kSoak{
    shown(SoakFigure::run_facts),       shown(SoakFigure::interrupted),
    shown(SoakFigure::notes),           shown(SoakFigure::baseline),
    shown(SoakFigure::loaded),          shown(SoakFigure::peak),
    shown(SoakFigure::after_unload),    shown(SoakFigure::after_trim),
    shown(SoakFigure::retained),        shown(SoakFigure::retained_anon),
    shown(SoakFigure::retained_file),   shown(SoakFigure::latency_p50),
    shown(SoakFigure::latency_p95),     shown(SoakFigure::latency_p99),
    shown(SoakFigure::throughput),      shown(SoakFigure::requests),
    shown(SoakFigure::status),          shown(SoakFigure::arm_setup),
    shown(SoakFigure::verdict),         shown(SoakFigure::evidence),
    shown(SoakFigure::time_to_verdict), shown(SoakFigure::repeat_spread),
    shown(SoakFigure::cache_totals),    shown(SoakFigure::checks),
    shown(SoakFigure::charts),          shown(SoakFigure::attribution),
    shown(SoakFigure::replay_policies),
};
static_assert(report::covers_each_once(kSoak), "report.html of a soak: every SoakFigure, once");

constexpr std::array kWatch{
    shown(WatchFigure::watched),     shown(WatchFigure::sampling),
    shown(WatchFigure::ended),       shown(WatchFigure::exit),
    shown(WatchFigure::oom),         shown(WatchFigure::memory_limit),
    shown(WatchFigure::interrupted), shown(WatchFigure::notes),
    shown(WatchFigure::last),        shown(WatchFigure::peak),
    shown(WatchFigure::last_anon),   shown(WatchFigure::hwm),
    shown(WatchFigure::processes),   shown(WatchFigure::window_peak),
    shown(WatchFigure::verdict),     shown(WatchFigure::growth),
    shown(WatchFigure::evidence),    shown(WatchFigure::checks),
    shown(WatchFigure::cache_stats), shown(WatchFigure::charts),
};
static_assert(report::covers_each_once(kWatch), "report.html of a watch: every WatchFigure, once");

// The same escaping as junit.xml: markup characters, and text made valid UTF-8.
std::string esc(std::string_view s) {
  return report::markup_escape(s);
}

std::string mib_text(double v) {
  return std::isnan(v) ? "-" : format_mib(v) + " MiB";
}

// JSON inside <script type="application/json">: no '<' may open a tag or a comment there.
std::string script_json(const nlohmann::json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

// What the page script draws: per arm its name, verdict, status, chart figures and repeats.
nlohmann::json page_data(const RunSummary& run) {
  auto arms = nlohmann::json::array();
  for (const auto& a : run.arms) {
    auto repeats = nlohmann::json::array();
    for (const auto& r : a.repeats)
      repeats.push_back({{"loaded_bytes", json_number(r.memory.loaded_bytes)},
                         {"peak_bytes", json_number(r.memory.peak_bytes)},
                         {"after_unload_bytes", json_number(r.memory.after_unload_bytes)},
                         {"retained_bytes", json_number(r.memory.retained_bytes)}});
    arms.push_back({{"name", a.name},
                    {"verdict", std::string(name(a.verdict.kind))},
                    {"status", std::string(name(a.status))},
                    {"charts", a.charts.to_json()},
                    {"repeats", repeats}});
  }
  return {{"scenario", run.scenario}, {"arms", arms}};
}

void list(std::string& out, const char* title, const std::vector<std::string>& items) {
  if (items.empty()) return;
  out += fmt::format("<h4>{}</h4><ul>", title);
  for (const auto& i : items) out += "<li>" + esc(i) + "</li>";
  out += "</ul>";
}

std::string facts(const RunSummary& s) {
  std::string out = "<table class=\"facts\">";
  auto row = [&](const char* k, const std::string& v) {
    out += fmt::format("<tr><th>{}</th><td>{}</td></tr>", k, esc(v));
  };
  row("model", s.model_path);
  row("model sha256", s.model_sha256);
  row("ONNX Runtime", s.ort_version);
  row("infermem", s.tool_version);
  row("host", s.host);
  row("started", s.started_at);
  row("scenario", fmt::format("{} (seed {})", s.scenario, s.seed));
  if (s.options.contains("command_line") && s.options["command_line"].is_string())
    row("command line", s.options["command_line"].get<std::string>());
  out += "</table>";
  if (s.interrupted)
    out += "<p class=\"warn\"><b>interrupted</b>: the run was stopped; figures are partial</p>";
  if (!s.notes.empty()) {
    out += "<ul class=\"notes\">";
    for (const auto& n : s.notes) out += "<li>note: " + esc(n) + "</li>";
    out += "</ul>";
  }
  return out;
}

std::string html_table(const report::Table& t) {
  std::string out = "<table class=\"comparison\"><thead><tr>";
  for (const auto& h : t.header) out += "<th>" + esc(h) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& r : t.rows) {
    out += "<tr>";
    for (std::size_t c = 0; c < r.size(); ++c)
      out += fmt::format("<td{}>{}</td>", c == 0 ? "" : " class=\"num\"", esc(r[c]));
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

std::string comparison_table(const RunSummary& s) {
  return html_table(report::comparison(s));
}

// infermem replay: the log and the policies, before the arms' memory (report.md says the same).
std::string replay_section(const ReplayTable& r) {
  std::string out = fmt::format(
      "<h2>Cache policies</h2><p>The log <code>{}</code> ({}): {} requests, {} malformed lines "
      "skipped; --memory-limit {}, --speed {}, {:g}% headroom. A policy holds when it served "
      "every request with no OOM kill and its peak stayed at most the limit less the "
      "headroom.</p>",
      esc(r.log_path), esc(r.log_format), r.requests, r.skipped_lines,
      r.memory_limit_bytes ? format_bytes(static_cast<double>(r.memory_limit_bytes)) : "none",
      esc(r.speed), r.headroom * 100);
  out += html_table(report::replay_policies(r));
  out += r.recommended.empty()
             ? std::string("<p>No policy holds this traffic.</p>")
             : fmt::format("<p>Recommended: <code>--policy {}</code>.</p>", esc(r.recommended));
  return out +
         "<p>The arms below are the policies' memory, as soak reports an arm: each "
         "verdict judges the series over the policy's loads and evictions.</p>\n";
}

// The cache scenario's chart of an arm and its totals in words (nothing in other scenarios).
std::string cache_block(const ArmCharts& charts, std::size_t index, bool of_a_repeat) {
  std::string out;
  if (const auto& c = charts.cache; c && c->windows() > 0)
    out += fmt::format(
        "<div class=\"chart\" id=\"cache-{}\"></div><p class=\"caption\">{} points (one per "
        "reading after a request), {} per window; resident models as each window's min and max, "
        "loads, evictions and refusals counted from the start of the arm.</p>",
        index, c->raw_points, c->window_points);
  if (const std::string totals = report::cache_totals(charts, of_a_repeat); !totals.empty())
    out += "<p>" + esc(totals) + "</p>";
  return out;
}

std::string arm_section(const ArmSummary& a, std::size_t index) {
  std::string out =
      fmt::format("<section class=\"arm\" id=\"arm-{}\"><h3>{}</h3>", index, esc(a.name));
  out += fmt::format("<p>status: <b>{}</b>{} — pid {}, {} requests</p>", name(a.status),
                     a.status_detail.empty() ? "" : " (" + esc(a.status_detail) + ")", a.pid,
                     a.requests_done);
  std::string cfg;
  for (const auto& [k, v] : a.config) cfg += (cfg.empty() ? "" : ", ") + k + "=" + v;
  out += "<p class=\"config\">config: " + esc(cfg) + "</p>";
  if (!a.ort_version.empty())
    out += "<p class=\"config\">ONNX Runtime " + esc(a.ort_version) + "</p>";
  if (!a.memory.peak_method.empty())
    out += "<p class=\"config\">peak method: " + esc(a.memory.peak_method) + "</p>";
  if (!a.memory_spread.empty()) {
    std::string spread;
    for (const auto& [figure, range] : a.memory_spread)
      spread +=
          fmt::format(" {} {}..{};", name(figure), format_mib(range.lo), format_mib(range.hi));
    out += "<p>figures are medians over repeats (each a fresh process); spread min..max MiB:" +
           esc(spread) + "</p>";
  }
  if (a.charts.memory.windows() > 0)
    out += fmt::format(
        "<div class=\"chart\" id=\"memory-{}\"></div><p class=\"caption\">{} readings, {} per "
        "window; each window's min and max are drawn (the band between them), so no spike is "
        "lost.</p>",
        index, a.charts.memory.raw_points, a.charts.memory.window_points);
  out += cache_block(a.charts, index, a.repeats.size() > 1);
  out += fmt::format("<h4>verdict: <span class=\"verdict v-{0}\">{0}</span></h4>", a.verdict.kind);
  list(out, "evidence", a.verdict.evidence);
  list(out, "likely causes", a.verdict.causes);
  list(out, "remediations", a.verdict.remediations);
  if (!a.checks.empty()) {
    out += "<h4>checks</h4><ul>";
    for (const auto& c : a.checks)
      out += fmt::format("<li class=\"{}\">{}: {} — {}</li>", c.passed ? "pass" : "fail",
                         esc(c.check), c.passed ? "pass" : "FAIL", esc(c.message));
    out += "</ul>";
  }
  return out + "</section>";
}

std::string attribution_section(const Attribution& at) {
  std::string out = fmt::format(
      "<section id=\"attribution\"><h2>Growth attributed to call sites ({})</h2><p>{}: {}</p>",
      esc(at.arm), esc(at.outcome), esc(at.message));
  if (!at.command.empty()) out += "<p>command: <code>" + esc(at.command) + "</code></p>";
  if (!at.data_file.empty())
    out += "<p>heaptrack recording: <code>" + esc(at.data_file) + "</code></p>";
  if (!at.sites.empty()) {
    out +=
        "<table class=\"sites\"><thead><tr><th>#</th><th>leaked</th><th>peak</th><th>calls</th>"
        "<th>call stack (innermost first)</th></tr></thead><tbody>";
    for (std::size_t i = 0; i < at.sites.size(); ++i) {
      const auto& s = at.sites[i];
      std::string stack;
      for (const auto& f : s.frames) stack += "<div>" + esc(f) + "</div>";
      out += fmt::format(
          "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td "
          "class=\"num\">{}</td><td class=\"stack\">{}</td></tr>",
          i + 1, mib_text(s.leaked_bytes), mib_text(s.peak_bytes), s.calls, stack);
    }
    out += "</tbody></table>";
  }
  return out + "</section>";
}

}  // namespace

namespace {

// The page around a body: uPlot's and the page's style, the error collector first, the data
// the page script draws, uPlot, the page script.
std::string page(const std::string& title, const std::string& body, const nlohmann::json& data) {
  std::string out;
  out.reserve(report::assets::uplot_js.size() + body.size() + 64 * 1024);
  out += fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>{}</title>\n",
      esc(title));
  // Collects errors from here on (the chart library's own included), for the page's status.
  out +=
      "<script>window.infermemErrors=[];window.addEventListener('error',function(e){"
      "window.infermemErrors.push(String(e.message||e));});(function(){var ce=console.error;"
      "console.error=function(){window.infermemErrors.push(Array.prototype.join.call(arguments,"
      "' '));return ce.apply(console,arguments);};})();</script>\n<style>\n";
  out += report::assets::uplot_css;
  out += '\n';
  out += report::assets::page_css;
  out += "</style></head><body>\n";
  out += body;
  // The page script writes what it drew here (charts, points, painted pixels, errors, time).
  out += "<pre id=\"infermem-status\" hidden></pre>\n";
  out += "<script type=\"application/json\" id=\"infermem-data\">" + script_json(data) +
         "</script>\n<script>\n";
  out += report::assets::uplot_js;
  out += "\n</script>\n<script>\n";
  out += report::assets::page_js;
  out += "\n</script>\n</body></html>\n";
  return out;
}

const char* kChartsIntro =
    "<h2>Charts</h2><p class=\"caption\">Drag across a chart to zoom (double-click resets), "
    "hover for values (the request axis also shows the seconds since the arm began, the time "
    "axis the request); click a legend entry to hide a line. The fitted growth line is per "
    "request: it is drawn on the request axis only.</p>"
    "<div class=\"controls\"><label><input type=\"checkbox\" id=\"overlay-toggle\"> arms "
    "overlaid (VmRSS max per window) instead of side by side</label> <label><input "
    "type=\"checkbox\" id=\"time-toggle\"> time axis (seconds since the arm began) instead of "
    "requests</label></div>"
    "<div id=\"overlay\" class=\"chart\" hidden></div>"
    "<div id=\"latency-block\" hidden><h3>Latency distribution</h3><div class=\"chart\" "
    "id=\"latency\"></div></div>"
    "<div id=\"churn-block\" hidden><h3>After unload, per churn cycle</h3><div class=\"chart\" "
    "id=\"churn\"></div></div>"
    "<div id=\"repeats-block\" hidden><h3>Spread over repeats</h3><div id=\"repeats\"></div>"
    "</div>\n";

}  // namespace

namespace report {

std::string html(const RunSummary& s) {
  std::string body = "<h1>" + esc(run_title(s)) + "</h1>\n" + facts(s);
  if (s.replay) body += replay_section(*s.replay);
  body +=
      "<p>Each arm ran in its own fresh process. Memory is VmRSS read by the child at each phase "
      "end; peak is the highest RSS during warm-up and inference; retained = after trim (or after "
      "unload) minus baseline. Latency is timed around <code>Run()</code> only.</p>\n";
  body += "<h2>Comparison</h2>" + comparison_table(s);
  body += kChartsIntro;
  body += "<h2>Arms</h2>\n";
  for (std::size_t i = 0; i < s.arms.size(); ++i) body += arm_section(s.arms[i], i) + "\n";
  if (s.attribution) body += attribution_section(*s.attribution);
  return page(run_title(s), body, page_data(s));
}

// analyze: one section per series, drawn by the same page script (a series is an "arm" there).
std::string analysis_html(const Analysis& a) {
  std::string body = "<h1>infermem analysis</h1>\n<table class=\"facts\">";
  auto row = [&](const char* k, const std::string& v) {
    body += fmt::format("<tr><th>{}</th><td>{}</td></tr>", k, esc(v));
  };
  row("file", a.file);
  row("format", a.format);
  row("lines", fmt::format("{} ({} skipped)", a.lines, a.skipped_lines));
  body += "</table>";
  if (a.any_hwm_only()) body += "<p class=\"warn\">" + esc(std::string(kHwmStatement)) + "</p>";
  if (!a.notes.empty()) {
    body += "<ul class=\"notes\">";
    for (const auto& n : a.notes) body += "<li>note: " + esc(n) + "</li>";
    body += "</ul>";
  }
  body += kChartsIntro;
  body += "<h2>Series</h2>\n";
  auto series = nlohmann::json::array();
  for (std::size_t i = 0; i < a.series.size(); ++i) {
    const auto& s = a.series[i];
    body += fmt::format("<section class=\"arm\" id=\"arm-{}\"><h3>{}</h3>", i, esc(s.name));
    body +=
        fmt::format("<p>{} points; peak {}; current: {}; high-water mark: {}</p>", s.points,
                    mib_text(s.peak_bytes), esc(s.current_source.empty() ? "-" : s.current_source),
                    esc(s.hwm_source.empty() ? "-" : s.hwm_source));
    if (s.charts.memory.windows() > 0)
      body += fmt::format(
          "<div class=\"chart\" id=\"memory-{}\"></div><p class=\"caption\">{} points drawn, {} "
          "per window; each window's min and max are drawn.</p>",
          i, s.charts.memory.raw_points, s.charts.memory.window_points);
    body += cache_block(s.charts, i, false);
    body +=
        fmt::format("<h4>verdict: <span class=\"verdict v-{0}\">{0}</span></h4>", s.verdict.kind);
    list(body, "notes", s.notes);
    list(body, "evidence", s.verdict.evidence);
    list(body, "likely causes", s.verdict.causes);
    list(body, "remediations", s.verdict.remediations);
    body += "</section>\n";
    series.push_back({{"name", s.name},
                      {"verdict", std::string(name(s.verdict.kind))},
                      {"status", ""},
                      {"charts", s.charts.to_json()},
                      {"repeats", nlohmann::json::array()}});
  }
  return page("infermem analysis", body, {{"scenario", ""}, {"arms", series}});
}

namespace {

// watch's tables: each process, and the windows (the first ten and the last).
std::string watch_tables(const WatchSummary& w) {
  std::string body;
  body +=
      "<h2>Processes</h2><table class=\"comparison\"><thead><tr><th>pid</th><th>ppid</th>"
      "<th>name</th><th>last MiB</th><th>peak MiB</th><th>VmHWM MiB</th><th>seen s</th>"
      "</tr></thead><tbody>";
  for (const auto& p : w.processes)
    body += fmt::format(
        "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td "
        "class=\"num\">{}</td><td class=\"num\">{}</td><td>{:.2f}..{:.2f}{}</td></tr>",
        p.pid, p.ppid, esc(p.name), esc(mib_text(p.last_rss_bytes)),
        esc(mib_text(p.peak_rss_bytes)), esc(mib_text(p.hwm_bytes)),
        report::seconds_from_ms(p.first_seen_ms), report::seconds_from_ms(p.last_seen_ms),
        p.exited ? " (exited)" : "");
  body += "</tbody></table>";
  body += fmt::format(
      "<h2>Windows of {} ms</h2><p>Each window's honest peak (the highest tree total sampled in "
      "it) beside the watched process's lifetime high-water mark at the window's end: what a "
      "Lambda REPORT line's Max Memory Used would have said for that invocation. {} windows in "
      "all{}.</p>",
      w.window_ms, w.windows_total,
      w.windows_total > w.windows.size()
          ? fmt::format(" (summary.json keeps the last {})", w.windows.size())
          : std::string());
  body +=
      "<table class=\"comparison\"><thead><tr><th>window s</th><th>peak in window</th>"
      "<th>lifetime VmHWM</th></tr></thead><tbody>";
  for (const WatchWindow* win : report::shown_windows(w))
    body += fmt::format(
        "<tr><td>{:.2f}..{:.2f}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
        report::seconds_from_ms(win->start_ms), report::seconds_from_ms(win->end_ms),
        esc(mib_text(win->peak_rss_bytes)), esc(mib_text(win->lifetime_hwm_bytes)));
  body += "</tbody></table>";
  return body;
}

}  // namespace

// watch: one process tree, drawn on the time axis (its samples have no request index).
std::string watch_html(const WatchSummary& w) {
  std::string body = "<h1>infermem watch report</h1>\n<table class=\"facts\">";
  auto row = [&](const char* k, const std::string& v) {
    body += fmt::format("<tr><th>{}</th><td>{}</td></tr>", k, esc(v));
  };
  row("watched", fmt::format("pid {} ({} mode)", w.pid, w.mode));
  row("command", report::watch_command_line(w));
  row("infermem", w.tool_version);
  row("host", w.host);
  row("started", w.started_at);
  row("samples", fmt::format("{} every {} ms over {:.1f} s; ended: {}", w.samples, w.interval_ms,
                             report::seconds_from_ms(w.elapsed_ms), w.ended));
  row("status",
      std::string(name(w.status)) + (w.status_detail.empty() ? "" : " (" + w.status_detail + ")"));
  if (present(w.memory_limit_bytes))
    row("memory limit", format_bytes(w.memory_limit_bytes) + " (a fresh memory cgroup" +
                            (w.cgroup_dir.empty() ? "" : ": " + w.cgroup_dir) + ")");
  body += "</table>";
  if (present(w.oom_at_ms))
    body += fmt::format(
        "<p class=\"warn\"><b>OOM-killed</b> at {:.2f} s; the last tree total sampled before it "
        "was {}{}</p>",
        report::seconds_from_ms(w.oom_at_ms), esc(mib_text(w.oom_last_rss_bytes)),
        present(w.oom_cgroup_peak_bytes)
            ? " and the cgroup's peak " + esc(mib_text(w.oom_cgroup_peak_bytes))
            : "");
  if (w.interrupted)
    body +=
        "<p class=\"warn\"><b>interrupted</b>: the watch was stopped; figures are "
        "partial</p>";
  if (!w.notes.empty()) {
    body += "<ul class=\"notes\">";
    for (const auto& n : w.notes) body += "<li>note: " + esc(n) + "</li>";
    body += "</ul>";
  }
  body += fmt::format(
      "<p>Memory is the process tree's total: every sample sums VmRSS (from /proc/PID/statm) over "
      "the watched process and each descendant alive at that moment. Last {}, peak sampled {}, "
      "anonymous (last) {}; VmHWM of the watched process (its lifetime high-water mark) {}.</p>\n",
      esc(mib_text(w.last_rss_bytes)), esc(mib_text(w.peak_rss_bytes)),
      esc(mib_text(w.last_anon_bytes)), esc(mib_text(w.hwm_bytes)));
  body +=
      "<h2>Memory over time</h2><p class=\"caption\">Drag across the chart to zoom (double-click "
      "resets), hover for values, click a legend entry to hide a line.</p>";
  if (w.charts.memory.windows() > 0)
    body += fmt::format(
        "<div class=\"chart\" id=\"memory-0\"></div><p class=\"caption\">The judged series: {} "
        "points, {} per window; each window's min and max are drawn.</p>",
        w.charts.memory.raw_points, w.charts.memory.window_points);
  body += watch_tables(w);
  if (const auto cache = report::watch_cache_lines(w); !cache.empty()) {
    body += "<h2>Model cache</h2><ul>";
    for (const auto& line : cache) body += "<li>" + esc(line) + "</li>";
    body += "</ul>";
  }
  body += fmt::format("<h2>Verdict: <span class=\"verdict v-{0}\">{0}</span></h2>", w.verdict.kind);
  if (!w.series_source.empty()) body += "<p>Judged: " + esc(w.series_source) + ".</p>";
  if (const std::string growth = report::watch_growth_text(w); !growth.empty())
    body += "<p>" + esc(growth) + "</p>";
  list(body, "evidence", w.verdict.evidence);
  list(body, "likely causes", w.verdict.causes);
  list(body, "remediations", w.verdict.remediations);
  std::vector<std::string> checks;
  for (const auto& c : w.checks)
    checks.push_back(fmt::format("{}: {} — {}", c.check, c.passed ? "pass" : "FAIL", c.message));
  list(body, "checks", checks);
  nlohmann::json tree = {{"name", "process tree"},
                         {"verdict", std::string(name(w.verdict.kind))},
                         {"status", std::string(name(w.status))},
                         {"charts", w.charts.to_json()},
                         {"repeats", nlohmann::json::array()}};
  return page("infermem watch report", body,
              {{"scenario", "watch"}, {"x_axis", "time"}, {"arms", nlohmann::json::array({tree})}});
}

}  // namespace report
}  // namespace infermem
