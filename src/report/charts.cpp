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

struct ChartSeries {
  const char* key;
  const char* label;
  double SeriesPoint::*field;
};
constexpr ChartSeries kChartSeries[] = {
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

namespace {

// At most max_windows windows of equal point count over n points (the last may hold fewer).
std::size_t points_per_window(std::size_t n, std::size_t max_windows) {
  max_windows = std::max<std::size_t>(1, max_windows);
  return std::max<std::size_t>(1, (n + max_windows - 1) / max_windows);
}

// Each window's min and max of `values` (NaN where the window had none); false when no value
// was present at all.
bool downsample(const std::vector<double>& values, std::size_t window_points,
                std::vector<double>& min, std::vector<double>& max) {
  const std::size_t windows = (values.size() + window_points - 1) / window_points;
  min.assign(windows, kAbsent);
  max.assign(windows, kAbsent);
  bool any = false;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    if (!present(v)) continue;
    any = true;
    const std::size_t w = i / window_points;
    min[w] = present(min[w]) ? std::min(min[w], v) : v;
    max[w] = present(max[w]) ? std::max(max[w], v) : v;
  }
  return any;
}

// Each window's first value.
std::vector<double> firsts(const std::vector<double>& values, std::size_t window_points) {
  std::vector<double> out;
  for (std::size_t i = 0; i < values.size(); i += window_points) out.push_back(values[i]);
  return out;
}

double seconds_since(double t_ms, double origin_ms) {
  return (t_ms - origin_ms) / 1000.0;
}

ArmCharts build_charts(const Series& series, const Verdict& verdict, const SeriesContext& context,
                       std::vector<double> latency_quantiles_ms,
                       const std::vector<CacheEvent>& events, double arm_begin_ms,
                       std::size_t max_windows) {
  ArmCharts c;
  c.after_unload_per_cycle_bytes = context.after_unload_per_cycle_bytes;
  c.latency_quantiles_ms = std::move(latency_quantiles_ms);
  const auto& points = series.points;
  if (!present(arm_begin_ms))
    arm_begin_ms = !points.empty()   ? points.front().t_ms
                   : !events.empty() ? events.front().t_ms
                                     : 0;
  c.cache = make_cache_chart(points, events, arm_begin_ms, max_windows);
  MemoryChart& m = c.memory;
  m.raw_points = points.size();
  if (points.empty()) return c;
  const std::vector<double> x = request_axis(points);
  std::vector<double> t(points.size()), t_arm(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    t[i] = points[i].t_ms / 1000.0;
    t_arm[i] = seconds_since(points[i].t_ms, arm_begin_ms);
  }
  m.window_points = points_per_window(points.size(), max_windows);
  m.x_request = firsts(x, m.window_points);
  m.t_s = firsts(t, m.window_points);
  m.t_arm_s = firsts(t_arm, m.window_points);
  std::vector<double> values(points.size());
  for (const ChartSeries& f : kChartSeries) {
    // What the series says it measured, for the figures whose source varies (analyze of a CSV,
    // psrecord or Lambda REPORT lines): the current figure and the high-water mark.
    std::string label = f.label;
    if (f.field == &SeriesPoint::current_bytes && !series.current_source.empty() &&
        series.current_source.rfind("VmRSS", 0) != 0)
      label = series.current_source;
    if (f.field == &SeriesPoint::hwm_bytes && !series.hwm_source.empty() &&
        series.hwm_source.rfind("VmHWM", 0) != 0)
      label = series.hwm_source;
    for (std::size_t i = 0; i < points.size(); ++i) values[i] = points[i].*f.field;
    ChartBand band{f.key, label, {}, {}};
    if (downsample(values, m.window_points, band.min, band.max)) m.bands.push_back(std::move(band));
  }
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!m.spans.empty() && m.spans.back().phase == points[i].phase &&
        m.spans.back().cycle == points[i].cycle) {
      m.spans.back().x_to = x[i];
      m.spans.back().t_to = t_arm[i];
      continue;
    }
    m.spans.push_back({points[i].phase, points[i].cycle, x[i], x[i], t_arm[i], t_arm[i]});
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

}  // namespace

std::optional<CacheChart> make_cache_chart(const std::vector<SeriesPoint>& points,
                                           const std::vector<CacheEvent>& events,
                                           double arm_begin_ms, std::size_t max_windows) {
  if (events.empty()) return std::nullopt;
  CacheChart c;
  const std::vector<double> x = request_axis(points);
  const std::size_t n = points.size();
  // Events after the last reading (a refusal at the end, or an arm that served nothing) add
  // one point at the last event.
  const bool extra = events.back().before_point >= n;
  const std::size_t total = n + (extra ? 1 : 0);
  std::vector<double> xs(total), ts(total), resident(total), loads(total), evictions(total),
      refusals(total);
  std::uint64_t l = 0, e = 0, r = 0, most = 0;
  std::size_t next = 0;
  for (std::size_t i = 0; i < total; ++i) {
    while (next < events.size() && (events[next].before_point <= i || i == n)) {
      const CacheEvent& ev = events[next++];
      if (ev.kind == CacheEvent::Kind::load) ++l;
      if (ev.kind == CacheEvent::Kind::evict) ++e;
      if (ev.kind == CacheEvent::Kind::refused) ++r;
      most = std::max<std::uint64_t>(most, l > e ? l - e : 0);
    }
    if (i < n) {
      xs[i] = x[i];
      ts[i] = seconds_since(points[i].t_ms, arm_begin_ms);
    } else {
      xs[i] = n > 0 ? x[n - 1] : static_cast<double>(events.back().req);
      ts[i] = seconds_since(events.back().t_ms, arm_begin_ms);
    }
    resident[i] = static_cast<double>(l > e ? l - e : 0);
    loads[i] = static_cast<double>(l);
    evictions[i] = static_cast<double>(e);
    refusals[i] = static_cast<double>(r);
  }
  c.raw_points = total;
  c.total_loads = l;
  c.total_evictions = e;
  c.total_refusals = r;
  c.max_resident = most;
  c.window_points = points_per_window(total, max_windows);
  c.x_request = firsts(xs, c.window_points);
  c.t_arm_s = firsts(ts, c.window_points);
  downsample(resident, c.window_points, c.resident_min, c.resident_max);
  std::vector<double> unused;
  downsample(loads, c.window_points, unused, c.loads);
  downsample(evictions, c.window_points, unused, c.evictions);
  downsample(refusals, c.window_points, unused, c.refusals);
  return c;
}

ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          std::size_t max_windows) {
  return build_charts(series, verdict, context, std::move(latency_quantiles_ms), {}, kAbsent,
                      max_windows);
}

ArmCharts make_arm_charts(const Series& series, const Verdict& verdict,
                          const SeriesContext& context, std::vector<double> latency_quantiles_ms,
                          const std::vector<CacheEvent>& cache_events, double arm_begin_ms,
                          std::size_t max_windows) {
  return build_charts(series, verdict, context, std::move(latency_quantiles_ms), cache_events,
                      arm_begin_ms, max_windows);
}

ArmCharts make_arm_charts(const ArmAccumulator& records, const std::string& name,
                          const Verdict& verdict, const SeriesContext& context,
                          std::size_t max_windows) {
  return build_charts(records.chart_series(name), verdict, context, records.latency_quantiles_ms(),
                      records.cache_events(), records.arm_begin_ms(), max_windows);
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
    spans.push_back({{"phase", std::string(s.phase.text())},
                     {"cycle", s.cycle},
                     {"x_from", s.x_from},
                     {"x_to", s.x_to},
                     {"t_from", put_ms(s.t_from)},
                     {"t_to", put_ms(s.t_to)}});
  nlohmann::json fit;  // null without a line
  if (present(memory.fit_x_from))
    fit = {{"x_from", memory.fit_x_from},
           {"x_to", memory.fit_x_to},
           {"y_from", whole(memory.fit_y_from)},
           {"y_to", whole(memory.fit_y_to)}};
  nlohmann::json j = {
      {"memory",
       {{"raw_points", memory.raw_points},
        {"window_points", memory.window_points},
        {"x_request", memory.x_request},
        {"t_s", array_of(memory.t_s, put_ms)},
        {"t_arm_s", array_of(memory.t_arm_s, put_ms)},
        {"bands", bands},
        {"spans", spans},
        {"fit", fit}}},
      {"after_unload_per_cycle_bytes", array_of(after_unload_per_cycle_bytes, put_whole)},
      {"latency_quantiles_ms", array_of(latency_quantiles_ms, put_ms)}};
  if (cache)
    j["cache"] = {{"raw_points", cache->raw_points},
                  {"window_points", cache->window_points},
                  {"x_request", cache->x_request},
                  {"t_arm_s", array_of(cache->t_arm_s, put_ms)},
                  {"resident_min", array_of(cache->resident_min, put_whole)},
                  {"resident_max", array_of(cache->resident_max, put_whole)},
                  {"loads", array_of(cache->loads, put_whole)},
                  {"evictions", array_of(cache->evictions, put_whole)},
                  {"refusals", array_of(cache->refusals, put_whole)},
                  {"total_loads", cache->total_loads},
                  {"total_evictions", cache->total_evictions},
                  {"total_refusals", cache->total_refusals},
                  {"max_resident", cache->max_resident}};
  return j;
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
  // Absent from summaries written before the time axis.
  mc.t_arm_s = numbers_at(m, "t_arm_s");
  if (!mc.t_arm_s.empty() && mc.t_arm_s.size() != windows)
    throw InputError("charts: 't_arm_s' and 'x_request' differ in length");
  for (const auto& b : m.value("bands", nlohmann::json::array())) {
    ChartBand band{b.value("key", ""), b.value("label", ""), numbers_at(b, "min"),
                   numbers_at(b, "max")};
    if (band.min.size() != windows || band.max.size() != windows)
      throw InputError(fmt::format("charts: band '{}' has not one value per window", band.key));
    mc.bands.push_back(std::move(band));
  }
  for (const auto& s : m.value("spans", nlohmann::json::array()))
    mc.spans.push_back({parse_phase(s.value("phase", "")), s.value("cycle", -1),
                        json_number_at(s, "x_from"), json_number_at(s, "x_to"),
                        json_number_at(s, "t_from"), json_number_at(s, "t_to")});
  if (m.contains("fit") && m["fit"].is_object()) {
    const auto& f = m["fit"];
    mc.fit_x_from = json_number_at(f, "x_from");
    mc.fit_x_to = json_number_at(f, "x_to");
    mc.fit_y_from = json_number_at(f, "y_from");
    mc.fit_y_to = json_number_at(f, "y_to");
  }
  if (j.contains("cache") && !j["cache"].is_null()) {
    const auto& k = j["cache"];
    if (!k.is_object()) throw InputError("charts: 'cache' is not an object");
    CacheChart cc;
    cc.raw_points = k.value("raw_points", std::uint64_t{0});
    cc.window_points = k.value("window_points", std::uint64_t{1});
    cc.x_request = numbers_at(k, "x_request");
    cc.t_arm_s = numbers_at(k, "t_arm_s");
    cc.resident_min = numbers_at(k, "resident_min");
    cc.resident_max = numbers_at(k, "resident_max");
    cc.loads = numbers_at(k, "loads");
    cc.evictions = numbers_at(k, "evictions");
    cc.refusals = numbers_at(k, "refusals");
    for (const auto* v :
         {&cc.t_arm_s, &cc.resident_min, &cc.resident_max, &cc.loads, &cc.evictions, &cc.refusals})
      if (v->size() != cc.x_request.size())
        throw InputError("charts: the cache chart has not one value per window in every list");
    cc.total_loads = k.value("total_loads", std::uint64_t{0});
    cc.total_evictions = k.value("total_evictions", std::uint64_t{0});
    cc.total_refusals = k.value("total_refusals", std::uint64_t{0});
    cc.max_resident = k.value("max_resident", std::uint64_t{0});
    c.cache = std::move(cc);
  }
  return c;
}

}  // namespace infermem
