#pragma once
// Seeded synthesis of model inputs for one request: dims drawn per scenario, tensors filled
// by element type. Buffers are owned here so ORT only borrows them.
#include <onnxruntime_cxx_api.h>
#include <random>
#include <string>
#include <vector>

#include "infermem/soak.h"

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

 private:
  std::vector<InputPlan> inputs_;
  std::map<std::string, DimRange> dims_;
  bool fixed_;
  std::mt19937_64 rng_;
  std::vector<const char*> names_;
  std::vector<std::vector<std::uint8_t>> buffers_;
  std::vector<std::vector<std::int64_t>> shapes_;
  std::vector<Ort::Value> values_;
};

// element_size() and element_type_name() are public: infermem/soak.h.

}  // namespace infermem
