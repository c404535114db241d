#pragma once
// Small hand-made ONNX models for tests that need an input soak cannot fill.
#include <string>
#include <utility>
#include <vector>

namespace infermem::test {

// Writes an Identity model whose one input is a string tensor.
void write_string_input_model(const std::string& path);

// Writes a model with one input of each element type soak fills (float, float16, double,
// int64, int32, int8, uint8, bool), each [batch, 4] and passed through Identity.
void write_all_types_model(const std::string& path);

}  // namespace infermem::test

namespace infermem::test {

// Writes one ONNX TensorProto (.pb, raw_data) as ONNX test data sets hold them; elem_type is
// TensorProto's (1 float, 7 int64, ...).
void write_tensor_pb(const std::string& path, const std::string& name, int elem_type,
                     const std::vector<long long>& shape, const std::string& bytes);

// A NumPy .npy file of a C-order array; descr as NumPy writes it ("<f4", "<i8").
std::string npy_bytes(const std::string& descr, const std::vector<long long>& shape,
                      const std::string& data);
// An .npz as np.savez writes it (stored members NAME.npy), from (name, npy bytes) pairs.
std::string npz_bytes(const std::vector<std::pair<std::string, std::string>>& members);

}  // namespace infermem::test
