// A cache user's program: ModelCache with its own loader and meter, built against the installed
// cache stage alone (infermem::infermem_cache), so it links neither ONNX Runtime nor any stage
// after the cache. Two 40-byte models under a 64-byte budget: the second load evicts the first.
#include <infermem/model_cache.h>

#include <cstdio>
#include <memory>
#include <string>

namespace {

std::uint64_t resident = 1000;  // what the fake meter reads: each load adds its model's bytes

struct Model : infermem::CachedModel {
  ~Model() override { resident -= 40; }
};

struct Loader : infermem::ModelLoader {
  std::unique_ptr<infermem::CachedModel> load(const std::string&) override {
    resident += 40;
    return std::make_unique<Model>();
  }
  std::uint64_t estimate_bytes(const std::string&) override { return 40; }
};

struct Meter : infermem::MemoryMeter {
  std::uint64_t resident_bytes() override { return resident; }
  std::uint64_t limit_bytes() override { return 0; }
  std::string release_free_memory() override { return "none"; }
};

}  // namespace

int main() {
  infermem::ModelCacheOptions options;
  options.budget_bytes = 64;
  options.stats_path = "";  // not published
  infermem::ModelCache cache(std::make_unique<Loader>(), std::make_unique<Meter>(), options);
  cache.acquire("a.onnx").release();
  cache.acquire("b.onnx").release();
  const auto stats = cache.stats();
  std::printf("cache only: %llu loads, %llu evictions, %llu resident\n",
              static_cast<unsigned long long>(stats.loads),
              static_cast<unsigned long long>(stats.evictions),
              static_cast<unsigned long long>(stats.models_resident));
  return stats.loads == 2 && stats.evictions == 1 && stats.models_resident == 1 ? 0 : 1;
}
