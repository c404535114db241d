#include "interpret/import_util.h"

#include <fmt/format.h>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include "infermem/error.h"
#include "infermem/units.h"

namespace infermem::import_detail {

void for_each_line(std::string_view text,
                   const std::function<void(std::uint64_t, std::string_view)>& each) {
  std::uint64_t number = 0;
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    each(++number, line);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

std::uint64_t count_lines(std::string_view text) {
  std::uint64_t n = 0;
  for_each_line(text, [&](std::uint64_t, std::string_view) { ++n; });
  return n;
}

std::vector<std::string_view> split_whitespace(std::string_view s) {
  std::vector<std::string_view> words;
  split_whitespace(s, words);
  return words;
}

void split_whitespace(std::string_view s, std::vector<std::string_view>& words) {
  words.clear();
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t') ++i;
    if (i > start) words.push_back(s.substr(start, i - start));
  }
}

std::optional<double> parse_number(std::string_view s) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double value = 0;
  if (parse_simple_decimal(s, value)) return value;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || !(std::fabs(value) <= 1e20))
    return std::nullopt;
  return value;
}

const char* byte_figure_problem(double bytes) {
  if (std::isnan(bytes)) return "is not a number";
  if (std::isinf(bytes)) return "is infinite";
  if (bytes < 0) return "is negative";
  if (bytes > kMaxBytes) return "is beyond 2^63 bytes";
  return nullptr;
}

std::string point_problem(const SeriesPoint& p, const FigureNames& names) {
  if (!std::isfinite(p.t_ms)) return fmt::format("the time ({} ms) is not finite", p.t_ms);
  const std::pair<std::string_view, double> figures[] = {
      {names.current, p.current_bytes},
      {names.hwm, p.hwm_bytes},
      {names.allocator, p.allocator_in_use_bytes},
      {"anon_bytes", p.anon_bytes},
      {"file_bytes", p.file_bytes}};
  for (const auto& [name, bytes] : figures)
    if (present(bytes))
      if (const char* problem = byte_figure_problem(bytes))
        return fmt::format("{} {} ({} bytes)", name, problem, bytes);
  return "";
}

bool keep_point(SeriesBuilder& builder, const SeriesPoint& p, SkipTally& skips,
                std::uint64_t line_number, const FigureNames& names) {
  std::string problem = point_problem(p, names);
  if (!problem.empty()) {
    skips.skip(line_number, problem);
    return false;
  }
  builder.add(p);
  return true;
}

namespace {

// Reads exactly `width` digits at `pos`; advances it.
std::optional<int> digits(std::string_view s, std::size_t& pos, std::size_t width) {
  if (pos + width > s.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < width; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace
}  // namespace infermem::import_detail

namespace infermem {

std::optional<double> parse_iso8601_ms(std::string_view s) {
  using import_detail::days_from_civil;
  using import_detail::digits;
  using import_detail::expect;
  s = trim(s);
  std::size_t pos = 0;
  auto year = digits(s, pos, 4);
  if (!year || !expect(s, pos, '-')) return std::nullopt;
  auto month = digits(s, pos, 2);
  if (!month || !expect(s, pos, '-')) return std::nullopt;
  auto day = digits(s, pos, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return std::nullopt;
  double ms = static_cast<double>(days_from_civil(*year, static_cast<unsigned>(*month),
                                                  static_cast<unsigned>(*day))) *
              86'400'000.0;
  if (pos == s.size()) return ms;
  if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
  ++pos;
  auto hour = digits(s, pos, 2);
  if (!hour || !expect(s, pos, ':')) return std::nullopt;
  auto minute = digits(s, pos, 2);
  if (!minute || *hour > 23 || *minute > 59) return std::nullopt;
  ms += (*hour * 3600.0 + *minute * 60.0) * 1000.0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    auto second = digits(s, pos, 2);
    if (!second || *second > 60) return std::nullopt;
    ms += *second * 1000.0;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      double scale = 100.0;
      std::size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        ms += (s[pos] - '0') * scale;
        scale /= 10.0;
        ++pos;
      }
      if (pos == start) return std::nullopt;
    }
  }
  if (pos == s.size()) return ms;
  if (s[pos] == 'Z' || s[pos] == 'z') return pos + 1 == s.size() ? std::optional(ms) : std::nullopt;
  if (s[pos] != '+' && s[pos] != '-') return std::nullopt;
  const double sign = s[pos] == '+' ? 1.0 : -1.0;
  ++pos;
  auto offset_hours = digits(s, pos, 2);
  if (!offset_hours) return std::nullopt;
  if (pos < s.size() && s[pos] == ':') ++pos;
  int offset_minutes = 0;
  if (pos < s.size()) {
    auto m = digits(s, pos, 2);
    if (!m) return std::nullopt;
    offset_minutes = *m;
  }
  if (pos != s.size()) return std::nullopt;
  return ms - sign * (*offset_hours * 60.0 + offset_minutes) * 60'000.0;
}

}  // namespace infermem

namespace infermem::import_detail {

double bytes_per_unit(std::string_view unit, std::string_view what) {
  std::string_view u = trim(unit);
  if (u.empty() || !std::isalpha(static_cast<unsigned char>(u.front())))
    throw InputError(fmt::format("{}: '{}' is not a unit (use B, KiB, MiB, GiB)", what, unit));
  return static_cast<double>(parse_size(fmt::format("1{}", u), what));
}

void SkipTally::skip(std::uint64_t line_number, std::string_view reason) {
  skip_record(fmt::format("line {}", line_number), reason);
}

void SkipTally::skip_record(std::string_view where, std::string_view reason) {
  ++count_;
  if (examples_.size() < 3) examples_.push_back(fmt::format("{}: {}", where, reason));
}

void SkipTally::add_notes(std::vector<std::string>& notes) const {
  if (count_ == 0) return;
  std::string note = fmt::format("skipped {} malformed line{}", count_, count_ == 1 ? "" : "s");
  for (const auto& e : examples_) note += "; " + e;
  if (count_ > examples_.size()) note += "; ...";
  notes.push_back(std::move(note));
}

std::string SkipTally::first_reason() const {
  return examples_.empty() ? "" : examples_.front();
}

std::string excerpt(std::string_view s) {
  s = trim(s);
  std::string out(s.substr(0, 60));
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  return s.size() > 60 ? out + "..." : out;
}

std::string merged_note(const SeriesBuilder& builder) {
  const std::uint64_t stride = builder.stride();
  return fmt::format(
      "{} points read; to keep memory bounded the verdict judged one in {} (each the last of {} "
      "adjacent readings, with their highest high-water mark); the point count and the peak are "
      "exact",
      builder.figures().points, stride, stride);
}

std::string base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace infermem::import_detail
