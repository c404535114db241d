// What watch's end costs now that its summary is read back from its own trace: the
// WatchTraceReader fold over a synthetic watch trace of one hour at the default 100 ms interval
// (36,000 tree samples, each a detail sample with one per-process record, a window note a
// second; set INFERMEM_BENCH_WATCH_SAMPLES to change the count), seeded (std::mt19937_64, seed 1),
// parsed from memory. Counters: MB/s of trace and samples/s. Figures only.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cstdlib>
#include <random>
#include <string>

#include "infermem/trace.h"
#include "infermem/watch_summary.h"

namespace {

std::string synthetic_watch_trace(long samples) {
  std::mt19937_64 rng(1);
  std::string out =
      R"({"v":1,"type":"header","t_ms":0,"pid":4242,"tool":"infermem","command":"watch",)"
      R"("mode":"pid","argv":["serve"],"interval_ms":100,"window_ms":1000})"
      "\n";
  out += R"({"v":1,"type":"note","t_ms":0,"arm":"pid 4242","pid":4242,"src":"watch",)"
         R"("event":"process","name":"serve","process":{"ppid":1}})"
         "\n";
  for (long i = 0; i < samples; ++i) {
    const double t = 100.0 * static_cast<double>(i);
    // 200 MiB leaking 64 bytes a sample under 1 MiB of noise.
    const long rss = (200L << 20) + 64 * i + static_cast<long>(rng() % (1 << 20));
    fmt::format_to(std::back_inserter(out),
                   R"({{"v":1,"type":"sample","t_ms":{},"arm":"tree","pid":4242,"src":"watch",)"
                   R"("rss_bytes":{},"rss_anon_bytes":{},"processes_count":1,"hwm_bytes":{},)"
                   R"("rss_file_bytes":8388608,"threads_count":4}})"
                   "\n"
                   R"({{"v":1,"type":"sample","t_ms":{},"arm":"pid 4242","pid":4242,)"
                   R"("src":"watch","name":"serve","rss_bytes":{},"hwm_bytes":{}}})"
                   "\n",
                   t, rss, rss - (8L << 20), rss + (1 << 20), t, rss, rss + (1 << 20));
    if (i % 10 == 9)
      fmt::format_to(std::back_inserter(out),
                     R"({{"v":1,"type":"note","t_ms":{},"arm":"tree","pid":4242,"src":"watch",)"
                     R"("event":"window","window_peak_rss_bytes":{},"duration_ms":1000}})"
                     "\n",
                     t, rss);
  }
  fmt::format_to(
      std::back_inserter(out),
      R"({{"v":1,"type":"arm","t_ms":{},"arm":"tree","pid":4242,"src":"watch",)"
      R"("edge":"result","status":"ok","status_detail":"","exit":{{"ended":"duration"}}}})"
      "\n",
      100.0 * static_cast<double>(samples));
  return out;
}

void BM_WatchSummaryFromTrace(benchmark::State& state) {
  const char* env = std::getenv("INFERMEM_BENCH_WATCH_SAMPLES");
  const long samples = env ? std::atol(env) : 36'000;
  const std::string text = synthetic_watch_trace(samples);
  for (auto _ : state) {
    infermem::trace::Source source = infermem::trace::Source::from_text(text, "bench");
    auto s = infermem::watch_summary_from_trace(source, "bench");
    benchmark::DoNotOptimize(s);
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["trace_MB"] = static_cast<double>(text.size()) / 1e6;
  state.counters["MB_per_s"] = benchmark::Counter(static_cast<double>(text.size()) / 1e6 * runs,
                                                  benchmark::Counter::kIsRate);
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(samples) * runs, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WatchSummaryFromTrace)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
