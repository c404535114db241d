#include "infermem/model_info.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/units.h"
#include "workload/model_proto.h"
#include "workload/ort_env.h"

namespace infermem {
namespace {

std::string type_name(int element_type) {
  static const char* const kNames[] = {
      "undefined",      "float",      "uint8",          "int8",       "uint16",   "int16",
      "int32",          "int64",      "string",         "bool",       "float16",  "double",
      "uint32",         "uint64",     "complex64",      "complex128", "bfloat16", "float8e4m3fn",
      "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",      "int4"};
  if (element_type >= 0 && element_type < static_cast<int>(std::size(kNames)))
    return kNames[element_type];
  return fmt::format("type{}", element_type);
}

std::string read_model_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) throw InputError(fmt::format("model file {} does not exist", path));
    throw InputError(fmt::format("cannot read model file {}: {}", path, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode))
    throw InputError(fmt::format("{} is a directory, not an ONNX model file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(fmt::format("cannot read model file {}: {}", path, std::strerror(errno)));
  // Bulk reads, not istreambuf_iterator: a byte at a time through out-of-line iterator calls
  // took 2-3 s of CPU for an 8 MiB model in the sanitizer build, which a busy machine stretched
  // past 30 s before soak could start its first arm.
  std::string bytes;
  bytes.reserve(static_cast<std::size_t>(st.st_size));
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    bytes.append(buf, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw InputError(fmt::format("cannot read model file {}: read failed", path));
  if (bytes.empty())
    throw InputError(fmt::format("{} is empty (0 bytes), not an ONNX model", path));
  return bytes;
}

TensorInfo describe(const std::string& name, const Ort::TypeInfo& type_info) {
  TensorInfo info;
  info.name = name;
  switch (type_info.GetONNXType()) {
    case ONNX_TYPE_TENSOR:
    case ONNX_TYPE_SPARSETENSOR: {
      auto tensor = type_info.GetTensorTypeAndShapeInfo();
      info.element_type = tensor.GetElementType();
      info.type = type_name(info.element_type);
      info.shape = tensor.GetShape();
      for (const char* symbol : tensor.GetSymbolicDimensions()) {
        if (symbol && *symbol)
          info.dims.emplace_back(symbol);
        else
          info.dims.emplace_back(std::nullopt);
      }
      info.dims.resize(info.shape.size());
      break;
    }
    case ONNX_TYPE_SEQUENCE:
      info.type = "sequence";
      break;
    case ONNX_TYPE_MAP:
      info.type = "map";
      break;
    case ONNX_TYPE_OPTIONAL:
      info.type = "optional";
      break;
    default:
      info.type = "unknown";
  }
  return info;
}

void read_signature_with_ort(const std::string& path, ModelInfo& info) {
  try {
    Ort::SessionOptions options;
    options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_DISABLE_ALL);
    options.SetIntraOpNumThreads(1);
    options.SetInterOpNumThreads(1);
    Ort::Session session(ort_env(), path.c_str(), options);
    Ort::AllocatorWithDefaultOptions allocator;
    for (std::size_t i = 0; i < session.GetInputCount(); ++i)
      info.inputs.push_back(
          describe(session.GetInputNameAllocated(i, allocator).get(), session.GetInputTypeInfo(i)));
    for (std::size_t i = 0; i < session.GetOutputCount(); ++i)
      info.outputs.push_back(describe(session.GetOutputNameAllocated(i, allocator).get(),
                                      session.GetOutputTypeInfo(i)));
  } catch (const Ort::Exception& e) {
    throw InputError(fmt::format("{}: ONNX Runtime cannot load this model: {}", path, e.what()));
  }
}

std::string shape_text(const TensorInfo& t) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (t.shape[i] >= 0)
      parts.push_back(std::to_string(t.shape[i]));
    else
      parts.push_back(i < t.dims.size() && t.dims[i] ? *t.dims[i] : "?");
  }
  return "[" + fmt::format("{}", fmt::join(parts, ", ")) + "]";
}

nlohmann::json tensor_json(const TensorInfo& t) {
  nlohmann::json dims = nlohmann::json::array();
  for (const auto& d : t.dims) dims.push_back(d ? nlohmann::json(*d) : nlohmann::json(nullptr));
  nlohmann::json j = {{"name", t.name}, {"type", t.type}, {"shape", t.shape}, {"dims", dims}};
  if (t.vocab_size) j["vocab_size"] = *t.vocab_size;
  return j;
}

}  // namespace

ModelInfo inspect_model(const std::string& path) {
  ModelInfo info;
  info.path = path;
  ModelProtoFacts facts;
  {
    // The file's bytes and the parsed protobuf are dropped before ORT loads its own copy.
    const std::string bytes = read_model_file(path);
    info.file_bytes = bytes.size();
    facts = read_model_proto(path, bytes);
  }
  info.ir_version = facts.ir_version;
  info.opsets = std::move(facts.opsets);
  info.producer = std::move(facts.producer);
  info.weight_bytes = facts.weight_bytes;
  read_signature_with_ort(path, info);
  for (auto& input : info.inputs) {
    auto it = facts.vocab_by_input.find(input.name);
    if (it != facts.vocab_by_input.end()) input.vocab_size = it->second;
  }
  return info;
}

std::optional<std::int64_t> vocab_size_for_input(const ModelInfo& info,
                                                 const std::string& input_name) {
  for (const auto& input : info.inputs)
    if (input.name == input_name) return input.vocab_size;
  return std::nullopt;
}

nlohmann::json model_info_to_json(const ModelInfo& info) {
  nlohmann::json inputs = nlohmann::json::array(), outputs = nlohmann::json::array();
  for (const auto& t : info.inputs) inputs.push_back(tensor_json(t));
  for (const auto& t : info.outputs) outputs.push_back(tensor_json(t));
  return {{"path", info.path},
          {"file_bytes", info.file_bytes},
          {"weight_bytes", info.weight_bytes},
          {"ir_version", info.ir_version},
          {"opsets", info.opsets},
          {"producer", info.producer},
          {"inputs", inputs},
          {"outputs", outputs}};
}

std::string format_model_info(const ModelInfo& info) {
  std::string out;
  auto row = [&](const char* key, const std::string& value) {
    out += fmt::format("{:<12} {}\n", key, value);
  };
  auto size = [](std::uint64_t bytes) {
    return fmt::format("{} ({} bytes)", format_bytes(static_cast<double>(bytes)), bytes);
  };
  std::vector<std::string> opsets;
  for (const auto& [domain, version] : info.opsets)
    opsets.push_back(fmt::format("{} {}", domain, version));
  row("model", info.path);
  row("file", size(info.file_bytes));
  row("weights", size(info.weight_bytes));
  row("ir_version", std::to_string(info.ir_version));
  row("opsets", fmt::format("{}", fmt::join(opsets, ", ")));
  row("producer", info.producer.empty() ? "(not stated)" : info.producer);

  auto section = [&](const char* title, const std::vector<TensorInfo>& tensors) {
    std::size_t name_width = 4, type_width = 4;
    for (const auto& t : tensors) {
      name_width = std::max(name_width, t.name.size());
      type_width = std::max(type_width, t.type.size());
    }
    out += fmt::format("\n{}\n", title);
    for (const auto& t : tensors) {
      std::string line = fmt::format("  {:<{}}  {:<{}}  {}", t.name, name_width, t.type, type_width,
                                     shape_text(t));
      if (t.vocab_size) line += fmt::format("  vocab {}", *t.vocab_size);
      out += line + "\n";
    }
  };
  section("inputs", info.inputs);
  section("outputs", info.outputs);
  return out;
}

}  // namespace infermem
