#pragma once
// The report model: one run's metadata and, per arm, its figures and verdict. Every renderer
// (terminal, Markdown, JSON, JUnit) renders this and nothing else; summary.json is its JSON.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "infermem/gate.h"
#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem {

struct MemoryFigures {
  double baseline_bytes = kAbsent;      // VmRSS at the end of phase baseline (runtime, no session)
  double loaded_bytes = kAbsent;        // VmRSS at the end of phase load
  double peak_bytes = kAbsent;          // highest RSS during warm+infer (see peak_method)
  double after_unload_bytes = kAbsent;  // VmRSS at the end of phase unload
  double after_trim_bytes = kAbsent;    // VmRSS at the end of phase trim (arms with trim=on)
  double retained_bytes = kAbsent;      // (after_trim or after_unload) - baseline
  std::string peak_method;  // e.g. "max of 1 kHz sampling and VmHWM after clear_refs reset"
};

struct LatencyFigures {
  double mean = kAbsent, p50 = kAbsent, p95 = kAbsent, p99 = kAbsent;  // ms, around Run() only
};

struct ArmSummary {
  std::string name;
  std::map<std::string, std::string> config;
  int pid = 0;
  std::string status = "ok";  // ok | crashed | oom-killed | timeout | interrupted
  std::string status_detail;  // e.g. "killed by SIGKILL at request 17; cgroup oom_kill 1"
  std::int64_t requests_done = 0;
  MemoryFigures memory;
  LatencyFigures latency_ms;
  double throughput_rps = kAbsent;
  Verdict verdict;
  nlohmann::json phases = nlohmann::json::array();  // per-phase figures with their methods
  std::vector<CheckResult> checks;
  double last_rss_bytes = kAbsent;  // last sample from outside (useful when the child died)
  // soak --repeat N: each repeat's own figures (its own child); the fields above then hold the
  // medians over repeats that ran to the end, and memory_spread the [min, max] of each figure.
  std::vector<ArmSummary> repeats;
  nlohmann::json memory_spread = nlohmann::json::object();
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

  nlohmann::json to_json() const;
  static RunSummary from_json(const nlohmann::json& j);
  // Reads RUN_DIR/summary.json. InputError naming the directory or file when it is not a run.
  static RunSummary load(const std::string& run_dir);
};

// Renderers: each only renders.
std::string render_markdown(const RunSummary& summary);
std::string render_terminal_table(const RunSummary& summary);

}  // namespace infermem
