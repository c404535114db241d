#pragma once
// The user's own tensors for soak --inputs: ONNX test data sets (test_data_set_N/input_K.pb,
// TensorProto, as in the ONNX model zoo and ONNX's own tests), NumPy .npy files and .npz
// archives (np.savez: stored members; np.savez_compressed is refused, see docs/soak.md).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace infermem {

struct TensorData {
  std::string name;      // TensorProto name, npz member or file stem; "" when none
  int position = -1;     // input_K.pb: K (the model's K-th input when the name is empty)
  int element_type = 0;  // ONNXTensorElementDataType (the same numbers as TensorProto's)
  std::vector<std::int64_t> shape;
  std::string bytes;            // little-endian, C order, element_size * elements
  std::string source;           // file (and member) it came from, for messages
  bool name_from_file = false;  // .npy: the name is the file's stem, a hint only
};

// One request's tensors.
using TensorRequest = std::vector<TensorData>;

// Parsers of one file's bytes; InputError naming `source` when the bytes are not what they claim.
TensorData parse_tensor_proto(std::string_view bytes, const std::string& source);
TensorData parse_npy(std::string_view bytes, const std::string& source);
std::vector<TensorData> parse_npz(std::string_view bytes, const std::string& source);

// Reads PATH as soak --inputs takes it, in request order:
//  - a directory holding test_data_set_* folders: one request each, by N; in each, input_K.pb;
//  - any other directory: one request per .pb, .npy or .npz file in it, by file name;
//  - a file: one request (.pb, .npy: one tensor; .npz: its members).
// InputError naming the path when it is missing, empty or holds something else.
std::vector<TensorRequest> load_tensor_requests(const std::string& path);

// FNV-1a 64 of bytes as 16 hex digits: the digest soak records of outputs (--record-outputs).
std::string fnv1a_hex(const void* data, std::size_t size);

}  // namespace infermem
