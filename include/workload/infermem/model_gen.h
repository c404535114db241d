#pragma once
// Real ONNX models of a chosen size, generated from a seed, so that tests and demos need no
// downloaded model. Every kind has dynamic dimensions (batch, sequence, image height and width),
// opset 17 (ai.onnx) and IR version 8; the same spec always gives byte-identical output.
#include <cstdint>
#include <string>
#include <string_view>

namespace infermem {

enum class ModelKind {
  mlp,          // "input" float [batch, F] -> MatMul+Add+Relu stack -> "output" [batch, O]
  transformer,  // "input_ids" int64 [batch, sequence] -> encoder stack -> "hidden" [b, s, d]
  conv,         // "image" float [batch, 3, height, width] -> Conv+Relu stack -> "output" [b, C]
  identity,     // "x" float [batch, 8], "ids" int64 [batch, sequence] -> unchanged; no weights
  stateful,     // "x", "state" float [1, 16] -> "state_out" = tanh(state + x), "y"; no weights
};

// "mlp" | "transformer" | "conv" | "identity" | "stateful"; InputError naming --kind and listing
// the valid kinds.
ModelKind parse_model_kind(std::string_view text);
std::string_view model_kind_name(ModelKind kind);

struct ModelSpec {
  ModelKind kind = ModelKind::transformer;
  std::uint64_t weight_bytes = 64ull << 20;  // float weights aimed at, within 1% in practice
  int layers = 0;                            // 0 = the kind's default (mlp 3, others 4)
  std::uint64_t seed = 1;                    // std::mt19937_64 seed for every weight
};

inline constexpr int kMaxModelLayers = 128;
// Protobuf cannot serialize a message of 2 GiB or more; stay well clear of it.
inline constexpr std::uint64_t kMaxModelWeightBytes = 1ull << 30;

// A one-node model (an Identity, no weights): what prewarm=on and the memory card's one-node
// child load to see what ONNX Runtime keeps for any model.
inline ModelSpec one_node_model_spec() {
  ModelSpec spec;
  spec.kind = ModelKind::identity;
  spec.weight_bytes = 4;  // the generator's minimum; the identity model has no weights
  return spec;
}

// The serialized ModelProto. InputError naming --weights or --layers when the spec cannot be
// built (out of range, or too few bytes for that many layers: the message gives the minimum).
std::string generate_model_bytes(const ModelSpec& spec);

// Writes the model to `out_path` through a temporary file and a rename, so a reader never sees
// half a model. InputError naming the path when it cannot be written.
void generate_model(const ModelSpec& spec, const std::string& out_path);

}  // namespace infermem
