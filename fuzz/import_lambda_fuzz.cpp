// Fuzz target: the lambda importer (format "lambda"); the checks are in import_fuzz.h.
#include "import_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return fuzz_import(data, size, "lambda");
}
