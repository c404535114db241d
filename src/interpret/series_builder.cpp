#include "infermem/series_builder.h"

#include <algorithm>

namespace infermem {
namespace {

void raise(double& peak, double v) {
  if (present(v) && (!present(peak) || v > peak)) peak = v;
}

void lower(double& low, double v) {
  if (present(v) && (!present(low) || v < low)) low = v;
}

}  // namespace

double SeriesFigures::peak_bytes() const {
  double peak = peak_current_bytes;
  raise(peak, peak_hwm_bytes);
  return peak;
}

SeriesBuilder::SeriesBuilder(std::size_t max_points)
    : max_points_(std::max<std::size_t>(max_points, 4)) {
  kept_.reserve(std::min<std::size_t>(max_points_, 1024));
}

void SeriesBuilder::merge_into(SeriesPoint& into, const SeriesPoint& later) {
  const double hwm = present(into.hwm_bytes) && present(later.hwm_bytes)
                         ? std::max(into.hwm_bytes, later.hwm_bytes)
                     : present(later.hwm_bytes) ? later.hwm_bytes
                                                : into.hwm_bytes;
  const double current = present(later.current_bytes) ? later.current_bytes : into.current_bytes;
  const double in_use = present(later.allocator_in_use_bytes) ? later.allocator_in_use_bytes
                                                              : into.allocator_in_use_bytes;
  const double anon = present(later.anon_bytes) ? later.anon_bytes : into.anon_bytes;
  const double file = present(later.file_bytes) ? later.file_bytes : into.file_bytes;
  into.t_ms = later.t_ms;
  into.req = later.req;
  if (into.phase != later.phase) into.phase = later.phase;
  into.cycle = later.cycle;
  into.current_bytes = current;
  into.hwm_bytes = hwm;
  into.allocator_in_use_bytes = in_use;
  into.anon_bytes = anon;
  into.file_bytes = file;
}

void SeriesBuilder::halve() {
  std::size_t out = 0;
  for (std::size_t i = 0; i + 1 < kept_.size(); i += 2) {
    SeriesPoint merged = std::move(kept_[i]);
    merge_into(merged, kept_[i + 1]);
    kept_[out++] = std::move(merged);
  }
  if (kept_.size() % 2 == 1) kept_[out++] = std::move(kept_.back());
  kept_.resize(out);
  stride_ *= 2;
}

SeriesFigures figures_of(const std::vector<SeriesPoint>& points) {
  SeriesBuilder counter;
  for (const auto& p : points) counter.count(p);
  return counter.figures();
}

void SeriesBuilder::count(const SeriesPoint& p) {
  SeriesFigures& f = figures_;
  if (f.points > 0 && p.t_ms < f.last_t_ms) out_of_order_ = true;
  if (f.points == 0) f.first_t_ms = p.t_ms;
  f.last_t_ms = p.t_ms;
  raise(f.max_t_ms, p.t_ms);
  lower(f.min_t_ms, p.t_ms);
  ++f.points;
  if (present(p.current_bytes)) ++f.current_points;
  if (present(p.hwm_bytes)) ++f.hwm_points;
  raise(f.peak_current_bytes, p.current_bytes);
  raise(f.peak_hwm_bytes, p.hwm_bytes);
}

void SeriesBuilder::add(const SeriesPoint& p) {
  count(p);
  if (pending_count_ == 0)
    pending_ = p;
  else
    merge_into(pending_, p);
  if (++pending_count_ < stride_) return;
  kept_.push_back(std::move(pending_));
  pending_count_ = 0;
  if (kept_.size() >= max_points_) halve();
}

std::vector<SeriesPoint> SeriesBuilder::points() const {
  std::vector<SeriesPoint> out = kept_;
  if (pending_count_ > 0) out.push_back(pending_);
  return out;
}

std::vector<SeriesPoint> SeriesBuilder::take_points(bool sort_by_time) {
  std::vector<SeriesPoint> out = std::move(kept_);
  if (pending_count_ > 0) out.push_back(std::move(pending_));
  kept_.clear();
  pending_count_ = 0;
  if (sort_by_time && out_of_order_)
    std::stable_sort(out.begin(), out.end(),
                     [](const SeriesPoint& a, const SeriesPoint& b) { return a.t_ms < b.t_ms; });
  return out;
}

}  // namespace infermem
