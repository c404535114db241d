#pragma once
// The report model: one run's metadata and, per arm, its figures and verdict. Every renderer
// (infermem/render.h: terminal, Markdown, HTML, JSON, JUnit) renders this and nothing else;
// summary.json is its JSON.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/charts.h"
#include "infermem/gate.h"
#include "infermem/heaptrack.h"
#include "infermem/replay_table.h"
#include "infermem/sequential.h"
#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem {

// soak --repeat: the lowest and the highest value of one figure over an arm's repeats.
struct Spread {
  double lo = 0, hi = 0;
  friend bool operator==(const Spread&, const Spread&) = default;
};

// One arm as reported: what its records said (ArmFigures: memory, latency, throughput, phases),
// how its child ended, the verdict on its series and the gate's checks.
struct ArmSummary : ArmFigures {
  std::string name;
  std::map<std::string, std::string> config;
  int pid = 0;
  ArmStatus status = ArmStatus::ok;
  std::string status_detail;  // e.g. "killed by SIGKILL at request 17; cgroup oom_kill 1"
  Verdict verdict;
  std::vector<CheckResult> checks;
  // soak --repeat N: each repeat's own figures (its own child); the fields above then hold the
  // medians over repeats that ran to the end, and memory_spread the [min, max] of each figure.
  std::vector<ArmSummary> repeats;
  std::map<MemoryFigure, Spread> memory_spread;
  // What report.html draws (with --repeat: the repeat whose verdict is shown).
  ArmCharts charts;
  // soak --until-confident: when the arm's verdict was settled, or the cap that stopped it.
  std::optional<TimeToVerdict> until_confident;
};

// Combines the repeats of one arm (each a fresh child, interleaved with the other arms) into one
// ArmSummary named `name`: medians of every figure over the repeats with status ok (all repeats
// when none is), status ok only when every repeat is, the verdict of the most frequent kind.
ArmSummary combine_repeats(const std::string& name, std::vector<ArmSummary> repeats);

struct RunSummary {
  std::string tool_version;
  std::string ort_version;
  std::string model_path;
  std::string model_sha256;
  std::string scenario;
  std::uint64_t seed = 0;
  std::string host;
  std::string started_at;  // ISO-8601 UTC
  nlohmann::json options = nlohmann::json::object();
  std::vector<std::string> notes;  // degradations, warnings
  std::vector<ArmSummary> arms;
  bool interrupted = false;
  // soak --attribute: the worst arm re-run under heaptrack, its top allocation sites.
  std::optional<Attribution> attribution;
  // infermem replay: the log and each cache policy's figures (one arm per policy above).
  std::optional<ReplayTable> replay;

  nlohmann::json to_json() const;
  static RunSummary from_json(const nlohmann::json& j);
  // Reads RUN_DIR/summary.json. InputError naming the directory or file when it is not a run.
  static RunSummary load(const std::string& run_dir);
};

}  // namespace infermem
