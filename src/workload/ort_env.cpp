#include "workload/ort_env.h"

#include "workload/ort_api.h"

namespace infermem {

Ort::Env& ort_env() {
  init_ort_api();
  // Intentionally leaked: ORT's environment must outlive every session, including those held in
  // function-local statics elsewhere, and ORT tears itself down at process exit.
  static Ort::Env* env = new Ort::Env(ORT_LOGGING_LEVEL_WARNING, "infermem");
  return *env;
}

std::string ort_version() {
  return loaded_ort_version();
}

}  // namespace infermem
