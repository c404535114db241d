// ModelCache against a simulated process: a fake loader whose models add their size to a fake
// resident set while they live, and a fake meter reading it. No ONNX Runtime, no real memory:
// every figure is exact, so the tests assert exact accounting. This file is also the
// ThreadSanitizer program of `make test-tsan` (it needs nothing but the cache).
#include "infermem/model_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "infermem/cache_stats_file.h"

using namespace infermem;
using namespace std::chrono_literals;

namespace {

// The process the cache runs in: what is resident, the limit, trims, and a gate loads wait on.
struct FakeProcess {
  std::mutex mutex;
  std::uint64_t rss = 0;
  std::uint64_t peak_rss = 0;
  std::uint64_t limit = 0;
  int trims = 0;
  int loads_started = 0;
  std::map<std::string, std::uint64_t> sizes;
  std::map<std::string, std::uint64_t> estimates;  // what the file size says, when it lies
  std::map<std::string, int> live;                 // models alive, by path
  bool gate_open = true;
  std::condition_variable gate;
  std::string fail_path;

  void add(std::uint64_t bytes) {
    std::lock_guard lock(mutex);
    rss += bytes;
    peak_rss = std::max(peak_rss, rss);
  }
  std::uint64_t resident() {
    std::lock_guard lock(mutex);
    return rss;
  }
  int live_count(const std::string& path) {
    std::lock_guard lock(mutex);
    return live[path];
  }
};

class FakeModel : public CachedModel {
 public:
  FakeModel(FakeProcess& p, std::string path, std::uint64_t bytes)
      : p_(p), path_(std::move(path)), bytes_(bytes) {
    p_.add(bytes_);
    std::lock_guard lock(p_.mutex);
    ++p_.live[path_];
  }
  ~FakeModel() override {
    std::lock_guard lock(p_.mutex);
    p_.rss -= bytes_;
    --p_.live[path_];
  }
  const std::string& path() const { return path_; }

 private:
  FakeProcess& p_;
  std::string path_;
  std::uint64_t bytes_;
};

class FakeLoader : public ModelLoader {
 public:
  explicit FakeLoader(FakeProcess& p) : p_(p) {}
  std::unique_ptr<CachedModel> load(const std::string& path) override {
    std::uint64_t bytes = 0;
    {
      std::unique_lock lock(p_.mutex);
      ++p_.loads_started;
      p_.gate.wait(lock, [&] { return p_.gate_open; });
      if (path == p_.fail_path) throw std::runtime_error("cannot load " + path);
      bytes = p_.sizes.at(path);
    }
    return std::make_unique<FakeModel>(p_, path, bytes);
  }
  std::uint64_t estimate_bytes(const std::string& path) override {
    std::lock_guard lock(p_.mutex);
    if (auto it = p_.estimates.find(path); it != p_.estimates.end()) return it->second;
    return p_.sizes.at(path);
  }

 private:
  FakeProcess& p_;
};

class FakeMeter : public MemoryMeter {
 public:
  explicit FakeMeter(FakeProcess& p) : p_(p) {}
  std::uint64_t resident_bytes() override { return p_.resident(); }
  std::uint64_t limit_bytes() override {
    std::lock_guard lock(p_.mutex);
    return p_.limit;
  }
  std::string release_free_memory() override {
    std::lock_guard lock(p_.mutex);
    ++p_.trims;
    return "fake trim";
  }

 private:
  FakeProcess& p_;
};

// A clock the test moves by hand (the TTL tests never sleep).
struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> ms = std::make_shared<std::atomic<std::int64_t>>(0);
  std::function<std::chrono::steady_clock::time_point()> fn() const {
    auto p = ms;
    return [p] { return std::chrono::steady_clock::time_point(std::chrono::milliseconds(*p)); };
  }
  void advance(std::chrono::milliseconds d) { *ms += d.count(); }
};

struct Fixture {
  FakeProcess process;
  explicit Fixture(std::map<std::string, std::uint64_t> sizes, std::uint64_t limit = 0) {
    process.sizes = std::move(sizes);
    process.limit = limit;
  }
  std::unique_ptr<ModelCache> cache(ModelCacheOptions options) {
    return std::make_unique<ModelCache>(std::make_unique<FakeLoader>(process),
                                        std::make_unique<FakeMeter>(process), std::move(options));
  }
};

void use(ModelCache& cache, const std::string& path) {
  auto lease = cache.acquire(path);
  EXPECT_EQ(dynamic_cast<FakeModel&>(lease.model()).path(), path);
}

std::vector<std::string> resident(const ModelCacheStats& s) {
  std::vector<std::string> out;
  for (const auto& [path, m] : s.models)
    if (m.resident) out.push_back(path);
  return out;
}

ModelCacheOptions budget(std::uint64_t bytes) {
  ModelCacheOptions o;
  o.budget_bytes = bytes;
  return o;
}

}  // namespace

TEST(ModelCache, LoadsLazilyOnceAndHitsAfterwards) {
  Fixture f({{"a", 100}});
  auto cache = f.cache(budget(1000));
  EXPECT_EQ(f.process.loads_started, 0);  // nothing loads before the first request
  use(*cache, "a");
  use(*cache, "a");
  use(*cache, "a");
  auto s = cache->stats();
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.models.at("a").requests, 3u);
  EXPECT_EQ(f.process.live_count("a"), 1);
}

TEST(ModelCache, EvictsTheLeastRecentlyUsedWhenTheBudgetIsFull) {
  Fixture f({{"a", 100}, {"b", 100}, {"c", 100}, {"d", 100}});
  auto cache = f.cache(budget(300));
  use(*cache, "a");
  use(*cache, "b");
  use(*cache, "c");
  use(*cache, "a");  // b is now the least recently used
  use(*cache, "d");
  auto s = cache->stats();
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(resident(s), (std::vector<std::string>{"a", "c", "d"}));
  EXPECT_EQ(f.process.live_count("b"), 0);
  EXPECT_EQ(f.process.trims, 1);  // the allocator is trimmed after the unload
  EXPECT_EQ(s.release_method, "fake trim");
}

TEST(ModelCache, EvictsByBytesNotByCount) {
  // One big model needs the room of two small ones: the two least recently used go, not one.
  Fixture f({{"s1", 100}, {"s2", 100}, {"s3", 100}, {"big", 250}});
  auto cache = f.cache(budget(400));
  use(*cache, "s1");
  use(*cache, "s2");
  use(*cache, "s3");
  use(*cache, "big");  // needs 250: 300 + 250 - 400 = 150 to free -> s1 and s2
  auto s = cache->stats();
  EXPECT_EQ(s.evictions, 2u);
  EXPECT_EQ(resident(s), (std::vector<std::string>{"big", "s3"}));
  EXPECT_EQ(s.bytes_resident, 350u);
  EXPECT_LE(s.peak_bytes_resident, 400u);
}

TEST(ModelCache, AccountsMeasuredLoadAndInferenceCost) {
  Fixture f({{"a", 100}, {"b", 60}});
  auto cache = f.cache(budget(1000));
  {
    auto lease = cache->acquire("a");
    lease.report_peak_bytes(f.process.resident() + 40);  // this request rose 40 above its start
  }
  use(*cache, "b");
  auto s = cache->stats();
  EXPECT_EQ(s.models.at("a").cost.load_bytes, 100u);
  EXPECT_EQ(s.models.at("a").cost.inference_bytes, 40u);
  EXPECT_EQ(s.models.at("b").cost.total(), 60u);
  EXPECT_EQ(s.bytes_resident, 200u);
  // A later, smaller peak does not lower the learned cost.
  {
    auto lease = cache->acquire("a");
    lease.report_peak_bytes(f.process.resident() + 10);
  }
  EXPECT_EQ(cache->stats().models.at("a").cost.inference_bytes, 40u);
  cache->clear();
  s = cache->stats();
  EXPECT_EQ(s.bytes_resident, 0u);
  EXPECT_EQ(f.process.resident(), 0u);
  EXPECT_EQ(s.models.at("a").cost.total(), 140u);  // remembered for the next load
}

TEST(ModelCache, TheLearnedCostDrivesTheNextEviction) {
  Fixture f({{"a", 100}, {"b", 100}, {"c", 100}});
  auto cache = f.cache(budget(300));
  {
    auto lease = cache->acquire("a");
    lease.report_peak_bytes(f.process.resident() + 50);
  }
  use(*cache, "b");  // 150 + 100 = 250 fits
  use(*cache, "c");  // 250 + 100 > 300: a, the least recently used, goes
  EXPECT_EQ(resident(cache->stats()), (std::vector<std::string>{"b", "c"}));
}

TEST(ModelCache, ANeverLoadedModelIsEstimatedAtWhatLoadedOnesCost) {
  // Files of 10 that load to 100 (a session holds more than its file): after the first load,
  // the next model's estimate is the 100 measured, so room is made before it loads and the
  // process never holds more than the budget.
  Fixture f({{"a", 100}, {"b", 100}, {"c", 100}});
  f.process.estimates = {{"a", 10}, {"b", 10}, {"c", 10}};
  auto cache = f.cache(budget(250));
  use(*cache, "a");
  use(*cache, "b");
  use(*cache, "c");  // 200 + 100 > 250: a goes first
  auto s = cache->stats();
  EXPECT_EQ(resident(s), (std::vector<std::string>{"b", "c"}));
  EXPECT_LE(f.process.peak_rss, 250u);
  EXPECT_LE(s.peak_bytes_resident, 250u);
}

TEST(ModelCache, RefusesAModelLargerThanTheWholeBudget) {
  Fixture f({{"huge", 500}});
  auto cache = f.cache(budget(300));
  try {
    cache->acquire("huge");
    FAIL() << "expected CacheRefused";
  } catch (const CacheRefused& e) {
    EXPECT_EQ(e.reason(), CacheRefused::Reason::over_budget);
    EXPECT_NE(std::string(e.what()).find("huge"), std::string::npos);
  }
  EXPECT_EQ(cache->stats().refusals, 1u);
  EXPECT_EQ(cache->stats().refusals_by_reason.at("over-budget"), 1u);
  EXPECT_EQ(f.process.loads_started, 0);  // refused before anything was loaded
}

TEST(ModelCache, UnloadsIdleModelsAfterTheTtl) {
  Fixture f({{"a", 100}, {"b", 100}});
  ManualClock clock;
  ModelCacheOptions o = budget(1000);
  o.idle_ttl = 1000ms;
  o.clock = clock.fn();
  auto cache = f.cache(o);
  use(*cache, "a");
  clock.advance(600ms);
  auto held = cache->acquire("b");  // in use: never unloaded, however long
  EXPECT_EQ(cache->unload_idle(), 0u);
  clock.advance(600ms);  // a idle 1200 ms
  EXPECT_EQ(cache->unload_idle(), 1u);
  clock.advance(5000ms);
  EXPECT_EQ(cache->unload_idle(), 0u);  // b is still held
  held.release();
  clock.advance(1000ms);
  EXPECT_EQ(cache->unload_idle(), 1u);
  auto s = cache->stats();
  EXPECT_EQ(s.idle_unloads, 2u);
  EXPECT_EQ(s.evictions, 0u);
  EXPECT_EQ(s.models_resident, 0u);
  EXPECT_EQ(f.process.resident(), 0u);
  EXPECT_EQ(f.process.trims, 2);
  use(*cache, "a");  // loads again on the next request
  EXPECT_EQ(cache->stats().loads, 3u);
}

TEST(ModelCache, TheIdleThreadUnloadsWithoutBeingAsked) {
  Fixture f({{"a", 100}});
  ModelCacheOptions o = budget(1000);
  o.idle_ttl = 20ms;
  o.idle_thread = true;
  auto cache = f.cache(o);
  use(*cache, "a");
  // Bounded by the test's patience, not by a timing claim: on a loaded machine it takes longer.
  for (int i = 0; i < 1000 && cache->stats().idle_unloads == 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(cache->stats().idle_unloads, 1u);
  EXPECT_EQ(f.process.live_count("a"), 0);
}

TEST(ModelCache, RefusesALoadOverTheLimitWhenNothingCanBeUnloaded) {
  Fixture f({{"a", 100}, {"b", 100}, {"c", 100}}, /*limit=*/250);
  auto cache = f.cache(ModelCacheOptions{});
  EXPECT_EQ(cache->limit_bytes(), 250u);
  auto la = cache->acquire("a");
  auto lb = cache->acquire("b");
  try {
    cache->acquire("c");  // 200 + 100 > 250, both in use, no wait allowed
    FAIL() << "expected CacheRefused";
  } catch (const CacheRefused& e) {
    EXPECT_EQ(e.reason(), CacheRefused::Reason::wait_timeout);
  }
  EXPECT_EQ(f.process.live_count("c"), 0);
  EXPECT_LE(f.process.peak_rss, 250u);
  la.release();
  use(*cache, "c");  // a is idle now: unloaded to make room
  auto s = cache->stats();
  EXPECT_EQ(s.refusals, 1u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_LE(f.process.peak_rss, 250u);
}

TEST(ModelCache, RefusesWhatCannotFitUnderTheLimitEvenAlone) {
  Fixture f({{"a", 300}}, /*limit=*/1000);
  ModelCacheOptions o;
  o.limit_cap_bytes = 200;  // a configured cap below the cgroup's limit wins
  auto cache = f.cache(o);
  EXPECT_EQ(cache->limit_bytes(), 200u);
  try {
    cache->acquire("a");
    FAIL() << "expected CacheRefused";
  } catch (const CacheRefused& e) {
    EXPECT_EQ(e.reason(), CacheRefused::Reason::over_limit);
  }
}

TEST(ModelCache, ALoadWaitsForAnInFlightRequestToEnd) {
  Fixture f({{"a", 100}, {"b", 100}}, /*limit=*/150);
  ModelCacheOptions o;
  o.admission_wait = 60s;  // the test ends it long before: the release below wakes the load
  auto cache = f.cache(o);
  auto la = cache->acquire("a");
  std::atomic<bool> loaded{false};
  std::thread t([&] {
    use(*cache, "b");
    loaded = true;
  });
  for (int i = 0; i < 1000 && cache->stats().waits == 0; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_FALSE(loaded.load());
  EXPECT_GE(cache->stats().waits, 1u);
  la.release();
  t.join();
  EXPECT_TRUE(loaded.load());
  EXPECT_LE(f.process.peak_rss, 150u);
  EXPECT_EQ(cache->stats().refusals, 0u);
}

TEST(ModelCache, CoalescesConcurrentLoadsOfOneModel) {
  Fixture f({{"a", 100}});
  f.process.gate_open = false;
  auto cache = f.cache(budget(1000));
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { use(*cache, "a"); });
  // Every caller has asked (8 misses) before the one load is let through.
  for (int i = 0; i < 2000 && cache->stats().misses < 8; ++i) std::this_thread::sleep_for(5ms);
  {
    std::lock_guard lock(f.process.mutex);
    f.process.gate_open = true;
  }
  f.process.gate.notify_all();
  for (auto& t : threads) t.join();
  auto s = cache->stats();
  EXPECT_EQ(s.loads, 1u);
  EXPECT_EQ(f.process.loads_started, 1);
  EXPECT_EQ(s.coalesced_loads, 7u);
  EXPECT_EQ(s.models.at("a").requests, 8u);
  EXPECT_EQ(f.process.live_count("a"), 1);
}

TEST(ModelCache, AFailedLoadReachesEveryWaiterAndCanBeRetried) {
  Fixture f({{"bad", 100}});
  f.process.fail_path = "bad";
  auto cache = f.cache(budget(1000));
  EXPECT_THROW(cache->acquire("bad"), std::runtime_error);
  EXPECT_EQ(cache->stats().load_failures, 1u);
  EXPECT_EQ(cache->stats().bytes_resident, 0u);  // the reservation is given back
  {
    std::lock_guard lock(f.process.mutex);
    f.process.fail_path.clear();
  }
  use(*cache, "bad");
  EXPECT_EQ(cache->stats().loads, 1u);
}

TEST(ModelCache, StaysWithinBudgetAndLimitUnderEightThreads) {
  std::map<std::string, std::uint64_t> sizes;
  for (int i = 0; i < 6; ++i) sizes["m" + std::to_string(i)] = 100;
  Fixture f(sizes, /*limit=*/450);
  ModelCacheOptions o = budget(300);
  o.admission_wait = 120s;  // never reached: some lease always ends soon
  auto cache = f.cache(o);
  constexpr int kThreads = 8, kRequests = 150;
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<unsigned>(t + 1));
      std::uniform_int_distribution<int> pick(0, 5);
      for (int i = 0; i < kRequests; ++i) {
        try {
          use(*cache, "m" + std::to_string(pick(rng)));
        } catch (const CacheRefused&) {
          ++refused;
        }
      }
    });
  for (auto& t : threads) t.join();
  auto s = cache->stats();
  EXPECT_EQ(refused.load(), 0);
  EXPECT_EQ(s.hits + s.misses, static_cast<std::uint64_t>(kThreads * kRequests));
  EXPECT_LE(f.process.peak_rss, 450u);  // the limit held the whole time
  EXPECT_LE(s.peak_bytes_resident, 300u);
  EXPECT_EQ(s.loads - s.evictions - s.idle_unloads, s.models_resident);
  EXPECT_EQ(f.process.resident(), 100 * s.models_resident);  // nothing leaked or double-freed
  cache->clear();
  EXPECT_EQ(f.process.resident(), 0u);
}

TEST(ModelCache, AZipfStreamWithLearnedCostsStaysWithinTheBudget) {
  // The incident bench's shape at fake scale: 12 models whose files understate what they load
  // to, requests that add 10-40 on top, a skewed stream, one budget.
  std::map<std::string, std::uint64_t> sizes, estimates;
  for (int i = 0; i < 12; ++i) {
    sizes["m" + std::to_string(i)] = 120 + 4 * static_cast<std::uint64_t>(i);
    estimates["m" + std::to_string(i)] = 64;
  }
  Fixture f(sizes, /*limit=*/1024);
  f.process.estimates = estimates;
  auto cache = f.cache(budget(600));
  std::vector<double> weights;
  for (int k = 0; k < 12; ++k) weights.push_back(1.0 / std::pow(k + 1, 1.1));
  std::discrete_distribution<int> zipf(weights.begin(), weights.end());
  std::mt19937_64 rng(7);
  for (int i = 0; i < 400; ++i) {
    const int k = zipf(rng);
    auto lease = cache->acquire("m" + std::to_string(k));
    lease.report_peak_bytes(f.process.resident() + 10 + 3 * static_cast<std::uint64_t>(k));
    ASSERT_LE(cache->stats().bytes_resident, 600u) << "request " << i;
  }
  EXPECT_LE(cache->stats().peak_bytes_resident, 600u);
  EXPECT_EQ(cache->stats().refusals, 0u);
}

namespace {

// A fresh directory for a stats file (removed by the test).
std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "infermem-cache-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

// The stats file's snapshot, or nullopt while it is missing or unreadable.
std::optional<CacheStatsFile> read_stats(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return parse_cache_stats(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Polls until pred holds of the file's snapshot; the bound is for a machine that stalls, the
// publisher writes within milliseconds.
template <class Pred>
bool stats_file_shows(const std::string& path, Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < until) {
    if (auto f = read_stats(path); f && pred(*f)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

}  // namespace

TEST(ModelCacheStatsFile, LoadsEvictionsAndRefusalsArePublishedAtOnce) {
  const std::string dir = temp_dir();
  const std::string path = dir + "/stats.json";
  Fixture f({{"a", 100}, {"b", 100}, {"c", 100}, {"huge", 500}});
  ModelCacheOptions o = budget(250);
  o.stats_path = path;
  o.stats_every = std::chrono::hours(1);  // only the urgent writes can show these in time
  auto cache = f.cache(o);
  // The first write: the counters at zero, with the budget.
  EXPECT_TRUE(stats_file_shows(path, [](const CacheStatsFile& s) {
    return s.stats.budget_bytes == 250 && s.stats.loads == 0;
  }));
  use(*cache, "a");
  EXPECT_TRUE(stats_file_shows(path, [](const CacheStatsFile& s) { return s.stats.loads == 1; }));
  use(*cache, "b");
  use(*cache, "c");  // evicts a
  EXPECT_TRUE(
      stats_file_shows(path, [](const CacheStatsFile& s) { return s.stats.evictions == 1; }));
  EXPECT_THROW(cache->acquire("huge"), CacheRefused);
  EXPECT_TRUE(stats_file_shows(path, [](const CacheStatsFile& s) {
    return s.stats.refusals == 1 && s.stats.refusals_by_reason.count("over-budget") == 1;
  }));
  const ModelCacheStats last = cache->stats();
  cache.reset();  // publishes once more as it goes
  auto final_file = read_stats(path);
  ASSERT_TRUE(final_file);
  EXPECT_EQ(final_file->pid, static_cast<int>(::getpid()));
  EXPECT_EQ(final_file->stats.to_json(), last.to_json());
  EXPECT_EQ(final_file->stats.models.size(), 4u);
  std::filesystem::remove_all(dir);
}

TEST(ModelCacheStatsFile, AFailedWriteIsCountedNeverThrown) {
  Fixture f({{"a", 100}});
  ModelCacheOptions o = budget(1000);
  o.stats_path = "/proc/infermem-no-such-dir/stats.json";  // cannot be created
  o.stats_every = 1ms;
  auto cache = f.cache(o);
  for (int i = 0; i < 3; ++i) use(*cache, "a");  // requests are served all the same
  const auto until = std::chrono::steady_clock::now() + 30s;
  while (cache->stats().stats_write_failures == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  EXPECT_GE(cache->stats().stats_write_failures, 1u);
  EXPECT_EQ(cache->stats().hits, 2u);
}

TEST(ModelCacheStatsFile, TheEnvironmentNamesTheFileUnlessTheOptionsSayOtherwise) {
  const std::string dir = temp_dir();
  const std::string from_env = dir + "/from-env.json";
  ::setenv(kCacheStatsEnv, from_env.c_str(), 1);
  Fixture f({{"a", 100}});
  {
    auto cache = f.cache(budget(1000));
    use(*cache, "a");
  }
  {
    ModelCacheOptions o = budget(1000);
    o.stats_path = "";  // never published
    auto cache = f.cache(o);
    use(*cache, "a");
    use(*cache, "a");
  }
  ::unsetenv(kCacheStatsEnv);
  auto published = read_stats(from_env);
  ASSERT_TRUE(published);
  EXPECT_EQ(published->stats.loads, 1u);
  EXPECT_EQ(published->stats.hits, 0u);  // the second cache did not write there
  std::filesystem::remove_all(dir);
}
