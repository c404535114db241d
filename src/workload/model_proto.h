#pragma once
// The protobuf half of inspect: what the ONNX file itself states (opsets, producer, weight
// bytes, embedding tables behind token-id inputs), read with the ONNX protobuf classes without
// loading ONNX Runtime. Separate so the parser can be fuzzed on bytes alone.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace infermem {

struct ModelProtoFacts {
  std::int64_t ir_version = 0;
  std::map<std::string, std::int64_t> opsets;  // "ai.onnx" for the default domain
  std::string producer;
  std::uint64_t weight_bytes = 0;
  std::map<std::string, std::int64_t> vocab_by_input;
};

// InputError naming `path` when the bytes are not a parseable ONNX model with a graph.
ModelProtoFacts read_model_proto(const std::string& path, std::string_view bytes);

}  // namespace infermem
