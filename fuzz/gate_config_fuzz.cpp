// Fuzz target: any bytes given to the gate-config parser (toml++ plus infermem's keys) either
// parse into a config or raise InputError naming the origin and a line; nothing else escapes and
// nothing crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "infermem/error.h"
#include "infermem/gate.h"

namespace {

void check(const infermem::Thresholds& t) {
  for (const auto& limit :
       {t.max_growth_bytes_per_request, t.max_growth_bytes_per_minute, t.max_peak_bytes,
        t.max_retained_bytes, t.max_retained_fraction_of_loaded})
    if (limit && !(*limit >= 0)) std::abort();  // limits are never negative or NaN
  if (!infermem::parse_fail_on(infermem::name(t.fail_on))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    infermem::GateConfig config = infermem::parse_gate_config_text(text, "fuzz.toml");
    check(config.defaults);
    for (const auto& [arm, thresholds] : config.per_arm) {
      check(thresholds);
      if (&config.for_subject(arm) != &thresholds) std::abort();
    }
  } catch (const infermem::InputError& e) {
    if (std::string_view(e.what()).substr(0, 10) != "fuzz.toml:") std::abort();
  }
  return 0;
}
