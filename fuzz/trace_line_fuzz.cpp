// Fuzz target: any bytes given to the trace line parser are either a record or a counted skip,
// and every parsed record serializes to a line that re-parses to the same record (the writer's
// output is a fixed point of parse_line . to_line).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "infermem/trace.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = infermem::trace::parse_line(line);
  if (r) {
    auto again = infermem::trace::parse_line(infermem::trace::to_line(*r));
    if (!again || again->type != r->type) std::abort();
    if (infermem::trace::to_line(*again) != infermem::trace::to_line(*r)) std::abort();
  }
  return 0;
}
