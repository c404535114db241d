#pragma once
// Every quantity the trace measures, named once: an enum value, its wire name (the trace's key,
// docs/trace-format.md) and its unit. Code names a figure by its enum value; the wire name is used
// only where a record meets a file (trace::parse_line, trace::to_line, a JSON file's fields).
//
// Figures (a reading, a record's measured values) is a fixed array indexed by Figure: no
// allocation, no string compare. Absent is NaN, never zero. The enum is in wire-name order, so
// iterating present figures visits them as a std::map<std::string, double> of the same names did.
#include <array>
#include <cmath>
#include <cstddef>
#include <optional>
#include <string_view>

namespace infermem {

enum class Unit { bytes, count, ms, hz, index };

// In the byte order of the wire names (a static_assert below checks it).
enum class Figure : unsigned char {
  allocator_is_jemalloc_count,
  allocator_is_mimalloc_count,
  allocator_is_sanitizer_count,
  allocator_is_tcmalloc_count,
  cache_hits,
  cache_misses,
  cgroup_anon_bytes,
  cgroup_current_bytes,
  cgroup_file_bytes,
  cgroup_limit_bytes,
  cgroup_oom_kill_count,
  cgroup_peak_bytes,
  cycle,
  duration_ms,
  hwm_bytes,
  inject_leak_bytes,
  interval_ms,
  jemalloc_active_bytes,
  jemalloc_allocated_bytes,
  jemalloc_resident_bytes,
  jemalloc_retained_bytes,
  latency_ms,
  malloc_arena_bytes,
  malloc_free_bytes,
  malloc_in_use_bytes,
  malloc_keepcost_bytes,
  malloc_mmap_bytes,
  ort_arena_extensions_count,
  ort_arena_in_use_bytes,
  ort_arena_max_in_use_bytes,
  ort_arena_reserved_bytes,
  ort_arena_shrinkages_count,
  ort_library_file_bytes,
  ort_library_rss_bytes,
  peak_hwm_since_reset_bytes,
  peak_sampled_rss_bytes,
  private_dirty_bytes,
  processes_count,
  pss_anon_bytes,
  pss_bytes,
  pss_file_bytes,
  queued_ms,
  rss_after_trim_bytes,
  rss_anon_bytes,
  rss_bytes,
  rss_file_bytes,
  rss_shmem_bytes,
  sampler_hz,
  samples_count,
  shared_clean_bytes,
  smaps_swap_bytes,
  stream,
  swap_bytes,
  thread,
  threads_count,
  window_ms,
  window_peak_rss_bytes,
};
inline constexpr std::size_t kFigureCount =
    static_cast<std::size_t>(Figure::window_peak_rss_bytes) + 1;

struct FigureInfo {
  Figure figure;
  std::string_view name;  // the trace key
  Unit unit;
};

inline constexpr FigureInfo kFigureTable[] = {
    {Figure::allocator_is_jemalloc_count, "allocator_is_jemalloc_count", Unit::count},
    {Figure::allocator_is_mimalloc_count, "allocator_is_mimalloc_count", Unit::count},
    {Figure::allocator_is_sanitizer_count, "allocator_is_sanitizer_count", Unit::count},
    {Figure::allocator_is_tcmalloc_count, "allocator_is_tcmalloc_count", Unit::count},
    {Figure::cache_hits, "cache_hits", Unit::count},
    {Figure::cache_misses, "cache_misses", Unit::count},
    {Figure::cgroup_anon_bytes, "cgroup_anon_bytes", Unit::bytes},
    {Figure::cgroup_current_bytes, "cgroup_current_bytes", Unit::bytes},
    {Figure::cgroup_file_bytes, "cgroup_file_bytes", Unit::bytes},
    {Figure::cgroup_limit_bytes, "cgroup_limit_bytes", Unit::bytes},
    {Figure::cgroup_oom_kill_count, "cgroup_oom_kill_count", Unit::count},
    {Figure::cgroup_peak_bytes, "cgroup_peak_bytes", Unit::bytes},
    {Figure::cycle, "cycle", Unit::index},
    {Figure::duration_ms, "duration_ms", Unit::ms},
    {Figure::hwm_bytes, "hwm_bytes", Unit::bytes},
    {Figure::inject_leak_bytes, "inject_leak_bytes", Unit::bytes},
    {Figure::interval_ms, "interval_ms", Unit::ms},
    {Figure::jemalloc_active_bytes, "jemalloc_active_bytes", Unit::bytes},
    {Figure::jemalloc_allocated_bytes, "jemalloc_allocated_bytes", Unit::bytes},
    {Figure::jemalloc_resident_bytes, "jemalloc_resident_bytes", Unit::bytes},
    {Figure::jemalloc_retained_bytes, "jemalloc_retained_bytes", Unit::bytes},
    {Figure::latency_ms, "latency_ms", Unit::ms},
    {Figure::malloc_arena_bytes, "malloc_arena_bytes", Unit::bytes},
    {Figure::malloc_free_bytes, "malloc_free_bytes", Unit::bytes},
    {Figure::malloc_in_use_bytes, "malloc_in_use_bytes", Unit::bytes},
    {Figure::malloc_keepcost_bytes, "malloc_keepcost_bytes", Unit::bytes},
    {Figure::malloc_mmap_bytes, "malloc_mmap_bytes", Unit::bytes},
    {Figure::ort_arena_extensions_count, "ort_arena_extensions_count", Unit::count},
    {Figure::ort_arena_in_use_bytes, "ort_arena_in_use_bytes", Unit::bytes},
    {Figure::ort_arena_max_in_use_bytes, "ort_arena_max_in_use_bytes", Unit::bytes},
    {Figure::ort_arena_reserved_bytes, "ort_arena_reserved_bytes", Unit::bytes},
    {Figure::ort_arena_shrinkages_count, "ort_arena_shrinkages_count", Unit::count},
    {Figure::ort_library_file_bytes, "ort_library_file_bytes", Unit::bytes},
    {Figure::ort_library_rss_bytes, "ort_library_rss_bytes", Unit::bytes},
    {Figure::peak_hwm_since_reset_bytes, "peak_hwm_since_reset_bytes", Unit::bytes},
    {Figure::peak_sampled_rss_bytes, "peak_sampled_rss_bytes", Unit::bytes},
    {Figure::private_dirty_bytes, "private_dirty_bytes", Unit::bytes},
    {Figure::processes_count, "processes_count", Unit::count},
    {Figure::pss_anon_bytes, "pss_anon_bytes", Unit::bytes},
    {Figure::pss_bytes, "pss_bytes", Unit::bytes},
    {Figure::pss_file_bytes, "pss_file_bytes", Unit::bytes},
    {Figure::queued_ms, "queued_ms", Unit::ms},
    {Figure::rss_after_trim_bytes, "rss_after_trim_bytes", Unit::bytes},
    {Figure::rss_anon_bytes, "rss_anon_bytes", Unit::bytes},
    {Figure::rss_bytes, "rss_bytes", Unit::bytes},
    {Figure::rss_file_bytes, "rss_file_bytes", Unit::bytes},
    {Figure::rss_shmem_bytes, "rss_shmem_bytes", Unit::bytes},
    {Figure::sampler_hz, "sampler_hz", Unit::hz},
    {Figure::samples_count, "samples_count", Unit::count},
    {Figure::shared_clean_bytes, "shared_clean_bytes", Unit::bytes},
    {Figure::smaps_swap_bytes, "smaps_swap_bytes", Unit::bytes},
    {Figure::stream, "stream", Unit::index},
    {Figure::swap_bytes, "swap_bytes", Unit::bytes},
    {Figure::thread, "thread", Unit::index},
    {Figure::threads_count, "threads_count", Unit::count},
    {Figure::window_ms, "window_ms", Unit::ms},
    {Figure::window_peak_rss_bytes, "window_peak_rss_bytes", Unit::bytes},
};

namespace detail {
constexpr bool figure_table_is_complete_and_ordered() {
  if (std::size(kFigureTable) != kFigureCount) return false;
  for (std::size_t i = 0; i < kFigureCount; ++i) {
    if (static_cast<std::size_t>(kFigureTable[i].figure) != i) return false;
    if (i > 0 && !(kFigureTable[i - 1].name < kFigureTable[i].name)) return false;
  }
  return true;
}
}  // namespace detail
static_assert(detail::figure_table_is_complete_and_ordered(),
              "kFigureTable lists every Figure once, in enum order, names strictly ascending");

constexpr std::size_t index_of(Figure f) {
  return static_cast<std::size_t>(f);
}
constexpr std::string_view name(Figure f) {
  return kFigureTable[index_of(f)].name;
}
constexpr Unit unit(Figure f) {
  return kFigureTable[index_of(f)].unit;
}
std::string_view name(Unit u);  // "bytes", "count", "ms", "hz", "index"

// The figure a wire name names; nullopt for any other string (a binary search, no allocation).
constexpr std::optional<Figure> parse_figure(std::string_view wire) {
  std::size_t lo = 0, hi = kFigureCount;
  while (lo < hi) {
    const std::size_t mid = lo + (hi - lo) / 2;
    const std::string_view n = kFigureTable[mid].name;
    if (n == wire) return kFigureTable[mid].figure;
    if (n < wire)
      lo = mid + 1;
    else
      hi = mid;
  }
  return std::nullopt;
}

// A set of measured values, one slot per Figure; NaN is absent.
class Figures {
 public:
  constexpr Figures() { slot_.fill(NAN); }

  std::optional<double> get(Figure f) const {
    const double v = slot_[index_of(f)];
    if (std::isnan(v)) return std::nullopt;
    return v;
  }
  // The value, NaN when absent (for code that keeps absent as NaN).
  double get_or_nan(Figure f) const { return slot_[index_of(f)]; }
  bool has(Figure f) const { return !std::isnan(slot_[index_of(f)]); }
  void set(Figure f, double v) { slot_[index_of(f)] = v; }  // NaN erases
  void erase(Figure f) { slot_[index_of(f)] = NAN; }
  void clear() { slot_.fill(NAN); }
  bool empty() const { return size() == 0; }
  std::size_t size() const;
  // Sets every figure `other` has and this one does not (std::map::insert's rule).
  void insert_absent(const Figures& other);
  // Sets every figure `other` has, over this one's (std::map::operator[]'s rule).
  void assign_present(const Figures& other);
  friend bool operator==(const Figures& a, const Figures& b);

  struct Entry {
    Figure figure;
    double value;
  };
  // Iterates present figures in wire-name order.
  class Iterator {
   public:
    Iterator(const Figures* owner, std::size_t i) : owner_(owner), i_(i) { skip(); }
    Entry operator*() const { return {static_cast<Figure>(i_), owner_->slot_[i_]}; }
    Iterator& operator++() {
      ++i_;
      skip();
      return *this;
    }
    bool operator==(const Iterator& o) const { return i_ == o.i_; }
    bool operator!=(const Iterator& o) const { return i_ != o.i_; }

   private:
    void skip() {
      while (i_ < kFigureCount && std::isnan(owner_->slot_[i_])) ++i_;
    }
    const Figures* owner_;
    std::size_t i_;
  };
  Iterator begin() const { return {this, 0}; }
  Iterator end() const { return {this, kFigureCount}; }

 private:
  std::array<double, kFigureCount> slot_;
};

}  // namespace infermem
