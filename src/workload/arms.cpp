#include "infermem/arms.h"
#include "infermem/text.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <thread>

#include "infermem/error.h"
#include "infermem/soak.h"
#include "infermem/units.h"
#include "workload/ort_versions.h"

namespace infermem {
namespace {

const std::vector<std::string> kOnOff{"on", "off"};
constexpr std::uint64_t kMaxMmapThresholdBytes = 32ull << 20;

bool is_size_knob(const std::string& key) {
  return key == "mmap_threshold";
}

void check_value(const KnobSpec& spec, const std::string& value, const std::string& arm) {
  if (spec.key == "ort") {
    if (!valid_ort_version_text(value))
      throw InputError(fmt::format(
          "arm '{}': ort={} is not valid; ort takes 'default' or a version MAJOR.MINOR.PATCH "
          "(e.g. ort=1.22.0)",
          arm, value));
    return;
  }
  if (!spec.values.empty()) {
    if (std::find(spec.values.begin(), spec.values.end(), value) == spec.values.end())
      throw InputError(fmt::format("arm '{}': {}={} is not valid; {} takes one of: {}", arm,
                                   spec.key, value, spec.key, fmt::join(spec.values, ", ")));
    return;
  }
  if (value == "default") return;
  if (spec.key == "cache") {
    parse_cache_policy(value, fmt::format("arm '{}': cache=", arm));
    return;
  }
  if (is_size_knob(spec.key)) {
    const std::uint64_t bytes = parse_size(value, fmt::format("arm '{}': {}", arm, spec.key));
    // glibc ignores a threshold above its maximum (HEAP_MAX_SIZE / 2: 32 MiB on 64-bit) without a
    // word, from GLIBC_TUNABLES as from mallopt: refuse it here instead of running without it.
    if (bytes > kMaxMmapThresholdBytes)
      throw InputError(fmt::format(
          "arm '{}': {}={} is above glibc's maximum of 32 MiB, which glibc would silently "
          "ignore; give at most 32MiB",
          arm, spec.key, value));
    return;
  }
  bool digits = !value.empty() && value.size() < 6 &&
                std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(c); });
  if (!digits)
    throw InputError(
        fmt::format("arm '{}': {}={} is not valid; {} takes a count (0 = ORT's "
                    "choice) or 'default'",
                    arm, spec.key, value, spec.key));
  if (spec.key == "malloc_arena_max")  // glibc ignores 0, from the environment as from mallopt
    parse_count(value, fmt::format("arm '{}': {}", arm, spec.key), 1, 1024);
  if (spec.key == "intra" || spec.key == "inter")
    parse_count(value, fmt::format("arm '{}': {}", arm, spec.key), 0,
                static_cast<std::uint64_t>(max_thread_count()));
}

const KnobSpec* find_spec(const std::string& key) {
  for (const auto& s : knob_specs())
    if (s.key == key) return &s;
  return nullptr;
}

std::string valid_keys() {
  std::vector<std::string> keys;
  for (const auto& s : knob_specs()) keys.push_back(s.key);
  keys.push_back("base");
  return fmt::format("{}", fmt::join(keys, ", "));
}

Arm defaults(const std::string& name) {
  Arm a;
  a.name = name;
  for (const auto& s : knob_specs()) a.knobs[s.key] = s.default_value;
  return a;
}

std::string trim(const std::string& s) {
  return std::string(infermem::trim(std::string_view(s)));
}

}  // namespace

int max_thread_count() {
  unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::min<unsigned>(1024, 64 * std::max(1u, hw)));
}

const std::vector<KnobSpec>& knob_specs() {
  static const std::vector<KnobSpec> specs{
      {"arena", kOnOff, "on", "ORT CPU memory arena (SessionOptions EnableCpuMemArena)"},
      {"mem_pattern", kOnOff, "on",
       "ORT memory pattern planning (SessionOptions EnableMemPattern)"},
      {"arena_extend",
       {"default", "same", "power2"},
       "default",
       "arena growth: same-as-requested or next power of two (env allocator with OrtArenaCfg)"},
      {"shrink", kOnOff, "off",
       "run option memory.enable_memory_arena_shrinkage=cpu:0 after each Run()"},
      {"device_alloc_for_initializers", kOnOff, "off",
       "session.use_device_allocator_for_initializers=1 (weights outside the arena)"},
      {"graph_opt", {"off", "basic", "extended", "all"}, "all", "graph optimisation level"},
      {"intra", {}, "1", "intra-op threads (0 = ORT's choice)"},
      {"inter", {}, "1", "inter-op threads (0 = ORT's choice)"},
      {"prepacking", kOnOff, "on", "weight prepacking (off: session.disable_prepacking=1)"},
      {"env_allocator", kOnOff, "off",
       "one arena shared through the environment (session.use_env_allocators=1)"},
      {"load",
       {"path", "bytes", "mmap"},
       "path",
       "model load: from the file path, from a heap copy of its bytes, or from an mmap of it"},
      {"allocator",
       {"glibc", "jemalloc", "mimalloc", "tcmalloc"},
       "glibc",
       "process allocator (LD_PRELOAD of Debian's library in the child only)"},
      {"malloc_arena_max", {}, "default", "glibc MALLOC_ARENA_MAX for the child"},
      {"mmap_threshold", {}, "default", "glibc mmap threshold (GLIBC_TUNABLES) for the child"},
      {"malloc_tcache",
       {"default", "off"},
       "default",
       "glibc's per-thread cache of freed blocks (off: GLIBC_TUNABLES "
       "glibc.malloc.tcache_count=0 for the child)"},
      {"telemetry", kOnOff, "on",
       "ORT's telemetry events (off: DisableTelemetryEvents on the environment; ORT 1.29 for "
       "Linux keeps ~10 KiB of them in memory for every session)"},
      {"prewarm", kOnOff, "off",
       "before the first model: create and release a session of a one-node model, so ORT builds "
       "its process-lifetime CPU kernel registry in pages of its own"},
      {"trim", kOnOff, "off",
       "after unload (and each cache eviction): malloc_trim(0) on glibc, arena purge on jemalloc"},
      {"cache",
       {},
       "default",
       "--scenario cache: this arm's cache policy, lru:COUNT or budget:SIZE (default: --cache)"},
      {"ort",
       {},
       "default",
       "ONNX Runtime version the child runs on: default (the library infermem is built with) or "
       "VERSION, fetched by scripts/fetch-ort.sh VERSION"},
  };
  return specs;
}

// A knob name the code asks for must be one of knob_specs(): a typo would otherwise read as
// the default and silently run another configuration than the one reported.
const std::string& Arm::knob(const std::string& key) const {
  auto it = knobs.find(key);
  if (it != knobs.end()) return it->second;
  if (!find_spec(key))
    throw std::logic_error(
        fmt::format("Arm::knob: '{}' is not a knob; valid keys: {}", key, valid_keys()));
  throw std::logic_error(fmt::format(
      "Arm::knob: arm '{}' was built without knob '{}' (arms list every key)", name, key));
}

void check_knobs(const Arm& arm) {
  for (const auto& [k, v] : arm.knobs)
    if (!find_spec(k))
      throw InputError(
          fmt::format("arm '{}': unknown knob '{}'; valid keys: {}", arm.name, k, valid_keys()));
  for (const auto& s : knob_specs())
    if (!arm.knobs.count(s.key))
      throw InputError(fmt::format("arm '{}': knob '{}' is missing; every arm lists every knob",
                                   arm.name, s.key));
}

std::vector<std::string> builtin_arm_names() {
  return {"ort-default", "no-arena", "no-arena-trim", "arena-shrink",
          "lean",        "jemalloc", "mimalloc",      "tcmalloc"};
}

Arm builtin_arm(const std::string& name) {
  Arm a = defaults(name);
  if (name == "ort-default") return a;
  if (name == "no-arena" || name == "no-arena-trim") {
    a.knobs["arena"] = "off";
    a.knobs["mem_pattern"] = "off";
    if (name == "no-arena-trim") a.knobs["trim"] = "on";
    return a;
  }
  if (name == "arena-shrink") {
    a.knobs["shrink"] = "on";
    return a;
  }
  if (name == "lean") {
    // Chosen by measurement (docs/soak.md, "Choosing lean" and "Lean at the physical limit"):
    // no ORT arena and no memory patterns, so each Run()'s tensors are malloc's and go back to it;
    // prepacking stays on, because without it the MatMuls of a transformer ran 7-15% slower. With
    // glibc's per-thread cache off and two arenas, the arena off no longer costs peak: on the
    // PP-OCRv4 detector it is 0.91x the default's (it was 1.3x with glibc's defaults).
    a.knobs["arena"] = "off";
    a.knobs["mem_pattern"] = "off";
    a.knobs["trim"] = "on";
    a.knobs["malloc_arena_max"] = "2";
    // What a churn leaves (docs/soak.md, "Lean at the physical limit"): ORT's kernel registry
    // built on its own before the model, no per-thread cache pinning freed pages, and no
    // telemetry events kept for every session.
    a.knobs["prewarm"] = "on";
    a.knobs["malloc_tcache"] = "off";
    a.knobs["telemetry"] = "off";
    return a;
  }
  if (name == "jemalloc" || name == "mimalloc" || name == "tcmalloc") {
    a.knobs["allocator"] = name;
    return a;
  }
  throw InputError(
      fmt::format("unknown arm '{}'; built-in arms are: {} (or define one with "
                  "--arm 'NAME:key=value,...')",
                  name, fmt::join(builtin_arm_names(), ", ")));
}

Arm parse_custom_arm(const std::string& text) {
  auto colon = text.find(':');
  std::string name = trim(text.substr(0, colon));
  if (name.empty())
    throw InputError(
        fmt::format("--arm '{}': the arm needs a name, as in "
                    "--arm 'small:arena=off,trim=on'",
                    text));
  if (name.size() > kMaxArmNameLength)
    throw InputError(
        fmt::format("--arm: the name '{}...' is {} characters long; an arm name has "
                    "at most {} (letters, digits, '-', '_' and '.')",
                    name.substr(0, 24), name.size(), kMaxArmNameLength));
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      throw InputError(
          fmt::format("--arm '{}': the name '{}' may hold only letters, digits, "
                      "'-', '_' and '.'",
                      text, name));
  std::vector<std::pair<std::string, std::string>> pairs;
  if (colon != std::string::npos) {
    std::string rest = text.substr(colon + 1);
    std::size_t start = 0;
    while (start <= rest.size()) {
      auto comma = rest.find(',', start);
      std::string item = trim(rest.substr(start, comma - start));
      if (!item.empty()) {
        auto eq = item.find('=');
        if (eq == std::string::npos)
          throw InputError(fmt::format("arm '{}': '{}' is not key=value; valid keys: {}", name,
                                       item, valid_keys()));
        pairs.emplace_back(trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  std::set<std::string> given;
  for (const auto& [k, v] : pairs)
    if (!given.insert(k).second)
      throw InputError(
          fmt::format("arm '{}': key '{}' is given twice; give each key once", name, k));
  Arm a = defaults(name);
  for (const auto& [k, v] : pairs)
    if (k == "base") {
      Arm base = builtin_arm(v);
      a.knobs = base.knobs;
    }
  for (const auto& [k, v] : pairs) {
    if (k == "base") continue;
    const KnobSpec* spec = find_spec(k);
    if (!spec)
      throw InputError(
          fmt::format("arm '{}': unknown key '{}'; valid keys: {}", name, k, valid_keys()));
    check_value(*spec, v, name);
    a.knobs[k] = v;
  }
  // glibc's knobs do nothing under another allocator: an arm that asks for both would report
  // figures of a setting it never had. One inherited from a base (lean's malloc_arena_max) is
  // dropped when the arm picks another allocator; one given with it is an error.
  const std::string& allocator = a.knob("allocator");
  if (allocator != "glibc" && allocator != "default" && !allocator.empty())
    for (const char* key : kGlibcMallocKnobs) {
      if (a.knob(key) == "default" || a.knob(key).empty()) continue;
      if (!given.count(key)) {
        a.knobs[key] = "default";
        continue;
      }
      throw InputError(fmt::format(
          "arm '{}': {}={} is a glibc malloc setting, and this arm runs on allocator={}, "
          "which ignores it; drop one of the two",
          name, key, a.knob(key), allocator));
    }
  return a;
}

std::vector<Arm> resolve_arms(const std::string& arms_list,
                              const std::vector<std::string>& custom) {
  std::vector<Arm> arms;
  std::size_t start = 0;
  while (start < arms_list.size()) {
    auto comma = arms_list.find(',', start);
    std::string name = trim(arms_list.substr(start, comma - start));
    if (!name.empty()) arms.push_back(builtin_arm(name));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  for (const auto& c : custom) arms.push_back(parse_custom_arm(c));
  if (arms.empty()) throw InputError("--arms: no arm to run; name at least one");
  std::set<std::string> seen;
  for (const auto& a : arms)
    if (!seen.insert(a.name).second)
      throw InputError(fmt::format("arm '{}' is named twice; arm names must be unique", a.name));
  return arms;
}

std::string allocator_library(const std::string& allocator) {
  // Test hook (tests/e2e): preload this file instead, to check that a preload which does not
  // take (an empty or foreign library) fails the arm instead of passing on glibc.
  if (const char* test_lib = std::getenv("INFERMEM_TEST_ALLOCATOR_LIBRARY");
      test_lib && *test_lib && allocator != "glibc" && allocator != "default" && !allocator.empty())
    return test_lib;
  const char* candidates[3] = {nullptr, nullptr, nullptr};
  if (allocator == "jemalloc") {
    candidates[0] = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    candidates[1] = "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2";
  } else if (allocator == "mimalloc") {
    candidates[0] = "/usr/lib/x86_64-linux-gnu/libmimalloc.so.2";
    candidates[1] = "/usr/lib/aarch64-linux-gnu/libmimalloc.so.2";
  } else if (allocator == "tcmalloc") {
    candidates[0] = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
    candidates[1] = "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4";
  } else {
    return {};
  }
  for (const char* c : candidates)
    if (c && access(c, R_OK) == 0) return c;
  throw InputError(fmt::format("allocator={}: its library is not installed (Debian package {})",
                               allocator,
                               allocator == "jemalloc"   ? "libjemalloc2"
                               : allocator == "mimalloc" ? "libmimalloc2.0"
                                                         : "libtcmalloc-minimal4"));
}

}  // namespace infermem
