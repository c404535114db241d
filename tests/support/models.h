#pragma once
// Small hand-made ONNX models for tests that need an input soak cannot fill.
#include <string>

namespace infermem::test {

// Writes an Identity model whose one input is a string tensor.
void write_string_input_model(const std::string& path);

}  // namespace infermem::test
