// Fuzz target: any bytes given to the thresholds-file parser either parse into thresholds or
// raise InputError naming the origin and a line; nothing else escapes and nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "infermem/error.h"
#include "infermem/gate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    infermem::Thresholds t = infermem::parse_thresholds_text(text, "fuzz.toml");
    for (const auto& limit :
         {t.max_growth_bytes_per_request, t.max_growth_bytes_per_minute, t.max_peak_bytes,
          t.max_retained_bytes, t.max_retained_fraction_of_loaded})
      if (limit && !(*limit >= 0)) std::abort();  // limits are never negative or NaN
    if (!t.fail_on.empty() && t.fail_on != "leak" && t.fail_on != "any") std::abort();
  } catch (const infermem::InputError& e) {
    if (std::string_view(e.what()).substr(0, 10) != "fuzz.toml:") std::abort();
  }
  return 0;
}
