#include "workload/inputs.h"

#include <fmt/format.h>
#include <algorithm>
#include <cctype>
#include <cstring>

#include "infermem/error.h"
#include "infermem/model_info.h"
#include "infermem/text.h"
#include "workload/ort_env.h"

namespace infermem {
namespace {

enum class DimKind { Batch, Sequence, Spatial, Other };

DimKind classify(const std::string& name, std::size_t index, std::size_t rank, bool is_float) {
  std::string n = lower(name);
  if (!n.empty()) {
    if (n.find("batch") != std::string::npos || n == "n" || n == "b") return DimKind::Batch;
    if (n.find("seq") != std::string::npos || n.find("len") != std::string::npos ||
        n.find("token") != std::string::npos || n == "s" || n == "t")
      return DimKind::Sequence;
    if (n.find("height") != std::string::npos || n.find("width") != std::string::npos || n == "h" ||
        n == "w")
      return DimKind::Spatial;
  }
  if (index == 0) return DimKind::Batch;
  if (rank == 4 && is_float && index >= 2) return DimKind::Spatial;
  if (rank == 2 && index == 1 && !is_float) return DimKind::Sequence;
  return DimKind::Other;
}

DimRange default_range(DimKind kind, bool fixed) {
  switch (kind) {
    case DimKind::Batch:
      return fixed ? DimRange{1, 1, 1} : DimRange{1, 4, 1};
    case DimKind::Sequence:
      return fixed ? DimRange{128, 128, 1} : DimRange{16, 256, 1};
    case DimKind::Spatial:
      return fixed ? DimRange{320, 320, 32} : DimRange{160, 640, 32};
    case DimKind::Other:
      break;
  }
  return fixed ? DimRange{16, 16, 1} : DimRange{8, 64, 1};
}

DimRange parse_range(const std::string& key, const std::string& text) {
  auto bad = [&] {
    return InputError(
        fmt::format("--dim {}={}: expected LO..HI or N with positive integers "
                    "(e.g. --dim sequence=16..512)",
                    key, text));
  };
  auto parse_int = [&](const std::string& s) {
    if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), ::isdigit)) throw bad();
    long long v = std::stoll(s);
    if (v <= 0) throw bad();
    return static_cast<std::int64_t>(v);
  };
  auto dots = text.find("..");
  DimRange r;
  if (dots == std::string::npos) {
    r.lo = r.hi = parse_int(text);
  } else {
    r.lo = parse_int(text.substr(0, dots));
    r.hi = parse_int(text.substr(dots + 2));
  }
  if (r.lo > r.hi) throw bad();
  return r;
}

}  // namespace

std::size_t element_size(int t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return 2;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return 1;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return 1;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return 1;
    default:
      return 0;
  }
}

std::string element_type_name(int t) {
  switch (t) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return "float";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return "double";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
      return "string";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
      return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT16:
      return "uint16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT16:
      return "int16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT32:
      return "uint32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT64:
      return "uint64";
    default:
      return fmt::format("type {}", t);
  }
}

std::vector<InputPlan> plan_inputs(const std::string& model_path) {
  // inspect_model names the file in every error (missing, truncated, not ONNX) and gives the
  // vocabulary size of token-id inputs that feed a Gather on an embedding initializer.
  ModelInfo info = inspect_model(model_path);
  std::vector<InputPlan> plans;
  for (const auto& in : info.inputs) {
    InputPlan p;
    p.name = in.name;
    p.element_type = in.element_type;
    p.shape = in.shape;
    p.vocab_size = in.vocab_size;
    if (in.element_type == 0 || element_size(p.element_type) == 0)
      throw InputError(
          fmt::format("{}: input '{}' has type {}, which soak cannot synthesize "
                      "(it fills float, float16, double, int64, int32, int8, uint8 "
                      "and bool tensors)",
                      model_path, p.name, in.type));
    for (std::size_t d = 0; d < p.shape.size(); ++d) {
      if (p.shape[d] >= 0) {
        p.dim_keys.emplace_back();
        continue;
      }
      std::string name = d < in.dims.size() ? in.dims[d].value_or("") : "";
      std::string key = name.empty() ? fmt::format("{}.{}", p.name, d) : name;
      p.dim_keys.push_back(key);
    }
    plans.push_back(std::move(p));
  }
  return plans;
}

std::map<std::string, DimRange> resolve_dims(const std::vector<InputPlan>& inputs,
                                             Scenario scenario,
                                             const std::map<std::string, std::string>& overrides) {
  bool fixed = scenario == Scenario::steady;
  std::map<std::string, DimRange> dims;
  for (const auto& p : inputs) {
    bool is_float = p.element_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ||
                    p.element_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16 ||
                    p.element_type == ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE;
    for (std::size_t d = 0; d < p.dim_keys.size(); ++d) {
      const auto& key = p.dim_keys[d];
      if (key.empty() || dims.count(key)) continue;
      bool unnamed = key.rfind(p.name + ".", 0) == 0;
      DimKind kind = classify(unnamed ? "" : key, d, p.shape.size(), is_float);
      dims[key] = default_range(kind, fixed);
    }
  }
  // "INPUT.INDEX" names a dimension by position, whatever symbolic name the model gave it.
  auto by_position = [&](const std::string& key) -> std::string {
    for (const auto& p : inputs)
      for (std::size_t d = 0; d < p.dim_keys.size(); ++d)
        if (!p.dim_keys[d].empty() && key == fmt::format("{}.{}", p.name, d)) return p.dim_keys[d];
    return key;
  };
  for (const auto& [given_key, text] : overrides) {
    const std::string key = dims.count(given_key) ? given_key : by_position(given_key);
    auto it = dims.find(key);
    if (it == dims.end()) {
      std::string known;
      for (const auto& [k, _] : dims) known += (known.empty() ? "" : ", ") + k;
      throw InputError(
          fmt::format("--dim {}: the model has no dynamic dimension named '{}'; "
                      "its dynamic dimensions are: {}",
                      key, key, known.empty() ? "(none)" : known));
    }
    DimRange r = parse_range(key, text);
    // Spatial dims keep their step (32): detection models downsample and upsample by 32.
    r.step = it->second.step;
    if (r.step > 1 && r.hi / r.step * r.step < r.lo)
      throw InputError(
          fmt::format("--dim {}={}: this dimension is drawn in multiples of {}; the "
                      "range holds none",
                      given_key, text, r.step));
    if (fixed) r.hi = r.lo;
    it->second = r;
  }
  return dims;
}

InputSynth::InputSynth(const std::vector<InputPlan>& inputs,
                       const std::map<std::string, DimRange>& dims, bool fixed_shapes,
                       std::uint64_t seed)
    : inputs_(inputs), dims_(dims), fixed_(fixed_shapes), rng_(seed) {
  for (const auto& p : inputs_) names_.push_back(p.name.c_str());
  buffers_.resize(inputs_.size());
  shapes_.resize(inputs_.size());
}

namespace {

// Random contents for one synthesized tensor of `count` elements: floats in [-1, 1], token ids
// below the input's vocabulary, fair booleans, any byte for 8-bit types.
void fill_random(std::vector<std::uint8_t>& buf, const InputPlan& p, std::size_t count,
                 std::size_t esize, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  switch (p.element_type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: {
      auto* f = reinterpret_cast<float*>(buf.data());
      for (std::size_t k = 0; k < count; ++k) f[k] = unit(rng);
      break;
    }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: {
      auto* f = reinterpret_cast<double*>(buf.data());
      for (std::size_t k = 0; k < count; ++k) f[k] = unit(rng);
      break;
    }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: {
      auto* h = reinterpret_cast<Ort::Float16_t*>(buf.data());
      for (std::size_t k = 0; k < count; ++k) h[k] = Ort::Float16_t(unit(rng));
      break;
    }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: {
      std::int64_t vocab = p.vocab_size.value_or(2);
      std::uniform_int_distribution<std::int64_t> ids(0, std::max<std::int64_t>(vocab, 1) - 1);
      for (std::size_t k = 0; k < count; ++k) {
        std::int64_t v = ids(rng);
        if (esize == 8)
          std::memcpy(buf.data() + k * 8, &v, 8);
        else {
          auto v32 = static_cast<std::int32_t>(v);
          std::memcpy(buf.data() + k * 4, &v32, 4);
        }
      }
      break;
    }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: {
      std::bernoulli_distribution coin(0.5);
      for (std::size_t k = 0; k < count; ++k) buf[k] = coin(rng) ? 1 : 0;
      break;
    }
    default: {  // int8, uint8: any byte
      std::uniform_int_distribution<int> byte(0, 255);
      for (std::size_t k = 0; k < count; ++k) buf[k] = static_cast<std::uint8_t>(byte(rng));
    }
  }
}

}  // namespace

std::map<std::string, std::int64_t> InputSynth::draw_dims() {
  std::map<std::string, std::int64_t> drawn;
  for (const auto& [key, r] : dims_) {
    if (fixed_ || r.lo == r.hi) {
      drawn[key] = (r.lo + r.step - 1) / r.step * r.step;
      continue;
    }
    std::int64_t lo = (r.lo + r.step - 1) / r.step, hi = r.hi / r.step;
    if (hi < lo) hi = lo;
    std::uniform_int_distribution<std::int64_t> dist(lo, hi);
    drawn[key] = dist(rng_) * r.step;
  }
  if (shape_plan_ && shape_plan_->spike_every > 0) {
    const bool spike = count_ % shape_plan_->spike_every == shape_plan_->spike_every - 1;
    for (const auto& [key, r] : dims_) {
      const std::int64_t lo = (r.lo + r.step - 1) / r.step * r.step;
      const std::int64_t hi = std::max(lo, r.hi / r.step * r.step);
      drawn[key] = spike ? hi : lo;
    }
  } else if (shape_plan_ && !shape_plan_->lines.empty()) {
    const auto& line =
        shape_plan_->lines[static_cast<std::size_t>(count_) % shape_plan_->lines.size()];
    for (const auto& [key, n] : line) drawn[key] = n;
  }
  return drawn;
}

std::vector<Ort::Value>& InputSynth::next() {
  const std::map<std::string, std::int64_t> drawn = draw_dims();
  ++count_;
  drawn_ = drawn;
  values_.clear();
  static const Ort::MemoryInfo cpu =
      Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  if (user_) user_request_ = user_->next_request();
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const auto& p = inputs_[i];
    auto& shape = shapes_[i];
    if (user_ && fill_from_user(i, cpu)) continue;
    shape = p.shape;
    std::size_t count = 1;
    for (std::size_t d = 0; d < shape.size(); ++d) {
      if (shape[d] < 0) shape[d] = drawn.at(p.dim_keys[d]);
      count *= static_cast<std::size_t>(shape[d]);
    }
    std::size_t esize = element_size(p.element_type);
    auto& buf = buffers_[i];
    buf.assign(count * esize + 1, 0);  // +1 so a zero-sized tensor still has a valid pointer
    fill_random(buf, p, count, esize, rng_);
    values_.push_back(
        Ort::Value::CreateTensor(cpu, buf.data(), count * esize, shape.data(), shape.size(),
                                 static_cast<ONNXTensorElementDataType>(p.element_type)));
  }
  return values_;
}

std::string InputSynth::shape_text() const {
  std::string out;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    if (i) out += ' ';
    out += inputs_[i].name + '[';
    for (std::size_t d = 0; d < shapes_[i].size(); ++d)
      out += (d ? "x" : "") + std::to_string(shapes_[i][d]);
    out += ']';
  }
  return out;
}

}  // namespace infermem

namespace infermem {

namespace {
template <typename T>
void fill_all(std::vector<std::uint8_t>& buf, std::size_t count, double value) {
  const T v = static_cast<T>(value);
  for (std::size_t k = 0; k < count; ++k) std::memcpy(buf.data() + k * sizeof(T), &v, sizeof(T));
}
}  // namespace

bool InputSynth::fill_from_user(std::size_t i, const Ort::MemoryInfo& cpu) {
  const auto& p = inputs_[i];
  auto& shape = shapes_[i];
  auto& buf = buffers_[i];
  const auto type = static_cast<ONNXTensorElementDataType>(p.element_type);
  if (const TensorData* t = user_->tensor(user_request_, i)) {
    // A copy, as a server builds its request tensors; ORT only borrows the buffer.
    shape = t->shape;
    buf.assign(t->bytes.begin(), t->bytes.end());
    buf.push_back(0);  // a valid pointer for a zero-sized tensor
    values_.push_back(Ort::Value::CreateTensor(cpu, buf.data(), t->bytes.size(), shape.data(),
                                               shape.size(), type));
    return true;
  }
  std::optional<double> constant = user_->constant(i);
  if (!constant) return false;
  // Dynamic dims of a constant input take the drawn sizes of this request (dims_ drawn above).
  shape = p.shape;
  std::size_t count = 1;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] < 0) shape[d] = drawn_.at(p.dim_keys[d]);
    count *= static_cast<std::size_t>(shape[d]);
  }
  const std::size_t esize = element_size(p.element_type);
  buf.assign(count * esize + 1, 0);
  switch (p.element_type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      fill_all<float>(buf, count, *constant);
      break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      fill_all<double>(buf, count, *constant);
      break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16: {
      const Ort::Float16_t h(static_cast<float>(*constant));
      for (std::size_t k = 0; k < count; ++k) std::memcpy(buf.data() + k * 2, &h, 2);
      break;
    }
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      fill_all<std::int64_t>(buf, count, *constant);
      break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      fill_all<std::int32_t>(buf, count, *constant);
      break;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      fill_all<std::int8_t>(buf, count, *constant);
      break;
    default:  // uint8, bool
      fill_all<std::uint8_t>(buf, count, *constant);
  }
  values_.push_back(
      Ort::Value::CreateTensor(cpu, buf.data(), count * esize, shape.data(), shape.size(), type));
  return true;
}

}  // namespace infermem

namespace infermem {

void InputSynth::override_input(std::size_t i, const std::string& bytes,
                                const std::vector<std::int64_t>& shape) {
  static const Ort::MemoryInfo cpu =
      Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  shapes_[i] = shape;
  buffers_[i].assign(bytes.begin(), bytes.end());
  buffers_[i].push_back(0);
  values_[i] = Ort::Value::CreateTensor(
      cpu, buffers_[i].data(), bytes.size(), shapes_[i].data(), shapes_[i].size(),
      static_cast<ONNXTensorElementDataType>(inputs_[i].element_type));
}

}  // namespace infermem
