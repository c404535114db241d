#pragma once
// The one ONNX Runtime environment of a process, created on first use.
#include <onnxruntime_cxx_api.h>
#include <string>

namespace infermem {

// Created lazily with logging at warning level; lives until process exit.
Ort::Env& ort_env();
// The version string of the ONNX Runtime library actually loaded (not the headers').
std::string ort_version();

}  // namespace infermem
