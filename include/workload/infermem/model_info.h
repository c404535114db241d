#pragma once
// What ONNX Runtime sees in a model file: its inputs and outputs (element types, shapes, dynamic
// dimensions by name), opsets, producer, weight bytes and file size. The first place a bad model
// file is caught: every failure is an InputError naming the file and what is wrong with it.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace infermem {

struct TensorInfo {
  std::string name;
  std::string type;                 // "float", "int64", ... or "sequence", "map", "optional"
  int element_type = 0;             // ONNXTensorElementDataType; 0 when not a tensor
  std::vector<std::int64_t> shape;  // -1 for a dynamic dimension
  std::vector<std::optional<std::string>> dims;  // symbolic name per dim; nullopt when none
  // Inputs only: token ids index an embedding table of this many rows (the input feeds a
  // Gather, or com.microsoft EmbedLayerNormalization, whose table is an initializer).
  std::optional<std::int64_t> vocab_size;
};

struct ModelInfo {
  std::string path;
  std::uint64_t file_bytes = 0;
  // Sum of every initializer and Constant tensor, subgraphs included; external data counted by
  // its stated length (or its shape when no length is stated).
  std::uint64_t weight_bytes = 0;
  std::int64_t ir_version = 0;
  std::map<std::string, std::int64_t> opsets;  // domain -> version; "ai.onnx" for the default
  std::string producer;                        // "name version", as the model states it
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

// Parses the file with the ONNX protobuf classes and loads it in ONNX Runtime (graph
// optimisation off, one thread). InputError for a missing, unreadable, empty, truncated or
// corrupt file, or one that is not ONNX; ORT's own message is appended when it refused the model.
ModelInfo inspect_model(const std::string& path);

// The vocabulary size behind a token-id input, when the graph shows one (see TensorInfo).
std::optional<std::int64_t> vocab_size_for_input(const ModelInfo& info,
                                                 const std::string& input_name);

// The --json form: path, file_bytes, weight_bytes, ir_version, opsets{domain: version},
// producer, inputs/outputs [{name, type, shape, dims, vocab_size?}].
nlohmann::json model_info_to_json(const ModelInfo& info);
// The table a person reads.
std::string format_model_info(const ModelInfo& info);

}  // namespace infermem
