#include "workload/session.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <onnxruntime_run_options_config_keys.h>
#include <onnxruntime_session_options_config_keys.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>

#include "infermem/error.h"
#include "infermem/model_gen.h"
#include "workload/ort_api.h"
#include "workload/ort_env.h"

namespace infermem {
namespace {

int count_knob(const Arm& arm, const char* key) {
  const std::string& v = arm.knob(key);
  if (v.empty() || v == "default") return 0;
  return std::stoi(v);
}

// The environment-wide arena is registered once per process (each arm is its own process).
void register_env_allocator(const Arm& arm) {
  static bool done = false;
  if (done) return;
  done = true;
  int strategy = -1;
  if (arm.knob("arena_extend") == "power2") strategy = 0;
  if (arm.knob("arena_extend") == "same") strategy = 1;
  Ort::ArenaCfg cfg(0, strategy, -1, -1);
  Ort::MemoryInfo info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  ort_env().CreateAndRegisterAllocator(info, cfg);
}

}  // namespace

// prewarm=on. ONNX Runtime builds its CPU kernel registry (a KernelDef for every CPU kernel it
// has, about 1.1 MiB of small blocks) the first time a session asks the CPU execution provider
// for it, and keeps it to exit: a function-local static in CPUExecutionProvider::GetKernelRegistry
// (onnxruntime/core/providers/cpu/cpu_execution_provider.cc), whatever the model. Built amid the
// first model's load, those blocks land between the model's, and after unload and malloc_trim
// they pin ~0.7 MiB of pages the trim cannot return; built first, from a one-node model, they
// fill pages of their own (docs/soak.md, "Lean at the physical limit").
void prewarm_ort() {
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string bytes = generate_model_bytes(one_node_model_spec());
    Ort::SessionOptions so;
    so.SetIntraOpNumThreads(1);  // no thread pool for a session that never runs
    so.SetInterOpNumThreads(1);
    try {
      Ort::Session warm(ort_env(), bytes.data(), bytes.size(), so);
    } catch (const Ort::Exception& e) {
      throw WorkloadError(fmt::format(
          "prewarm=on: ONNX Runtime could not create the one-node warm-up session (an opset "
          "17 Identity): {}; run this ONNX Runtime with prewarm=off",
          e.what()));
    }
  });
}

Ort::SessionOptions make_session_options(const Arm& arm) {
  Ort::SessionOptions so;
  if (arm.on("arena"))
    so.EnableCpuMemArena();
  else
    so.DisableCpuMemArena();
  if (arm.on("mem_pattern"))
    so.EnableMemPattern();
  else
    so.DisableMemPattern();
  const std::string& opt = arm.knob("graph_opt");
  so.SetGraphOptimizationLevel(opt == "off"        ? ORT_DISABLE_ALL
                               : opt == "basic"    ? ORT_ENABLE_BASIC
                               : opt == "extended" ? ORT_ENABLE_EXTENDED
                                                   : ORT_ENABLE_ALL);
  so.SetIntraOpNumThreads(count_knob(arm, "intra"));
  so.SetInterOpNumThreads(count_knob(arm, "inter"));
  if (count_knob(arm, "inter") > 1) so.SetExecutionMode(ORT_PARALLEL);
  if (arm.on("device_alloc_for_initializers"))
    so.AddConfigEntry(kOrtSessionOptionsUseDeviceAllocatorForInitializers, "1");
  if (!arm.on("prepacking")) so.AddConfigEntry(kOrtSessionOptionsConfigDisablePrepacking, "1");
  // An arena growth strategy lives in an OrtArenaCfg, which only an environment allocator takes.
  if (arm.on("env_allocator") || arm.knob("arena_extend") != "default") {
    register_env_allocator(arm);
    so.AddConfigEntry(kOrtSessionOptionsConfigUseEnvAllocators, "1");
  }
  return so;
}

ArmSession::ArmSession(const std::string& model_path, const Arm& arm) {
  if (arm.on("prewarm")) prewarm_ort();
  Ort::SessionOptions so = make_session_options(arm);
  const std::string& load = arm.knob("load");
  try {
    if (load == "bytes") {
      std::ifstream in(model_path, std::ios::binary);
      if (!in) throw WorkloadError(fmt::format("cannot read {}", model_path));
      // Bulk reads: a byte at a time (istreambuf_iterator) is slow in the sanitizer build.
      char buf[1 << 16];
      while (in.read(buf, sizeof buf) || in.gcount() > 0)
        bytes_.insert(bytes_.end(), buf, buf + in.gcount());
      session_ = std::make_unique<Ort::Session>(ort_env(), bytes_.data(), bytes_.size(), so);
    } else if (load == "mmap") {
      int fd = ::open(model_path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        throw WorkloadError(fmt::format("cannot open {}: {}", model_path, std::strerror(errno)));
      struct stat st {};
      ::fstat(fd, &st);
      mapped_size_ = static_cast<std::size_t>(st.st_size);
      mapped_ = ::mmap(nullptr, mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0);
      ::close(fd);
      if (mapped_ == MAP_FAILED) {
        mapped_ = nullptr;
        throw WorkloadError(fmt::format("cannot mmap {}: {}", model_path, std::strerror(errno)));
      }
      session_ = std::make_unique<Ort::Session>(ort_env(), mapped_, mapped_size_, so);
    } else {
      session_ = std::make_unique<Ort::Session>(ort_env(), model_path.c_str(), so);
    }
  } catch (const Ort::Exception& e) {
    throw WorkloadError(fmt::format("ONNX Runtime could not load {}: {}", model_path, e.what()));
  }
  if (arm.on("shrink"))
    run_options_.AddConfigEntry(kOrtRunOptionsConfigEnableMemoryArenaShrinkage, "cpu:0");
  Ort::AllocatorWithDefaultOptions alloc;
  for (std::size_t i = 0; i < session_->GetOutputCount(); ++i)
    output_names_.emplace_back(session_->GetOutputNameAllocated(i, alloc).get());
  for (const auto& n : output_names_) output_name_ptrs_.push_back(n.c_str());
}

ArmSession::~ArmSession() {
  session_.reset();
  if (mapped_) ::munmap(mapped_, mapped_size_);
}

Figures ArmSession::arena_stats() {
  Figures out;
  // Allocator statistics came with C API 23 (ORT 1.23): an older library has no such entry.
  if (ort_api_version() < kOrtApiAllocatorGetStats) return out;
  try {
    Ort::MemoryInfo info = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    Ort::Allocator alloc(*session_, info);
    Ort::KeyValuePairs stats = alloc.GetStats();
    static constexpr std::pair<const char*, Figure> keys[] = {
        {"InUse", Figure::ort_arena_in_use_bytes},
        {"TotalAllocated", Figure::ort_arena_reserved_bytes},
        {"MaxInUse", Figure::ort_arena_max_in_use_bytes},
        {"NumArenaExtensions", Figure::ort_arena_extensions_count},
        {"NumArenaShrinkages", Figure::ort_arena_shrinkages_count}};
    for (const auto& [ort_key, figure] : keys) {
      const char* v = stats.GetValue(ort_key);
      if (v) out.set(figure, std::strtod(v, nullptr));
    }
  } catch (const Ort::Exception&) {
    // No arena allocator for this session (arena=off): nothing to report, not an error.
  }
  return out;
}

}  // namespace infermem
