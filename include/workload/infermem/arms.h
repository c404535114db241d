#pragma once
// Configuration arms: a named set of knobs, each resolved to a value, applied to a fresh child.
// Built-in profiles and custom `--arm 'NAME:key=value,...'` both resolve to an Arm whose `knobs`
// lists every key (docs/soak.md), so summary.json says exactly what each arm ran with.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace infermem {

struct KnobSpec {
  std::string key;
  std::vector<std::string> values;  // allowed values; empty = a non-negative integer or a size
  std::string default_value;
  std::string what;  // one line: what it changes and where (ORT option name, env var, ...)
};

// Every knob, in the order they are shown.
const std::vector<KnobSpec>& knob_specs();
// The knobs that are glibc malloc settings: refused on another allocator, not applied under a
// sanitizer's runtime.
inline constexpr const char* kGlibcMallocKnobs[] = {"malloc_arena_max", "mmap_threshold",
                                                    "malloc_tcache"};

struct Arm {
  std::string name;
  std::map<std::string, std::string> knobs;  // every key of knob_specs(), resolved

  // The value of a knob of knob_specs(). A name that is not a knob, or an arm without it, is a
  // bug in the caller: std::logic_error, never a default.
  const std::string& knob(const std::string& key) const;
  bool on(const std::string& key) const { return knob(key) == "on"; }
};

// An arm read back from a file (a worker spec) lists exactly the knobs of knob_specs():
// an unknown or missing key is an InputError naming it.
void check_knobs(const Arm& arm);

// Built-in profile names in --help order: ort-default, no-arena, no-arena-trim, arena-shrink,
// lean, jemalloc, mimalloc, tcmalloc.
std::vector<std::string> builtin_arm_names();

// The most threads an arm (intra=, inter=) or --threads may ask for: 64 per hardware thread, at
// most 1024. Beyond that ORT only spends memory on stacks and time on switching.
int max_thread_count();

// Longest custom arm name: it names files in the run directory (arm-NAME.spec.json) and columns.
inline constexpr std::size_t kMaxArmNameLength = 64;

// Resolves a built-in profile by name. InputError listing the built-ins when unknown.
Arm builtin_arm(const std::string& name);

// Parses "NAME:key=value,key=value". A custom arm starts from ort-default, or from a built-in
// named by `base=<builtin>`. InputError naming the key or value and listing the valid ones, for a
// name longer than kMaxArmNameLength or outside [A-Za-z0-9._-], and for a key given twice.
Arm parse_custom_arm(const std::string& text);

// Resolves a comma-separated --arms list plus any --arm specs, in order, names unique.
std::vector<Arm> resolve_arms(const std::string& arms_list, const std::vector<std::string>& custom);

// Shared objects of the allocators, from Debian's packages; empty for glibc.
std::string allocator_library(const std::string& allocator);

}  // namespace infermem
