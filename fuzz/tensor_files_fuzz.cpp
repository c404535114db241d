// Fuzz target: any bytes as a .npy, an .npz or an ONNX TensorProto (soak --inputs) are a tensor
// whose bytes match its shape and type, or an InputError; never a crash or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/error.h"
#include "workload/tensor_files.h"

namespace {

void check(const infermem::TensorData& t) {
  if (t.shape.size() > 64) return;
  std::uint64_t n = 1;
  for (auto d : t.shape) {
    if (d < 0) std::abort();
    if (__builtin_mul_overflow(n, static_cast<std::uint64_t>(d), &n)) std::abort();
  }
  if (n != 0 && t.bytes.size() % n != 0) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    check(infermem::parse_npy(bytes, "fuzz.npy"));
  } catch (const infermem::InputError&) {
  }
  try {
    for (const auto& t : infermem::parse_npz(bytes, "fuzz.npz")) check(t);
  } catch (const infermem::InputError&) {
  }
  try {
    check(infermem::parse_tensor_proto(bytes, "fuzz.pb"));
  } catch (const infermem::InputError&) {
  }
  return 0;
}
