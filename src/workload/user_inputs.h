#pragma once
// What soak feeds a model besides synthesized tensors: the user's own tensors (--inputs PATH,
// cycled in order or at random, seeded) and constant fills (--input NAME=VALUE). Matched to the
// model's inputs and checked against their types and shapes in the parent, before any child
// starts; the child loads the same files again and InputSynth takes its tensors from here.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "infermem/soak.h"
#include "workload/tensor_files.h"

namespace infermem {

class UserInputs {
 public:
  // Loads and checks everything. InputError naming the input, its expected and given shape and
  // type, the file, or the unknown name. `inputs` are the model's, as planned.
  UserInputs(const std::vector<InputPlan>& inputs, const std::string& path,
             const std::string& order, const std::map<std::string, std::string>& constants,
             std::uint64_t seed);
  bool empty() const { return requests_.empty() && constants_.empty(); }
  // Picks the next request's tensors (in order, or drawn with the seed); thread-safe: threads
  // of --concurrency share one sequence.
  std::size_t next_request();
  // Request `request`'s tensor for model input `index`, or nullptr.
  const TensorData* tensor(std::size_t request, std::size_t index) const;
  // The constant fill for model input `index`, or nothing.
  std::optional<double> constant(std::size_t index) const;
  std::size_t request_count() const { return requests_.size(); }

 private:
  // requests_[r][i]: the tensor of model input i in request r (index into tensors_), or -1.
  std::vector<std::vector<TensorData>> tensors_;
  std::vector<std::vector<int>> requests_;
  std::map<std::size_t, double> constants_;
  bool random_ = false;
  std::mt19937_64 rng_;
  std::size_t current_ = 0;
  bool started_ = false;
  std::mutex mu_;
};

// check_user_inputs() (the parent's check, the same as the constructor's) is in infermem/soak.h.

}  // namespace infermem
