#include "verdict/patterns.h"

#include <fmt/format.h>

#include <stdexcept>

namespace infermem {

namespace {

// One entry per verdict kind: what its series looks like, its causes, its remedies and the arms
// whose comparison shows it.
Pattern stable_pattern() {
  return {
      VerdictKind::stable,
      "After warm-up the level has no significant trend: Theil-Sen slope's interval covers 0 or "
      "block maxima/minima show no Mann-Kendall trend.",
      {"Nothing is accumulating at a rate this run could detect (see the smallest detectable "
       "rate)."},
      {"Keep the soak in CI as a regression gate; lengthen it (more requests) to lower the "
       "smallest detectable rate."},
      {"ort-default"},
      {}};
}

Pattern plateau_pattern() {
  return {VerdictKind::plateau,
          "Grew, then flattened: the slope of the last part is ~0 while the start rose to a level.",
          {"ONNX Runtime's CPU arena growing to the largest working set it has seen "
           "(arena_extend_strategy kNextPowerOfTwo rounds each extension up)",
           "The memory pattern planner caching one allocation plan per input shape "
           "(enable_mem_pattern) while mixed shapes keep arriving",
           "A cache filling to its bound (functools.lru_cache(maxsize=N) of sessions or tensors)",
           "glibc keeping freed chunks in per-thread arenas (up to 8 x cores arenas by default)",
           "A one-time jump (a step): lazy initialisation, a bigger shape seen once"},
          {"Size the container for the plateau level plus headroom, not for the loaded size",
           "Cap the arena: arena_extend_strategy=kSameAsRequested, or enable "
           "memory.enable_memory_arena_shrinkage as a run option",
           "Bound input shapes (pad or bucket sequence lengths) so the arena and mem pattern plans "
           "stop growing",
           "Bound caches by bytes, not by count (infermem's budget cache)"},
          {"ort-default", "no-arena", "arena-shrink", "lean"},
          {"arena-same:arena_extend=same"}};
}

Pattern leak_pattern() {
  return {VerdictKind::leak,
          "Sustained growth after warm-up: significant Theil-Sen slope, rising block maxima AND "
          "minima, and the last half grows at a comparable rate.",
          {"Objects kept alive per request: a Python list/dict appended to, references held by "
           "closures, exceptions or a global cache without a bound",
           "functools.lru_cache(maxsize=None) or a cache keyed by something unbounded (request id, "
           "input shape)",
           "New InferenceSession or OrtValue per request that is never released (C API: missing "
           "OrtRelease*)",
           "Run options or IO bindings created per request and kept",
           "Native allocations in custom ops or pre/post-processing code that are not freed"},
          {"Find the growing object: tracemalloc / memray (Python), heaptrack (native)",
           "Create sessions once and reuse them; release OrtValues and IO bindings after each run",
           "Bound every cache (maxsize, or bytes)",
           "Gate CI so the leak cannot return: infermem soak MODEL.onnx --fail-on leak "
           "--max-growth 16KiB",
           "See the smallest leak this model and machine reveal: infermem soak MODEL.onnx "
           "--inject-leak 16KiB"},
          {"ort-default", "no-arena", "jemalloc"},
          {}};
}

Pattern fragmentation_pattern() {
  return {
      VerdictKind::fragmentation,
      "The allocator's free bytes (held by malloc, not in use) grow over the run, or stay far "
      "above what is in use after the load; a flat gap is the allocator's normal free lists.",
      {"glibc malloc keeping freed pages: top-of-heap not trimmed, holes between live chunks, "
       "many per-thread arenas (MALLOC_ARENA_MAX unset)",
       "ONNX Runtime's arena shrinkage (memory.enable_memory_arena_shrinkage) with input shapes "
       "that change every request: each request's arena chunks go back to glibc, which keeps "
       "them",
       "Load/unload churn of large models: each load allocates hundreds of MB in new places, "
       "freed memory is not returned to the kernel",
       "Loading a model from bytes: the serialized copy and the session's initializers are alive "
       "at once, then the big free leaves holes",
       "ONNX Runtime's arena keeping its chunks after the session's tensors are freed"},
      {"Call malloc_trim(0) after unloading a session (ctypes.CDLL('libc.so.6').malloc_trim(0) "
       "in Python)",
       "Set MALLOC_ARENA_MAX=2, or preload jemalloc/mimalloc/tcmalloc",
       "Load models from a file path rather than from bytes",
       "Disable the CPU arena and memory pattern (enable_cpu_mem_arena=False, "
       "enable_mem_pattern=False) and measure the latency cost",
       "Unload idle models; prefer fewer, longer-lived sessions over churn"},
      {"ort-default", "no-arena-trim", "jemalloc", "mimalloc", "tcmalloc"},
      {"arena-max-2:malloc_arena_max=2", "from-bytes:load=bytes", "trim:trim=on"}};
}

Pattern unload_retention_pattern() {
  return {
      VerdictKind::unload_retention,
      "Across load/infer/unload cycles, memory after unload sits above the baseline but does not "
      "grow from cycle to cycle.",
      {"Allocator caches (glibc arenas, jemalloc dirty pages) holding the freed session's memory",
       "ONNX Runtime's process-lifetime state: its CPU kernel registry (~1.3 MiB, built for the "
       "first session and kept to exit) and, in its 1.29 Linux build, telemetry events kept "
       "in memory for every session created, run and released (~10 KiB a session)",
       "Model bytes or session objects still referenced from Python (a cache entry, a closure, "
       "a traceback)"},
      {"Call malloc_trim(0) after unload (glibc); let jemalloc purge (dirty_decay_ms)",
       "Drop every Python reference to the session and its bytes before measuring, then "
       "gc.collect()",
       "Load by path, not bytes; reuse one Ort::Env for the process",
       "Turn ONNX Runtime's telemetry events off (env.DisableTelemetryEvents(), "
       "ort.disable_telemetry_events()); build its kernel registry from a one-node session "
       "before the first model; GLIBC_TUNABLES=glibc.malloc.tcache_count=0 (the lean arm does "
       "all three)",
       "If the retained amount is bounded and acceptable, budget for it (it is not a leak)"},
      {"ort-default", "no-arena-trim", "jemalloc", "lean"},
      {"trim:trim=on", "from-bytes:load=bytes", "env-allocator:env_allocator=on",
       "no-telemetry:telemetry=off"}};
}

Pattern hwm_artifact_pattern() {
  return {
      VerdictKind::hwm_artifact,
      "A high-water-mark series rises (it can never fall) while current memory does not, or only "
      "a high-water mark exists.",
      {"The figure watched is a high-water mark: VmHWM, ru_maxrss, cgroup max_usage_in_bytes, "
       "AWS Lambda's Max Memory Used (a high-water mark of the whole execution environment)",
       "A transient peak during inference (the largest shape, a load from bytes) sets the mark "
       "once and it stays there"},
      {"Do not read a leak, or its absence, from a high-water mark: it only says the peak so far",
       "Measure current memory: VmRSS per request (or per invocation from inside the Lambda "
       "handler), or `infermem soak` with the same model and traffic",
       "To lower the peak itself: load by path, bound input shapes, disable the arena for "
       "spiky workloads"},
      {"ort-default", "no-arena"},
      {"from-bytes:load=bytes"}};
}

Pattern too_short_pattern() {
  return {
      VerdictKind::too_short,
      "Fewer points than a verdict needs (10, or 30 judged points to tell a rise that continues "
      "from one that flattened), and no sustained rise shown by the points there are.",
      {"The run was stopped early, crashed, or served few requests (a short --requests or "
       "--duration)",
       "The recording kept only a few samples (a coarse sampling interval, a short CSV export)"},
      {"Run more requests: infermem soak MODEL.onnx --requests 1000 (the smallest detectable "
       "rate shrinks as the run gets longer)",
       "In CI, a too-short verdict fails --fail-on leak|any; pass --allow-short to accept runs "
       "that are short on purpose"},
      {"ort-default"},
      {}};
}

}  // namespace

const std::vector<Pattern>& pattern_catalogue() {
  static const std::vector<Pattern> catalogue = {
      stable_pattern(),        plateau_pattern(),          leak_pattern(),
      fragmentation_pattern(), unload_retention_pattern(), hwm_artifact_pattern(),
      too_short_pattern(),
  };
  return catalogue;
}

const Pattern& pattern_for(VerdictKind kind) {
  for (const auto& p : pattern_catalogue())
    if (p.kind == kind) return p;
  throw std::out_of_range(fmt::format("no pattern for verdict kind '{}'", kind));
}

std::vector<std::string> remediation_texts(VerdictKind kind) {
  const Pattern& p = pattern_for(kind);
  std::vector<std::string> texts = p.remediations;
  texts.push_back("See the effect on your model: " + p.soak_command("MODEL.onnx"));
  return texts;
}

std::string Pattern::soak_command(const std::string& model) const {
  std::string command = "infermem soak " + model;
  std::string list;
  for (const auto& a : arms) list += (list.empty() ? "" : ",") + a;
  if (!list.empty()) command += " --arms " + list;
  for (const auto& a : custom_arms) command += " --arm '" + a + "'";
  return command;
}

}  // namespace infermem
