#pragma once
// The one ONNX Runtime environment of a process, created on first use.
#include <onnxruntime_cxx_api.h>
#include <string>

#include "infermem/soak.h"

namespace infermem {

// Created lazily with logging at warning level; lives until process exit.
Ort::Env& ort_env();
// ort_version() is public: infermem/soak.h.

}  // namespace infermem
