// The soak child's support (workload/worker_support.h).
#include "workload/worker_support.h"

#include <dlfcn.h>
#include <fmt/format.h>
#include <malloc.h>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>

#include "infermem/error.h"
#include "infermem/model_cache.h"
#include "infermem/units.h"
#include "workload/tensor_files.h"

namespace infermem {
namespace {

// Memory the child leaks on purpose (--inject-leak). Reachable from this list, so the tool's
// own LeakSanitizer runs stay clean while RSS grows exactly as a real leak would.
std::vector<std::unique_ptr<char[]>>& injected_leaks() {
  static auto* blocks = new std::vector<std::unique_ptr<char[]>>();
  return *blocks;
}

#if defined(INFERMEM_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

}  // namespace

void inject_leak(std::uint64_t bytes) {
  if (bytes == 0) return;
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 0x5a, bytes);  // touched: resident, as a real leak would be
  static std::mutex mu;                   // --concurrency: threads leak at once
  std::lock_guard<std::mutex> lock(mu);
  injected_leaks().push_back(std::move(block));
}

// --inject-peak: a touched block, resident while held.
std::unique_ptr<char[]> held_block(std::uint64_t bytes) {
  if (bytes == 0) return nullptr;
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 0x5b, bytes);
  return block;
}

// Gives memory back to the OS after unload: glibc's malloc_trim, or jemalloc's purge (the same
// release the model cache does after its unloads).
std::string trim_allocator() {
  return process_memory_meter()->release_free_memory();
}

// An allocator arm must run on that allocator: the preload can fail to take (library missing,
// empty, ignored by the loader) and glibc would serve every malloc silently. Each allocator is
// recognised by an entry point of its own. A sanitizer build never preloads (its runtime owns
// malloc; the parent notes it), so there is nothing to verify there.
void verify_allocator(const Arm& arm) {
  const std::string wanted = arm.knob("allocator");
  if (kSanitized || wanted == "glibc" || wanted == "default" || wanted.empty()) return;
  const char* symbol = wanted == "jemalloc"   ? "mallctl"
                       : wanted == "mimalloc" ? "mi_version"
                       : wanted == "tcmalloc" ? "tc_version"
                                              : nullptr;
  if (!symbol) return;
  if (!dlsym(RTLD_DEFAULT, symbol))
    throw WorkloadError(fmt::format(
        "arm {}: allocator={} requested, but this process runs on glibc malloc ({} not found): "
        "the preload of {} did not take",
        arm.name, wanted, symbol, allocator_library(wanted)));
}

// glibc's knobs (malloc_arena_max, mmap_threshold) reach the child through its environment, which
// glibc reads once and ignores silently when a value is out of its range or the variable is not
// honoured. The worker applies each again through mallopt, glibc's own entry point, which says
// whether it took; a refusal fails the arm. (A sanitizer build's runtime owns malloc: the parent
// notes that these knobs were not applied, and there is nothing to check here.)
void verify_glibc_knobs(const Arm& arm) {
  if (kSanitized) return;
  struct Knob {
    const char* key;
    int param;
  };
  for (const Knob k :
       {Knob{"malloc_arena_max", M_ARENA_MAX}, Knob{"mmap_threshold", M_MMAP_THRESHOLD}}) {
    const std::string& value = arm.knob(k.key);
    if (value.empty() || value == "default") continue;
    const std::uint64_t n = std::string_view(k.key) == "mmap_threshold"
                                ? parse_size(value, k.key)
                                : parse_count(value, k.key, 0, INT32_MAX);
    if (mallopt(k.param, static_cast<int>(n)) != 1)
      throw WorkloadError(fmt::format("arm {}: {}={} did not apply: glibc's mallopt refused {}",
                                      arm.name, k.key, value, n));
  }  // glibc has no mallopt for the tcache: check that the tunable reached this process.
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (arm.knob("malloc_tcache") == "off" &&
      (!tunables || !std::strstr(tunables, "glibc.malloc.tcache_count=0")))
    throw WorkloadError(
        fmt::format("arm {}: malloc_tcache=off did not reach the child (GLIBC_TUNABLES is '{}')",
                    arm.name, tunables ? tunables : ""));
}

// --record-outputs: FNV-1a of each tensor output's bytes, by output name.
nlohmann::json output_digests(const std::vector<std::string>& names,
                              std::vector<Ort::Value>& outputs) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t k = 0; k < outputs.size() && k < names.size(); ++k) {
    if (!outputs[k].IsTensor()) continue;
    auto info = outputs[k].GetTensorTypeAndShapeInfo();
    const std::size_t esize = element_size(info.GetElementType());
    if (esize == 0) continue;
    out[names[k]] =
        fnv1a_hex(outputs[k].GetTensorMutableData<std::uint8_t>(), info.GetElementCount() * esize);
  }
  return out;
}

std::vector<std::string> dim_keys(const std::map<std::string, DimRange>& dims) {
  std::vector<std::string> keys;
  for (const auto& [k, _] : dims) keys.push_back(k);
  return keys;
}

Figures cache_counts(double hits, double misses) {
  Figures f;
  f.set(Figure::cache_hits, hits);
  f.set(Figure::cache_misses, misses);
  return f;
}

std::discrete_distribution<std::size_t> zipf_over(std::size_t models) {
  std::vector<double> weights(models);
  for (std::size_t k = 0; k < models; ++k)
    weights[k] = 1.0 / std::pow(static_cast<double>(k + 1), 1.1);
  return {weights.begin(), weights.end()};
}

nlohmann::json cache_json(const ModelCacheStats& stats) {
  nlohmann::json j = stats.to_json();
  nlohmann::json models = nlohmann::json::object();
  for (const auto& [path, m] : j["models"].items())
    models[path.substr(path.find_last_of('/') + 1)] = m;
  j["models"] = models;
  return j;
}

}  // namespace infermem
