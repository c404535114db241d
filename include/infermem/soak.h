#pragma once
// soak: a real ONNX model under a scenario and configuration arms, each arm in a fresh child.
// The parent (run_soak) plans inputs, spawns one worker per arm, samples it from outside and
// streams everything into one trace; the worker (run_worker) loads, runs and unloads the model.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "infermem/arms.h"
#include "infermem/gate.h"
#include "infermem/summary.h"

namespace infermem {

struct DimRange {
  std::int64_t lo = 1;
  std::int64_t hi = 1;
  std::int64_t step = 1;  // drawn values are multiples of step (spatial dims of conv models: 32)
};

// One model input as ORT reports it, with how soak fills it.
struct InputPlan {
  std::string name;
  int element_type = 0;                    // ONNXTensorElementDataType
  std::vector<std::int64_t> shape;         // -1 = dynamic
  std::vector<std::string> dim_keys;       // per dim: the key its size is drawn under ("" = fixed)
  std::optional<std::int64_t> vocab_size;  // token ids drawn in [0, vocab) when known
};

struct SoakOptions {
  std::string model_path;
  std::string scenario = "mixed";  // steady | mixed | churn | cache
  std::int64_t requests = 200;     // per arm; per cycle for churn
  double duration_ms = 0;          // when > 0, also stop an arm's inference after this long
  int cycles = 3;                  // churn
  std::uint64_t seed = 1;
  std::map<std::string, std::string> dim_overrides;  // --dim NAME=LO..HI as given
  int threads = 0;                                   // --threads: overrides every arm's intra
  std::uint64_t inject_leak_bytes = 0;               // per request, in the child
  int models = 4;                                    // cache scenario: variants on disk
  std::string cache = "lru:2";                       // cache scenario policy
  std::uint64_t memory_limit_bytes = 0;              // 0 = no cgroup limit
  int warm_requests = 3;
  int repeat = 1;  // fresh children per arm, run interleaved; figures are medians over them
  double parent_sample_hz = 100;  // outside sampling of the child
  double child_sample_hz = 1000;  // in-process sampler for per-phase peaks
  double arm_timeout_ms = 0;      // 0 = none
  std::string out_dir;
  std::string worker_exe = "/proc/self/exe";
};

// What the worker is told, written as JSON beside the trace and passed by path.
struct WorkerSpec {
  SoakOptions options;
  Arm arm;
  std::vector<InputPlan> inputs;
  std::map<std::string, DimRange> dims;     // resolved ranges for every dim key
  std::vector<std::string> model_variants;  // cache scenario: distinct files
  double run_t0_ms = 0;  // the run's start on the monotonic clock (steady_clock), for t_ms
  nlohmann::json to_json() const;
  static WorkerSpec from_json(const nlohmann::json& j);
};

// Reads the model's signature through ORT and resolves every dimension for the scenario.
// InputError for a model ORT cannot load (naming the file) or an input it cannot synthesize
// (naming the input and its type).
std::vector<InputPlan> plan_inputs(const std::string& model_path);
std::map<std::string, DimRange> resolve_dims(const std::vector<InputPlan>& inputs,
                                             const std::string& scenario,
                                             const std::map<std::string, std::string>& overrides);

// The child's main: runs the arm, streams trace records to trace_fd. Returns the exit code.
int run_worker(const WorkerSpec& spec, int trace_fd);

// What the parent tells the terminal while it runs: an event line (arm started, finished,
// a warning) or, several times a second, where the running arm is.
struct SoakProgress {
  std::string arm;
  std::string line;                 // non-empty: an event to print as a line
  std::int64_t requests_done = 0;   // otherwise: a position update
  std::int64_t requests_total = 0;  // per arm (requests x cycles for churn)
  double rss_bytes = 0;             // the child's VmRSS, sampled from outside
  double hwm_bytes = 0;             // and its VmHWM (since the last phase reset)
};

// The parent: runs every arm, writes trace.jsonl, summary.json, report.md and junit.xml into
// out_dir, calling `progress` from the calling thread.
RunSummary run_soak(const SoakOptions& options, const std::vector<Arm>& arms,
                    const Thresholds& thresholds,
                    const std::function<void(const SoakProgress&)>& progress);

// Set by a SIGINT/SIGTERM handler: run_soak stops the running child and returns what is known.
void request_soak_stop();
bool soak_stop_requested();

}  // namespace infermem
