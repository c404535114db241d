// A multi-model inference service in miniature: requests for several ONNX models are served from
// an infermem::ModelCache held to a byte budget (least recently used by measured cost, lazy loads
// from the file path, trim after unload), and every request is measured with RequestScope.
//
//   model_cache_service [--pause-ms MS] BUDGET REQUESTS MODEL.onnx [MODEL.onnx ...]
//   e.g. model_cache_service 96MiB 40 a.onnx b.onnx c.onnx d.onnx
//
// --pause-ms waits between requests, as a service between its clients' calls. Run under
// `infermem watch -- model_cache_service ...`, the cache publishes its counters to the file
// INFERMEM_CACHE_STATS names (watch sets it), and watch serves them as Prometheus metrics
// (infermem_cache_*): the cache does that by itself, the service needs no code for it.
//
// Request k asks for model k mod N, so with a budget below the models' total the cache must
// evict and reload; the service never holds more than the budget. It prints the cache's counters
// and the verdict on RSS at the end of each request. Models with float inputs only (dynamic
// dimensions are served as 1), as `infermem gen-model` writes them.
#include <infermem/arms.h>
#include <infermem/model_cache.h>
#include <infermem/ort_model_cache.h>
#include <infermem/request_scope.h>
#include <infermem/series.h>
#include <infermem/units.h>
#include <infermem/verdict.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <thread>
#include <vector>

namespace {

// One request on a cached session: zero-filled float inputs of the model's declared shapes.
void infer(infermem::SessionModel& model) {
  Ort::Session& session = model.session();
  Ort::AllocatorWithDefaultOptions allocator;
  const Ort::MemoryInfo cpu = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<Ort::AllocatedStringPtr> name_holders;
  std::vector<const char*> names;
  std::vector<std::vector<float>> buffers;
  std::vector<Ort::Value> inputs;
  for (std::size_t i = 0; i < session.GetInputCount(); ++i) {
    name_holders.push_back(session.GetInputNameAllocated(i, allocator));
    names.push_back(name_holders.back().get());
    // The shape info is a view into the type info: keep the type info alive while it is read.
    const Ort::TypeInfo type_info = session.GetInputTypeInfo(i);
    auto info = type_info.GetTensorTypeAndShapeInfo();
    if (info.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      throw std::runtime_error(std::string("input ") + names.back() + " is not float");
    std::vector<std::int64_t> shape = info.GetShape();
    std::size_t count = 1;
    for (auto& d : shape) {
      if (d < 0) d = 1;
      count *= static_cast<std::size_t>(d);
    }
    buffers.emplace_back(count, 0.5f);
    inputs.push_back(Ort::Value::CreateTensor<float>(cpu, buffers.back().data(), count,
                                                     shape.data(), shape.size()));
  }
  const auto& outputs = model.output_names();
  session.Run(model.run_options(), names.data(), inputs.data(), inputs.size(), outputs.data(),
              outputs.size());
}

}  // namespace

int main(int argc, char** argv) try {
  long pause_ms = 0;
  if (argc >= 3 && std::strcmp(argv[1], "--pause-ms") == 0) {
    pause_ms = static_cast<long>(infermem::parse_count(argv[2], "--pause-ms", 0, 60000));
    argv += 2;
    argc -= 2;
  }
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: model_cache_service [--pause-ms MS] BUDGET REQUESTS MODEL.onnx "
                 "[MODEL.onnx ...]\n");
    return 2;
  }
  const std::uint64_t budget = infermem::parse_size(argv[1], "BUDGET");
  const auto requests = static_cast<int>(infermem::parse_count(argv[2], "REQUESTS", 20, 1000000));
  std::vector<std::string> models(argv + 3, argv + argc);

  infermem::ModelCacheOptions options;
  options.budget_bytes = budget;
  options.trim_after_unload = true;
  infermem::ModelCache cache(infermem::ort_session_loader(infermem::builtin_arm("lean")),
                             infermem::process_memory_meter(), options);

  infermem::Series series;  // RSS at the end of each request: what the verdict engine judges
  series.name = "model_cache_service";
  double worst_peak = 0;
  for (int request = 1; request <= requests; ++request) {
    infermem::RequestScope scope;
    {
      infermem::ModelCache::Lease lease =
          cache.acquire(models[static_cast<std::size_t>(request) % models.size()]);
      infer(static_cast<infermem::SessionModel&>(lease.model()));
    }
    const infermem::RequestFigures f = scope.close();
    if (infermem::present(f.peak_bytes) && f.peak_bytes > worst_peak) worst_peak = f.peak_bytes;
    if (pause_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
    infermem::SeriesPoint p;
    p.req = request;
    p.current_bytes = f.rss_end_bytes;
    series.points.push_back(p);
  }
  const infermem::ModelCacheStats s = cache.stats();
  std::printf(
      "cache: %llu loads, %llu hits, %llu evictions, %llu refusals; resident peak %s "
      "(budget %s)\n",
      static_cast<unsigned long long>(s.loads), static_cast<unsigned long long>(s.hits),
      static_cast<unsigned long long>(s.evictions), static_cast<unsigned long long>(s.refusals),
      infermem::format_bytes(static_cast<double>(s.peak_bytes_resident)).c_str(),
      infermem::format_bytes(static_cast<double>(budget)).c_str());
  for (const auto& [path, m] : s.models)
    std::printf("  %s: cost %s (load %s + inference %s), %llu loads\n", path.c_str(),
                infermem::format_bytes(static_cast<double>(m.cost.total())).c_str(),
                infermem::format_bytes(static_cast<double>(m.cost.load_bytes)).c_str(),
                infermem::format_bytes(static_cast<double>(m.cost.inference_bytes)).c_str(),
                static_cast<unsigned long long>(m.loads));
  const infermem::Verdict v = infermem::judge(series);
  std::printf("worst request peak: %s\n", infermem::format_bytes(worst_peak).c_str());
  std::printf("verdict over %d requests: %s\n", requests,
              std::string(infermem::name(v.kind)).c_str());
  std::printf("budget held: %s\n", s.peak_bytes_resident <= budget ? "yes" : "no");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "infermem: model_cache_service: %s\n", e.what());
  return 2;
}
