// ModelCache's parts outside its bookkeeping: the process memory meter, the loader's default
// estimate, refusal names and the stats' JSON (infermem/model_cache.h).
#include <dlfcn.h>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/stat.h>

#include <string>

#include "infermem/model_cache.h"
#include "infermem/probe.h"

namespace infermem {

namespace {

using mallctl_t = int (*)(const char*, void*, size_t*, void*, size_t);

class ProcessMemoryMeter final : public MemoryMeter {
 public:
  std::uint64_t resident_bytes() override {
    auto rss = probe::read_self(probe::kStatus).get(Figure::rss_bytes);
    return rss ? static_cast<std::uint64_t>(*rss) : 0;
  }
  std::uint64_t limit_bytes() override {
    auto limit = probe::read_self(probe::kCgroup).get(Figure::cgroup_limit_bytes);
    return limit ? static_cast<std::uint64_t>(*limit) : 0;
  }
  std::string release_free_memory() override {
    if (auto mallctl = reinterpret_cast<mallctl_t>(dlsym(RTLD_DEFAULT, "mallctl"))) {
      // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
      if (mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0) return "jemalloc purge";
    }
    malloc_trim(0);
    return "malloc_trim(0)";
  }
};

}  // namespace

std::uint64_t ModelLoader::estimate_bytes(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_size);
}

std::unique_ptr<MemoryMeter> process_memory_meter() {
  return std::make_unique<ProcessMemoryMeter>();
}

const char* name(CacheRefused::Reason reason) {
  switch (reason) {
    case CacheRefused::Reason::over_budget:
      return "over-budget";
    case CacheRefused::Reason::over_limit:
      return "over-limit";
    case CacheRefused::Reason::wait_timeout:
      return "wait-timeout";
  }
  return "unknown";
}

nlohmann::json ModelCacheStats::to_json() const {
  nlohmann::json per_model = nlohmann::json::object();
  for (const auto& [path, m] : models)
    per_model[path] = {{"cost_bytes", m.cost.total()},
                       {"load_bytes", m.cost.load_bytes},
                       {"inference_bytes", m.cost.inference_bytes},
                       {"resident", m.resident},
                       {"loads", m.loads},
                       {"hits", m.hits},
                       {"requests", m.requests}};
  return {{"hits", hits},
          {"misses", misses},
          {"loads", loads},
          {"load_failures", load_failures},
          {"coalesced_loads", coalesced_loads},
          {"evictions", evictions},
          {"idle_unloads", idle_unloads},
          {"refusals", refusals},
          {"waits", waits},
          {"bytes_resident", bytes_resident},
          {"peak_bytes_resident", peak_bytes_resident},
          {"models_resident", models_resident},
          {"budget_bytes", budget_bytes},
          {"limit_bytes", limit_bytes},
          {"refusals_by_reason", nlohmann::json(refusals_by_reason)},
          {"stats_write_failures", stats_write_failures},
          {"release_method", release_method},
          {"models", per_model}};
}

ModelCacheStats ModelCacheStats::from_json(const nlohmann::json& j) {
  // Counts are non-negative integers: a negative or fractional one is refused, not wrapped.
  auto count = [](const nlohmann::json& v, const std::string& key) {
    if (!v.is_number_unsigned())
      throw std::invalid_argument(fmt::format("\"{}\" is not a count", key));
    return v.get<std::uint64_t>();
  };
  auto object = [](const nlohmann::json& v, const std::string& key) -> const nlohmann::json& {
    if (!v.is_object()) throw std::invalid_argument(fmt::format("\"{}\" is not an object", key));
    return v;
  };
  object(j, "cache");
  ModelCacheStats s;
  auto u64 = [&](const char* key) { return count(j.at(key), key); };
  s.hits = u64("hits");
  s.misses = u64("misses");
  s.loads = u64("loads");
  s.load_failures = u64("load_failures");
  s.coalesced_loads = u64("coalesced_loads");
  s.evictions = u64("evictions");
  s.idle_unloads = u64("idle_unloads");
  s.refusals = u64("refusals");
  s.waits = u64("waits");
  s.bytes_resident = u64("bytes_resident");
  s.peak_bytes_resident = u64("peak_bytes_resident");
  s.models_resident = u64("models_resident");
  s.budget_bytes = u64("budget_bytes");
  s.limit_bytes = u64("limit_bytes");
  for (const auto& [reason, n] : object(j.at("refusals_by_reason"), "refusals_by_reason").items())
    s.refusals_by_reason[reason] = count(n, reason);
  s.stats_write_failures = u64("stats_write_failures");
  s.release_method = j.at("release_method").get<std::string>();
  for (const auto& [path, m] : object(j.at("models"), "models").items()) {
    object(m, path);
    PerModel& pm = s.models[path];
    pm.cost.load_bytes = count(m.at("load_bytes"), "load_bytes");
    pm.cost.inference_bytes = count(m.at("inference_bytes"), "inference_bytes");
    if (!m.at("resident").is_boolean())
      throw std::invalid_argument("\"resident\" is not true or false");
    pm.resident = m.at("resident").get<bool>();
    pm.loads = count(m.at("loads"), "loads");
    pm.hits = count(m.at("hits"), "hits");
    pm.requests = count(m.at("requests"), "requests");
  }
  return s;
}

// ---- Lease -------------------------------------------------------------------------------------

}  // namespace infermem
