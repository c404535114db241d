#include "workload/ort_versions.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <tuple>

#include "infermem/error.h"
#include "infermem/soak.h"
#include "workload/sha256.h"

#ifndef INFERMEM_ORT_VERSIONS_DIR
#define INFERMEM_ORT_VERSIONS_DIR "third_party/ort-versions"
#endif

namespace infermem {
namespace {

std::tuple<int, int, int> parse_version(const std::string& v) {
  int a = 0, b = 0, c = 0;
  std::sscanf(v.c_str(), "%d.%d.%d", &a, &b, &c);
  return {a, b, c};
}

bool is_default(const std::string& wanted) {
  return wanted.empty() || wanted == "default" || wanted == ort_version();
}

}  // namespace

bool valid_ort_version_text(const std::string& text) {
  static const std::regex re("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}");
  return text == "default" || std::regex_match(text, re);
}

std::string ort_versions_dir() {
  const char* env = std::getenv("INFERMEM_ORT_VERSIONS");
  return env && *env ? env : INFERMEM_ORT_VERSIONS_DIR;
}

OrtLibrary resolve_ort_library(const Arm& arm) {
  const std::string& wanted = arm.knob("ort");
  OrtLibrary lib;
  if (is_default(wanted)) {
    lib.version = ort_version();
    return lib;
  }
  lib.version = wanted;
  if (parse_version(wanted) < parse_version(kMinOrtArmVersion))
    throw InputError(fmt::format(
        "arm '{}': ort={} is older than {}, the oldest ONNX Runtime infermem can drive as an arm",
        arm.name, wanted, kMinOrtArmVersion));
  lib.dir = ort_versions_dir() + "/" + wanted;
  const std::string file = lib.dir + "/libonnxruntime.so.1";
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    throw InputError(
        fmt::format("arm '{}': ONNX Runtime {} is not fetched ({} does not exist); fetch it with "
                    "scripts/fetch-ort.sh {} (it must exist as onnxruntime-node@{} on npm)",
                    arm.name, wanted, file, wanted, wanted));
  std::ifstream rec(lib.dir + "/sha256");
  std::string recorded;
  rec >> recorded;
  if (recorded.size() != 64)
    throw InputError(
        fmt::format("arm '{}': {}/sha256 is missing or malformed; fetch ONNX Runtime {} again with "
                    "scripts/fetch-ort.sh {}",
                    arm.name, lib.dir, wanted, wanted));
  lib.sha256 = sha256_file(file);
  if (lib.sha256 != recorded)
    throw InputError(fmt::format(
        "arm '{}': {} has sha256 {}, but {} was recorded when it was fetched; remove {} and "
        "run scripts/fetch-ort.sh {}",
        arm.name, file, lib.sha256, recorded, lib.dir, wanted));
  return lib;
}

void verify_ort_library(const Arm& arm) {
  const std::string& wanted = arm.knob("ort");
  if (wanted.empty() || wanted == "default") return;
  const std::string loaded = ort_version();
  if (loaded != wanted)
    throw WorkloadError(
        fmt::format("arm {}: ort={} requested, but this process runs ONNX Runtime {}: the library "
                    "path did not take",
                    arm.name, wanted, loaded));
}

}  // namespace infermem

namespace infermem {

std::string check_ort_arm(const Arm& arm) {
  return resolve_ort_library(arm).version;
}

}  // namespace infermem

namespace infermem {

void add_ort_library_path(const Arm& arm, std::vector<std::string>& env) {
  const OrtLibrary lib = resolve_ort_library(arm);
  if (lib.dir.empty()) return;
  for (auto& kv : env)
    if (kv.rfind("LD_LIBRARY_PATH=", 0) == 0) {
      const std::string rest = kv.substr(16);
      kv = "LD_LIBRARY_PATH=" + lib.dir + (rest.empty() ? "" : ":" + rest);
      return;
    }
  env.push_back("LD_LIBRARY_PATH=" + lib.dir);
}

}  // namespace infermem
