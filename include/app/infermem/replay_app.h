#pragma once
// infermem replay (docs/replay.md): a service's own request log served again under each cache
// policy, each policy in a fresh child under the memory limit (the cache scenario's worker and
// spawner). A child the kernel OOM-kills is a result: it is counted and a fresh child goes on
// from the next request. Then: which policy holds the traffic with the headroom asked for, and
// the lines that apply it, as `infermem recommend` prints them.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "infermem/recommend.h"
#include "infermem/replay_log.h"
#include "infermem/replay_table.h"
#include "infermem/soak.h"
#include "infermem/summary.h"

namespace infermem {

struct ReplayOptions {
  std::string log_path;
  std::string models_dir;
  std::string model_field = "model";
  std::uint64_t memory_limit_bytes = 0;   // 0: no limit (no OOM kill can happen)
  std::vector<std::string> policy_texts;  // as given: lru:COUNT, budget:SIZE
  // --settings: the session and allocator settings every policy runs on, a built-in arm (lean)
  // or 'NAME:key=value,...' as soak's --arm; its cache key is the policy's.
  std::string settings = "ort-default";
  ReplaySpeed speed;
  double headroom = 0.2;  // --headroom: a policy holds when its peak <= limit x (1 - headroom)
  std::string out_dir;
  std::string command_line;
  int max_children = 50;  // per policy: a policy killed this often stops there
  std::string worker_exe = "/proc/self/exe";
};

// What the run needs, checked before anything is written: the log read (malformed lines
// counted), every model id's DIR/<id>.onnx a regular file ORT loads, each line's shape and
// tensor file fitting its model. InputError naming the id, the line or the file otherwise.
struct PlannedReplay {
  ReplayLog log;
  std::vector<ReplayModel> models;
  std::vector<CachePolicy> policies;
  std::vector<Arm> arms;  // one per policy: --settings' arm with the policy's cache= key
};
PlannedReplay plan_replay(const ReplayOptions& options);

// One policy's replay, over all its children (the report model's row: infermem/replay_table.h).
using PolicyOutcome = ReplayPolicyRow;

struct ReplayReport {
  RunSummary summary;  // one arm per policy, for report.md / report.html (`infermem report`)
  std::vector<PolicyOutcome> policies;
  std::optional<Recommendation> recommendation;  // the policy that holds, best hit rate
  // The report model's replay table: the log, the models, the policies, the one recommended.
  ReplayTable table(const PlannedReplay& plan, const ReplayOptions& options) const;
};

// Runs every policy, writes trace.jsonl, summary.json (the run's, with a "replay" object),
// report.md, report.html and junit.xml into options.out_dir (which must exist).
ReplayReport run_replay(const ReplayOptions& options, const PlannedReplay& plan,
                        const std::function<void(const SoakProgress&)>& progress);

// The table, the skipped lines, the notes, and the recommendation (or why there is none).
std::string render_replay_text(const ReplayReport& report, const PlannedReplay& plan,
                               const ReplayOptions& options);

// 0 when a policy holds the traffic, 1 when none does, 130 when interrupted.
int replay_exit_code(const ReplayReport& report);

}  // namespace infermem
