#pragma once
// Sizes and durations as users write them ("64MiB", "128M", "500ms", "2m") and as we print them.
#include <cstdint>
#include <string>
#include <string_view>

namespace infermem {

// "4096", "64KiB", "64K", "1.5GiB", "128M", "10MB" (MB/GB are treated as MiB/GiB, as a user of
// memory limits means). Throws InputError naming `what` (e.g. "--weights") on bad input.
std::uint64_t parse_size(std::string_view text, std::string_view what = "size");

// A whole number in lo..hi as a user writes it ("200"), parsed exactly (std::from_chars): no sign,
// exponent, fraction or trailing text. InputError naming `what`, the text and the range, as in
// "--requests: '1e300' is not a whole number in 1..1000000000".
std::uint64_t parse_count(std::string_view text, std::string_view what, std::uint64_t lo,
                          std::uint64_t hi);

// "250ms", "2s", "1.5m", "1h"; a bare number is seconds. Returns milliseconds.
double parse_duration_ms(std::string_view text, std::string_view what = "duration");

// "10%", "2.5%" -> 0.10, 0.025 (the '%' is required). Throws InputError naming `what`.
double parse_percent(std::string_view text, std::string_view what = "percentage");

// This machine's physical memory (sysconf), the bound of what any input may ask to hold;
// UINT64_MAX when it cannot be read.
std::uint64_t physical_memory_bytes();

// 1536 -> "1.5 KiB"; 0 -> "0 B"; negative values keep their sign.
std::string format_bytes(double bytes);
// Megabytes with one decimal, for tables: 83886080 -> "80.0".
std::string format_mib(double bytes);

// The verdict engine's rates are per minute; Prometheus' unit is the second (the live endpoint
// and metrics.prom both convert with this).
constexpr double per_second_from_per_minute(double per_minute) {
  return per_minute / 60;
}

}  // namespace infermem
