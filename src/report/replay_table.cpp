// summary.json's "replay" object: infermem replay's own figures, written and read back.
#include "infermem/replay_table.h"

#include <fmt/format.h>

#include "infermem/error.h"
#include "infermem/numbers.h"
#include "report/json_fields.h"

namespace infermem {

using report::required;

nlohmann::json ReplayPolicyRow::to_json() const {
  return {{"arm", arm},
          {"policy", policy},
          {"requests", requests},
          {"served", served},
          {"lost", lost},
          {"refused", refused},
          {"hits", hits},
          {"loads", loads},
          {"evictions", evictions},
          {"hit_rate", json_number(hit_rate)},
          {"oom_kills", oom_kills},
          {"children", children},
          {"p50_ms", json_number(p50_ms)},
          {"p99_ms", json_number(p99_ms)},
          {"peak_bytes", json_number(peak_bytes)},
          {"status", std::string(name(status))},
          {"status_detail", status_detail},
          {"holds", holds},
          {"why_not", why_not}};
}

ReplayPolicyRow ReplayPolicyRow::from_json(const nlohmann::json& j) {
  ReplayPolicyRow r;
  r.policy = required<std::string>(j, "policy", "a replay policy");
  const std::string where = "replay policy " + r.policy;
  r.arm = required<std::string>(j, "arm", where);
  r.requests = required<std::int64_t>(j, "requests", where);
  r.served = required<std::int64_t>(j, "served", where);
  r.lost = required<std::int64_t>(j, "lost", where);
  r.refused = required<std::int64_t>(j, "refused", where);
  r.hits = required<std::uint64_t>(j, "hits", where);
  r.loads = required<std::uint64_t>(j, "loads", where);
  r.evictions = required<std::uint64_t>(j, "evictions", where);
  r.oom_kills = required<std::uint64_t>(j, "oom_kills", where);
  r.children = required<std::uint64_t>(j, "children", where);
  r.hit_rate = json_number_at(j, "hit_rate");
  r.p50_ms = json_number_at(j, "p50_ms");
  r.p99_ms = json_number_at(j, "p99_ms");
  r.peak_bytes = json_number_at(j, "peak_bytes");
  const std::string status = required<std::string>(j, "status", where);
  if (auto parsed = parse_arm_status(status))
    r.status = *parsed;
  else
    throw InputError(fmt::format("summary.json: {}: unknown status '{}'", where, status));
  r.status_detail = required<std::string>(j, "status_detail", where);
  r.holds = required<bool>(j, "holds", where);
  r.why_not = required<std::string>(j, "why_not", where);
  return r;
}

nlohmann::json ReplayTable::to_json() const {
  nlohmann::json policies_j = nlohmann::json::array();
  for (const auto& p : policies) policies_j.push_back(p.to_json());
  nlohmann::json models_j = nlohmann::json::array();
  for (const auto& [id, path] : models) models_j.push_back({{"id", id}, {"path", path}});
  return {{"log",
           {{"path", log_path},
            {"format", log_format},
            {"lines", log_lines},
            {"requests", requests},
            {"skipped_lines", skipped_lines},
            {"skip_examples", skip_examples}}},
          {"models", models_j},
          {"memory_limit_bytes", memory_limit_bytes},
          {"headroom", headroom},
          {"speed", speed},
          {"policies", policies_j},
          {"recommended", recommended.empty() ? nlohmann::json() : nlohmann::json(recommended)}};
}

ReplayTable ReplayTable::from_json(const nlohmann::json& j) {
  ReplayTable t;
  const auto log = required<nlohmann::json>(j, "log", "replay");
  t.log_path = required<std::string>(log, "path", "replay's log");
  t.log_format = required<std::string>(log, "format", "replay's log");
  t.log_lines = required<std::uint64_t>(log, "lines", "replay's log");
  t.requests = required<std::uint64_t>(log, "requests", "replay's log");
  t.skipped_lines = required<std::uint64_t>(log, "skipped_lines", "replay's log");
  t.skip_examples = required<std::vector<std::string>>(log, "skip_examples", "replay's log");
  for (const auto& m : required<nlohmann::json>(j, "models", "replay"))
    t.models.emplace_back(required<std::string>(m, "id", "a replay model"),
                          required<std::string>(m, "path", "a replay model"));
  t.memory_limit_bytes = required<std::uint64_t>(j, "memory_limit_bytes", "replay");
  t.headroom = required<double>(j, "headroom", "replay");
  t.speed = required<std::string>(j, "speed", "replay");
  for (const auto& p : required<nlohmann::json>(j, "policies", "replay"))
    t.policies.push_back(ReplayPolicyRow::from_json(p));
  if (!j.contains("recommended"))
    throw InputError("summary.json: replay has no \"recommended\" field");
  if (!j["recommended"].is_null())
    t.recommended = required<std::string>(j, "recommended", "replay");
  return t;
}

}  // namespace infermem
