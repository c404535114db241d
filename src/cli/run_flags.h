#pragma once
// Flags and live output the commands that run children share (soak, replay).
#include <cstdint>
#include <string>

#include "infermem/soak.h"

namespace infermem::cli {

// The smallest --memory-limit accepted: ONNX Runtime loads and runs a 64 KiB mlp at 10 MiB and is
// OOM-killed at 9 MiB (docs/soak.md, "Input checks"); 16 MiB keeps a margin for a cold page cache.
constexpr std::uint64_t kMinMemoryLimitBytes = 16ull << 20;

// --memory-limit: "none" (0) or a size of at least kMinMemoryLimitBytes. InputError otherwise.
std::uint64_t parse_memory_limit(const std::string& text);

// SIGINT and SIGTERM ask the running children to stop (request_soak_stop).
void install_stop_handlers();

// Live progress per arm: a bar redrawn in place on a terminal; plain lines otherwise (CI logs),
// one at each tenth of an arm's requests.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool tty) : tty_(tty) {}
  void operator()(const SoakProgress& p);

 private:
  bool tty_;
  bool bar_shown_ = false;
  int last_tenth_ = 0;
};

}  // namespace infermem::cli
