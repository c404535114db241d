// What reading and writing one trace line costs: trace::parse_line and trace::to_line on a
// realistic soak child sample (the envelope, the status and allocator figures, as a child writes
// after every request) and on a phase end (a full reading with the phase's peaks). Counter:
// lines/s. Figures only.
#include <benchmark/benchmark.h>

#include <string>

#include "infermem/trace.h"

namespace {

// A child's per-request sample, as soak writes it (keys sorted, as to_line writes them).
const std::string kSampleLine =
    R"({"allocator_is_jemalloc_count":0,"allocator_is_mimalloc_count":0,)"
    R"("allocator_is_sanitizer_count":0,"allocator_is_tcmalloc_count":0,"arm":"ort-default",)"
    R"("hwm_bytes":151003136,"malloc_arena_bytes":104857600,"malloc_free_bytes":5767168,)"
    R"("malloc_in_use_bytes":99090432,"malloc_keepcost_bytes":131072,"malloc_mmap_bytes":33554432,)"
    R"("phase":"infer","pid":4242,"req":17,"rss_anon_bytes":120586240,"rss_bytes":140509184,)"
    R"("rss_file_bytes":19922944,"rss_shmem_bytes":0,"src":"child","swap_bytes":0,"t_ms":300.2,)"
    R"("threads_count":9,"type":"sample","v":1})";

// A phase end: a full reading, the peaks, the duration, context keys.
const std::string kPhaseEndLine =
    R"({"arm":"ort-default","cgroup_current_bytes":150994944,"cgroup_peak_bytes":160432128,)"
    R"("duration_ms":210.5,"edge":"end","hwm_bytes":151003136,"malloc_free_bytes":5767168,)"
    R"("malloc_in_use_bytes":99090432,"ort_arena_in_use_bytes":41943040,)"
    R"("ort_arena_reserved_bytes":67108864,"peak_hwm_since_reset_bytes":151003136,)"
    R"("peak_sampled_rss_bytes":150994944,"phase":"load","pid":4242,"private_dirty_bytes":118489088,)"
    R"("pss_anon_bytes":120586240,"pss_bytes":131072000,"pss_file_bytes":10485760,"req":0,)"
    R"("rss_anon_bytes":120586240,"rss_bytes":140509184,"rss_file_bytes":19922944,)"
    R"("sampler_hz":1000,"samples_count":210,"shared_clean_bytes":9437184,"src":"child",)"
    R"("t_ms":41.2,"threads_count":9,"type":"phase","v":1})";

void parse(benchmark::State& state, const std::string& line) {
  for (auto _ : state) {
    auto r = infermem::trace::parse_line(line);
    benchmark::DoNotOptimize(r);
  }
  state.counters["lines_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void write(benchmark::State& state, const std::string& line) {
  const auto r = infermem::trace::parse_line(line);
  if (!r || infermem::trace::to_line(*r) != line) {
    state.SkipWithError("the line does not round-trip");
    return;
  }
  for (auto _ : state) {
    auto text = infermem::trace::to_line(*r);
    benchmark::DoNotOptimize(text);
  }
  state.counters["lines_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_ParseSample(benchmark::State& state) {
  parse(state, kSampleLine);
}
void BM_ParsePhaseEnd(benchmark::State& state) {
  parse(state, kPhaseEndLine);
}
void BM_WriteSample(benchmark::State& state) {
  write(state, kSampleLine);
}
void BM_WritePhaseEnd(benchmark::State& state) {
  write(state, kPhaseEndLine);
}
BENCHMARK(BM_ParseSample);
BENCHMARK(BM_ParsePhaseEnd);
BENCHMARK(BM_WriteSample);
BENCHMARK(BM_WritePhaseEnd);

}  // namespace

BENCHMARK_MAIN();
