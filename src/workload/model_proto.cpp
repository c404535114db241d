#include "workload/model_proto.h"

#include <onnx/onnx_pb.h>

#include <fmt/format.h>
#include <cstdint>
#include <optional>
#include <sstream>

#include "infermem/error.h"

namespace infermem {
namespace {

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

}  // namespace

ModelProtoFacts read_model_proto(const std::string& path, std::string_view bytes) {
  onnx::ModelProto model;
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw InputError(fmt::format(
        "{} is not a readable ONNX model: its protobuf does not parse (truncated, corrupt, or "
        "not ONNX at all)",
        path));
  if (!model.has_graph() || model.ir_version() <= 0)
    throw InputError(fmt::format("{} is not an ONNX model: it has no {}", path,
                                 model.has_graph() ? "IR version" : "graph"));
  ModelProtoFacts facts;
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

}  // namespace infermem
