// Fuzz target: any bytes given to inspect's protobuf reader are either a model's facts or an
// InputError; never a crash, a hang, an overflow or a leak (absurd dims and deep subgraphs
// included).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "infermem/error.h"
#include "workload/model_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    infermem::read_model_proto("fuzz.onnx",
                               std::string_view(reinterpret_cast<const char*>(data), size));
  } catch (const infermem::InputError&) {
  }
  return 0;
}
