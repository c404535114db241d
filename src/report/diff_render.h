#pragma once
// `infermem diff` output: pure functions of a RunDiff (see infermem/run_diff.h).
#include <nlohmann/json.hpp>
#include <string>

#include "infermem/run_diff.h"

namespace infermem {

// The terminal table: identity differences first, one row per arm and figure (MiB for memory,
// the growth NEW was allowed and from what), then the notes, the reasons and a result line.
std::string render_diff_text(const RunDiff& diff);

// The same as JSON (byte figures as numbers, absent ones as null), and as its text.
nlohmann::json diff_to_json(const RunDiff& diff);
std::string render_diff_json(const RunDiff& diff);

}  // namespace infermem
