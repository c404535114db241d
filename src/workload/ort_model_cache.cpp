// ort_session_loader: ModelCache's loader for ONNX Runtime sessions (infermem/ort_model_cache.h).
#include "infermem/ort_model_cache.h"

#include "workload/session_model.h"

namespace infermem {
namespace {

class ArmSessionLoader final : public ModelLoader {
 public:
  explicit ArmSessionLoader(Arm arm) : arm_(std::move(arm)) {}
  std::unique_ptr<CachedModel> load(const std::string& path) override {
    return std::make_unique<ArmSessionModel>(path, arm_);
  }

 private:
  Arm arm_;
};

}  // namespace

std::unique_ptr<ModelLoader> ort_session_loader(const Arm& arm) {
  return std::make_unique<ArmSessionLoader>(arm);
}

}  // namespace infermem
