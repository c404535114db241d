#pragma once
// Seeded synthesis of model inputs for one request: dims drawn per scenario, tensors filled
// by element type. Buffers are owned here so ORT only borrows them.
#include <onnxruntime_cxx_api.h>
#include <random>
#include <string>
#include <vector>

#include "infermem/soak.h"
#include "workload/pacing.h"
#include "workload/user_inputs.h"

namespace infermem {

class InputSynth {
 public:
  InputSynth(const std::vector<InputPlan>& inputs, const std::map<std::string, DimRange>& dims,
             bool fixed_shapes, std::uint64_t seed);
  // Builds the next request's input tensors (valid until the next call).
  std::vector<Ort::Value>& next();
  const std::vector<const char*>& names() const { return names_; }
  // "input_ids[1x128]" for the request record.
  std::string shape_text() const;
  // Tensors and constants of the user's (soak --inputs, --input) win over synthesis.
  void use(UserInputs* user) { user_ = user; }
  // --feed: replaces input i of the request just built by next() with a carried output.
  void override_input(std::size_t i, const std::string& bytes,
                      const std::vector<std::int64_t>& shape);
  // --shapes spike or FILE: sizes of dynamic dimensions per request, over the seeded draw.
  void use(const ShapePlan* plan) { shape_plan_ = plan; }

 private:
  std::vector<InputPlan> inputs_;
  std::map<std::string, DimRange> dims_;
  bool fixed_;
  std::mt19937_64 rng_;
  std::vector<const char*> names_;
  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<std::vector<std::int64_t>> shapes_;
  std::vector<Ort::Value> values_;
  // This request's dynamic dimension sizes: drawn from the ranges, or the shape plan's.
  std::map<std::string, std::int64_t> draw_dims();
  // Input i from the user's tensor or constant; false when the user gave neither.
  bool fill_from_user(std::size_t i, const Ort::MemoryInfo& cpu);
  UserInputs* user_ = nullptr;
  std::size_t user_request_ = 0;
  const ShapePlan* shape_plan_ = nullptr;
  std::int64_t count_ = 0;                     // requests built
  std::map<std::string, std::int64_t> drawn_;  // this request's dynamic dimension sizes
};

// element_size() and element_type_name() are public: infermem/soak.h.

}  // namespace infermem
