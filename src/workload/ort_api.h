#pragma once
// Which ONNX Runtime C API this process talks to. infermem is compiled against one set of ORT
// headers but an `ort=VERSION` arm runs its child against another library (an older one, found
// through LD_LIBRARY_PATH). The C++ wrapper is built with ORT_API_MANUAL_INIT and initialised
// here with the API struct of the version the loaded library provides, never newer than the
// headers': calling a function past the end of an older library's struct would read garbage.
#include <string>

namespace infermem {

// Initialises the C++ wrapper once (also done by a static initializer of this file); returns
// the C API version in use. Safe to call from any thread.
int init_ort_api();

// The C API version in use (the loaded library's minor version, capped at the headers').
int ort_api_version();

// The version string of the library actually loaded ("1.22.0").
std::string loaded_ort_version();

// C API version that brought a function infermem relies on, for the checks in the worker.
inline constexpr int kOrtApiAllocatorGetStats = 23;  // Ort::Allocator::GetStats (arena figures)

}  // namespace infermem
