#include "workload/ort_api.h"

#include <dlfcn.h>
#include <onnxruntime_cxx_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace infermem {
namespace {

// "1.22.0" -> 22. ORT's C API version has followed its minor version since 1.0.
int minor_of(const char* version) {
  if (!version) return 0;
  const char* dot = std::strchr(version, '.');
  return dot ? std::atoi(dot + 1) : 0;
}

int g_api_version = 0;
const OrtApiBase* g_base = nullptr;

// OrtGetApiBase without a link-time reference: ORT versions its exported symbols
// (OrtGetApiBase@VERS_1.29.0), so a direct call would tie this binary to the version it was
// linked against and an older libonnxruntime.so.1 would not even load. dlsym without a version
// takes whichever library the loader found (LD_LIBRARY_PATH for an ort=VERSION arm).
const OrtApiBase* api_base() {
  using GetApiBase = const OrtApiBase* (*)();
  void* sym = dlsym(RTLD_DEFAULT, "OrtGetApiBase");
  if (!sym) {
    void* lib = dlopen("libonnxruntime.so.1", RTLD_NOW | RTLD_GLOBAL);
    // An interposed dlopen (heaptrack's preload, under soak --attribute) searches from its own
    // library, without this binary's RUNPATH: try the built-in library's folder by name.
    if (!lib) lib = dlopen(INFERMEM_ORT_LIBDIR "/libonnxruntime.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (lib) sym = dlsym(lib, "OrtGetApiBase");
  }
  if (!sym) {
    std::fprintf(stderr, "infermem: cannot find ONNX Runtime (libonnxruntime.so.1): %s\n",
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<GetApiBase>(sym)();
}

int choose_api() {
  const OrtApiBase* base = api_base();
  g_base = base;
  int want = minor_of(base->GetVersionString());
  if (want <= 0 || want > ORT_API_VERSION) want = ORT_API_VERSION;
  // Ask for the newest struct the library has; a library that refuses its own minor (never seen)
  // is asked for older ones, so the wrapper never gets a struct the library does not fill.
  for (int v = want; v >= 1; --v) {
    if (const OrtApi* api = base->GetApi(static_cast<uint32_t>(v))) {
      Ort::InitApi(api);
      return v;
    }
  }
  std::fprintf(stderr, "infermem: ONNX Runtime %s offers no C API this build can use\n",
               base->GetVersionString());
  std::abort();
}

// Before main: every use of the C++ wrapper in this program sees an initialised API.
[[maybe_unused]] const int kApiAtStart = init_ort_api();

}  // namespace

int init_ort_api() {
  static std::once_flag once;
  std::call_once(once, [] { g_api_version = choose_api(); });
  return g_api_version;
}

int ort_api_version() {
  return init_ort_api();
}

std::string loaded_ort_version() {
  init_ort_api();
  return g_base->GetVersionString();
}

}  // namespace infermem
