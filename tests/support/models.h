#pragma once
// Small hand-made ONNX models for tests that need an input soak cannot fill.
#include <string>

namespace infermem::test {

// Writes an Identity model whose one input is a string tensor.
void write_string_input_model(const std::string& path);

// Writes a model with one input of each element type soak fills (float, float16, double,
// int64, int32, int8, uint8, bool), each [batch, 4] and passed through Identity.
void write_all_types_model(const std::string& path);

}  // namespace infermem::test
