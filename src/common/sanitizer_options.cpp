// Sanitizer defaults, linked into every executable of the sanitizer build (the CLI, whose
// re-executed soak workers run under it too, the test programs and the fuzz targets), so the
// same options hold however a program is started: by ctest, by a test, or by soak as a child.
#if defined(INFERMEM_SANITIZED)

extern "C" {

// LeakSanitizer suppressions. Keep minimal; explain each entry.
//
// libonnxruntime.so: ONNX Runtime 1.29 leaks 14 bytes once when the first Ort::Env is created
// (a program that only constructs Ort::Env shows it). The library ships without symbols, so
// nothing narrower than the module can be matched. This hides leaks allocated inside ORT (a
// leaked OrtSession's internals too), but a leaked C++ wrapper (Ort::Session, Ort::Value, ...)
// is allocated by our code and is still reported.
const char* __lsan_default_suppressions() {
  return "leak:libonnxruntime.so\n";
}

// allocator_may_return_null: soak under --memory-limit and the probe's live tests allocate
// large blocks on purpose; a failed allocation must be a result, not an ASan abort.
const char* __asan_default_options() {
  return "detect_leaks=1:allocator_may_return_null=1";
}

const char* __ubsan_default_options() {
  return "print_stacktrace=1:halt_on_error=1";
}

}  // extern "C"

#endif
