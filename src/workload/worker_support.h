#pragma once
// What the soak child (worker.cpp) does besides running its scenario: memory it leaks or holds
// on purpose, giving freed memory back, checking that an arm's allocator and glibc knobs really
// applied, digests of outputs.
#include <onnxruntime_cxx_api.h>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "infermem/arms.h"
#include "infermem/figure.h"
#include "infermem/model_cache.h"
#include "infermem/soak.h"

namespace infermem {

// The cache scenario's counters at the end of its infer phase (cache_hits, cache_misses).
Figures cache_counts(double hits, double misses);

// The request stream of the cache scenario: model k drawn with weight 1/(k+1)^1.1 (Zipf),
// seeded by the caller, so every arm of a run sees the same stream.
std::discrete_distribution<std::size_t> zipf_over(std::size_t models);

// The cache's counters for the trace, models named by file rather than by path.
nlohmann::json cache_json(const ModelCacheStats& stats);

// --inject-leak: a touched block, kept reachable to the end (LeakSanitizer stays clean).
void inject_leak(std::uint64_t bytes);
// --inject-peak: a touched block, resident while held.
std::unique_ptr<char[]> held_block(std::uint64_t bytes);
// Gives memory back to the OS after unload: glibc's malloc_trim, or jemalloc's purge (the same
// release the model cache does after its unloads). Returns how.
std::string trim_allocator();
// WorkloadError when an allocator arm's preload did not take.
void verify_allocator(const Arm& arm);
// WorkloadError when glibc refuses an arm's malloc_arena_max or mmap_threshold.
void verify_glibc_knobs(const Arm& arm);
// --record-outputs: FNV-1a of each tensor output's bytes, by output name.
nlohmann::json output_digests(const std::vector<std::string>& names,
                              std::vector<Ort::Value>& outputs);
std::vector<std::string> dim_keys(const std::map<std::string, DimRange>& dims);

}  // namespace infermem
