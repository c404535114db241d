#pragma once
// soak's workload: a real ONNX model under a scenario and configuration arms, each arm in a fresh
// child. The parent (run_arms) plans inputs, spawns one worker per arm, samples it from outside
// and streams everything into one trace; the worker (run_worker) loads, runs and unloads the
// model. What happens to the results (figures, verdicts, the gate, reports) is the application's
// (infermem/soak_app.h), not the runner's.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/arms.h"
#include "infermem/replay_log.h"
#include "infermem/shard.h"

namespace infermem {

enum class Scenario { steady, mixed, churn, cache };
std::string_view name(Scenario scenario);
// InputError naming `flag` and the accepted values when `text` is not a scenario.
Scenario parse_scenario(std::string_view text, std::string_view flag = "--scenario");

// soak --scenario cache: lru:COUNT (functools.lru_cache(maxsize=COUNT)) or budget:SIZE.
struct CachePolicy {
  enum class Kind { lru, budget } kind = Kind::lru;
  std::uint64_t count = 2;         // lru
  std::uint64_t budget_bytes = 0;  // budget
};
std::string name(const CachePolicy& policy);  // "lru:2", "budget:300MiB"
// InputError naming `flag`, the value and the accepted forms.
CachePolicy parse_cache_policy(std::string_view text, std::string_view flag = "--cache");

// The version string of the ONNX Runtime library actually loaded (not the headers').
std::string ort_version();
// The ONNX Runtime version an arm runs on (its ort= knob, or the built-in library's). InputError
// naming the arm, the version and the command that fetches it when it is not fetched (or its
// checksum does not match the record, or it is too old to drive).
std::string check_ort_arm(const Arm& arm);

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
  Scenario scenario = Scenario::mixed;
  std::int64_t requests = 200;  // per arm; per cycle for churn
  double duration_ms = 0;       // when > 0, also stop an arm's inference after this long
  int cycles = 3;               // churn
  std::uint64_t seed = 1;
  std::map<std::string, std::string> dim_overrides;  // --dim NAME=LO..HI as given
  int threads = 0;                                   // --threads: overrides every arm's intra
  std::uint64_t inject_leak_bytes = 0;               // per request, in the child
  // Calibration knobs of `infermem diff` (docs/diff.md): an extra block held through phase
  // infer and freed before unload (raises the peak only), and one allocated in phase unload and
  // kept (raises after unload and retained only).
  std::uint64_t inject_peak_bytes = 0;
  std::uint64_t inject_retained_bytes = 0;
  // Calibration of the fragmentation verdict (docs/verdicts.md): heap this size per request
  // left as holes between pinned blocks (src/workload/fragmenter.h).
  std::uint64_t inject_fragmentation_bytes = 0;
  int models = 4;                        // cache scenario: variants on disk
  CachePolicy cache;                     // cache scenario policy
  std::uint64_t memory_limit_bytes = 0;  // 0 = no cgroup limit
  int warm_requests = 3;
  int repeat = 1;   // fresh children per arm, run interleaved; figures are medians over them
  ShardSpec shard;  // --shard K/N: run only this slice of the arm x repeat cells (shard.h)
  double parent_sample_hz = 100;  // outside sampling of the child
  double child_sample_hz = 1000;  // in-process sampler for per-phase peaks
  double arm_timeout_ms = 0;      // 0 = none
  std::string out_dir;
  std::string worker_exe = "/proc/self/exe";
  // What requests carry besides synthesized tensors (docs/soak.md, "Your own inputs").
  std::string inputs_path;                             // --inputs PATH
  std::string inputs_order = "order";                  // --inputs-order order|random (seeded)
  std::map<std::string, std::string> input_constants;  // --input NAME=VALUE
  bool record_outputs = false;  // --record-outputs: a digest of every output in each request
  // How requests arrive (docs/soak.md, "Concurrency and time").
  int concurrency = 1;            // --concurrency: threads calling Run() on one session at once
  double rate_rps = 0;            // --rate: seeded Poisson arrivals (open loop); 0 = closed loop
  double idle_ms = 0;             // --idle: a gap of this long ...
  std::int64_t idle_every = 0;    // ... every K requests (--idle-every)
  std::string shapes;             // --shapes: "" (seeded draw), "spike" or a FILE
  std::int64_t spike_every = 50;  // --spike-every: spike's K
  // Stateful models (docs/soak.md, "Stateful models").
  std::map<std::string, std::string> feed;  // --feed OUTPUT=INPUT
  std::int64_t streams = 1;                 // --streams N
  std::int64_t stream_length = 0;           // --stream-length: requests before a reset; 0 never
  std::string command_line;                 // how infermem was started (a run fact in reports)
  // soak --until-confident (docs/soak.md): each arm stops once its verdict is settled; `requests`
  // (--max-requests) and `duration_ms` (--max-time) are then its caps. The parent decides (the
  // application's ArmSettled); the worker only stops when told.
  bool until_confident = false;
  bool request_cap = true;                 // false: --max-time alone (requests: the largest)
  double detect_bytes_per_request = 1024;  // --detect
  bool attribute = false;  // --attribute: re-run the worst arm under heaptrack (the app's job)
  // A command each child runs under, e.g. {"/usr/bin/heaptrack", "-o", FILE}: the worker becomes
  // its argument (as its real path, since /proc/self/exe would then name the wrapper).
  std::vector<std::string> worker_prefix;
  // When set, each child's standard output and error go to this file (the wrapper's chatter).
  std::string worker_log;
  // inspect --measure: each phase end also records libonnxruntime's resident pages
  // (ort_library_rss_bytes, ort_library_file_bytes, from /proc/self/smaps; a few ms a phase).
  bool library_rss = false;
};

// InputError when --inputs/--input do not fit the model's inputs (naming the input, its expected
// and given shape and type, the file or the unknown name); checked before any child starts.
void check_user_inputs(const std::vector<InputPlan>& inputs, const SoakOptions& options);
// InputError when a --feed output or input is not the model's or their types differ.
void check_feed(const std::vector<InputPlan>& inputs, const SoakOptions& options);
// InputError when --shapes FILE cannot be read or names a dimension the model does not have.
void check_request_shapes(const std::map<std::string, DimRange>& dims, const SoakOptions& options);

// infermem replay (docs/replay.md): the cache scenario's child serves a user's request log in
// place of its Zipf stream, each model from its own file with its own inputs, at the log's pace.
struct ReplayModel {
  std::string id;    // as the log names it
  std::string path;  // DIR/<id>.onnx
  std::vector<InputPlan> inputs;
  std::map<std::string, DimRange> dims;  // resolved as for steady: fixed unless the log says
};
struct ReplayPlan {
  std::vector<ReplayModel> models;
  std::vector<ReplayEvent> events;  // the whole log, in its order
  std::size_t from = 0;             // the first event this child serves (after an OOM kill: on)
  ReplaySpeed speed;
};
// The dynamic dimensions a log line's shape sets on its model's first input (KEY -> size; empty
// when it gives none); InputError naming the line when its rank or a fixed dimension does not
// match the model's. The parent checks every line with it before any child starts.
std::map<std::string, std::int64_t> replay_shape_dims(const ReplayModel& model,
                                                      const ReplayEvent& event);

// What the worker is told, written as JSON beside the trace and passed by path.
struct WorkerSpec {
  SoakOptions options;
  Arm arm;
  std::vector<InputPlan> inputs;
  std::map<std::string, DimRange> dims;     // resolved ranges for every dim key
  std::vector<std::string> model_variants;  // cache scenario: distinct files
  double run_t0_ms = 0;  // the run's start on the monotonic clock (steady_clock), for t_ms
  // The child runs alone in a memory cgroup of its own (--memory-limit): cgroup figures are the
  // arm's. Otherwise they would be the enclosing container's, so they are not recorded.
  bool own_memory_cgroup = false;
  std::optional<ReplayPlan> replay;  // infermem replay; model_variants are then its models' paths
  nlohmann::json to_json() const;
  static WorkerSpec from_json(const nlohmann::json& j);
};

// Bytes of one element of an ONNX tensor type (0 when soak cannot synthesize it), and its name.
std::size_t element_size(int element_type);
std::string element_type_name(int element_type);

// Reads the model's signature through ORT and resolves every dimension for the scenario.
// InputError for a model ORT cannot load (naming the file) or an input it cannot synthesize
// (naming the input and its type).
std::vector<InputPlan> plan_inputs(const std::string& model_path);
std::map<std::string, DimRange> resolve_dims(const std::vector<InputPlan>& inputs,
                                             Scenario scenario,
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

// What the runner knows of one child when it has ended: how it ended and its records, read
// as they arrived (compact: what figures and verdicts need). Nothing is judged here.
struct ArmRun {
  std::string name;  // "NAME" or, with --repeat, "NAME#k"
  std::map<std::string, std::string> config;
  int pid = 0;
  ArmStatus status = ArmStatus::ok;
  std::string status_detail;  // e.g. "killed by SIGKILL at request 17; cgroup oom_kill 1"
  ArmAccumulator records;
};

// Run-level facts, known before the first arm starts.
struct RunFacts {
  std::string tool_version, ort_version, model_path, model_sha256, host, started_at;
  nlohmann::json options = nlohmann::json::object();  // every resolved option
  std::vector<InputPlan> inputs;                      // the model's inputs, planned once
  std::map<std::string, DimRange> dims;               // every dynamic dimension, resolved
};

// Checks everything about the input that can be checked before anything is written (the model
// loads, its inputs can be synthesized, --dim names exist, arms resolve). InputError otherwise.
RunFacts prepare_soak(const SoakOptions& options, const std::vector<Arm>& arms);

// Called from the calling thread as each child ends; returns fields to add to the arm's
// "result" record in the trace (the application puts its verdict there), or an empty object.
using ArmEnded = std::function<nlohmann::json(const ArmRun&)>;

// soak --until-confident: asked as each child runs (from the calling thread, ten times a second
// at the default sampling rate) with the arm's name, its requests done and its records so far;
// true when the arm's verdict is settled. The child is then told to finish (SIGUSR1 to its pid:
// it ends phase infer as --duration would, unloads and exits 0) and is not asked again.
using ArmSettled = std::function<bool(const std::string& arm, std::int64_t requests,
                                      const ArmAccumulator& records)>;

// The parent: runs every arm (interleaved round by round with --repeat), streams trace.jsonl
// into options.out_dir (which must exist), calling `progress` and `on_arm_end` from the calling
// thread. Returns runs[arm][repeat]. `notes` collects degradations (a limit not applied, an
// allocator not preloaded). A trace write that fails is a WriteError naming the file and the OS
// reason; the run stops there.
std::vector<std::vector<ArmRun>> run_arms(const SoakOptions& options, const std::vector<Arm>& arms,
                                          const RunFacts& facts, std::vector<std::string>& notes,
                                          const std::function<void(const SoakProgress&)>& progress,
                                          const ArmEnded& on_arm_end,
                                          const ArmSettled& settled = {});

// One child of one arm, as run_arms runs each (spawned in a memory cgroup of its own under
// options.memory_limit_bytes, sampled from outside, its records streamed into `trace`), for
// commands that drive the worker themselves: replay restarts a policy's child after an OOM kill.
// `out_dir` holds the spec file while the child runs.
ArmRun run_arm_child(WorkerSpec spec, const std::string& out_dir, trace::FileWriter& trace,
                     std::vector<std::string>& notes,
                     const std::function<void(const SoakProgress&)>& progress,
                     const ArmEnded& on_arm_end);

// Set by a SIGINT/SIGTERM handler: run_arms stops the running child and returns what is known.
void request_soak_stop();
bool soak_stop_requested();

}  // namespace infermem
