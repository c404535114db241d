#pragma once
// An ONNX Runtime session configured by an arm: session options, run options, load mode, and
// the model bytes it holds (load=bytes keeps a heap copy alive, as InferenceSession(bytes) does;
// load=mmap keeps a read-only file mapping alive).
#include <onnxruntime_cxx_api.h>
#include <memory>
#include <string>
#include <vector>

#include "infermem/arms.h"
#include "infermem/figure.h"

namespace infermem {

class ArmSession {
 public:
  // Throws WorkloadError when ORT refuses the model or an option.
  ArmSession(const std::string& model_path, const Arm& arm);
  ~ArmSession();
  ArmSession(const ArmSession&) = delete;
  ArmSession& operator=(const ArmSession&) = delete;

  Ort::Session& session() { return *session_; }
  Ort::RunOptions& run_options() { return run_options_; }
  const std::vector<std::string>& output_names() const { return output_names_; }
  // The same as C strings, built once, for Run() on the request path.
  const std::vector<const char*>& output_name_ptrs() const { return output_name_ptrs_; }
  // ORT's CPU arena statistics ("InUse", "TotalAllocated", ...) as *_bytes values; empty when
  // the session uses no arena.
  Figures arena_stats();

 private:
  std::vector<char> bytes_;  // load=bytes
  void* mapped_ = nullptr;   // load=mmap
  std::size_t mapped_size_ = 0;
  std::unique_ptr<Ort::Session> session_;
  Ort::RunOptions run_options_;
  std::vector<std::string> output_names_;
  std::vector<const char*> output_name_ptrs_;
};

// prewarm=on: creates and releases one session of a one-node model, once per process, so that
// ONNX Runtime's process-lifetime CPU kernel registry is built before the first model's blocks
// (session.cpp says why). WorkloadError when this ONNX Runtime cannot create it.
void prewarm_ort();

// Applies the arm's ORT session knobs; exposed for tests that check knobs reach ORT.
Ort::SessionOptions make_session_options(const Arm& arm);

}  // namespace infermem
