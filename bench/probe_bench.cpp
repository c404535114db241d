// Cost of the probe (docs/measurement.md): median microseconds of one reading per source on this
// process with ONNX Runtime loaded and a session open, and the sampler's cost as the inference
// throughput ratio with a 1 kHz sampler over without, interleaved rounds in one run.
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <onnxruntime_cxx_api.h>
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "infermem/probe.h"
#include "infermem/process_tree.h"
#include "infermem/sampler.h"
#include "probe/proc_reader.h"
#include "workload/ort_api.h"

namespace {

using namespace infermem::probe;

// A generated transformer (infermem gen-model) held open for the whole run, so the readings
// cover a process as big as a real inference worker. Absent when gen-model is not available.
struct LoadedModel {
  Ort::Env env{ORT_LOGGING_LEVEL_WARNING, "probe_bench"};
  std::unique_ptr<Ort::Session> session;
  std::vector<std::string> input_names, output_names;
  std::vector<std::vector<std::int64_t>> shapes;
  std::vector<std::vector<std::int64_t>> int_buffers;
  std::vector<std::vector<float>> float_buffers;
  std::vector<Ort::Value> inputs;

  void load(const std::string& path, int intra_threads) {
    Ort::SessionOptions options;
    options.SetIntraOpNumThreads(intra_threads);
    options.SetInterOpNumThreads(1);
    session = std::make_unique<Ort::Session>(env, path.c_str(), options);
    Ort::AllocatorWithDefaultOptions alloc;
    auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    input_names.clear(), output_names.clear(), shapes.clear(), inputs.clear();
    int_buffers.clear(), float_buffers.clear();
    for (std::size_t i = 0; i < session->GetInputCount(); ++i) {
      input_names.push_back(session->GetInputNameAllocated(i, alloc).get());
      Ort::TypeInfo type = session->GetInputTypeInfo(i);  // owns what `info` points into
      auto info = type.GetTensorTypeAndShapeInfo();
      auto shape = info.GetShape();
      bool first_dynamic = true;
      for (auto& d : shape)  // batch 1, every other dynamic dimension (sequence, ...) 64
        if (d < 0) d = first_dynamic ? (first_dynamic = false, 1) : 64;
      std::size_t count = 1;
      for (auto d : shape) count *= static_cast<std::size_t>(d);
      shapes.push_back(shape);
      if (info.GetElementType() == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
        int_buffers.emplace_back(count);
        for (std::size_t k = 0; k < count; ++k)
          int_buffers.back()[k] = static_cast<std::int64_t>(k % 97);
        inputs.push_back(Ort::Value::CreateTensor<std::int64_t>(
            memory, int_buffers.back().data(), count, shapes.back().data(), shapes.back().size()));
      } else {
        float_buffers.emplace_back(count, 0.5f);
        inputs.push_back(Ort::Value::CreateTensor<float>(memory, float_buffers.back().data(), count,
                                                         shapes.back().data(),
                                                         shapes.back().size()));
      }
    }
    for (std::size_t i = 0; i < session->GetOutputCount(); ++i)
      output_names.push_back(session->GetOutputNameAllocated(i, alloc).get());
  }

  void run() {
    std::vector<const char*> in, out;
    for (auto& n : input_names) in.push_back(n.c_str());
    for (auto& n : output_names) out.push_back(n.c_str());
    auto result = session->Run(Ort::RunOptions{nullptr}, in.data(), inputs.data(), inputs.size(),
                               out.data(), out.size());
    benchmark::DoNotOptimize(result);
  }
};

std::string g_model_path;

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
LoadedModel* g_model = nullptr;

void reading_bench(benchmark::State& state, unsigned sources) {
  ProcReader reader(0, sources);  // files opened once, as the sampler does
  for (auto _ : state) {
    Values v;
    reader.read(v);
    benchmark::DoNotOptimize(v);
  }
}

void BM_ReadStatus(benchmark::State& s) {
  reading_bench(s, kStatus);
}
// watch's per-sample reading: /proc/PID/statm (resident and anonymous pages only).
void BM_ReadStatm(benchmark::State& s) {
  reading_bench(s, kStatm);
}
// watch's ProcessTree on one process: statm at every sample; status and the search for children
// every Nth sample, smaps_rollup every Mth (Args: N, M; 100, 1000 are watch's rates at a 1 ms
// interval).
void BM_TreeSample(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const auto m = static_cast<std::uint64_t>(state.range(1));
  ProcessTree tree(TreeOptions{getpid(), n, m, n, false});
  TreeSample sample;
  for (auto _ : state) {
    tree.sample(sample);
    benchmark::DoNotOptimize(sample.rss_bytes);
  }
}
void BM_ReadSmapsRollup(benchmark::State& s) {
  reading_bench(s, kSmapsRollup);
}
void BM_ReadCgroup(benchmark::State& s) {
  reading_bench(s, kCgroup);
}
void BM_ReadAllocator(benchmark::State& s) {
  reading_bench(s, kAllocator);
}
// read_process() opens, reads and closes every file: what a one-off caller pays.
void BM_ReadProcessDefault(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(read_process(getpid()));
}
void BM_ReadSmapsFull(benchmark::State& state) {
  std::string path = fmt::format("/proc/{}/smaps", getpid());
  for (auto _ : state) benchmark::DoNotOptimize(parse_smaps(*read_text_file(path)));
}
void BM_Snapshot(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(take_snapshot(getpid()));
}

#define PROBE_BENCH(fn) \
  BENCHMARK(fn)->Unit(benchmark::kMicrosecond)->Repetitions(5)->ReportAggregatesOnly(true)
PROBE_BENCH(BM_ReadStatus);
PROBE_BENCH(BM_ReadStatm);
PROBE_BENCH(BM_TreeSample)
    ->Args({1000000, 1000000})
    ->Args({100, 1000})
    ->Args({100, 100})
    ->Args({1, 1000000})
    ->Args({1, 1});
PROBE_BENCH(BM_ReadSmapsRollup);
PROBE_BENCH(BM_ReadCgroup);
PROBE_BENCH(BM_ReadAllocator);
PROBE_BENCH(BM_ReadProcessDefault);
PROBE_BENCH(BM_ReadSmapsFull);
PROBE_BENCH(BM_Snapshot);

// CPU the sampler thread costs per second of sampling at 1 kHz (reads plus wake-ups), measured
// as this process's CPU time while the main thread sleeps.
// Arg: 0 reads status (soak's sampler), 1 statm (watch's per-sample reading).
void BM_SamplerCpuPerSecond(benchmark::State& state) {
  double cpu = 0, samples = 0, seconds = 0;
  const unsigned source = state.range(0) ? kStatm : kStatus;
  for (auto _ : state) {
    Sampler sampler(SamplerOptions{0, 1000, source, 4096});
    double cpu0 = process_cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    sampler.start();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    sampler.stop();
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu += process_cpu_seconds() - cpu0;
    samples += static_cast<double>(sampler.samples_taken());
  }
  state.counters["cpu_ms_per_s"] = 1000 * cpu / seconds;
  state.counters["cpu_us_per_sample"] = 1e6 * cpu / samples;
  state.counters["sampler_hz"] = samples / seconds;
}
BENCHMARK(BM_SamplerCpuPerSecond)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

// Inference throughput with the sampler at 1 kHz over without: rounds of kBatch requests
// alternate off/on so drift on the shared machine hits both sides; the counter is the median
// of the per-round ratios (1.0 = free). Args: ORT intra-op threads (2 = every core busy), and
// what the sampler reads (0: status, soak's; 1: statm, watch's).
void BM_SamplerThroughputRatio(benchmark::State& state) {
  if (!g_model) {
    state.SkipWithError("no generated model (gen-model unavailable)");
    return;
  }
  g_model->load(g_model_path, static_cast<int>(state.range(0)));
  // A batch spans several sampler periods at every rate, so the sampler thread's start and stop
  // (once per batch) stay a small part of what is timed: 10 requests at 1 kHz, 400 at 10 Hz.
  const int kBatch = static_cast<int>(std::max<std::int64_t>(10, 4000 / state.range(2)));
  g_model->run();  // warm-up outside the timed rounds
  std::vector<double> ratios, cpu_ratios;
  double seconds_off = 0, seconds_on = 0;
  double cpu_batch = 0;  // process CPU seconds of the last batch (every thread, sampler included)
  auto time_batch = [&] {
    double cpu0 = process_cpu_seconds();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kBatch; ++i) g_model->run();
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    cpu_batch = process_cpu_seconds() - cpu0;
    return wall;
  };
  std::uint64_t samples = 0;
  bool off_first = true;
  for (auto _ : state) {
    Sampler sampler(SamplerOptions{0, static_cast<double>(state.range(2)),
                                   state.range(1) ? kStatm : kStatus, 4096});
    auto sampled_batch = [&] {
      sampler.start();
      double t = time_batch();
      sampler.stop();
      return t;
    };
    // Alternate which side goes first, so neither always follows the other.
    double off = 0, on = 0, cpu_off = 0, cpu_on = 0;
    if (off_first) {
      off = time_batch(), cpu_off = cpu_batch;
      on = sampled_batch(), cpu_on = cpu_batch;
    } else {
      on = sampled_batch(), cpu_on = cpu_batch;
      off = time_batch(), cpu_off = cpu_batch;
    }
    cpu_ratios.push_back(cpu_off / cpu_on);
    off_first = !off_first;
    samples += sampler.samples_taken();
    ratios.push_back(off / on);  // throughput on / throughput off
    seconds_off += off, seconds_on += on;
  }
  std::sort(ratios.begin(), ratios.end());
  std::sort(cpu_ratios.begin(), cpu_ratios.end());
  // CPU seconds per request (this process, all threads): robust to other tenants' load.
  state.counters["cpu_ratio_median"] = cpu_ratios[cpu_ratios.size() / 2];
  state.counters["ratio_median"] = ratios[ratios.size() / 2];
  state.counters["ratio_min"] = ratios.front();
  state.counters["ratio_max"] = ratios.back();
  state.counters["rps_off"] = static_cast<double>(kBatch * ratios.size()) / seconds_off;
  state.counters["rps_on"] = static_cast<double>(kBatch * ratios.size()) / seconds_on;
  state.counters["sampler_hz"] = static_cast<double>(samples) / seconds_on;
}
// Args: ORT intra-op threads, what is read (0 status, 1 statm), sampler rate in Hz. The last
// three are watch's rates (--interval 1ms, 10ms, the default 100ms) with inference on both cores.
BENCHMARK(BM_SamplerThroughputRatio)
    ->Args({1, 0, 1000})
    ->Args({2, 0, 1000})
    ->Args({1, 1, 1000})
    ->Args({2, 1, 1000})
    ->Args({2, 1, 100})
    ->Args({2, 1, 10})
    ->Iterations(41)
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  // The wrapper is built with ORT_API_MANUAL_INIT; nothing else here pulls in the library's
  // initializer, so the bench initialises it before its first Ort:: object.
  infermem::init_ort_api();
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / fmt::format("infermem-probe-bench-{}", getpid());
  std::filesystem::create_directories(dir);
  g_model_path = (dir / "transformer.onnx").string();
  std::string cmd =
      fmt::format("'{}' gen-model --kind transformer --weights 16MiB -o '{}' >/dev/null 2>&1",
                  INFERMEM_BIN, g_model_path);
  static LoadedModel model;
  if (std::system(cmd.c_str()) == 0) {
    model.load(g_model_path, 1);
    model.run();
    g_model = &model;
  } else {
    fmt::print(stderr, "probe_bench: gen-model unavailable; reading this process without ORT\n");
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::filesystem::remove_all(dir);
  return 0;
}
