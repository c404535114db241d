// infermem replay's throughput without ONNX Runtime: log lines per second through the parser
// (CSV, JSON Lines, a CloudWatch export), and requests per second through the replay loop
// (replay_events at --speed max and at a speed whose due times are all in the past) against a
// stub runner: an LRU of 2 over 8 model ids whose "inference" sums a 4 KiB buffer. 100,000 lines,
// seeded (models drawn Zipf(1.1) with seed 1, 5 ms apart). Figures only.
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <cmath>
#include <list>
#include <numeric>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "infermem/replay_log.h"

namespace {

constexpr int kLines = 100'000;
constexpr int kModels = 8;

std::vector<int> model_stream() {
  std::vector<double> weights(kModels);
  for (int k = 0; k < kModels; ++k) weights[k] = 1.0 / std::pow(k + 1, 1.1);
  std::discrete_distribution<int> zipf(weights.begin(), weights.end());
  std::mt19937_64 rng(1);
  std::vector<int> out(kLines);
  for (auto& m : out) m = zipf(rng);
  return out;
}

const std::string& log_text(const std::string& format) {
  static std::unordered_map<std::string, std::string> texts;
  auto& text = texts[format];
  if (!text.empty()) return text;
  const auto models = model_stream();
  const long long t0 = 1714564800000LL;
  if (format == "csv") text = "timestamp,model,shape\n";
  if (format == "cloudwatch") text = "@timestamp,@message\n";
  for (int i = 0; i < kLines; ++i) {
    const long long t = t0 + 5LL * i;
    if (format == "csv")
      text += fmt::format("{},model-{},1x3x224x224\n", t, models[i]);
    else if (format == "jsonl")
      text += fmt::format("{{\"timestamp\":{},\"model\":\"model-{}\",\"shape\":\"1x16\"}}\n", t,
                          models[i]);
    else
      text += fmt::format(
          "2024-05-01 12:{:02}:{:02}.{:03},\"{{\"\"model\"\":\"\"model-{}\"\","
          "\"\"ms\"\":12}}\"\n",
          (i / 60000) % 60, (i / 1000) % 60, i % 1000, models[i]);
  }
  return text;
}

void parse_bench(benchmark::State& state, const std::string& format) {
  const std::string& text = log_text(format);
  std::size_t events = 0;
  for (auto _ : state) {
    auto log = infermem::parse_replay_log(text);
    events = log.events.size();
    benchmark::DoNotOptimize(log);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kLines);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.counters["events"] = static_cast<double>(events);
}

void BM_ParseCsv(benchmark::State& state) {
  parse_bench(state, "csv");
}
void BM_ParseJsonl(benchmark::State& state) {
  parse_bench(state, "jsonl");
}
void BM_ParseCloudWatch(benchmark::State& state) {
  parse_bench(state, "cloudwatch");
}

// The stub runner: lru:2 over the model ids, a 4 KiB sum per request.
class StubRunner {
 public:
  bool serve(const std::string& model) {
    auto it = index_.find(model);
    if (it == index_.end()) {
      ++loads_;
      if (lru_.size() >= 2) {
        index_.erase(lru_.back());
        lru_.pop_back();
      }
      lru_.push_front(model);
      index_[model] = lru_.begin();
    } else {
      lru_.splice(lru_.begin(), lru_, it->second);
    }
    sum_ += std::accumulate(buffer_.begin(), buffer_.end(), 0u);
    return true;
  }
  std::uint64_t loads() const { return loads_; }

 private:
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::list<std::string>::iterator> index_;
  std::vector<unsigned> buffer_ = std::vector<unsigned>(1024, 1);
  std::uint64_t loads_ = 0;
  unsigned sum_ = 0;
};

void loop_bench(benchmark::State& state, const char* speed_text) {
  const auto log = infermem::parse_replay_log(log_text("csv"));
  const auto speed = infermem::parse_replay_speed(speed_text);
  std::uint64_t loads = 0;
  for (auto _ : state) {
    StubRunner runner;
    const std::size_t served = infermem::replay_events(
        log.events, 0, speed, [&](std::size_t i, std::chrono::steady_clock::time_point) {
          return runner.serve(log.events[i].model);
        });
    benchmark::DoNotOptimize(served);
    loads = runner.loads();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * kLines);
  state.counters["loads"] = static_cast<double>(loads);
}

void BM_ReplayLoopMax(benchmark::State& state) {
  loop_bench(state, "max");
}
// 10^6x: every due time (5 ms apart in the log: 5 ns) is past when reached, so this is the cost of
// computing and checking due times.
void BM_ReplayLoopScaled(benchmark::State& state) {
  loop_bench(state, "1000000x");
}

BENCHMARK(BM_ParseCsv)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseJsonl)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseCloudWatch)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReplayLoopMax)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReplayLoopScaled)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
