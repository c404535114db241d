#pragma once
// The ModelCache's model for ONNX Runtime: an ArmSession behind the public SessionModel, so the
// worker can run its own request path (ArmSession) on what the cache holds.
#include "infermem/ort_model_cache.h"
#include "workload/session.h"

namespace infermem {

class ArmSessionModel final : public SessionModel {
 public:
  ArmSessionModel(const std::string& path, const Arm& arm) : session_(path, arm) {}
  Ort::Session& session() override { return session_.session(); }
  Ort::RunOptions& run_options() override { return session_.run_options(); }
  const std::vector<const char*>& output_names() const override {
    return session_.output_name_ptrs();
  }
  ArmSession& arm_session() { return session_; }

 private:
  ArmSession session_;
};

}  // namespace infermem
