// How long judge() takes on series of 1k to 100k points (a linear leak under noise), so the
// engine stays usable on long watch recordings. Figures only; no assertions.
#include <benchmark/benchmark.h>

#include <random>

#include "infermem/verdict.h"

namespace {

infermem::Series leaking_series(std::size_t points) {
  std::mt19937 rng(1);
  std::normal_distribution<double> noise(0.0, 1.5 * 1024 * 1024);
  infermem::Series s;
  s.current_source = "synthetic";
  for (std::size_t i = 0; i < points; ++i) {
    infermem::SeriesPoint p;
    p.req = static_cast<std::int64_t>(i + 1);
    p.t_ms = 100.0 * static_cast<double>(i);
    p.phase = infermem::Phase::infer;
    p.current_bytes = 200.0 * 1024 * 1024 + 4096.0 * static_cast<double>(i) + noise(rng);
    s.points.push_back(p);
  }
  return s;
}

void BM_Judge(benchmark::State& state) {
  auto series = leaking_series(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(infermem::judge(series));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Judge)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
