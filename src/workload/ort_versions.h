#pragma once
// The ONNX Runtime version as an arm (`ort=VERSION`): where a fetched version's library lives,
// checking it before any child starts, and checking in the child that it really runs on it.
#include <string>
#include <vector>

#include "infermem/arms.h"

namespace infermem {

// The oldest version an arm may ask for: the C++ wrapper infermem is built with runs on the C API
// of every version from this one on (tested: 1.20.1, 1.22.0 beside the built-in library).
inline constexpr const char* kMinOrtArmVersion = "1.20.0";

struct OrtLibrary {
  std::string version;  // as the arm asked ("1.22.0"), or the built-in library's
  std::string dir;      // folder holding libonnxruntime.so.1; empty = the built-in library
  std::string sha256;   // of the library file, as recorded by scripts/fetch-ort.sh
};

// "default" or MAJOR.MINOR.PATCH: what the ort= knob accepts.
bool valid_ort_version_text(const std::string& text);

// Where fetched versions live: $INFERMEM_ORT_VERSIONS, else the build's third_party/ort-versions.
std::string ort_versions_dir();

// Resolves an arm's ort= knob. InputError naming the arm and the version, and saying the command
// that fetches it, when it is not cached, its checksum does not match the record, or it is older
// than kMinOrtArmVersion.
OrtLibrary resolve_ort_library(const Arm& arm);

// The child's environment for the arm: LD_LIBRARY_PATH leads with the version's folder, so the
// dynamic loader takes its libonnxruntime.so.1 before the build's RUNPATH. Unchanged for default.
void add_ort_library_path(const Arm& arm, std::vector<std::string>& env);

// In the child: WorkloadError when the arm asked for a version and another one is loaded (the
// library path did not take).
void verify_ort_library(const Arm& arm);

}  // namespace infermem
