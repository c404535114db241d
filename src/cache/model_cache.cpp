// ModelCache: admission, loading, eviction and idle unloads (infermem/model_cache.h).
// One mutex guards the bookkeeping; loads and unloads run outside it, one at a time under a
// second mutex, so the resident growth across a load is that load's alone (a concurrent request
// can still add to it: the cache then errs on the side of a higher cost).
#include "infermem/model_cache.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <utility>
#include <vector>

#include "infermem/cache_stats_file.h"
#include "infermem/probe.h"
#include "infermem/units.h"

namespace infermem {

struct ModelCache::Entry {
  enum class State { absent, loading, resident, unloading };
  std::string path;
  State state = State::absent;
  std::unique_ptr<CachedModel> model;
  std::exception_ptr load_error;  // the last load's failure, for callers that waited on it
  std::uint64_t generation = 0;   // counts finished loads (ok or failed)
  int in_flight = 0;              // leases (and a load in progress) pinning it
  Clock::time_point last_used{};
  std::list<std::shared_ptr<Entry>>::iterator lru_pos;
  bool in_lru = false;
  bool measured = false;  // cost.load_bytes is a measurement, not the estimate
  ModelCost cost;
  std::uint64_t estimate_bytes = 0;
  std::uint64_t loads = 0, hits = 0, requests = 0;
};

namespace {

std::uint64_t sub_floor(std::uint64_t a, std::uint64_t b) {
  return a > b ? a - b : 0;
}

}  // namespace

ModelCache::Lease::Lease(ModelCache* cache, std::shared_ptr<Entry> entry,
                         std::uint64_t resident_at_start, std::uint64_t load_mark_at_start)
    : cache_(cache),
      entry_(std::move(entry)),
      resident_at_start_(resident_at_start),
      load_mark_at_start_(load_mark_at_start) {}

ModelCache::Lease::Lease(Lease&& other) noexcept
    : cache_(std::exchange(other.cache_, nullptr)),
      entry_(std::move(other.entry_)),
      resident_at_start_(other.resident_at_start_),
      load_mark_at_start_(other.load_mark_at_start_),
      reported_peak_(other.reported_peak_) {}

ModelCache::Lease& ModelCache::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    cache_ = std::exchange(other.cache_, nullptr);
    entry_ = std::move(other.entry_);
    resident_at_start_ = other.resident_at_start_;
    load_mark_at_start_ = other.load_mark_at_start_;
    reported_peak_ = other.reported_peak_;
  }
  return *this;
}

ModelCache::Lease::~Lease() {
  release();
}

CachedModel& ModelCache::Lease::model() const {
  // Pinned: the model cannot be unloaded while this lease holds it.
  return *entry_->model;
}

void ModelCache::Lease::release() {
  if (!cache_) return;
  ModelCache* cache = std::exchange(cache_, nullptr);
  cache->end_lease(entry_, resident_at_start_, load_mark_at_start_, reported_peak_);
  entry_.reset();
}

// ---- ModelCache --------------------------------------------------------------------------------

ModelCache::ModelCache(std::unique_ptr<ModelLoader> loader, std::unique_ptr<MemoryMeter> meter,
                       ModelCacheOptions options)
    : loader_(std::move(loader)), meter_(std::move(meter)), options_(std::move(options)) {
  const std::uint64_t measured = meter_->limit_bytes();
  limit_bytes_ = options_.limit_cap_bytes;
  if (measured > 0 && (limit_bytes_ == 0 || measured < limit_bytes_)) limit_bytes_ = measured;
  stats_.budget_bytes = options_.budget_bytes;
  stats_.limit_bytes = limit_bytes_;
  if (options_.stats_path) {
    stats_path_ = *options_.stats_path;
  } else if (const char* env = std::getenv(kCacheStatsEnv); env && *env) {
    stats_path_ = env;
  }
  if (options_.idle_thread && options_.idle_ttl.count() > 0)
    idle_thread_ = std::thread([this] { idle_loop(); });
  if (!stats_path_.empty()) publish_thread_ = std::thread([this] { publish_loop(); });
}

ModelCache::~ModelCache() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  idle_wake_.notify_all();
  if (idle_thread_.joinable()) idle_thread_.join();
  // The last counters are published before the models go (the service's final figures).
  {
    std::lock_guard lock(publish_mutex_);
    publish_stop_ = true;
  }
  publish_wake_.notify_all();
  if (publish_thread_.joinable()) publish_thread_.join();
  // Every lease has ended (the contract): unload in LRU order, oldest first.
  std::vector<std::unique_ptr<CachedModel>> models;
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it) models.push_back(std::move((*it)->model));
  models.clear();
}

std::shared_ptr<ModelCache::Entry> ModelCache::entry_for(const std::string& path) {
  auto& slot = entries_[path];
  if (!slot) {
    slot = std::make_shared<Entry>();
    slot->path = path;
    slot->estimate_bytes = loader_->estimate_bytes(path);
  }
  return slot;
}

std::uint64_t ModelCache::cost_of(const Entry& e) const {
  if (e.measured) return e.cost.total();
  // Never loaded: its file's size, or what loaded models cost on average when that is more (a
  // session holds its weights and more: the first estimate alone let a cache overshoot).
  const std::uint64_t typical = loads_measured_ ? measured_cost_sum_ / loads_measured_ : 0;
  return std::max({e.estimate_bytes, e.cost.total(), typical});
}

void ModelCache::shed_over_budget(std::unique_lock<std::mutex>& lock) {
  const std::uint64_t budget = options_.budget_bytes;
  if (budget == 0 || stats_.bytes_resident <= budget) return;
  std::vector<std::shared_ptr<Entry>> victims;
  std::uint64_t freed = 0;
  const std::uint64_t excess = stats_.bytes_resident - budget;
  for (auto it = lru_.rbegin(); it != lru_.rend() && freed < excess; ++it)
    if ((*it)->in_flight == 0 && (*it)->state == Entry::State::resident) {
      victims.push_back(*it);
      freed += cost_of(**it);
    }
  if (victims.empty()) return;
  stats_.evictions += victims.size();
  unload_now(lock, std::move(victims));
}

void ModelCache::touch(const std::shared_ptr<Entry>& e) {
  if (e->in_lru) lru_.erase(e->lru_pos);
  lru_.push_front(e);
  e->lru_pos = lru_.begin();
  e->in_lru = true;
  e->last_used = options_.clock();
}

std::unique_ptr<CachedModel> ModelCache::take_for_unload(Entry& e) {
  e.state = Entry::State::unloading;
  if (e.in_lru) lru_.erase(e.lru_pos);
  e.in_lru = false;
  stats_.bytes_resident -= std::min(stats_.bytes_resident, cost_of(e));
  ++unloads_running_;
  return std::move(e.model);
}

void ModelCache::unload_now(std::unique_lock<std::mutex>& lock,
                            std::vector<std::shared_ptr<Entry>> victims) {
  std::vector<std::unique_ptr<CachedModel>> models;
  for (auto& v : victims) models.push_back(take_for_unload(*v));
  lock.unlock();
  std::string method;
  {
    std::lock_guard serial(load_mutex_);
    models.clear();
    if (options_.trim_after_unload) method = meter_->release_free_memory();
  }
  lock.lock();
  for (auto& v : victims) v->state = Entry::State::absent;
  unloads_running_ -= victims.size();
  if (!method.empty()) stats_.release_method = method;
  stats_changed(true);
  changed_.notify_all();
}

void ModelCache::refuse(CacheRefused::Reason reason, const std::string& message) {
  ++stats_.refusals;
  ++stats_.refusals_by_reason[name(reason)];
  stats_changed(true);
  throw CacheRefused(reason, message);
}

void ModelCache::stats_changed(bool urgent) {
  stats_version_.fetch_add(1, std::memory_order_relaxed);
  if (!urgent || stats_path_.empty()) return;
  {
    std::lock_guard lock(publish_mutex_);
    publish_urgent_ = true;
  }
  publish_wake_.notify_one();
}

void ModelCache::publish_once() {
  CacheStatsFile file;
  file.pid = static_cast<int>(::getpid());
  file.seq = ++publish_seq_;
  file.stats = stats();
  try {
    write_cache_stats(stats_path_, file);
  } catch (const std::exception&) {
    // Counted, never thrown into the service; the next period tries again.
    std::lock_guard lock(mutex_);
    ++stats_.stats_write_failures;
    stats_version_.fetch_add(1, std::memory_order_relaxed);
  }
}

// Writes the stats file at once on an urgent change, else at most every stats_every when
// something changed; once more when the cache is destroyed.
void ModelCache::publish_loop() {
  const auto period = std::max(options_.stats_every, std::chrono::milliseconds(1));
  std::uint64_t written = ~std::uint64_t{0};
  std::unique_lock lock(publish_mutex_);
  for (;;) {
    // The first write at once (the counters at zero, the budget), then as changes come.
    const bool stop = publish_stop_;
    publish_urgent_ = false;
    lock.unlock();
    const std::uint64_t version = stats_version_.load(std::memory_order_relaxed);
    if (version != written) {
      written = version;
      publish_once();
    }
    lock.lock();
    if (stop) return;
    publish_wake_.wait_for(lock, period, [this] { return publish_urgent_ || publish_stop_; });
  }
}

// Returns when `need_bytes` more fit under the budget (loads only) and the limit, unloading
// least recently used idle models first; waits for in-flight work when only that would make
// room; throws CacheRefused otherwise. May release the lock while it unloads or waits.
void ModelCache::make_room(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Entry>& wanted,
                           std::uint64_t need_bytes, bool loading) {
  const auto deadline = Clock::now() + options_.admission_wait;
  const std::uint64_t budget = options_.budget_bytes;
  // A hard refusal rests on evidence (the model's measured cost or its file's size), never on
  // the average of other models.
  const std::uint64_t evidence = wanted->measured
                                     ? wanted->cost.total()
                                     : std::max(wanted->estimate_bytes, wanted->cost.total());
  if (loading && budget > 0 && evidence > budget) {
    refuse(CacheRefused::Reason::over_budget,
           fmt::format("model {} costs {} and the cache's budget is {}", wanted->path,
                       format_bytes(static_cast<double>(evidence)),
                       format_bytes(static_cast<double>(budget))));
  }
  if (loading && budget > 0) need_bytes = std::min(need_bytes, budget);
  const std::uint64_t line = sub_floor(limit_bytes_, options_.limit_headroom_bytes);
  for (;;) {
    std::uint64_t over_budget = 0, over_limit = 0;
    if (loading && budget > 0) over_budget = sub_floor(stats_.bytes_resident + need_bytes, budget);
    std::uint64_t resident = 0;
    if (limit_bytes_ > 0) {
      resident = meter_->resident_bytes();
      // Loads admitted but not finished are not resident yet: they count as if they were.
      over_limit = sub_floor(resident + loading_bytes_ + need_bytes, line);
    }
    if (over_budget == 0 && over_limit == 0) return;
    const std::uint64_t to_free = std::max(over_budget, over_limit);
    std::vector<std::shared_ptr<Entry>> victims;
    std::uint64_t freed = 0;
    for (auto it = lru_.rbegin(); it != lru_.rend() && freed < to_free; ++it) {
      const auto& e = *it;
      if (e == wanted || e->in_flight > 0 || e->state != Entry::State::resident) continue;
      victims.push_back(e);
      freed += cost_of(*e);
    }
    if (!victims.empty()) {
      stats_.evictions += victims.size();
      unload_now(lock, std::move(victims));
      continue;
    }
    bool others_busy = unloads_running_ > 0;
    for (const auto& [path, e] : entries_)
      if (e != wanted && (e->in_flight > 0 || e->state == Entry::State::loading))
        others_busy = true;
    if (wanted->in_flight > 1) others_busy = true;  // its own pin is 1
    if (others_busy && Clock::now() < deadline) {
      ++stats_.waits;
      changed_.wait_until(lock, deadline);
      continue;
    }
    const std::string what =
        fmt::format("{} {}", loading ? "loading" : "a request on", wanted->path);
    if (over_limit > 0) {
      const auto reason =
          others_busy ? CacheRefused::Reason::wait_timeout : CacheRefused::Reason::over_limit;
      refuse(reason,
             fmt::format(
                 "{} needs {} more and the process holds {} of its {} limit{}{}", what,
                 format_bytes(static_cast<double>(need_bytes)),
                 format_bytes(static_cast<double>(resident)),
                 format_bytes(static_cast<double>(limit_bytes_)),
                 options_.limit_headroom_bytes
                     ? fmt::format(" (less {} headroom)",
                                   format_bytes(static_cast<double>(options_.limit_headroom_bytes)))
                     : std::string(),
                 others_busy ? "; in-flight requests did not end in time" : ""));
    }
    refuse(others_busy ? CacheRefused::Reason::wait_timeout : CacheRefused::Reason::over_budget,
           fmt::format("{} needs {} and {} of the {} budget is held by models in use", what,
                       format_bytes(static_cast<double>(need_bytes)),
                       format_bytes(static_cast<double>(stats_.bytes_resident)),
                       format_bytes(static_cast<double>(budget))));
  }
}

ModelCache::Lease ModelCache::acquire(const std::string& path) {
  std::unique_lock lock(mutex_);
  auto e = entry_for(path);
  bool counted = false;
  for (;;) {
    if (e->state == Entry::State::resident) return lease_resident(lock, e, counted);
    if (e->state == Entry::State::loading || e->state == Entry::State::unloading) {
      if (!counted && e->state == Entry::State::loading) {
        ++stats_.misses;
        ++stats_.coalesced_loads;
        counted = true;
        const std::uint64_t generation = e->generation;
        changed_.wait(lock, [&] { return e->generation != generation; });
        if (e->state != Entry::State::resident && e->load_error)
          std::rethrow_exception(e->load_error);
        continue;
      }
      changed_.wait(lock, [&] {
        return e->state != Entry::State::loading && e->state != Entry::State::unloading;
      });
      continue;
    }
    // Absent: this caller loads it; others asking meanwhile wait for this load.
    return load_and_lease(lock, e, path, counted);
  }
}

ModelCache::Lease ModelCache::lease_resident(std::unique_lock<std::mutex>& lock,
                                             const std::shared_ptr<Entry>& e, bool counted) {
  if (!counted) {
    ++stats_.hits;
    ++e->hits;
    stats_changed(false);
  }
  ++e->in_flight;  // pinned before make_room can let go of the lock
  touch(e);
  try {
    if (limit_bytes_ > 0) make_room(lock, e, e->cost.inference_bytes, false);
  } catch (...) {
    --e->in_flight;
    changed_.notify_all();
    throw;
  }
  const std::uint64_t mark = load_mark();
  lock.unlock();
  return Lease(this, e, meter_->resident_bytes(), mark);
}

ModelCache::Lease ModelCache::load_and_lease(std::unique_lock<std::mutex>& lock,
                                             const std::shared_ptr<Entry>& e,
                                             const std::string& path, bool counted) {
  if (!counted) ++stats_.misses;
  stats_changed(false);
  e->state = Entry::State::loading;
  e->in_flight = 1;
  std::uint64_t need = cost_of(*e);
  if (options_.budget_bytes > 0) need = std::min(need, options_.budget_bytes);
  try {
    make_room(lock, e, need, true);
  } catch (...) {
    e->state = Entry::State::absent;
    e->in_flight = 0;
    e->load_error = std::current_exception();
    ++e->generation;
    changed_.notify_all();
    throw;
  }
  stats_.bytes_resident += need;  // reserved while it loads
  loading_bytes_ += need;
  ++loading_count_;
  ++loads_begun_;
  lock.unlock();
  std::unique_ptr<CachedModel> model;
  std::exception_ptr error;
  std::uint64_t before = 0, after = 0;
  {
    std::lock_guard serial(load_mutex_);
    before = meter_->resident_bytes();
    try {
      model = loader_->load(path);
    } catch (...) {
      error = std::current_exception();
    }
    after = meter_->resident_bytes();
  }
  lock.lock();
  stats_.bytes_resident -= std::min(stats_.bytes_resident, need);
  loading_bytes_ -= need;
  --loading_count_;
  ++e->generation;
  if (error || !model) {
    ++stats_.load_failures;
    stats_changed(true);
    e->state = Entry::State::absent;
    e->in_flight = 0;
    e->load_error = error;
    changed_.notify_all();
    if (error) std::rethrow_exception(error);
    throw std::runtime_error(fmt::format("the loader returned no model for {}", path));
  }
  e->load_error = nullptr;
  e->model = std::move(model);
  e->cost.load_bytes = sub_floor(after, before);
  e->measured = true;
  e->state = Entry::State::resident;
  ++e->loads;
  ++stats_.loads;
  measured_cost_sum_ += e->cost.total();
  ++loads_measured_;
  stats_.bytes_resident += cost_of(*e);
  touch(e);
  // It may have cost more than its estimate: unload idle models until the budget holds again
  // (this one is pinned: in_flight is 1).
  shed_over_budget(lock);
  stats_.peak_bytes_resident = std::max(stats_.peak_bytes_resident, stats_.bytes_resident);
  stats_changed(true);
  changed_.notify_all();
  const std::uint64_t mark = load_mark();
  lock.unlock();
  return Lease(this, e, meter_->resident_bytes(), mark);
}

std::uint64_t ModelCache::load_mark() const {
  return loading_count_ > 0 ? kLoadOverlap : loads_begun_;
}

void ModelCache::end_lease(const std::shared_ptr<Entry>& e, std::uint64_t resident_at_start,
                           std::uint64_t load_mark_at_start, std::uint64_t reported_peak) {
  const std::uint64_t observed = std::max(reported_peak, meter_->resident_bytes());
  std::unique_lock lock(mutex_);
  // A load that overlapped the request grew the process too: its growth is not this request's,
  // so such a request teaches nothing (unloads only make a reading smaller: they are harmless).
  const bool attributable = load_mark_at_start != kLoadOverlap && load_mark() == load_mark_at_start;
  const std::uint64_t added = attributable ? sub_floor(observed, resident_at_start) : 0;
  if (added > e->cost.inference_bytes) {
    // Learned as it serves: the model's cost grows to what its requests really add.
    if (e->state == Entry::State::resident)
      stats_.bytes_resident += added - e->cost.inference_bytes;
    e->cost.inference_bytes = added;
  }
  ++e->requests;
  --e->in_flight;
  e->last_used = options_.clock();
  // A cost learned above may have pushed the cache over its budget: back under it by unloading
  // the least recently used idle models.
  shed_over_budget(lock);
  stats_.peak_bytes_resident = std::max(stats_.peak_bytes_resident, stats_.bytes_resident);
  stats_changed(false);
  changed_.notify_all();
}

std::size_t ModelCache::unload_idle() {
  std::unique_lock lock(mutex_);
  if (options_.idle_ttl.count() <= 0) return 0;
  const auto now = options_.clock();
  std::vector<std::shared_ptr<Entry>> victims;
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it)
    if ((*it)->in_flight == 0 && (*it)->state == Entry::State::resident &&
        now - (*it)->last_used >= options_.idle_ttl)
      victims.push_back(*it);
  const std::size_t n = victims.size();
  if (n == 0) return 0;
  stats_.idle_unloads += n;
  unload_now(lock, std::move(victims));
  return n;
}

void ModelCache::clear() {
  std::unique_lock lock(mutex_);
  std::vector<std::shared_ptr<Entry>> victims;
  for (auto it = lru_.rbegin(); it != lru_.rend(); ++it)
    if ((*it)->in_flight == 0 && (*it)->state == Entry::State::resident) victims.push_back(*it);
  if (!victims.empty()) unload_now(lock, std::move(victims));
}

ModelCacheStats ModelCache::stats() const {
  std::lock_guard lock(mutex_);
  ModelCacheStats s = stats_;
  s.models_resident = 0;
  for (const auto& [path, e] : entries_) {
    auto& m = s.models[path];
    m.cost = e->measured ? e->cost : ModelCost{e->estimate_bytes, e->cost.inference_bytes};
    m.resident = e->state == Entry::State::resident;
    m.loads = e->loads;
    m.hits = e->hits;
    m.requests = e->requests;
    if (m.resident) ++s.models_resident;
  }
  return s;
}

void ModelCache::idle_loop() {
  const auto period =
      std::max(std::chrono::milliseconds(10),
               std::chrono::duration_cast<std::chrono::milliseconds>(options_.idle_ttl / 4));
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    idle_wake_.wait_for(lock, period, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    unload_idle();
    lock.lock();
  }
}

}  // namespace infermem
