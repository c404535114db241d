#pragma once
// infermem replay's own figures, part of the report model (RunSummary::replay): the log, and for
// each cache policy what its children did with the traffic (docs/replay.md). summary.json's
// "replay" object is their JSON; report.md and report.html show them above the arms' memory.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/series.h"

namespace infermem {

// One policy's replay, over all its children.
struct ReplayPolicyRow {
  std::string arm;     // "lru-2", "budget-300MiB": the arm in the trace and report
  std::string policy;  // as given
  std::int64_t requests = 0, served = 0, lost = 0, refused = 0;
  std::uint64_t hits = 0, loads = 0, evictions = 0, oom_kills = 0, children = 0;
  double hit_rate = kAbsent;
  double p50_ms = kAbsent, p99_ms = kAbsent;  // from a request's due time to its answer
  double peak_bytes = kAbsent;                // the highest VmRSS seen, every child included
  ArmStatus status = ArmStatus::ok;           // the last child's end
  std::string status_detail;
  bool holds = false;  // served every request, no OOM kill, peak under limit x (1 - headroom)
  std::string why_not;

  nlohmann::json to_json() const;
  // InputError naming the policy and the field when one is missing or of the wrong type.
  static ReplayPolicyRow from_json(const nlohmann::json& j);
};

struct ReplayTable {
  std::string log_path, log_format;
  std::uint64_t log_lines = 0, requests = 0, skipped_lines = 0;
  std::vector<std::string> skip_examples;
  std::vector<std::pair<std::string, std::string>> models;  // id, path
  std::uint64_t memory_limit_bytes = 0;                     // 0: none
  double headroom = 0;
  std::string speed;
  std::vector<ReplayPolicyRow> policies;
  std::string recommended;  // the policy that holds with the best hit rate; "" when none does

  nlohmann::json to_json() const;
  // InputError naming the field when one is missing or of the wrong type.
  static ReplayTable from_json(const nlohmann::json& j);
};

}  // namespace infermem
