#include "infermem/units.h"

#include <fmt/format.h>
#include <unistd.h>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string>

#include "infermem/error.h"
#include "infermem/text.h"

namespace infermem {
namespace {

// Splits "12.5MiB" into 12.5 and "mib". Returns false when no number leads.
bool split_number(std::string_view text, double& value, std::string& suffix) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  std::string number(text.substr(0, i));
  if (number.find('.') != number.rfind('.')) return false;
  try {
    std::size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) return false;
  } catch (...) {
    return false;
  }
  std::string_view rest = text.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  suffix = lower(rest);
  return std::isfinite(value);
}

}  // namespace

std::uint64_t parse_size(std::string_view text, std::string_view what) {
  double value = 0;
  std::string suffix;
  if (!split_number(text, value, suffix))
    throw InputError(
        fmt::format("{}: '{}' is not a size (examples: 4096, 64KiB, 128M, 1.5GiB)", what, text));
  double mult = 0;
  if (suffix.empty() || suffix == "b")
    mult = 1;
  else if (suffix == "k" || suffix == "kb" || suffix == "kib")
    mult = 1024.0;
  else if (suffix == "m" || suffix == "mb" || suffix == "mib")
    mult = 1024.0 * 1024;
  else if (suffix == "g" || suffix == "gb" || suffix == "gib")
    mult = 1024.0 * 1024 * 1024;
  else if (suffix == "t" || suffix == "tb" || suffix == "tib")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    throw InputError(fmt::format(
        "{}: unknown size unit '{}' in '{}' (use B, KiB, MiB, GiB, K, M, G)", what, suffix, text));
  double bytes = std::round(value * mult);
  // 2^63: the largest size every caller can hold (and far beyond any machine's memory).
  constexpr double kMax = 9223372036854775808.0;
  if (bytes >= kMax)
    throw InputError(fmt::format("{}: '{}' is too large (at most 8 EiB)", what, text));
  return static_cast<std::uint64_t>(bytes);
}

std::uint64_t parse_count(std::string_view text, std::string_view what, std::uint64_t lo,
                          std::uint64_t hi) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < lo || value > hi) {
    // A 300-digit argument is shown by its start and length, not in full.
    std::string shown = text.size() <= 40
                            ? std::string(text)
                            : fmt::format("{}... ({} characters)", text.substr(0, 24), text.size());
    throw InputError(fmt::format("{}: '{}' is not a whole number in {}..{}", what, shown, lo, hi));
  }
  return value;
}

double parse_percent(std::string_view text, std::string_view what) {
  double value = 0;
  std::string suffix;
  if (!split_number(text, value, suffix) || suffix != "%")
    throw InputError(fmt::format("{}: '{}' is not a percentage (examples: 10%, 2.5%)", what, text));
  return value / 100.0;
}

double parse_duration_ms(std::string_view text, std::string_view what) {
  double value = 0;
  std::string suffix;
  if (!split_number(text, value, suffix))
    throw InputError(
        fmt::format("{}: '{}' is not a duration (examples: 500ms, 30s, 2m, 1h)", what, text));
  if (suffix == "ms") return value;
  if (suffix.empty() || suffix == "s") return value * 1000.0;
  if (suffix == "m" || suffix == "min") return value * 60'000.0;
  if (suffix == "h") return value * 3'600'000.0;
  throw InputError(
      fmt::format("{}: unknown duration unit '{}' in '{}' (use ms, s, m, h)", what, suffix, text));
}

std::uint64_t physical_memory_bytes() {
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;
  return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double mag = std::fabs(bytes);
  int u = 0;
  while (mag >= 1024.0 && u < 4) {
    mag /= 1024.0;
    ++u;
  }
  double shown = bytes < 0 ? -mag : mag;
  if (u == 0) return fmt::format("{:.0f} B", shown);
  return fmt::format("{:.1f} {}", shown, units[u]);
}

std::string format_mib(double bytes) {
  return fmt::format("{:.1f}", bytes / (1024.0 * 1024.0));
}

}  // namespace infermem
