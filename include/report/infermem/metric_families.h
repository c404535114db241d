#pragma once
// The Prometheus metric families infermem exposes: name, HELP and TYPE, in one place for the two
// writers of them, so their names and help cannot drift apart: `watch --metrics-port`'s live
// endpoint (src/app/watch_metrics.cpp, through prometheus-cpp) and the Prometheus reporter of a
// finished run (render(..., Format::prometheus), src/report/prometheus.cpp). docs/monitoring.md
// lists the live endpoint's with their labels.
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "infermem/model_cache.h"

namespace infermem::metrics {

struct Family {
  std::string_view name;
  std::string_view help;
  std::string_view type;  // "gauge" or "counter"
};

// --- watch: the process tree ---------------------------------------------------------------
inline constexpr Family kWatchMemoryBytes{
    "infermem_watch_memory_bytes",
    "Resident memory of the watched process tree by kind (rss: VmRSS; anon, file, shmem: its "
    "split; pss: proportional set size)",
    "gauge"};
inline constexpr Family kWatchHwmBytes{
    "infermem_watch_hwm_bytes",
    "VmHWM: the kernel's high-water mark of resident memory over the process lifetime (summed "
    "over the tree)",
    "gauge"};
inline constexpr Family kWatchCgroupUsageBytes{
    "infermem_watch_cgroup_usage_bytes", "Memory charged to the watched process's memory cgroup",
    "gauge"};
inline constexpr Family kWatchCgroupLimitBytes{
    "infermem_watch_cgroup_limit_bytes",
    "The memory cgroup's limit (NaN when unlimited or unknown)", "gauge"};
inline constexpr Family kWatchGrowth{
    "infermem_watch_growth_bytes_per_second",
    "Growth rate of the tree's resident memory so far (Theil-Sen slope after warm-up) with its "
    "confidence interval bounds",
    "gauge"};
inline constexpr Family kWatchProcesses{
    "infermem_watch_processes", "Processes in the watched tree (the process and its descendants)",
    "gauge"};
inline constexpr Family kWatchSamples{"infermem_watch_samples_total",
                                      "Samples of the process tree taken", "counter"};
inline constexpr Family kWatchVerdict{
    "infermem_watch_verdict_info",
    "The running verdict on the tree's memory: 1 for the current kind", "gauge"};
// Only in the report of a finished watch (the live endpoint has no end).
inline constexpr Family kWatchPeakBytes{
    "infermem_watch_peak_bytes", "The highest total resident memory of the tree sampled", "gauge"};
inline constexpr Family kWatchElapsed{"infermem_watch_elapsed_seconds", "How long the watch ran",
                                      "gauge"};
inline constexpr Family kWatchStatus{
    "infermem_watch_status_info",
    "How the watched process ended: 1 for its status (ok, failed, crashed, oom-killed, "
    "interrupted)",
    "gauge"};
inline constexpr Family kWatchExitCode{
    "infermem_watch_exit_code", "The watched command's exit status, when it exited", "gauge"};
inline constexpr Family kWatchProcessMemory{
    "infermem_watch_process_memory_bytes",
    "Each watched process's own resident memory: its last and peak VmRSS sampled and its VmHWM",
    "gauge"};
inline constexpr Family kWatchCheck{"infermem_watch_check_passed",
                                    "The gate's checks on the tree: 1 passed, 0 failed", "gauge"};

// --- watch: the watched service's ModelCache, from its stats file ---------------------------
// The counters, each with the ModelCacheStats field it mirrors.
struct CacheCounter {
  Family family;
  std::uint64_t ModelCacheStats::*field;
};
inline constexpr CacheCounter kCacheCounters[] = {
    {{"infermem_cache_hits_total", "Requests served by a model already resident in the cache",
      "counter"},
     &ModelCacheStats::hits},
    {{"infermem_cache_misses_total",
      "Requests whose model was not resident (a load or a wait on one)", "counter"},
     &ModelCacheStats::misses},
    {{"infermem_cache_loads_total", "Models loaded by the cache", "counter"},
     &ModelCacheStats::loads},
    {{"infermem_cache_load_failures_total", "Model loads that failed", "counter"},
     &ModelCacheStats::load_failures},
    {{"infermem_cache_evictions_total",
      "Models unloaded to make room under the byte budget or the process's limit", "counter"},
     &ModelCacheStats::evictions},
    {{"infermem_cache_idle_unloads_total", "Models unloaded after their idle TTL", "counter"},
     &ModelCacheStats::idle_unloads},
    {{"infermem_cache_waits_total", "Times a load or request waited for in-flight requests to end",
      "counter"},
     &ModelCacheStats::waits},
    {{"infermem_cache_stats_write_failures_total",
      "Times the service could not write its cache stats file (counted, never thrown)", "counter"},
     &ModelCacheStats::stats_write_failures},
};
// The cache's budget and limit, where 0 means "none": NaN then, in both writers.
inline double cache_size_or_none(std::uint64_t bytes) {
  return bytes > 0 ? static_cast<double>(bytes) : std::numeric_limits<double>::quiet_NaN();
}
// A count by reason (refusals, refused reads), 0 for a reason never counted.
inline double count_by_reason(const std::map<std::string, std::uint64_t>& counts,
                              std::string_view reason) {
  const auto it = counts.find(std::string(reason));
  return it == counts.end() ? 0.0 : static_cast<double>(it->second);
}
inline constexpr std::string_view kCacheRefusalReasons[] = {"over-budget", "over-limit",
                                                            "wait-timeout"};
inline constexpr Family kCacheRefusals{
    "infermem_cache_refusals_total",
    "Loads or requests the cache refused with CacheRefused, by reason (over-budget, over-limit, "
    "wait-timeout)",
    "counter"};
inline constexpr Family kCacheResidentBytes{
    "infermem_cache_resident_bytes",
    "Bytes held against the budget: the resident models' measured costs (load growth plus the "
    "most a request added) plus the bytes reserved for loads in progress, so it can be above 0 "
    "while infermem_cache_resident_models is 0",
    "gauge"};
inline constexpr Family kCachePeakResidentBytes{
    "infermem_cache_peak_resident_bytes", "Highest infermem_cache_resident_bytes so far", "gauge"};
inline constexpr Family kCacheResidentModels{"infermem_cache_resident_models",
                                             "Models resident in the cache", "gauge"};
inline constexpr Family kCacheBudgetBytes{
    "infermem_cache_budget_bytes", "The cache's byte budget (NaN when it has none)", "gauge"};
inline constexpr Family kCacheLimitBytes{
    "infermem_cache_limit_bytes",
    "The process limit the cache admits loads against (its cgroup's or a configured cap; NaN "
    "when none)",
    "gauge"};
inline constexpr Family kCacheModelCost{
    "infermem_cache_model_cost_bytes",
    "A model's measured cost: resident growth across its load plus the most a request added (its "
    "file size until first loaded)",
    "gauge"};
inline constexpr Family kCacheModelResident{
    "infermem_cache_model_resident", "1 when the model is resident in the cache, else 0", "gauge"};
inline constexpr std::string_view kCacheReadErrorReasons[] = {"not-regular", "too-large",
                                                              "unreadable", "malformed"};
inline constexpr Family kCacheReadErrors{
    "infermem_cache_stats_read_errors_total",
    "Cache stats files watch refused, by reason (not-regular, too-large, unreadable, malformed)",
    "counter"};

// --- soak: a finished run, one series per arm ------------------------------------------------
inline constexpr Family kSoakInfo{
    "infermem_soak_info", "The run: 1, labelled with its model, scenario, seed and versions",
    "gauge"};
inline constexpr Family kSoakInterrupted{
    "infermem_soak_interrupted", "1 when the run was stopped before its end (figures partial)",
    "gauge"};
inline constexpr Family kSoakMemory{
    "infermem_soak_memory_bytes",
    "An arm's memory by figure: VmRSS at baseline, loaded, after unload and after trim, the peak, "
    "and retained (after trim or unload minus baseline) with its anonymous and file split",
    "gauge"};
inline constexpr Family kSoakLatency{"infermem_soak_latency_seconds",
                                     "An arm's Run() latency by percentile (50, 95, 99)", "gauge"};
inline constexpr Family kSoakThroughput{"infermem_soak_throughput_requests_per_second",
                                        "An arm's requests per second", "gauge"};
inline constexpr Family kSoakRequests{"infermem_soak_requests_done", "Requests an arm ran",
                                      "gauge"};
inline constexpr Family kSoakStatus{
    "infermem_soak_status_info",
    "How an arm's child ended: 1 for its status (ok, failed, crashed, oom-killed, timeout, "
    "interrupted)",
    "gauge"};
inline constexpr Family kSoakVerdict{"infermem_soak_verdict_info",
                                     "An arm's verdict: 1 for its kind", "gauge"};
inline constexpr Family kSoakTimeToVerdict{
    "infermem_soak_time_to_verdict_seconds",
    "soak --until-confident: when the arm's verdict was settled or the cap that stopped it",
    "gauge"};
inline constexpr Family kSoakCacheEvents{
    "infermem_soak_cache_events",
    "The cache scenario: the trace's load, evict and refused events of an arm", "gauge"};
inline constexpr Family kSoakCacheMaxResident{
    "infermem_soak_cache_max_resident_models",
    "The cache scenario: the most models resident at once in an arm", "gauge"};
inline constexpr Family kSoakCheck{"infermem_soak_check_passed",
                                   "The gate's checks on an arm: 1 passed, 0 failed", "gauge"};

}  // namespace infermem::metrics
