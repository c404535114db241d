// Cost of RequestScope per request (docs/guide.md): one scope opened and closed around an empty
// body, with the peak (default: statm at open and close, clear_refs reset, VmHWM from status),
// without it (statm only), and with the allocator's figures too; and each reading alone. The
// process holds 256 MiB resident so status and statm are read on a process of a real size.
// Run: make bench, or build/request_scope_bench after `cmake --build build --target benches`.
#include <benchmark/benchmark.h>

#include <cstring>
#include <memory>

#include "infermem/request_scope.h"

namespace {

struct Ballast {
  std::unique_ptr<char[]> block{new char[256 << 20]};
  Ballast() { std::memset(block.get(), 1, 256 << 20); }
};
const Ballast& ballast() {
  static Ballast b;
  return b;
}

void BM_RequestScope(benchmark::State& state) {
  ballast();
  infermem::RequestScopeOptions options;
  options.peak = state.range(0) != 0;
  options.allocator = state.range(1) != 0;
  for (auto _ : state) {
    infermem::RequestScope scope(options);
    auto figures = scope.close();
    benchmark::DoNotOptimize(figures);
  }
  state.SetLabel(std::string(options.peak ? "peak" : "no peak") +
                 (options.allocator ? " + allocator" : ""));
}
BENCHMARK(BM_RequestScope)->Args({1, 0})->Args({0, 0})->Args({1, 1})->Unit(benchmark::kMicrosecond);

void BM_ReadStatm(benchmark::State& state) {
  ballast();
  for (auto _ : state) benchmark::DoNotOptimize(infermem::self::rss_bytes());
}
BENCHMARK(BM_ReadStatm)->Unit(benchmark::kMicrosecond);

void BM_ReadHwm(benchmark::State& state) {
  ballast();
  for (auto _ : state) benchmark::DoNotOptimize(infermem::self::hwm_bytes());
}
BENCHMARK(BM_ReadHwm)->Unit(benchmark::kMicrosecond);

void BM_ResetHwm(benchmark::State& state) {
  ballast();
  for (auto _ : state) benchmark::DoNotOptimize(infermem::self::reset_hwm());
}
BENCHMARK(BM_ResetHwm)->Unit(benchmark::kMicrosecond);

void BM_AllocatorInUse(benchmark::State& state) {
  ballast();
  for (auto _ : state) benchmark::DoNotOptimize(infermem::self::allocator_in_use_bytes());
}
BENCHMARK(BM_AllocatorInUse)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
