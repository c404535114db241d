// The charts' figures: an arm's series downsampled into windows that keep each figure's min and
// max, its phases as spans, the verdict's fitted line; and their JSON in summary.json.
#include "infermem/charts.h"

#include <fmt/format.h>
#include <algorithm>
#include <cmath>
#include <variant>

#include "infermem/error.h"
#include "infermem/numbers.h"

namespace infermem {
namespace {

struct Figure {
  const char* key;
  const char* label;
  double SeriesPoint::*field;
};
constexpr Figure kFigures[] = {
    {"rss", "VmRSS", &SeriesPoint::current_bytes},
    {"anon", "RssAnon", &SeriesPoint::anon_bytes},
    {"file", "RssFile", &SeriesPoint::file_bytes},
    {"hwm", "VmHWM (since phase start)", &SeriesPoint::hwm_bytes},
    {"in_use", "allocator in use", &SeriesPoint::allocator_in_use_bytes},
};

// Requests done in the arm at each point; a counter that restarts (a churn cycle) adds up, as the
// verdict engine's request axis does. The point's index when requests are unknown.
std::vector<double> request_axis(const std::vector<SeriesPoint>& points) {
  std::vector<double> x(points.size());
  double offset = 0, previous = -1;
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (points[i].req < 0) {
      x[i] = static_cast<double>(i);
      continue;
    }
    const double req = static_cast<double>(points[i].req);
    if (req < previous) offset += previous;
    previous = req;
    x[i] = req + offset;
  }
  return x;
}

// Bytes are whole numbers, seconds kept to the millisecond: the page's size is mostly digits.
nlohmann::json whole(double v) {
  return present(v) ? nlohmann::json(static_cast<std::int64_t>(std::llround(v))) : nlohmann::json();
}
nlohmann::json rounded(double v, double step) {
  return present(v) ? nlohmann::json(std::round(v / step) * step) : nlohmann::json();
}
nlohmann::json array_of(const std::vector<double>& v, nlohmann::json (*put)(double)) {
  auto a = nlohmann::json::array();
  for (double x : v) a.push_back(put(x));
  return a;
}
nlohmann::json put_whole(double v) {
  return whole(v);
}
nlohmann::json put_ms(double v) {
  return rounded(v, 0.001);
}

std::vector<double> numbers_at(const nlohmann::json& j, const char* key) {
  std::vector<double> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) throw InputError(fmt::format("charts: '{}' is not a list", key));
  for (const auto& v : j[key]) {
    if (v.is_null())
      out.push_back(kAbsent);
    else if (v.is_number())
      out.push_back(v.get<double>());
    else
      throw InputError(fmt::format("charts: '{}' holds a non-number", key));
  }
  return out;
}

}  // namespace

ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          std::size_t max_windows) {
  ArmCharts c;
  c.after_unload_per_cycle_bytes = context.after_unload_per_cycle_bytes;
  c.latency_quantiles_ms = std::move(latency_quantiles_ms);
  MemoryChart& m = c.memory;
  const auto& points = series.points;
  m.raw_points = points.size();
  if (points.empty()) return c;
  const std::vector<double> x = request_axis(points);
  max_windows = std::max<std::size_t>(1, max_windows);
  m.window_points = (points.size() + max_windows - 1) / max_windows;
  const std::size_t windows = (points.size() + m.window_points - 1) / m.window_points;
  for (std::size_t w = 0; w < windows; ++w) {
    const std::size_t first = w * m.window_points;
    m.x_request.push_back(x[first]);
    m.t_s.push_back(points[first].t_ms / 1000.0);
  }
  for (const Figure& f : kFigures) {
    // What the series says it measured, for the figures whose source varies (analyze of a CSV,
    // psrecord or Lambda REPORT lines): the current figure and the high-water mark.
    std::string label = f.label;
    if (f.field == &SeriesPoint::current_bytes && !series.current_source.empty() &&
        series.current_source.rfind("VmRSS", 0) != 0)
      label = series.current_source;
    if (f.field == &SeriesPoint::hwm_bytes && !series.hwm_source.empty() &&
        series.hwm_source.rfind("VmHWM", 0) != 0)
      label = series.hwm_source;
    ChartBand band{f.key, label, std::vector<double>(windows, kAbsent),
                   std::vector<double>(windows, kAbsent)};
    bool any = false;
    for (std::size_t i = 0; i < points.size(); ++i) {
      const double v = points[i].*f.field;
      if (!present(v)) continue;
      any = true;
      const std::size_t w = i / m.window_points;
      band.min[w] = present(band.min[w]) ? std::min(band.min[w], v) : v;
      band.max[w] = present(band.max[w]) ? std::max(band.max[w], v) : v;
    }
    if (any) m.bands.push_back(std::move(band));
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!m.spans.empty() && m.spans.back().phase == points[i].phase &&
        m.spans.back().cycle == points[i].cycle) {
      m.spans.back().x_to = x[i];
      continue;
    }
    m.spans.push_back({points[i].phase, points[i].cycle, x[i], x[i]});
  }
  for (const auto& f : verdict.findings)
    if (const auto* fit = std::get_if<finding::GrowthFit>(&f.detail))
      if (fit->unit == "request" && present(fit->intercept) && present(fit->x_from)) {
        m.fit_x_from = fit->x_from;
        m.fit_x_to = fit->x_to;
        m.fit_y_from = fit->intercept + fit->slope * fit->x_from;
        m.fit_y_to = fit->intercept + fit->slope * fit->x_to;
      }
  return c;
}

nlohmann::json ArmCharts::to_json() const {
  auto bands = nlohmann::json::array();
  for (const auto& b : memory.bands)
    bands.push_back({{"key", b.key},
                     {"label", b.label},
                     {"min", array_of(b.min, put_whole)},
                     {"max", array_of(b.max, put_whole)}});
  auto spans = nlohmann::json::array();
  for (const auto& s : memory.spans)
    spans.push_back(
        {{"phase", s.phase}, {"cycle", s.cycle}, {"x_from", s.x_from}, {"x_to", s.x_to}});
  nlohmann::json fit;  // null without a line
  if (present(memory.fit_x_from))
    fit = {{"x_from", memory.fit_x_from},
           {"x_to", memory.fit_x_to},
           {"y_from", whole(memory.fit_y_from)},
           {"y_to", whole(memory.fit_y_to)}};
  return {{"memory",
           {{"raw_points", memory.raw_points},
            {"window_points", memory.window_points},
            {"x_request", memory.x_request},
            {"t_s", array_of(memory.t_s, put_ms)},
            {"bands", bands},
            {"spans", spans},
            {"fit", fit}}},
          {"after_unload_per_cycle_bytes", array_of(after_unload_per_cycle_bytes, put_whole)},
          {"latency_quantiles_ms", array_of(latency_quantiles_ms, put_ms)}};
}

ArmCharts ArmCharts::from_json(const nlohmann::json& j) {
  ArmCharts c;
  if (!j.is_object()) throw InputError("charts: not an object");
  c.after_unload_per_cycle_bytes = numbers_at(j, "after_unload_per_cycle_bytes");
  c.latency_quantiles_ms = numbers_at(j, "latency_quantiles_ms");
  const auto m = j.value("memory", nlohmann::json::object());
  if (!m.is_object()) throw InputError("charts: 'memory' is not an object");
  MemoryChart& mc = c.memory;
  mc.raw_points = m.value("raw_points", std::uint64_t{0});
  mc.window_points = m.value("window_points", std::uint64_t{1});
  mc.x_request = numbers_at(m, "x_request");
  mc.t_s = numbers_at(m, "t_s");
  const std::size_t windows = mc.x_request.size();
  if (mc.t_s.size() != windows) throw InputError("charts: 't_s' and 'x_request' differ in length");
  for (const auto& b : m.value("bands", nlohmann::json::array())) {
    ChartBand band{b.value("key", ""), b.value("label", ""), numbers_at(b, "min"),
                   numbers_at(b, "max")};
    if (band.min.size() != windows || band.max.size() != windows)
      throw InputError(fmt::format("charts: band '{}' has not one value per window", band.key));
    mc.bands.push_back(std::move(band));
  }
  for (const auto& s : m.value("spans", nlohmann::json::array()))
    mc.spans.push_back({s.value("phase", ""), s.value("cycle", -1), json_number_at(s, "x_from"),
                        json_number_at(s, "x_to")});
  if (m.contains("fit") && m["fit"].is_object()) {
    const auto& f = m["fit"];
    mc.fit_x_from = json_number_at(f, "x_from");
    mc.fit_x_to = json_number_at(f, "x_to");
    mc.fit_y_from = json_number_at(f, "y_from");
    mc.fit_y_to = json_number_at(f, "y_to");
  }
  return c;
}

}  // namespace infermem
