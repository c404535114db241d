// Figures for gen-model and the demo model: generation time of a 64 MiB transformer, and one
// inference at batch 1 / sequence 128 on one thread, timed around Run() only.
#include <benchmark/benchmark.h>

#include <vector>

#include "infermem/model_gen.h"
#include "workload/ort_env.h"

namespace {

infermem::ModelSpec demo_transformer() {
  infermem::ModelSpec spec;
  spec.kind = infermem::ModelKind::transformer;
  spec.weight_bytes = 64ull << 20;
  return spec;
}

void BM_GenerateTransformer64MiB(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(infermem::generate_model_bytes(demo_transformer()));
}
BENCHMARK(BM_GenerateTransformer64MiB)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Transformer64MiBRunBatch1Seq128(benchmark::State& state) {
  const std::string bytes = infermem::generate_model_bytes(demo_transformer());
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  options.SetInterOpNumThreads(1);
  Ort::Session session(infermem::ort_env(), bytes.data(), bytes.size(), options);
  std::vector<std::int64_t> shape{1, 128}, ids(128);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i * 31 % 1000);
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  auto input = Ort::Value::CreateTensor<std::int64_t>(memory, ids.data(), ids.size(), shape.data(),
                                                      shape.size());
  const char* in_names[] = {"input_ids"};
  const char* out_names[] = {"hidden"};
  session.Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1);  // warm-up
  for (auto _ : state)
    benchmark::DoNotOptimize(
        session.Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1));
}
BENCHMARK(BM_Transformer64MiBRunBatch1Seq128)->Unit(benchmark::kMillisecond)->Iterations(20);

}  // namespace

BENCHMARK_MAIN();
