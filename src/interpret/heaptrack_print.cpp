// heaptrack_print's report as allocation sites (see infermem/heaptrack.h). A block reads:
//   6.55M leaked over 100 calls from
//     leak_here
//       at /src/leak.c:4
//       in /bin/leak
//     main
//       ...
// and ends at a blank line.
#include "infermem/heaptrack.h"

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <map>

#include "infermem/error.h"
#include "infermem/numbers.h"

namespace infermem {
namespace {

// "6.55M", "72.70K", "1000B": heaptrack prints sizes in decimal units.
std::optional<double> parse_size(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double scale = 1;
  switch (s.back()) {
    case 'B':
      break;
    case 'K':
      scale = 1e3;
      break;
    case 'M':
      scale = 1e6;
      break;
    case 'G':
      scale = 1e9;
      break;
    case 'T':
      scale = 1e12;
      break;
    default:
      return std::nullopt;
  }
  s.remove_suffix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !(v >= 0) || v > 1e18) return std::nullopt;
  return v * scale;
}

struct Block {
  double bytes = 0;
  std::uint64_t calls = 0;
  std::vector<std::string> frames;
};

// "<size> <what> over <n> calls from": the size and the calls, when the line is a block head.
bool parse_head(std::string_view line, std::string_view what, Block& b) {
  const std::string middle = fmt::format(" {} over ", what);
  auto at = line.find(middle);
  if (at == std::string_view::npos || !line.ends_with(" calls from")) return false;
  auto size = parse_size(line.substr(0, at));
  std::string_view calls = line.substr(at + middle.size());
  constexpr std::string_view kSuffix = " calls from";
  // The suffix may overlap the middle (" leaked over calls from"): nothing is left for a count.
  if (calls.size() < kSuffix.size()) return false;
  calls.remove_suffix(kSuffix.size());
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(calls.data(), calls.data() + calls.size(), n);
  if (!size || ec != std::errc() || end != calls.data() + calls.size()) return false;
  b.bytes = *size;
  b.calls = n;
  return true;
}

std::vector<Block> blocks(std::string_view text, std::string_view section, std::string_view what) {
  std::vector<Block> out;
  auto start = text.find(section);
  if (start == std::string_view::npos) return out;
  text.remove_prefix(start + section.size());
  bool in_block = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    Block b;
    if (!line.starts_with(" ") && parse_head(line, what, b)) {
      out.push_back(std::move(b));
      in_block = true;
      continue;
    }
    if (line.empty()) {
      in_block = false;
      continue;
    }
    if (!line.starts_with(" ")) break;  // the next section
    if (!in_block) continue;
    auto& frames = out.back().frames;
    if (line.starts_with("    at ") && !frames.empty())
      frames.back() += fmt::format(" ({})", line.substr(7));
    else if (line.starts_with("    in ") && !frames.empty())
      frames.back() += fmt::format(" [{}]", line.substr(7));
    else if (line.starts_with("  ") && !line.starts_with("   "))
      frames.emplace_back(line.substr(2));
  }
  return out;
}

std::string join(const std::vector<std::string>& frames) {
  std::string key;
  for (const auto& f : frames) key += f + '\n';
  return key;
}

}  // namespace

std::vector<AllocationSite> parse_heaptrack_print(std::string_view text, std::size_t limit) {
  std::map<std::string, AllocationSite> by_stack;
  for (auto& b : blocks(text, "PEAK MEMORY CONSUMERS", "peak memory consumed")) {
    auto& site = by_stack[join(b.frames)];
    site.peak_bytes = (present(site.peak_bytes) ? site.peak_bytes : 0) + b.bytes;
    if (site.calls == 0) site.calls = b.calls;
    site.frames = std::move(b.frames);
  }
  for (auto& b : blocks(text, "MEMORY LEAKS", "leaked")) {
    auto& site = by_stack[join(b.frames)];
    site.leaked_bytes = (present(site.leaked_bytes) ? site.leaked_bytes : 0) + b.bytes;
    site.calls = b.calls;
    site.frames = std::move(b.frames);
  }
  std::vector<AllocationSite> sites;
  for (auto& [stack, site] : by_stack) sites.push_back(std::move(site));
  auto or_zero = [](double v) { return present(v) ? v : 0.0; };
  std::stable_sort(sites.begin(), sites.end(), [&](const auto& a, const auto& b) {
    if (or_zero(a.leaked_bytes) != or_zero(b.leaked_bytes))
      return or_zero(a.leaked_bytes) > or_zero(b.leaked_bytes);
    return or_zero(a.peak_bytes) > or_zero(b.peak_bytes);
  });
  if (sites.size() > limit) sites.resize(limit);
  return sites;
}

nlohmann::json Attribution::to_json() const {
  auto list = nlohmann::json::array();
  for (const auto& s : sites)
    list.push_back({{"peak_bytes", json_number(s.peak_bytes)},
                    {"leaked_bytes", json_number(s.leaked_bytes)},
                    {"calls", s.calls},
                    {"frames", s.frames}});
  return {{"arm", arm},         {"outcome", outcome},     {"message", message},
          {"command", command}, {"data_file", data_file}, {"sites", list}};
}

Attribution Attribution::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("attribution: not an object");
  Attribution a;
  a.arm = j.value("arm", "");
  a.outcome = j.value("outcome", "");
  a.message = j.value("message", "");
  a.command = j.value("command", "");
  a.data_file = j.value("data_file", "");
  for (const auto& s : j.value("sites", nlohmann::json::array())) {
    AllocationSite site;
    site.peak_bytes = json_number_at(s, "peak_bytes");
    site.leaked_bytes = json_number_at(s, "leaked_bytes");
    site.calls = s.value("calls", std::uint64_t{0});
    site.frames = s.value("frames", std::vector<std::string>{});
    a.sites.push_back(std::move(site));
  }
  return a;
}

}  // namespace infermem
