#include "infermem/arm_figures.h"

#include "infermem/error.h"
#include "infermem/numbers.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace infermem {
namespace {

bool is_phase_end(const trace::Record& r) {
  return r.type == trace::RecordType::phase && r.edge == trace::Edge::end;
}

bool is_inference_phase(const trace::Named<trace::Phase>& phase) {
  return phase == trace::Phase::warm || phase == trace::Phase::infer;
}

double in_use(const trace::Record& r) {
  if (auto j = r.value(Figure::jemalloc_allocated_bytes)) return *j;
  if (auto m = r.value(Figure::malloc_in_use_bytes)) return *m;
  return kAbsent;
}

constexpr std::pair<MemoryFigure, std::pair<std::string_view, double MemoryFigures::*>>
    kMemoryFigureNames[] = {
        {MemoryFigure::after_trim, {"after_trim_bytes", &MemoryFigures::after_trim_bytes}},
        {MemoryFigure::after_unload, {"after_unload_bytes", &MemoryFigures::after_unload_bytes}},
        {MemoryFigure::baseline, {"baseline_bytes", &MemoryFigures::baseline_bytes}},
        {MemoryFigure::loaded, {"loaded_bytes", &MemoryFigures::loaded_bytes}},
        {MemoryFigure::peak, {"peak_bytes", &MemoryFigures::peak_bytes}},
        {MemoryFigure::retained_anon, {"retained_anon_bytes", &MemoryFigures::retained_anon_bytes}},
        {MemoryFigure::retained, {"retained_bytes", &MemoryFigures::retained_bytes}},
        {MemoryFigure::retained_file,
         {"retained_file_bytes", &MemoryFigures::retained_file_bytes}}};

// The trace's phase end record as summary.json keeps it. A cache document the child wrote
// malformed is left out (the counters are the child's report; the phase end still counts).
PhaseEnd phase_end_of(const trace::Record& r) {
  PhaseEnd ph;
  ph.phase = r.phase;
  ph.t_ms = r.t_ms;
  ph.cycle = r.cycle();
  for (Figure f : kPhaseEndFigures)
    if (auto v = r.value(f)) ph.figures[f] = *v;
  if (auto c = r.extra.find("cache"); c != r.extra.end()) try {
      ph.cache = phase_cache_from_json(*c);
    } catch (const InputError&) {
      ph.cache.reset();
    }
  return ph;
}

constexpr std::pair<ArmStatus, std::string_view> kStatusNames[] = {
    {ArmStatus::ok, "ok"},           {ArmStatus::failed, "failed"},
    {ArmStatus::crashed, "crashed"}, {ArmStatus::oom_killed, "oom-killed"},
    {ArmStatus::timeout, "timeout"}, {ArmStatus::interrupted, "interrupted"}};

}  // namespace

std::optional<CacheEvent::Kind> parse_cache_event(std::string_view event) {
  if (event == "load") return CacheEvent::Kind::load;
  if (event == "evict") return CacheEvent::Kind::evict;
  if (event == "refused") return CacheEvent::Kind::refused;
  return std::nullopt;
}

std::string_view name(MemoryFigure figure) {
  for (const auto& [f, entry] : kMemoryFigureNames)
    if (f == figure) return entry.first;
  return "unknown";
}

std::optional<MemoryFigure> parse_memory_figure(std::string_view text) {
  for (const auto& [f, entry] : kMemoryFigureNames)
    if (entry.first == text) return f;
  return std::nullopt;
}

double MemoryFigures::*field(MemoryFigure figure) {
  for (const auto& [f, entry] : kMemoryFigureNames)
    if (f == figure) return entry.second;
  return &MemoryFigures::baseline_bytes;  // unreachable: every MemoryFigure is in the table
}

std::string_view name(ArmStatus status) {
  for (const auto& [s, n] : kStatusNames)
    if (s == status) return n;
  return "unknown";
}

std::optional<ArmStatus> parse_arm_status(std::string_view text) {
  for (const auto& [s, n] : kStatusNames)
    if (n == text) return s;
  return std::nullopt;
}

void ArmAccumulator::Peak::consider(std::optional<double> v, bool& flag) {
  if (v && (std::isnan(bytes) || *v >= bytes)) {
    bytes = *v;
    flag = true;
  }
}

void ArmAccumulator::add(const trace::Record& r) {
  if (r.type == trace::RecordType::request) {
    if (auto l = r.value(Figure::latency_ms)) latencies_.push_back(*l);
    requests_done_ = std::max(requests_done_, r.req);
    return;
  }
  if (r.type == trace::RecordType::note) {
    const auto event = r.extra.find("event");
    if (event == r.extra.end() || !event->is_string()) return;
    if (auto kind = parse_cache_event(event->get<std::string>()))
      cache_events_.push_back({*kind, points_.size(), r.t_ms, std::max<std::int64_t>(0, r.req)});
    return;
  }
  if (r.type == trace::RecordType::arm) {
    if (r.src == trace::Src::child && r.edge == trace::Edge::begin) {
      ort_version_ = r.extra.value("ort_version", "");
      if (!present(arm_begin_ms_)) arm_begin_ms_ = r.t_ms;
    }
    if (r.src == trace::Src::child && r.edge == trace::Edge::end) {
      child_reported_end_ = true;
      child_finished_ok_ = r.extra.value("status", "") == "ok";
      child_error_ = r.extra.value("error", "");
    }
    return;
  }
  if (r.type == trace::RecordType::sample) {
    if (r.src == trace::Src::parent) {
      if (auto rss = r.value(Figure::rss_bytes)) {
        last_outside_rss_ = *rss;
        if (is_inference_phase(r.phase)) peak_.consider(rss, peak_.outside);
      }
      return;
    }
    if (r.src != trace::Src::child || !is_inference_phase(r.phase)) return;
    saw_inference_ = true;
    // The child resets VmHWM at each phase start, so its VmHWM here is a reading of this span.
    peak_.consider(r.value(Figure::rss_bytes), peak_.sampler);
    if (hwm_reset_) peak_.consider(r.value(Figure::hwm_bytes), peak_.hwm);
    SeriesPoint p;
    p.t_ms = r.t_ms;
    p.req = r.req;
    p.phase = r.phase;
    p.current_bytes = r.value(Figure::rss_bytes).value_or(kAbsent);
    // No hwm_bytes: soak resets VmHWM at every phase start, so it is a measuring aid for phase
    // peaks, not the lifetime high-water mark a user watches; the verdict judges current memory.
    p.allocator_in_use_bytes = in_use(r);
    p.allocator_free_bytes = r.value(Figure::malloc_free_bytes).value_or(kAbsent);
    p.anon_bytes = r.value(Figure::rss_anon_bytes).value_or(kAbsent);
    p.file_bytes = r.value(Figure::rss_file_bytes).value_or(kAbsent);
    point_hwm_.push_back(r.value(Figure::hwm_bytes).value_or(kAbsent));
    if (auto c = r.cycle()) p.cycle = *c;
    points_.push_back(std::move(p));
    return;
  }
  if (r.type == trace::RecordType::phase && r.edge == trace::Edge::begin)
    hwm_reset_ = r.extra.value("hwm_reset", false);
  if (!is_phase_end(r)) return;
  phase_ends_.push_back(r);
  if (is_inference_phase(r.phase)) {
    saw_inference_ = true;
    if (auto d = r.value(Figure::duration_ms)) inference_ms_ += *d;
    peak_.consider(r.value(Figure::peak_sampled_rss_bytes), peak_.sampler);
    peak_.consider(r.value(Figure::peak_hwm_since_reset_bytes), peak_.hwm);
    peak_.consider(r.value(Figure::rss_bytes), peak_.sampler);
  }
}

ArmFigures ArmAccumulator::figures() const {
  ArmFigures arm;
  arm.requests_done = requests_done_;
  arm.last_rss_bytes = last_outside_rss_;
  arm.ort_version = ort_version_;
  for (const auto& r : phase_ends_) {
    arm.phases.push_back(phase_end_of(r));
    auto rss = r.value(Figure::rss_bytes);
    if (!rss) continue;
    if (r.phase == trace::Phase::baseline) arm.memory.baseline_bytes = *rss;
    if (r.phase == trace::Phase::load && std::isnan(arm.memory.loaded_bytes))
      arm.memory.loaded_bytes = *rss;
    if (r.phase == trace::Phase::unload) arm.memory.after_unload_bytes = *rss;
    if (r.phase == trace::Phase::trim) arm.memory.after_trim_bytes = *rss;
  }
  // The peak covers load end through inference: the session is held all along, so it is never
  // below the loaded figure. An arm that never reached inference has no peak.
  Peak peak = peak_;
  if (saw_inference_ || requests_done_ > 0)
    peak.consider(
        present(arm.memory.loaded_bytes) ? std::optional(arm.memory.loaded_bytes) : std::nullopt,
        peak.loaded);
  else
    peak = Peak{};
  arm.memory.peak_bytes = peak.bytes;
  std::vector<std::string> methods;
  if (peak.hwm) methods.push_back("VmHWM after clear_refs reset at phase start");
  if (peak.sampler) methods.push_back("in-process VmRSS sampling");
  if (peak.outside) methods.push_back("VmRSS sampled from the parent");
  if (peak.loaded) methods.push_back("VmRSS at the end of phase load");
  for (std::size_t i = 0; i < methods.size(); ++i)
    arm.memory.peak_method += (i ? "; " : "max of: ") + methods[i];
  double after = !std::isnan(arm.memory.after_trim_bytes) ? arm.memory.after_trim_bytes
                                                          : arm.memory.after_unload_bytes;
  if (!std::isnan(after) && !std::isnan(arm.memory.baseline_bytes))
    arm.memory.retained_bytes = after - arm.memory.baseline_bytes;
  // Anonymous and file-backed retention: the same phase ends as retained_bytes.
  auto last_of = [&](trace::Phase phase, Figure key) {
    std::optional<double> v;
    for (const auto& r : phase_ends_)
      if (r.phase == phase)
        if (auto x = r.value(key)) v = *x;
    return v;
  };
  const trace::Phase after_phase =
      !std::isnan(arm.memory.after_trim_bytes) ? trace::Phase::trim : trace::Phase::unload;
  if (auto b = last_of(trace::Phase::baseline, Figure::rss_anon_bytes))
    if (auto a = last_of(after_phase, Figure::rss_anon_bytes))
      arm.memory.retained_anon_bytes = *a - *b;
  if (auto b = last_of(trace::Phase::baseline, Figure::rss_file_bytes))
    if (auto a = last_of(after_phase, Figure::rss_file_bytes))
      arm.memory.retained_file_bytes = *a - *b;
  if (!latencies_.empty()) {
    double sum = 0;
    for (double l : latencies_) sum += l;
    arm.latency_ms.mean = sum / static_cast<double>(latencies_.size());
    arm.latency_ms.p50 = percentile_nearest_rank(latencies_, 50);
    arm.latency_ms.p95 = percentile_nearest_rank(latencies_, 95);
    arm.latency_ms.p99 = percentile_nearest_rank(latencies_, 99);
  }
  if (inference_ms_ > 0)
    arm.throughput_rps = static_cast<double>(latencies_.size()) / (inference_ms_ / 1000.0);
  return arm;
}

Series ArmAccumulator::series(const std::string& name) const {
  Series s;
  s.name = name;
  s.current_source = "VmRSS read in the child after each request";
  s.points = points_;
  return s;
}

Series ArmAccumulator::chart_series(const std::string& name) const {
  Series s = series(name);
  s.hwm_source = "VmHWM since the phase began (reset at each phase start)";
  for (std::size_t i = 0; i < s.points.size() && i < point_hwm_.size(); ++i)
    s.points[i].hwm_bytes = point_hwm_[i];
  return s;
}

std::vector<double> ArmAccumulator::latency_quantiles_ms(int steps) const {
  std::vector<double> q;
  if (latencies_.empty() || steps <= 0) return q;
  std::vector<double> sorted = latencies_;
  std::sort(sorted.begin(), sorted.end());
  for (int k = 0; k <= steps; ++k) {
    // Nearest rank, as percentile_nearest_rank: rank ceil(p/100 * n), at least 1.
    const double p = 100.0 * k / steps;
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    q.push_back(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]);
  }
  return q;
}

SeriesContext ArmAccumulator::context(const ArmFigures& arm) const {
  SeriesContext c;
  c.baseline_bytes = arm.memory.baseline_bytes;
  c.loaded_bytes = arm.memory.loaded_bytes;
  c.after_unload_bytes = arm.memory.after_unload_bytes;
  c.after_trim_bytes = arm.memory.after_trim_bytes;
  // soak's trim phase exists only in arms with trim=on: the trim is the arm's own.
  c.trim_by_arm = !std::isnan(arm.memory.after_trim_bytes);
  // Per cycle, what the unload left, or what the arm's trim right after it left.
  std::map<int, double> per_cycle;
  for (const auto& r : phase_ends_)
    if (r.phase == trace::Phase::unload || r.phase == trace::Phase::trim)
      if (auto cycle = r.cycle())
        if (auto rss = r.value(Figure::rss_bytes))
          if (r.phase == trace::Phase::trim || !per_cycle.count(*cycle)) per_cycle[*cycle] = *rss;
  for (const auto& [cycle, rss] : per_cycle) c.after_unload_per_cycle_bytes.push_back(rss);
  // After the inference load: the allocator at the last unload or trim phase end.
  for (const auto& r : phase_ends_)
    if (r.phase == trace::Phase::unload || r.phase == trace::Phase::trim) {
      c.after_load_free_bytes = r.value(Figure::malloc_free_bytes).value_or(kAbsent);
      c.after_load_in_use_bytes = in_use(r);
      c.after_load_anon_bytes = r.value(Figure::rss_anon_bytes).value_or(kAbsent);
    }
  return c;
}

ArmAccumulator accumulate_arm(const std::vector<trace::Record>& records) {
  ArmAccumulator acc;
  for (const auto& r : records) acc.add(r);
  return acc;
}

}  // namespace infermem
