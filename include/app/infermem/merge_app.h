#pragma once
// infermem merge: the run directories of one soak plan's shards (soak --shard K/N, shard.h)
// joined into one run directory, which report, diff, recommend and the gate read like a local
// soak's. Each shard's records are judged again with soak's own code (summarize_arm_run,
// add_gated_arms), so the merged summary is the one an unsharded soak of the same cells writes.
#include <string>
#include <vector>

#include "infermem/gate.h"
#include "infermem/summary.h"

namespace infermem {

struct MergeOptions {
  std::vector<std::string> shard_dirs;  // every shard's soak --out, any order
  std::string out_dir;                  // must not exist, or be an empty directory
  GateConfig gate;                      // the gate the merged arms are checked against
  std::string command_line;             // how merge was started (a run fact in reports)
};

// Checks that the shards are one plan: every one recorded with --shard, the same N, plan (arms
// as resolved, their ONNX Runtime versions, repeats, injected leak/peak/retained), model checksum,
// scenario, seed, ORT version and options, no shard missing or given twice; InputError naming
// the directories and what differs otherwise, before anything is written. Then writes
// trace.jsonl, summary.json, report.md, report.html and junit.xml into a temp directory beside
// out_dir and renames it into place (WriteError naming the path when that fails; nothing is left
// half-written). Returns the merged summary.
RunSummary merge_shards(const MergeOptions& options);

// InputError unless `out_dir` is absent or an empty directory (checked by the command first).
void check_merge_out(const std::string& out_dir);

}  // namespace infermem
