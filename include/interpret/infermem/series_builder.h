#pragma once
// A memory series built one point at a time in bounded memory, whatever the input's length.
// Importers (analyze) and soak's accumulator feed it; the verdict engine judges what it keeps.
//
// It keeps at most max_points points. When that many are kept, adjacent pairs are merged (the
// kept count halves and each kept point stands for twice as many raw points); later points are
// merged in groups of the same size as they arrive. A merged point is the group's last point
// (its t_ms, req, phase, cycle and current figures, so a point is always a real reading and the
// noise the engine measures is the per-reading noise), except that hwm_bytes is the group's
// maximum and a figure the last point lacks is taken from the latest point that had it. The
// verdict engine already bins above 1500 points for its slope fits, so a few thousand evenly
// spaced readings give the verdict the whole series gives. Exact figures over every point
// (count, peaks, first and last time) are kept beside the points.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "infermem/series.h"

namespace infermem {

// Enough points for every rule of the verdict engine (it bins above 1500 for its slope fits; a
// merged series keeps between 2048 and 4096); 4096 points are about 400 KiB.
inline constexpr std::size_t kDefaultMaxSeriesPoints = 4096;

// Exact figures over every point added, merged or not.
struct SeriesFigures {
  std::uint64_t points = 0;          // points added
  std::uint64_t current_points = 0;  // ... with a current figure
  std::uint64_t hwm_points = 0;      // ... with a high-water mark
  double peak_current_bytes = kAbsent;
  double peak_hwm_bytes = kAbsent;
  double first_t_ms = kAbsent;  // of the first point added
  double last_t_ms = kAbsent;   // of the last point added
  double min_t_ms = kAbsent;
  double max_t_ms = kAbsent;

  // The highest current or high-water figure: what a user calls the peak.
  double peak_bytes() const;
  // Only a high-water mark was recorded (Lambda's Max Memory Used): no current figure at all.
  bool hwm_only() const { return current_points == 0 && hwm_points > 0; }
};

// The figures of points already in memory (a soak arm's series, judged whole).
SeriesFigures figures_of(const std::vector<SeriesPoint>& points);

class SeriesBuilder {
 public:
  explicit SeriesBuilder(std::size_t max_points = kDefaultMaxSeriesPoints);

  void add(const SeriesPoint& point);
  // Counts `point` in the figures only (what add does besides keeping it).
  void count(const SeriesPoint& point);
  const SeriesFigures& figures() const { return figures_; }
  // Raw points each kept point stands for (1 until the first merge, then a power of two).
  std::uint64_t stride() const { return stride_; }
  bool merged() const { return stride_ > 1; }
  // A point arrived with an earlier t_ms than the one before it.
  bool out_of_order() const { return out_of_order_; }
  // The points kept so far, in arrival order, the group still being filled last.
  std::vector<SeriesPoint> points() const;
  // Moves the kept points out (the builder is empty afterwards). With sort_by_time they are
  // ordered by t_ms (stable), as a series read out of order must be before it is judged.
  std::vector<SeriesPoint> take_points(bool sort_by_time = false);

 private:
  static void merge_into(SeriesPoint& into, const SeriesPoint& later);
  void halve();

  std::size_t max_points_;
  std::vector<SeriesPoint> kept_;
  SeriesPoint pending_;  // the group being filled, when pending_count_ > 0
  std::uint64_t pending_count_ = 0;
  std::uint64_t stride_ = 1;
  bool out_of_order_ = false;
  SeriesFigures figures_;
};

}  // namespace infermem
