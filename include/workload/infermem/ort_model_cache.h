#pragma once
// ModelCache over ONNX Runtime: the loader that makes sessions, configured by an arm's session
// knobs (arena, memory pattern, threads, prepacking, ...), from the model's file path. A request
// takes a lease and runs on its session:
//   ModelCache cache(ort_session_loader(builtin_arm("lean")), process_memory_meter(), options);
//   auto lease = cache.acquire("models/ocr.onnx");
//   auto& model = static_cast<SessionModel&>(lease.model());
//   model.session().Run(model.run_options(), ...);
#include <onnxruntime_cxx_api.h>
#include <memory>
#include <vector>

#include "infermem/arms.h"
#include "infermem/model_cache.h"

namespace infermem {

class SessionModel : public CachedModel {
 public:
  virtual Ort::Session& session() = 0;
  virtual Ort::RunOptions& run_options() = 0;
  virtual const std::vector<const char*>& output_names() const = 0;
};

// Sessions as `arm` configures them; its load= knob says how the file is read (path, the
// default, lets ONNX Runtime read the file itself: no second copy of the model in memory).
std::unique_ptr<ModelLoader> ort_session_loader(const Arm& arm);

}  // namespace infermem
