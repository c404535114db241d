// Fuzz target: any bytes as replay's request log (CSV, JSON Lines, a CloudWatch export) are
// either refused with InputError or read into events that hold what the parser promises: every
// event from a line of the input, a model id that is a plain file name, a shape of dimensions
// from 1 to 10^9, and malformed lines counted, never more than the lines read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/error.h"
#include "infermem/replay_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace infermem;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ReplayLog log;
  try {
    log = parse_replay_log(text);
  } catch (const InputError&) {
    return 0;
  }
  if (log.events.empty() || log.skipped + log.events.size() > log.lines) std::abort();
  std::uint64_t previous = 0;
  for (const auto& e : log.events) {
    if (e.line <= previous || e.line > log.lines) std::abort();
    previous = e.line;
    if (e.model.empty() || e.model.find('/') != std::string::npos || e.model == "..") std::abort();
    for (std::int64_t d : e.shape)
      if (d < 1 || d > 1'000'000'000) std::abort();
  }
  return 0;
}
