#include "workload/user_inputs.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <cmath>
#include <cstdlib>

#include "infermem/error.h"

namespace infermem {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string out = "[";
  for (std::size_t d = 0; d < shape.size(); ++d)
    out += (d ? "x" : "") + (shape[d] < 0 ? std::string("?") : std::to_string(shape[d]));
  return out + "]";
}

std::string known_names(const std::vector<InputPlan>& inputs) {
  std::vector<std::string> names;
  for (const auto& p : inputs) names.push_back(p.name);
  return fmt::format("{}", fmt::join(names, ", "));
}

int find_input(const std::vector<InputPlan>& inputs, const std::string& name) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].name == name) return static_cast<int>(i);
  return -1;
}

// Which model input a tensor of a request is: its name, else input_K's K, else the only input.
int match(const std::vector<InputPlan>& inputs, const TensorData& t,
          std::size_t tensors_in_request) {
  if (!t.name.empty()) {
    int i = find_input(inputs, t.name);
    if (i >= 0) return i;
    if (!t.name_from_file)
      throw InputError(
          fmt::format("--inputs {}: the model has no input named '{}'; its inputs are: {}",
                      t.source, t.name, known_names(inputs)));
  }
  if (t.position >= 0) {
    if (static_cast<std::size_t>(t.position) < inputs.size()) return t.position;
    throw InputError(fmt::format("--inputs {}: input {} of a model with {} input{}", t.source,
                                 t.position, inputs.size(), inputs.size() == 1 ? "" : "s"));
  }
  if (inputs.size() == 1 && tensors_in_request == 1) return 0;
  throw InputError(fmt::format(
      "--inputs {}: the model has no input named '{}'; its inputs are: {} (name .npy files "
      "after the input, or use an .npz archive or a test data set for several inputs)",
      t.source, t.name, known_names(inputs)));
}

void check_tensor(const InputPlan& p, const TensorData& t) {
  bool ok = t.element_type == p.element_type && t.shape.size() == p.shape.size();
  for (std::size_t d = 0; ok && d < p.shape.size(); ++d)
    if (p.shape[d] >= 0 && p.shape[d] != t.shape[d]) ok = false;
  if (!ok)
    throw InputError(fmt::format("--inputs {}: input '{}' expects {} {}, given {} {}", t.source,
                                 p.name, element_type_name(p.element_type), shape_text(p.shape),
                                 element_type_name(t.element_type), shape_text(t.shape)));
}

double parse_constant(const std::string& name, const std::string& text, const InputPlan& p) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v))
    throw InputError(fmt::format("--input {}={}: the value is not a number", name, text));
  const bool integral = p.element_type != 1 && p.element_type != 10 && p.element_type != 11 &&
                        p.element_type != 16;  // float, float16, double, bfloat16
  if (integral && v != std::floor(v))
    throw InputError(fmt::format("--input {}={}: input '{}' is {}, which takes whole numbers", name,
                                 text, name, element_type_name(p.element_type)));
  return v;
}

}  // namespace

UserInputs::UserInputs(const std::vector<InputPlan>& inputs, const std::string& path,
                       const std::string& order,
                       const std::map<std::string, std::string>& constants, std::uint64_t seed)
    : random_(order == "random"), rng_(seed) {
  for (const auto& [name, text] : constants) {
    const int i = find_input(inputs, name);
    if (i < 0)
      throw InputError(
          fmt::format("--input {}={}: the model has no input named '{}'; its inputs "
                      "are: {}",
                      name, text, name, known_names(inputs)));
    constants_[static_cast<std::size_t>(i)] =
        parse_constant(name, text, inputs[static_cast<std::size_t>(i)]);
  }
  if (path.empty()) return;
  for (auto& req : load_tensor_requests(path)) {
    std::vector<int> slots(inputs.size(), -1);
    for (std::size_t k = 0; k < req.size(); ++k) {
      const int i = match(inputs, req[k], req.size());
      if (slots[static_cast<std::size_t>(i)] >= 0)
        throw InputError(fmt::format("--inputs {}: input '{}' is given twice in one request",
                                     req[k].source, inputs[static_cast<std::size_t>(i)].name));
      if (constants_.count(static_cast<std::size_t>(i)))
        throw InputError(fmt::format("--input {}: input '{}' is also given by --inputs ({})",
                                     inputs[static_cast<std::size_t>(i)].name,
                                     inputs[static_cast<std::size_t>(i)].name, req[k].source));
      check_tensor(inputs[static_cast<std::size_t>(i)], req[k]);
      slots[static_cast<std::size_t>(i)] = static_cast<int>(k);
    }
    tensors_.push_back(std::move(req));
    requests_.push_back(std::move(slots));
  }
}

std::size_t UserInputs::next_request() {
  std::lock_guard<std::mutex> lock(mu_);
  if (requests_.empty()) return 0;
  if (random_) {
    std::uniform_int_distribution<std::size_t> pick(0, requests_.size() - 1);
    current_ = pick(rng_);
  } else if (started_) {
    current_ = (current_ + 1) % requests_.size();
  }
  started_ = true;
  return current_;
}

const TensorData* UserInputs::tensor(std::size_t request, std::size_t index) const {
  if (request >= requests_.size() || index >= requests_[request].size()) return nullptr;
  const int k = requests_[request][index];
  return k < 0 ? nullptr : &tensors_[request][static_cast<std::size_t>(k)];
}

std::optional<double> UserInputs::constant(std::size_t index) const {
  auto it = constants_.find(index);
  if (it == constants_.end()) return std::nullopt;
  return it->second;
}

void check_user_inputs(const std::vector<InputPlan>& inputs, const SoakOptions& options) {
  if (options.inputs_path.empty() && options.input_constants.empty()) return;
  UserInputs checked(inputs, options.inputs_path, options.inputs_order, options.input_constants,
                     options.seed);
}

}  // namespace infermem
