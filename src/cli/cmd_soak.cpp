// infermem soak MODEL.onnx: the main job. Parses flags, runs the arms, renders the table.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "cli/gate_flags.h"
#include "cli/out_dir.h"
#include "cli/run_flags.h"
#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/input_file.h"
#include "infermem/render.h"
#include "infermem/soak.h"
#include "infermem/soak_app.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct SoakFlags {
  std::string model;
  std::string scenario = "mixed";
  std::string arms = "ort-default,no-arena,no-arena-trim,jemalloc,lean";
  std::vector<std::string> custom_arms;
  // Numbers are taken as text and parsed by validated_soak() with their ranges (CLI11's own
  // conversions print a raw range or "stoul" instead of naming the flag).
  std::string requests = "200";
  std::string duration;
  std::string cycles = "3";
  std::string repeat = "1";
  std::string seed = "1";
  std::string shard;
  std::vector<std::string> dims;
  std::string threads;
  std::string inject_leak, inject_peak, inject_retained, inject_fragmentation;
  bool attribute = false;
  std::string models = "4";
  std::string cache = "lru:2";
  std::string memory_limit;
  std::string timeout;
  std::string out;
  bool force = false;
  GateFlags gate;
  std::string inputs, inputs_order = "order";
  std::vector<std::string> input_constants;
  bool record_outputs = false;
  std::string concurrency = "1", rate, idle, idle_every = "50", shapes, spike_every = "50";
  std::vector<std::string> feed;
  std::string streams = "1", stream_length = "0";
  // --until-confident and its caps (parse_until_confident).
  bool until_confident = false, requests_given = false;
  std::string max_requests, max_time, detect;
};

// --- input checks: everything a soak is given is checked here, before any child starts and
// before anything is written; the last step creates the run directory. ------------------------

constexpr std::uint64_t kMaxRequests = 1'000'000'000;
constexpr std::uint64_t kMaxCycles = 1'000'000;
constexpr std::uint64_t kMaxRepeat = 100;
constexpr std::uint64_t kMaxModels = 1000;
constexpr double kMaxDurationMs = 30.0 * 24 * 3600 * 1000;  // 30 days
double parse_duration_flag(const std::string& text, const char* flag) {
  double ms = parse_duration_ms(text, flag);
  if (!(ms > 0) || ms > kMaxDurationMs)
    throw InputError(
        fmt::format("{}: '{}' is out of range: give a duration above 0 and at most "
                    "30 days (e.g. 90s, 10m, 2h)",
                    flag, text));
  return ms;
}

// --inputs, --inputs-order, --input NAME=VALUE, --record-outputs (checked against the model by
// check_user_inputs).
void apply_input_flags(const SoakFlags& f, SoakOptions& o) {
  if (!f.inputs.empty()) {
    std::error_code ec;
    o.inputs_path = std::filesystem::absolute(f.inputs, ec).string();
    if (ec) o.inputs_path = f.inputs;
  }
  o.inputs_order = f.inputs_order;
  for (const auto& c : f.input_constants) {
    auto eq = c.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--input {}: expected NAME=VALUE (e.g. --input sr=16000)", c));
    if (!o.input_constants.emplace(c.substr(0, eq), c.substr(eq + 1)).second)
      throw InputError(
          fmt::format("--input {}: '{}' is given twice; give each input once", c, c.substr(0, eq)));
  }
  o.record_outputs = f.record_outputs;
}

// --concurrency, --rate, --idle, --idle-every, --shapes, --spike-every.
void apply_pacing_flags(const SoakFlags& f, SoakOptions& o) {
  o.concurrency = static_cast<int>(parse_count(f.concurrency, "--concurrency", 1, 256));
  if (!f.rate.empty()) {
    char* end = nullptr;
    o.rate_rps = std::strtod(f.rate.c_str(), &end);
    if (*end != '\0' || !(o.rate_rps > 0) || o.rate_rps > 1e6)
      throw InputError(fmt::format(
          "--rate: '{}' is not a rate: give requests per second above 0 and at most 1000000",
          f.rate));
  }
  if (!f.idle.empty()) o.idle_ms = parse_duration_flag(f.idle, "--idle");
  o.idle_every =
      static_cast<std::int64_t>(parse_count(f.idle_every, "--idle-every", 1, kMaxRequests));
  o.spike_every =
      static_cast<std::int64_t>(parse_count(f.spike_every, "--spike-every", 2, kMaxRequests));
  o.shapes = f.shapes;
  if (o.shapes == "spike" && o.scenario == Scenario::steady)
    throw InputError(
        "--shapes spike: the steady scenario has one shape; spikes need the ranges of "
        "--scenario mixed (or --dim NAME=LO..HI)");
  for (const auto& pair : f.feed) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
      throw InputError(
          fmt::format("--feed {}: expected OUTPUT=INPUT (e.g. --feed state_out=state)", pair));
    if (!o.feed.emplace(pair.substr(0, eq), pair.substr(eq + 1)).second)
      throw InputError(
          fmt::format("--feed {}: output '{}' is fed twice", pair, pair.substr(0, eq)));
  }
  o.streams = static_cast<std::int64_t>(parse_count(f.streams, "--streams", 1, 1'000'000));
  o.stream_length =
      static_cast<std::int64_t>(parse_count(f.stream_length, "--stream-length", 0, kMaxRequests));
  if (!o.feed.empty() && o.concurrency > 1)
    throw InputError(
        "--feed with --concurrency above 1 is not supported yet: a stream's requests run in order, "
        "one at a time");
  if (!o.shapes.empty() && o.shapes != "spike") {
    std::error_code ec;
    const std::string abs = std::filesystem::absolute(o.shapes, ec).string();
    if (!ec) o.shapes = abs;
  }
}

// --until-confident: the caps become the arm's requests and duration; the rule's own checks
// (a cap, a --detect the cap can resolve) are check_until_confident's, in plan_soak.
void parse_until_confident(const SoakFlags& f, SoakOptions& o) {
  if (!f.until_confident) {
    for (const auto& [flag, value] :
         {std::pair{"--max-requests", &f.max_requests}, std::pair{"--max-time", &f.max_time},
          std::pair{"--detect", &f.detect}})
      if (!value->empty())
        throw InputError(fmt::format("{} applies with --until-confident only", flag));
    return;
  }
  if (f.requests_given || !f.duration.empty())
    throw InputError(
        "--until-confident: give its caps as --max-requests and --max-time, not --requests or "
        "--duration");
  o.until_confident = true;
  o.request_cap = !f.max_requests.empty();
  o.requests = o.request_cap ? static_cast<std::int64_t>(
                                   parse_count(f.max_requests, "--max-requests", 1, kMaxRequests))
                             : static_cast<std::int64_t>(kMaxRequests);
  o.duration_ms = f.max_time.empty() ? 0 : parse_duration_flag(f.max_time, "--max-time");
  if (!f.detect.empty())
    o.detect_bytes_per_request = static_cast<double>(parse_size(f.detect, "--detect"));
}

struct ValidatedSoak {
  SoakOptions options;
  std::vector<Arm> arms;
  GateConfig gate;
  RunFacts facts;
};

ValidatedSoak validated_soak(const SoakFlags& f) {
  ValidatedSoak v;
  SoakOptions& o = v.options;
  o.model_path = f.model;
  o.scenario = parse_scenario(f.scenario);
  o.requests = static_cast<std::int64_t>(parse_count(f.requests, "--requests", 1, kMaxRequests));
  if (!f.duration.empty()) o.duration_ms = parse_duration_flag(f.duration, "--duration");
  parse_until_confident(f, o);
  o.cycles = static_cast<int>(parse_count(f.cycles, "--cycles", 1, kMaxCycles));
  o.repeat = static_cast<int>(parse_count(f.repeat, "--repeat", 1, kMaxRepeat));
  o.seed = parse_count(f.seed, "--seed", 0, UINT64_MAX);
  o.attribute = f.attribute;
  if (!f.shard.empty()) o.shard = parse_shard(f.shard);
  if (o.shard.sharded() && o.attribute)
    throw InputError(
        "--attribute with --shard: a shard sees only its own arms; attribute the merged run's "
        "worst arm with a soak of that arm alone");
  o.command_line = invoked_command_line();
  for (const auto& d : f.dims) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--dim {}: expected NAME=LO..HI", d));
    if (!o.dim_overrides.emplace(d.substr(0, eq), d.substr(eq + 1)).second)
      throw InputError(fmt::format("--dim {}: '{}' is given twice; give each dimension once", d,
                                   d.substr(0, eq)));
  }
  if (!f.threads.empty())
    o.threads = static_cast<int>(
        parse_count(f.threads, "--threads", 0, static_cast<std::uint64_t>(max_thread_count())));
  if (!f.inject_leak.empty()) o.inject_leak_bytes = parse_size(f.inject_leak, "--inject-leak");
  if (!f.inject_peak.empty()) o.inject_peak_bytes = parse_size(f.inject_peak, "--inject-peak");
  if (!f.inject_retained.empty())
    o.inject_retained_bytes = parse_size(f.inject_retained, "--inject-retained");
  if (!f.inject_fragmentation.empty())
    o.inject_fragmentation_bytes = parse_size(f.inject_fragmentation, "--inject-fragmentation");
  o.models = static_cast<int>(parse_count(f.models, "--models", 1, kMaxModels));
  o.cache = parse_cache_policy(f.cache);
  if (!f.memory_limit.empty()) o.memory_limit_bytes = parse_memory_limit(f.memory_limit);
  if (!f.timeout.empty()) o.arm_timeout_ms = parse_duration_flag(f.timeout, "--timeout");
  v.arms = resolve_arms(f.arms, f.custom_arms);
  if (o.scenario != Scenario::cache)
    for (const auto& a : v.arms)
      if (a.knob("cache") != "default")
        throw InputError(fmt::format("arm '{}': cache={} applies to --scenario cache only", a.name,
                                     a.knob("cache")));
  for (const auto& a : v.arms) {
    allocator_library(a.knob("allocator"));
    check_ort_arm(a);
  }
  v.gate = gate_from(f.gate);
  for (const auto& entry : v.gate.per_arm) {
    const std::string& arm = entry.first;
    if (std::none_of(v.arms.begin(), v.arms.end(), [&](const Arm& a) { return a.name == arm; }))
      throw InputError(fmt::format("--config {}: [arms.{}] names no arm of this run (arms: {})",
                                   f.gate.config, arm, f.arms));
  }

  apply_input_flags(f, o);
  apply_pacing_flags(f, o);
  // The model-dependent checks (it loads, the user's inputs and shapes match it, its inputs fit
  // in memory and under the limit) are the app's; the run directory is created only once they
  // passed.
  v.facts = plan_soak(o, v.arms);
  o.out_dir = create_out_dir(f.out, f.force, default_out_dir()).path;
  return v;
}

int run(const SoakFlags& f) {
  auto [o, arms, gate, facts] = validated_soak(f);

  install_stop_handlers();

  fmt::print(stderr, "infermem soak: {} ({} scenario, {} arm{}), output in {}\n", f.model,
             f.scenario, arms.size(), arms.size() == 1 ? "" : "s", o.out_dir);
  RunSummary s = run_soak(o, facts, arms, gate, ProgressPrinter(isatty(STDERR_FILENO) == 1));
  fmt::print("\n{}", render(s, Format::terminal));
  for (const auto& n : s.notes) fmt::print("note: {}\n", n);
  fmt::print(
      "\nreport: {0}/report.md, {0}/report.html, summary: {0}/summary.json, trace: "
      "{0}/trace.jsonl\n",
      o.out_dir);
  std::vector<std::string> problems;
  const int code = soak_exit_code(s, problems);
  for (const auto& p : problems) fmt::print(stderr, "infermem: {}\n", p);
  return code;
}

// The model, the scenario, the arms and how long and how often they run.
void add_run_flags(CLI::App* sub, const std::shared_ptr<SoakFlags>& f) {
  sub->add_option("model", f->model, "The .onnx model")->required();
  sub->add_option("--scenario", f->scenario, "steady|mixed|churn|cache")
      ->check(CLI::IsMember({"steady", "mixed", "churn", "cache"}))
      ->capture_default_str();
  std::string builtins;
  for (const auto& n : builtin_arm_names()) builtins += (builtins.empty() ? "" : ", ") + n;
  sub->add_option("--arms", f->arms, "Comma-separated built-in arms: " + builtins)
      ->capture_default_str();
  std::string keys;
  for (const auto& k : knob_specs()) keys += (keys.empty() ? "" : ", ") + k.key;
  sub->add_option("--arm", f->custom_arms, "A custom arm 'NAME:key=value,...'; keys: " + keys);
  sub->add_option("--requests", f->requests,
                  fmt::format("Inferences per arm (per cycle for churn), 1..{}", kMaxRequests))
      ->capture_default_str()
      ->each([f](const std::string&) { f->requests_given = true; });
  sub->add_option("--duration", f->duration,
                  "Also stop an arm's inference after this long (e.g. 2m)");
  sub->add_flag("--until-confident", f->until_confident,
                "Run each arm until its verdict is settled (a leak rate known to +-25%, or stable "
                "with no leak of --detect missed), or a cap; a sequential test (docs/soak.md)");
  sub->add_option("--max-requests", f->max_requests,
                  "--until-confident: the most requests an arm runs");
  sub->add_option("--max-time", f->max_time,
                  "--until-confident: the longest an arm infers (e.g. 5m)");
  sub->add_option("--detect", f->detect,
                  "--until-confident: stable settles when a leak this large per request would "
                  "have been seen (default 1KiB)");
  sub->add_option("--cycles", f->cycles,
                  fmt::format("churn: load/infer/unload cycles, 1..{}", kMaxCycles))
      ->capture_default_str();
  sub->add_option("--repeat", f->repeat,
                  "Run every arm this many times, interleaved, each in a fresh process; report "
                  "medians and the spread (1..100)")
      ->capture_default_str();
  sub->add_option("--seed", f->seed, "Seed for inputs, shapes and request streams")
      ->capture_default_str();
  sub->add_option("--shard", f->shard,
                  "Run only the K-th of N slices (K 1-based) of the arm x repeat cells; join the "
                  "shards' run directories with `infermem merge`");
  sub->add_option("--dim", f->dims, "Bounds of a dynamic dimension, NAME=LO..HI");
  sub->add_option("--threads", f->threads,
                  fmt::format("Intra-op threads for every arm, 0..{} (default: the arm's)",
                              max_thread_count()));
}

// What the requests carry and how they arrive: tensors, concurrency, rate, idle, shapes, feeds.
void add_input_flags(CLI::App* sub, const std::shared_ptr<SoakFlags>& f) {
  sub->add_option("--inputs", f->inputs,
                  "Your own tensors: an ONNX test data set folder (test_data_set_N/input_K.pb), "
                  ".pb, .npy or .npz files, or a folder of them; requests cycle through them");
  sub->add_option("--inputs-order", f->inputs_order, "order|random (seeded by --seed)")
      ->check(CLI::IsMember({"order", "random"}))
      ->capture_default_str();
  sub->add_option("--input", f->input_constants,
                  "A constant fill for one input, NAME=VALUE (e.g. a sample rate)");
  sub->add_flag("--record-outputs", f->record_outputs,
                "Record a digest (FNV-1a) of every output of every request in the trace");
  sub->add_option("--concurrency", f->concurrency,
                  "Threads calling Run() on one shared session at once, as a server does (1..256)")
      ->capture_default_str();
  sub->add_option("--rate", f->rate,
                  "Open loop: requests arrive at this many per second (seeded Poisson)");
  sub->add_option("--idle", f->idle,
                  "An idle gap of this long (e.g. 2s) every --idle-every requests; memory is "
                  "sampled during it and trim=on arms trim at its start");
  sub->add_option("--idle-every", f->idle_every, "Requests between idle gaps")
      ->capture_default_str();
  sub->add_option("--shapes", f->shapes,
                  "spike: the smallest shapes with the largest every --spike-every requests; or "
                  "a FILE of shapes, one request a line (batch=2 sequence=96)");
  sub->add_option("--spike-every", f->spike_every, "--shapes spike: K")->capture_default_str();
  sub->add_option("--feed", f->feed,
                  "Carry an output into the next request's input, OUTPUT=INPUT (recurrent state)");
  sub->add_option("--streams", f->streams,
                  "--feed: independent streams, request n to stream n mod N")
      ->capture_default_str();
  sub->add_option("--stream-length", f->stream_length,
                  "--feed: a stream starts afresh after this many requests (0: never)")
      ->capture_default_str();
}

// Injections that calibrate the verdicts, and attribution under heaptrack.
void add_calibration_flags(CLI::App* sub, const std::shared_ptr<SoakFlags>& f) {
  sub->add_option("--inject-leak", f->inject_leak,
                  "Leak this much per inference in the child, on purpose");
  sub->add_option("--inject-peak", f->inject_peak,
                  "Calibration (docs/diff.md): hold this much more through phase infer, freed "
                  "before unload");
  sub->add_option("--inject-retained", f->inject_retained,
                  "Calibration (docs/diff.md): keep this much more from phase unload on");
  sub->add_option("--inject-fragmentation", f->inject_fragmentation,
                  "Calibration (docs/verdicts.md): per inference leave this much heap free in "
                  "holes between pinned 64-byte blocks, 1KiB..1MiB");
  sub->add_flag("--attribute", f->attribute,
                "Re-run the arm with the worst verdict under heaptrack over the same requests and "
                "report its top allocation sites");
}

// The cache scenario, the memory limit, the timeout and where the run goes.
void add_cache_limit_and_output_flags(CLI::App* sub, const std::shared_ptr<SoakFlags>& f) {
  sub->add_option("--models", f->models, "cache: model variants on disk, 1..1000")
      ->capture_default_str();
  sub->add_option("--cache", f->cache,
                  "cache: lru:COUNT (functools.lru_cache) or budget:SIZE (ModelCache)")
      ->capture_default_str();
  sub->add_option("--memory-limit", f->memory_limit,
                  fmt::format("Run every child in a memory cgroup with this limit (at least {}; "
                              "'none' for no limit)",
                              format_bytes(static_cast<double>(kMinMemoryLimitBytes))));
  sub->add_option("--timeout", f->timeout, "Kill an arm's child after this long");
  sub->add_option("--out", f->out,
                  "Output directory, new or empty (default infermem-runs/<timestamp>)");
  sub->add_flag("--force", f->force,
                "Write into a non-empty --out directory, replacing its run's files");
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<SoakFlags>();
  auto* sub = app.add_subcommand(
      "soak",
      "Run a real ONNX model under a scenario and configuration arms, each in a fresh "
      "process, and report what memory did");
  add_run_flags(sub, f);
  add_input_flags(sub, f);
  add_calibration_flags(sub, f);
  add_cache_limit_and_output_flags(sub, f);
  add_gate_flags(*sub, f->gate);
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"soak", 10, attach}};

}  // namespace
}  // namespace infermem::cli
