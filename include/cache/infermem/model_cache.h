#pragma once
// ModelCache: the sessions of a multi-model service, held against a byte budget instead of an
// entry count. Each model's cost is measured, not guessed: the process's resident memory grown
// by its load, plus the most its requests have added on top (learned as it serves). Models load
// lazily from their file path, the least recently used are unloaded by bytes when a load needs
// room, idle ones after a TTL, and the allocator is trimmed after each unload. A load or a
// request that would not fit under the process's real limit (its memory cgroup's, or a
// configured cap) waits for in-flight requests to finish, or fails with CacheRefused: never an
// OOM kill. How models are loaded and how memory is read are interfaces (ModelLoader,
// MemoryMeter), so the cache runs with ONNX Runtime sessions in a service and with fakes in tests.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace infermem {

// A loaded model, as the cache holds it. Destroying it unloads the model.
class CachedModel {
 public:
  virtual ~CachedModel() = default;
};

// Loads a model from its file path (never from a copy of its bytes). Throws on failure; the
// cache passes the exception to every caller waiting for that load.
class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  virtual std::unique_ptr<CachedModel> load(const std::string& path) = 0;
  // What a model is expected to cost before it was ever loaded (default: its file's size, since
  // a session holds at least its weights).
  virtual std::uint64_t estimate_bytes(const std::string& path);
};

// Reads the process's memory and gives free memory back to the OS.
class MemoryMeter {
 public:
  virtual ~MemoryMeter() = default;
  virtual std::uint64_t resident_bytes() = 0;  // now (VmRSS)
  // The limit the process really runs under (its memory cgroup's), 0 when none.
  virtual std::uint64_t limit_bytes() = 0;
  // After an unload: returns how ("malloc_trim(0)", "jemalloc purge").
  virtual std::string release_free_memory() = 0;
};

// The real process: VmRSS from /proc/self/status, the limit from its memory cgroup (read with
// the probe), malloc_trim(0) on glibc or arena purge on jemalloc (mallctl, when loaded).
std::unique_ptr<MemoryMeter> process_memory_meter();

// A load or request that cannot fit, typed so a service can answer "busy" instead of dying.
class CacheRefused : public std::runtime_error {
 public:
  enum class Reason {
    over_budget,  // the model alone costs more than the whole budget
    over_limit,   // it would not fit under the process's limit, even with everything idle gone
    wait_timeout  // it would fit once in-flight requests end, but they did not end in time
  };
  CacheRefused(Reason reason, const std::string& message)
      : std::runtime_error(message), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};
const char* name(CacheRefused::Reason reason);

struct ModelCacheOptions {
  std::uint64_t budget_bytes = 0;  // sum of resident models' costs; 0 = no budget
  // The process's limit: 0 = the meter's (cgroup) limit; otherwise this cap (the lower of both).
  std::uint64_t limit_cap_bytes = 0;
  // Kept free under the limit for what the cache does not see (inputs, outputs, the runtime).
  std::uint64_t limit_headroom_bytes = 0;
  std::chrono::milliseconds idle_ttl{0};        // 0 = models stay until evicted
  bool idle_thread = false;                     // unload idle models from a background thread
  bool trim_after_unload = true;                // meter.release_free_memory() after unloads
  std::chrono::milliseconds admission_wait{0};  // how long a request waits for room
  // The cache's clock (tests move it by hand).
  std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
  // Where the counters are published for `infermem watch` (infermem/cache_stats_file.h): unset,
  // the INFERMEM_CACHE_STATS environment variable when it names a file; "" never. A background
  // thread rewrites the file (temp file + rename) on every load, eviction, unload and refusal,
  // and on other changes at most every `stats_every`; a request never waits for it, and a write
  // that fails is counted (ModelCacheStats::stats_write_failures), never thrown.
  std::optional<std::string> stats_path;
  std::chrono::milliseconds stats_every{250};
};

// What one model has cost, as measured.
struct ModelCost {
  std::uint64_t load_bytes = 0;       // resident growth across its load
  std::uint64_t inference_bytes = 0;  // the most a request added on top (RSS or reported peak)
  std::uint64_t total() const { return load_bytes + inference_bytes; }
};

struct ModelCacheStats {
  std::uint64_t hits = 0, misses = 0, loads = 0, load_failures = 0, coalesced_loads = 0;
  std::uint64_t evictions = 0, idle_unloads = 0, refusals = 0, waits = 0;
  // The resident models' costs plus the bytes reserved for loads in progress (what the budget
  // holds), so it can be above 0 while models_resident is 0.
  std::uint64_t bytes_resident = 0;
  std::uint64_t peak_bytes_resident = 0;
  std::uint64_t models_resident = 0;
  std::uint64_t budget_bytes = 0;  // the configured budget (0 = none)
  std::uint64_t limit_bytes = 0;   // the limit admission checks against (0 = none)
  // Refusals by reason (name(CacheRefused::Reason)); they sum to `refusals`.
  std::map<std::string, std::uint64_t> refusals_by_reason;
  std::uint64_t stats_write_failures = 0;  // publishing to the stats file failed (never thrown)
  std::string release_method;              // how the last unload gave memory back ("" = never)
  struct PerModel {
    ModelCost cost;
    bool resident = false;
    std::uint64_t loads = 0, hits = 0, requests = 0;
  };
  std::map<std::string, PerModel> models;  // by path
  nlohmann::json to_json() const;
  // The inverse of to_json; throws nlohmann::json::exception on a missing key and
  // std::invalid_argument on a value of the wrong kind (a negative count, a list for an object).
  static ModelCacheStats from_json(const nlohmann::json& j);
};

class ModelCache {
  struct Entry;

 public:
  // A model pinned for one request: it cannot be unloaded until the lease ends. Not copyable.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    CachedModel& model() const;
    // The process's highest resident bytes seen during the request (e.g. VmHWM or a sampler's
    // peak), when the caller has it; otherwise the cache reads resident bytes at release.
    void report_peak_bytes(std::uint64_t bytes) { reported_peak_ = bytes; }
    void release();  // ends the lease early

   private:
    friend class ModelCache;
    Lease(ModelCache* cache, std::shared_ptr<Entry> entry, std::uint64_t resident_at_start,
          std::uint64_t load_mark_at_start);
    ModelCache* cache_ = nullptr;
    std::shared_ptr<Entry> entry_;
    std::uint64_t resident_at_start_ = 0;
    std::uint64_t load_mark_at_start_ = 0;
    std::uint64_t reported_peak_ = 0;
  };

  ModelCache(std::unique_ptr<ModelLoader> loader, std::unique_ptr<MemoryMeter> meter,
             ModelCacheOptions options);
  ~ModelCache();  // unloads everything; every lease must have ended
  ModelCache(const ModelCache&) = delete;
  ModelCache& operator=(const ModelCache&) = delete;

  // The model at `path`, loaded if it is not resident (one load however many callers ask at
  // once). Throws CacheRefused when it cannot fit, or the loader's exception.
  Lease acquire(const std::string& path);

  // Unloads models idle for longer than the TTL; returns how many. (The idle thread calls it.)
  std::size_t unload_idle();
  // Unloads every model not in use.
  void clear();

  ModelCacheStats stats() const;
  // The limit admission checks against (0 = none): the cap, the meter's, or the lower of both.
  std::uint64_t limit_bytes() const { return limit_bytes_; }

 private:
  using Clock = std::chrono::steady_clock;
  void end_lease(const std::shared_ptr<Entry>& entry, std::uint64_t resident_at_start,
                 std::uint64_t load_mark_at_start, std::uint64_t reported_peak);
  std::shared_ptr<Entry> entry_for(const std::string& path);
  // acquire()'s two ends, under `lock` (released on return): lease a resident model (counted:
  // its miss was already counted), or load an absent one as this caller and lease it.
  Lease lease_resident(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Entry>& e,
                       bool counted);
  Lease load_and_lease(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Entry>& e,
                       const std::string& path, bool counted);
  void make_room(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Entry>& wanted,
                 std::uint64_t need_bytes, bool loading);
  std::unique_ptr<CachedModel> take_for_unload(Entry& e);
  void unload_now(std::unique_lock<std::mutex>& lock, std::vector<std::shared_ptr<Entry>> victims);
  std::uint64_t cost_of(const Entry& e) const;
  void shed_over_budget(std::unique_lock<std::mutex>& lock);
  void touch(const std::shared_ptr<Entry>& e);
  [[noreturn]] void refuse(CacheRefused::Reason reason, const std::string& message);
  void idle_loop();
  // The stats file: a change to publish (`urgent`: now, else at the next period), the thread.
  void stats_changed(bool urgent);
  void publish_loop();
  void publish_once();

  std::unique_ptr<ModelLoader> loader_;
  std::unique_ptr<MemoryMeter> meter_;
  ModelCacheOptions options_;
  std::uint64_t limit_bytes_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a load ended, a lease ended, a model was unloaded
  std::mutex load_mutex_;            // loads run one at a time: each one's growth is its own
  std::map<std::string, std::shared_ptr<Entry>> entries_;
  std::list<std::shared_ptr<Entry>> lru_;  // resident models, most recently used first
  ModelCacheStats stats_;
  std::size_t unloads_running_ = 0;
  std::uint64_t loading_bytes_ = 0;      // admitted loads not finished yet
  std::size_t loading_count_ = 0;        // loads in progress
  std::uint64_t measured_cost_sum_ = 0;  // every finished load's cost, summed
  std::uint64_t loads_measured_ = 0;
  std::uint64_t loads_begun_ = 0;  // every load ever admitted
  static constexpr std::uint64_t kLoadOverlap = ~std::uint64_t{0};
  std::uint64_t load_mark() const;  // loads_begun_, or kLoadOverlap while one is in progress

  bool stopping_ = false;
  std::condition_variable idle_wake_;
  std::thread idle_thread_;

  std::string stats_path_;  // "" = not published
  std::mutex publish_mutex_;
  std::condition_variable publish_wake_;
  bool publish_urgent_ = false, publish_stop_ = false;
  std::atomic<std::uint64_t> stats_version_{0};
  std::uint64_t publish_seq_ = 0;  // the publisher thread's alone
  std::thread publish_thread_;
};

}  // namespace infermem
