#include "infermem/model_info.h"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>
#include <sys/stat.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/units.h"
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

// Bytes of one element; 0 for strings (their sizes are summed instead) and unknown types.
std::uint64_t element_bytes(int data_type) {
  switch (data_type) {
    case onnx::TensorProto::UINT8:
    case onnx::TensorProto::INT8:
    case onnx::TensorProto::BOOL:
    case 17:  // the float8 types
    case 18:
    case 19:
    case 20:
      return 1;
    case onnx::TensorProto::UINT16:
    case onnx::TensorProto::INT16:
    case onnx::TensorProto::FLOAT16:
    case onnx::TensorProto::BFLOAT16:
      return 2;
    case onnx::TensorProto::FLOAT:
    case onnx::TensorProto::INT32:
    case onnx::TensorProto::UINT32:
      return 4;
    case onnx::TensorProto::INT64:
    case onnx::TensorProto::DOUBLE:
    case onnx::TensorProto::UINT64:
    case onnx::TensorProto::COMPLEX64:
      return 8;
    case onnx::TensorProto::COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

// Elements times element size, saturating: dims in a corrupt file may be absurd.
std::uint64_t shape_bytes(const onnx::TensorProto& t) {
  std::uint64_t bytes = element_bytes(t.data_type());
  for (auto d : t.dims()) {
    if (d < 0) return 0;
    if (__builtin_mul_overflow(bytes, static_cast<std::uint64_t>(d), &bytes)) return UINT64_MAX;
  }
  // 4-bit types pack two elements a byte.
  if (t.data_type() == 21 || t.data_type() == 22) {
    std::uint64_t elements = 1;
    for (auto d : t.dims())
      if (__builtin_mul_overflow(elements, static_cast<std::uint64_t>(d), &elements))
        return UINT64_MAX;
    return (elements + 1) / 2;
  }
  return bytes;
}

std::uint64_t tensor_bytes(const onnx::TensorProto& t) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    for (const auto& entry : t.external_data()) {
      if (entry.key() != "length") continue;
      std::uint64_t length = 0;
      std::istringstream in(entry.value());
      if (in >> length) return length;
    }
    return shape_bytes(t);
  }
  if (!t.raw_data().empty()) return t.raw_data().size();
  if (t.data_type() == onnx::TensorProto::STRING) {
    std::uint64_t sum = 0;
    for (const auto& s : t.string_data()) sum += s.size();
    return sum;
  }
  return shape_bytes(t);
}

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  return __builtin_add_overflow(a, b, &sum) ? UINT64_MAX : sum;
}

std::uint64_t graph_weight_bytes(const onnx::GraphProto& graph, int depth = 0) {
  // Subgraphs nest only a few levels in real models; a corrupt file must not recurse forever.
  constexpr int kMaxDepth = 64;
  if (depth > kMaxDepth) return 0;
  std::uint64_t sum = 0;
  for (const auto& t : graph.initializer()) sum = saturating_add(sum, tensor_bytes(t));
  for (const auto& s : graph.sparse_initializer())
    sum = saturating_add(sum, saturating_add(tensor_bytes(s.values()), tensor_bytes(s.indices())));
  for (const auto& node : graph.node()) {
    for (const auto& attr : node.attribute()) {
      if (attr.has_t() && node.op_type() == "Constant")
        sum = saturating_add(sum, tensor_bytes(attr.t()));
      if (attr.has_g()) sum = saturating_add(sum, graph_weight_bytes(attr.g(), depth + 1));
      for (const auto& g : attr.graphs())
        sum = saturating_add(sum, graph_weight_bytes(g, depth + 1));
    }
  }
  return sum;
}

// The embedding table a token-id input indexes, when the graph shows it directly.
std::optional<std::int64_t> find_vocab_size(const onnx::GraphProto& graph,
                                            const std::string& input) {
  auto first_dim_of_initializer = [&](const std::string& name) -> std::optional<std::int64_t> {
    for (const auto& t : graph.initializer())
      if (t.name() == name && t.dims_size() >= 1 && t.dims(0) > 0) return t.dims(0);
    return std::nullopt;
  };
  for (const auto& node : graph.node()) {
    bool onnx_domain = node.domain().empty() || node.domain() == "ai.onnx";
    if (onnx_domain && node.op_type() == "Gather" && node.input_size() >= 2 &&
        node.input(1) == input) {
      if (auto v = first_dim_of_initializer(node.input(0))) return v;
    }
    if (node.domain() == "com.microsoft" && node.op_type() == "EmbedLayerNormalization" &&
        node.input_size() >= 3 && node.input(0) == input) {
      if (auto v = first_dim_of_initializer(node.input(2))) return v;
    }
  }
  return std::nullopt;
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
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(fmt::format("cannot read model file {}: read failed", path));
  if (bytes.empty())
    throw InputError(fmt::format("{} is empty (0 bytes), not an ONNX model", path));
  return bytes;
}

// Fills everything the protobuf tells: opsets, producer, weight bytes, vocabulary sizes.
struct ProtoFacts {
  std::int64_t ir_version = 0;
  std::map<std::string, std::int64_t> opsets;
  std::string producer;
  std::uint64_t weight_bytes = 0;
  std::map<std::string, std::int64_t> vocab_by_input;
};

ProtoFacts read_proto_facts(const std::string& path, const std::string& bytes) {
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    throw InputError(fmt::format(
        "{} is not a readable ONNX model: its protobuf does not parse (truncated, corrupt, or "
        "not ONNX at all)",
        path));
  if (!model.has_graph() || model.ir_version() <= 0)
    throw InputError(fmt::format("{} is not an ONNX model: it has no {}", path,
                                 model.has_graph() ? "IR version" : "graph"));
  ProtoFacts facts;
  facts.ir_version = model.ir_version();
  for (const auto& op : model.opset_import())
    facts.opsets[op.domain().empty() ? "ai.onnx" : op.domain()] = op.version();
  facts.producer = model.producer_name();
  if (!model.producer_version().empty()) facts.producer += " " + model.producer_version();
  facts.weight_bytes = graph_weight_bytes(model.graph());
  for (const auto& input : model.graph().input())
    if (auto v = find_vocab_size(model.graph(), input.name()))
      facts.vocab_by_input[input.name()] = *v;
  return facts;
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
  ProtoFacts facts;
  {
    // The file's bytes and the parsed protobuf are dropped before ORT loads its own copy.
    const std::string bytes = read_model_file(path);
    info.file_bytes = bytes.size();
    facts = read_proto_facts(path, bytes);
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
