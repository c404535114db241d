#include "probe/proc_parse.h"

#include <charconv>
#include <cstring>

#include "infermem/text.h"

namespace infermem::probe {
using infermem::trim;
namespace {

constexpr Figure kKeyFigures[kKeyCount] = {
    Figure::rss_bytes,
    Figure::rss_anon_bytes,
    Figure::rss_file_bytes,
    Figure::rss_shmem_bytes,
    Figure::hwm_bytes,
    Figure::swap_bytes,
    Figure::threads_count,
    Figure::pss_bytes,
    Figure::pss_anon_bytes,
    Figure::pss_file_bytes,
    Figure::private_dirty_bytes,
    Figure::shared_clean_bytes,
    Figure::smaps_swap_bytes,
    Figure::cgroup_current_bytes,
    Figure::cgroup_peak_bytes,
    Figure::cgroup_limit_bytes,
    Figure::cgroup_anon_bytes,
    Figure::cgroup_file_bytes,
    Figure::cgroup_oom_kill_count,
    Figure::malloc_arena_bytes,
    Figure::malloc_mmap_bytes,
    Figure::malloc_in_use_bytes,
    Figure::malloc_free_bytes,
    Figure::malloc_keepcost_bytes,
    Figure::jemalloc_allocated_bytes,
    Figure::jemalloc_active_bytes,
    Figure::jemalloc_resident_bytes,
    Figure::jemalloc_retained_bytes,
    Figure::allocator_is_jemalloc_count,
    Figure::allocator_is_tcmalloc_count,
    Figure::allocator_is_mimalloc_count,
    Figure::allocator_is_sanitizer_count,
};

// v1 reports "no limit" as LONG_MAX rounded down to a page; anything this large is no limit.
constexpr double kUnlimitedBytes = 4.0e18;

// Next line of `text` (without '\n'), advancing `text`.
std::string_view next_line(std::string_view& text) {
  std::size_t nl = text.find('\n');
  std::string_view line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

// "   1724 kB" -> 1765376; "7" -> 7. nullopt when there is no leading unsigned number.
std::optional<double> parse_amount(std::string_view s) {
  s = trim(s);
  std::uint64_t n = 0;
  auto [rest, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc()) return std::nullopt;
  std::string_view unit =
      trim(std::string_view(rest, static_cast<std::size_t>(s.data() + s.size() - rest)));
  if (unit == "kB") return static_cast<double>(n) * 1024.0;
  if (unit.empty()) return static_cast<double>(n);
  return std::nullopt;
}

// Calls fn(name, value) for every "Name: value [kB]" line.
template <typename Fn>
void for_each_field(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    if (auto v = parse_amount(line.substr(colon + 1))) fn(line.substr(0, colon), *v);
  }
}

struct FieldKey {
  std::string_view field;
  Key key;
};

template <std::size_t N>
void parse_fields(std::string_view text, const FieldKey (&table)[N], Values& out) {
  for_each_field(text, [&](std::string_view name, double v) {
    for (const auto& fk : table)
      if (fk.field == name) {
        out.set(fk.key, v);
        break;
      }
  });
}

constexpr FieldKey kStatusFields[] = {
    {"VmRSS", Key::kRss},         {"RssAnon", Key::kRssAnon}, {"RssFile", Key::kRssFile},
    {"RssShmem", Key::kRssShmem}, {"VmHWM", Key::kHwm},       {"VmSwap", Key::kSwap},
    {"Threads", Key::kThreads},
};

constexpr FieldKey kRollupFields[] = {
    {"Pss", Key::kPss},
    {"Pss_Anon", Key::kPssAnon},
    {"Pss_File", Key::kPssFile},
    {"Private_Dirty", Key::kPrivateDirty},
    {"Shared_Clean", Key::kSharedClean},
    {"Swap", Key::kSmapsSwap},
};

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "7f0000000000-7f0000021000 rw-p 00000000 00:00 0   [heap]" -> a Mapping (fields zero).
std::optional<Mapping> parse_mapping_header(std::string_view line) {
  std::size_t dash = line.find('-');
  if (dash == std::string_view::npos || dash == 0 || !is_hex(line[0])) return std::nullopt;
  Mapping m;
  auto [p1, e1] = std::from_chars(line.data(), line.data() + dash, m.start, 16);
  if (e1 != std::errc() || p1 != line.data() + dash) return std::nullopt;
  std::size_t space = line.find(' ', dash);
  if (space == std::string_view::npos) return std::nullopt;
  auto [p2, e2] = std::from_chars(line.data() + dash + 1, line.data() + space, m.end, 16);
  if (e2 != std::errc() || p2 != line.data() + space || m.end < m.start) return std::nullopt;
  std::string_view rest = line.substr(space + 1);
  if (rest.size() < 4) return std::nullopt;
  std::memcpy(m.perms, rest.data(), 4);
  // Skip perms, offset, dev, inode: the path starts after the fifth field.
  std::size_t pos = 0;
  for (int field = 0; field < 4; ++field) {
    pos = rest.find(' ', pos);
    if (pos == std::string_view::npos) return m;
    while (pos < rest.size() && rest[pos] == ' ') ++pos;
  }
  m.path = std::string(trim(rest.substr(pos)));
  return m;
}

}  // namespace

Figure figure_of(Key key) {
  return kKeyFigures[static_cast<int>(key)];
}

void Values::max_with(const Values& other) {
  for (int i = 0; i < kKeyCount; ++i)
    if (!std::isnan(other.slot[i]) && (std::isnan(slot[i]) || other.slot[i] > slot[i]))
      slot[i] = other.slot[i];
}

Reading Values::to_reading() const {
  Reading r;
  for (int i = 0; i < kKeyCount; ++i)
    if (!std::isnan(slot[i])) r.values.set(kKeyFigures[i], slot[i]);
  return r;
}

void parse_status(std::string_view text, Values& out) {
  parse_fields(text, kStatusFields, out);
}

void parse_statm(std::string_view text, double page_bytes, Values& out) {
  std::uint64_t fields[3] = {0, 0, 0};  // size, resident, shared
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (auto& field : fields) {
    while (p < end && *p == ' ') ++p;
    auto [next, ec] = std::from_chars(p, end, field);
    if (ec != std::errc()) return;
    p = next;
  }
  const auto [size, resident, shared] = fields;
  if (size == 0 || shared > resident || !(page_bytes > 0)) return;
  out.set(Key::kRss, static_cast<double>(resident) * page_bytes);
  out.set(Key::kRssAnon, static_cast<double>(resident - shared) * page_bytes);
}

void parse_smaps_rollup(std::string_view text, Values& out) {
  parse_fields(text, kRollupFields, out);
}

std::vector<Mapping> parse_smaps(std::string_view text) {
  std::vector<Mapping> mappings;
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (auto header = parse_mapping_header(line)) {
      mappings.push_back(std::move(*header));
      continue;
    }
    if (mappings.empty()) continue;
    Mapping& m = mappings.back();
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    auto v = parse_amount(line.substr(colon + 1));
    if (!v) continue;
    std::string_view name = line.substr(0, colon);
    if (name == "Rss")
      m.rss_bytes = *v;
    else if (name == "Pss")
      m.pss_bytes = *v;
    else if (name == "Pss_Anon")
      m.pss_anon_bytes = *v;
    else if (name == "Pss_File")
      m.pss_file_bytes = *v;
    else if (name == "Private_Dirty")
      m.private_dirty_bytes = *v;
    else if (name == "Shared_Clean")
      m.shared_clean_bytes = *v;
    else if (name == "Anonymous")
      m.anonymous_bytes = *v;
    else if (name == "Swap")
      m.swap_bytes = *v;
  }
  return mappings;
}

void sum_smaps(const std::vector<Mapping>& mappings, Values& out) {
  double pss = 0, private_dirty = 0, shared_clean = 0, swap = 0, pss_anon = 0, pss_file = 0;
  bool has_pss_anon = false, has_pss_file = false;
  for (const auto& m : mappings) {
    pss += m.pss_bytes;
    private_dirty += m.private_dirty_bytes;
    shared_clean += m.shared_clean_bytes;
    swap += m.swap_bytes;
    if (!std::isnan(m.pss_anon_bytes)) has_pss_anon = true, pss_anon += m.pss_anon_bytes;
    if (!std::isnan(m.pss_file_bytes)) has_pss_file = true, pss_file += m.pss_file_bytes;
  }
  if (mappings.empty()) return;
  out.set(Key::kPss, pss);
  out.set(Key::kPrivateDirty, private_dirty);
  out.set(Key::kSharedClean, shared_clean);
  out.set(Key::kSmapsSwap, swap);
  if (has_pss_anon) out.set(Key::kPssAnon, pss_anon);
  if (has_pss_file) out.set(Key::kPssFile, pss_file);
}

CgroupRef parse_proc_cgroup(std::string_view text) {
  CgroupRef ref;
  while (!text.empty()) {
    std::string_view line = trim(next_line(text));
    std::size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    std::size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view id = line.substr(0, c1);
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string path(line.substr(c2 + 1));
    if (path.empty() || path.front() != '/') continue;
    if (id == "0" && controllers.empty()) {
      ref.v2_path = path;
      continue;
    }
    // v1 controllers are comma-separated ("memory" alone in practice, but "cpu,memory" is legal).
    while (!controllers.empty()) {
      std::size_t comma = controllers.find(',');
      if (controllers.substr(0, comma) == "memory") {
        ref.v1_memory_path = path;
        break;
      }
      if (comma == std::string_view::npos) break;
      controllers.remove_prefix(comma + 1);
    }
  }
  return ref;
}

std::optional<double> parse_cgroup_number(std::string_view text) {
  text = trim(text);
  std::uint64_t n = 0;
  auto [rest, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || rest != text.data() + text.size()) return std::nullopt;
  double v = static_cast<double>(n);
  if (v >= kUnlimitedBytes) return std::nullopt;
  return v;
}

std::optional<double> parse_keyed_number(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    std::string_view line = next_line(text);
    if (line.size() <= key.size() || line.substr(0, key.size()) != key) continue;
    if (line[key.size()] != ' ' && line[key.size()] != '\t') continue;
    if (auto v = parse_cgroup_number(line.substr(key.size()))) return v;
    return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace infermem::probe
