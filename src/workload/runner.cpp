// The parent side of soak: plan, spawn one worker per arm, watch it from outside, collect.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "infermem/atomic_file.h"
#include "infermem/cgroup_limit.h"
#include "infermem/error.h"
#include "infermem/host.h"
#include "infermem/probe.h"
#include "infermem/process_exit.h"
#include "infermem/soak.h"
#include "infermem/spawn.h"
#include "infermem/trace.h"
#include "infermem/units.h"
#include "infermem/version.h"
#include "workload/ort_env.h"
#include "workload/ort_versions.h"
#include "workload/settle_signal.h"
#include "workload/sha256.h"

extern char** environ;

namespace infermem {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};

double mono_ms() {
  return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
}

#if defined(INFERMEM_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// The child's environment: the parent's plus the arm's process knobs.
std::vector<std::string> child_environment(const Arm& arm, std::vector<std::string>& notes) {
  std::vector<std::string> env;
  std::string preload, tunables, asan;
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    if (kv.rfind("LD_PRELOAD=", 0) == 0)
      preload = kv.substr(11);
    else if (kv.rfind("ASAN_OPTIONS=", 0) == 0)
      asan = kv.substr(13);
    else if (kv.rfind("GLIBC_TUNABLES=", 0) == 0)
      tunables = kv.substr(15);
    else if (kv.rfind("MALLOC_ARENA_MAX=", 0) != 0)
      env.push_back(kv);
  }
  std::string lib = allocator_library(arm.knob("allocator"));
  if (!lib.empty()) {
    if (kSanitized)
      notes.push_back(
          fmt::format("arm {}: allocator={} not preloaded: this infermem is a "
                      "sanitizer build, whose runtime must own malloc",
                      arm.name, arm.knob("allocator")));
    else
      preload = preload.empty() ? lib : lib + ":" + preload;
  }
  if (!preload.empty()) env.push_back("LD_PRELOAD=" + preload);
  for (const char* key : kGlibcMallocKnobs)
    if (kSanitized && arm.knob(key) != "default" && !arm.knob(key).empty())
      notes.push_back(fmt::format(
          "arm {}: {}={} not applied: this infermem is a sanitizer build, whose runtime owns "
          "malloc",
          arm.name, key, arm.knob(key)));
  add_ort_library_path(arm, env);
  if (arm.knob("malloc_arena_max") != "default")
    env.push_back("MALLOC_ARENA_MAX=" + arm.knob("malloc_arena_max"));
  auto add_tunable = [&tunables](const std::string& t) {
    tunables = tunables.empty() ? t : tunables + ":" + t;
  };
  if (arm.knob("mmap_threshold") != "default")
    add_tunable(fmt::format("glibc.malloc.mmap_threshold={}",
                            parse_size(arm.knob("mmap_threshold"), "mmap_threshold")));
  if (arm.knob("malloc_tcache") == "off") add_tunable("glibc.malloc.tcache_count=0");
  if (!tunables.empty()) env.push_back("GLIBC_TUNABLES=" + tunables);
  if (kSanitized) {
    // ASan's quarantine keeps every freed block resident (up to 256 MiB), which reads as a leak
    // and lifts RSS after unload above the inference peak. A sanitizer-built worker still checks
    // our code for overflows and leaks, but frees memory as the real allocator would.
    std::string q = "quarantine_size_mb=0:thread_local_quarantine_size_kb=0";
    asan = asan.empty() ? q : asan + ":" + q;
  }
  if (!asan.empty()) env.push_back("ASAN_OPTIONS=" + asan);
  return env;
}

// Shared between the thread that reads the child's pipe and the sampling loop.
struct LiveArm {
  ArmAccumulator records;  // compact: what the figures and the verdict need
  std::mutex mu;
  trace::Named<trace::Phase> phase;  // the child's current phase, for outside samples
  std::int64_t req = 0;
};

ArmRun run_arm(WorkerSpec spec, const std::string& out_dir, trace::FileWriter& trace_file,
               std::vector<std::string>& notes,
               const std::function<void(const SoakProgress&)>& report_progress,
               const ArmEnded& on_arm_end, const ArmSettled& settled) {
  const Arm& arm = spec.arm;
  auto progress = [&](const std::string& line) { report_progress(SoakProgress{arm.name, line}); };
  ArmRun result;
  result.name = arm.name;
  result.config = arm.knobs;

  std::string why;
  std::optional<MemoryCgroup> cgroup =
      spec.options.memory_limit_bytes > 0
          ? MemoryCgroup::create(fmt::format("infermem-{}-{}", getpid(), arm.name),
                                 spec.options.memory_limit_bytes, &why)
          : std::nullopt;
  if (spec.options.memory_limit_bytes > 0 && !cgroup) {
    std::string note = fmt::format(
        "arm {}: --memory-limit not applied: {}; running without a limit", arm.name, why);
    notes.push_back(note);
    progress("warning: " + note);
  }
  spec.own_memory_cgroup = cgroup.has_value();
  std::string spec_path = fmt::format("{}/arm-{}.spec.json", out_dir, arm.name);
  write_file_atomic(spec_path, spec.to_json().dump(2));

  SpawnSpec child;
  child.env = child_environment(arm, notes);
  child.program = spec.options.worker_exe;
  child.argv = {"infermem", "worker", spec_path};
  if (!spec.options.worker_prefix.empty()) {
    std::error_code link_error;
    const std::string exe = child.program;
    std::string worker = exe == "/proc/self/exe" ? fs::read_symlink(exe, link_error).string() : exe;
    if (link_error) throw WorkloadError(fmt::format("{}: {}", exe, link_error.message()));
    child.argv = spec.options.worker_prefix;
    child.argv.insert(child.argv.end(), {worker, "worker", spec_path});
    child.program = child.argv.front();
  }
  child.cgroup_procs = cgroup ? cgroup->procs_file() : "";

  int log_fd = -1;
  if (!spec.options.worker_log.empty()) {
    log_fd =
        ::open(spec.options.worker_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
      throw WriteError(fmt::format("{}: {}", spec.options.worker_log, std::strerror(errno)));
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw WorkloadError("pipe: " + std::string(std::strerror(errno)));
  child.records_fd = fds[1];
  child.log_fd = log_fd;
  // An exec that fails is the arm's result (exit 127: "could not start"), not an input error.
  const pid_t pid = spawn_process(child).pid;
  ::close(fds[1]);
  if (log_fd >= 0) ::close(log_fd);
  result.pid = pid;
  // A record the parent writes about this child, on the run's clock.
  auto parent_record = [&](trace::RecordType type) {
    trace::Record r;
    r.type = type;
    r.t_ms = mono_ms() - spec.run_t0_ms;
    r.arm = arm.name;
    r.pid = pid;
    r.src = trace::Src::parent;
    return r;
  };
  progress(fmt::format("arm {}: started pid {}", arm.name, pid));

  LiveArm live;
  std::thread reader([&] {
    std::FILE* in = fdopen(fds[0], "r");
    trace::Reader rd(in);
    while (auto r = rd.next()) {
      r->arm = arm.name;
      trace_file.write(*r);
      std::lock_guard<std::mutex> lock(live.mu);
      if (r->type == trace::RecordType::phase) live.phase = r->phase;
      if (r->req >= 0) live.req = r->req;
      live.records.add(*r);
    }
    std::fclose(in);
  });

  // Outside sampling and waiting, in one loop: the data survives the child's death. Cgroup
  // figures only when the cgroup holds this child alone.
  const unsigned sources = probe::kStatus | (cgroup ? probe::kCgroup : 0u);
  const double period_ms = 1000.0 / std::max(1.0, spec.options.parent_sample_hz);
  const double started = mono_ms();
  int status = 0;
  bool timed_out = false, interrupted = false;
  double term_at_ms = 0;
  const std::int64_t total =
      spec.options.requests * (spec.options.scenario == Scenario::churn ? spec.options.cycles : 1);
  int ticks = 0;
  bool settle_sent = !settled;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (g_stop.load() && !interrupted) {
      interrupted = true;
      ::kill(-pid, SIGTERM);
    }
    double elapsed = mono_ms() - started;
    if (!timed_out && spec.options.arm_timeout_ms > 0 && elapsed > spec.options.arm_timeout_ms) {
      timed_out = true;
      ::kill(-pid, SIGKILL);
    }
    if (interrupted) {
      // Give the child two seconds after SIGTERM, then SIGKILL.
      if (term_at_ms == 0) term_at_ms = mono_ms();
      if (mono_ms() - term_at_ms > 2000) ::kill(-pid, SIGKILL);
    }
    try {
      probe::Reading reading = probe::read_process(pid, sources);
      trace::Record r = parent_record(trace::RecordType::sample);
      r.values = reading.values;
      {
        std::lock_guard<std::mutex> lock(live.mu);
        r.phase = live.phase;
        r.req = live.req;
      }
      trace_file.write(r);
      {
        std::lock_guard<std::mutex> lock(live.mu);
        live.records.add(r);
      }
      if (!settle_sent && !interrupted && !timed_out && ticks % 10 == 0) {
        std::lock_guard<std::mutex> lock(live.mu);
        if (settled(arm.name, live.req, live.records))
          settle_sent = ::kill(pid, kSettleSignal) == 0;
      }
      if (++ticks % 10 == 0)  // ten position updates a second at the default 100 Hz
        report_progress(SoakProgress{arm.name, "", r.req, total,
                                     r.value(Figure::rss_bytes).value_or(0),
                                     r.value(Figure::hwm_bytes).value_or(0)});
    } catch (const InputError&) {
      // The child is exiting: its /proc entry is going away. waitpid() tells the rest.
    }
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(period_ms));
  }
  // A timed-out or stopped arm is over for everything in its group: a grandchild left behind
  // would hold the record pipe open and the reader below would wait for it.
  if (timed_out || interrupted || g_stop.load()) ::kill(-pid, SIGKILL);
  reader.join();
  // Ctrl-C on a terminal reaches the child too (same process group): it may die of SIGINT
  // before this loop saw the flag. Either way the user stopped it.
  interrupted = interrupted || g_stop.load();
  result.records = std::move(live.records);
  ProcessEnd child_end;
  child_end.wait_status = status;
  child_end.stop = timed_out ? Stop::timeout : interrupted ? Stop::interrupted : Stop::none;
  child_end.report = self_report_of(result.records);
  child_end.at = std::to_string(live.req);
  child_end.oom_kills = cgroup ? cgroup->oom_kills().value_or(0) : 0;
  child_end.cgroup_version = cgroup ? cgroup->version() : 0;
  child_end.memory_limit_bytes = static_cast<double>(spec.options.memory_limit_bytes);
  child_end.last_rss_bytes = result.records.figures().last_rss_bytes;
  child_end.timeout_ms = spec.options.arm_timeout_ms;
  child_end.program = child.program;  // with --attribute, the wrapper (heaptrack) it runs under
  const ExitClass arm_end = classify_exit(child_end, worker_wording());
  result.status = arm_end.status;
  result.status_detail = arm_end.detail;

  trace::Record end = parent_record(trace::RecordType::arm);
  end.edge = trace::Edge::result;
  end.extra["status"] = std::string(name(result.status));
  end.extra["status_detail"] = result.status_detail;
  const nlohmann::json added = on_arm_end(result);  // named: items() would outlive a temporary
  for (const auto& [k, v] : added.items()) end.extra[k] = v;
  trace_file.write(end);
  std::error_code ec;
  fs::remove(spec_path, ec);
  trace_file.check();
  return result;
}

}  // namespace

ArmRun run_arm_child(WorkerSpec spec, const std::string& out_dir, trace::FileWriter& trace,
                     std::vector<std::string>& notes,
                     const std::function<void(const SoakProgress&)>& progress,
                     const ArmEnded& on_arm_end) {
  return run_arm(std::move(spec), out_dir, trace, notes, progress, on_arm_end, {});
}

namespace {

std::vector<std::string> make_variants(const std::string& model, int count,
                                       const std::string& dir) {
  std::vector<std::string> out;
  fs::create_directories(dir);
  for (int k = 0; k < count; ++k) {
    std::string p = fmt::format("{}/variant-{}.onnx", dir, k);
    std::error_code ec;
    fs::copy_file(model, p, fs::copy_options::overwrite_existing, ec);
    if (ec) throw InputError(fmt::format("cannot copy {} to {}: {}", model, p, ec.message()));
    out.push_back(p);
  }
  return out;
}

// What a shard records of its plan, for `infermem merge` to check that shards belong together:
// K/N, the plan's size and every arm as resolved, with the ONNX Runtime version it runs on.
nlohmann::json shard_plan(const SoakOptions& options, const std::vector<Arm>& arms) {
  const std::size_t cells = arms.size() * static_cast<std::size_t>(std::max(1, options.repeat));
  if (static_cast<std::size_t>(options.shard.n) > cells)
    throw InputError(fmt::format(
        "--shard {}: the plan has {} cell{} ({} arm{} x --repeat {}), fewer than {} shards; give "
        "N at most {}",
        options.shard.text(), cells, cells == 1 ? "" : "s", arms.size(),
        arms.size() == 1 ? "" : "s", options.repeat, options.shard.n, cells));
  nlohmann::json plan_arms = nlohmann::json::array();
  for (const auto& a : arms)
    plan_arms.push_back({{"name", a.name}, {"knobs", a.knobs}, {"ort_version", check_ort_arm(a)}});
  return {{"k", options.shard.k},
          {"n", options.shard.n},
          {"cells", cells},
          {"arms", plan_arms},
          {"inject_leak_bytes", options.inject_leak_bytes},
          {"inject_peak_bytes", options.inject_peak_bytes},
          {"inject_retained_bytes", options.inject_retained_bytes}};
}

}  // namespace

void request_soak_stop() {
  g_stop.store(true);
}
bool soak_stop_requested() {
  return g_stop.load();
}

RunFacts prepare_soak(const SoakOptions& options, const std::vector<Arm>& arms) {
  // Everything that can be wrong with the input is found before anything is written.
  RunFacts facts;
  facts.inputs = plan_inputs(options.model_path);
  facts.dims = resolve_dims(facts.inputs, options.scenario, options.dim_overrides);
  check_user_inputs(facts.inputs, options);
  check_request_shapes(facts.dims, options);
  check_feed(facts.inputs, options);
  for (const auto& a : arms) allocator_library(a.knob("allocator"));
  for (const auto& a : arms) check_ort_arm(a);

  facts.tool_version = INFERMEM_VERSION;
  facts.ort_version = ort_version();
  facts.model_path = options.model_path;
  facts.model_sha256 = sha256_file(options.model_path);
  facts.host = host_name();
  facts.started_at = utc_now();
  facts.options = {{"requests", options.requests},
                   {"duration_ms", options.duration_ms},
                   {"cycles", options.cycles},
                   {"threads", options.threads},
                   {"inject_leak_bytes", options.inject_leak_bytes},
                   {"inject_peak_bytes", options.inject_peak_bytes},
                   {"inject_retained_bytes", options.inject_retained_bytes},
                   {"inject_fragmentation_bytes", options.inject_fragmentation_bytes},
                   {"models", options.models},
                   {"cache", name(options.cache)},
                   {"memory_limit_bytes", options.memory_limit_bytes},
                   {"warm_requests", options.warm_requests},
                   {"repeat", options.repeat},
                   {"parent_sample_hz", options.parent_sample_hz},
                   {"child_sample_hz", options.child_sample_hz},
                   {"command_line", options.command_line}};
  if (!options.inputs_path.empty()) {
    facts.options["inputs"] = options.inputs_path;
    facts.options["inputs_order"] = options.inputs_order;
  }
  if (!options.input_constants.empty()) facts.options["input"] = options.input_constants;
  if (options.record_outputs) facts.options["record_outputs"] = true;
  facts.options["concurrency"] = options.concurrency;
  if (options.rate_rps > 0) facts.options["rate_rps"] = options.rate_rps;
  if (options.idle_ms > 0) {
    facts.options["idle_ms"] = options.idle_ms;
    facts.options["idle_every"] = options.idle_every;
  }
  if (!options.shapes.empty()) facts.options["shapes"] = options.shapes;
  if (options.shapes == "spike") facts.options["spike_every"] = options.spike_every;
  if (!options.feed.empty()) {
    facts.options["feed"] = options.feed;
    facts.options["streams"] = options.streams;
    facts.options["stream_length"] = options.stream_length;
  }
  // Every dynamic dimension as it was resolved (defaults, or --dim): [lo, hi, step].
  nlohmann::json dims_json = nlohmann::json::object();
  for (const auto& [key, range] : facts.dims) dims_json[key] = {range.lo, range.hi, range.step};
  facts.options["dims"] = dims_json;
  if (options.shard.sharded()) facts.options["shard"] = shard_plan(options, arms);
  return facts;
}

std::vector<std::vector<ArmRun>> run_arms(const SoakOptions& options, const std::vector<Arm>& arms,
                                          const RunFacts& facts, std::vector<std::string>& notes,
                                          const std::function<void(const SoakProgress&)>& progress,
                                          const ArmEnded& on_arm_end, const ArmSettled& settled) {
  trace::FileWriter trace_file(options.out_dir + "/trace.jsonl");
  const double t0 = mono_ms();
  {
    trace::Record h;
    h.type = trace::RecordType::header;
    h.extra = {{"tool", "infermem"},
               {"tool_version", facts.tool_version},
               {"ort_version", facts.ort_version},
               {"command", "soak"},
               {"model", facts.model_path},
               {"model_sha256", facts.model_sha256},
               {"scenario", std::string(name(options.scenario))},
               {"seed", options.seed},
               {"inject_leak_bytes", options.inject_leak_bytes},
               {"host", facts.host},
               {"started_at", facts.started_at}};
    if (facts.options.contains("shard")) h.extra["shard"] = facts.options["shard"];
    trace_file.write(h);
    trace_file.check();
  }
  std::vector<std::string> variants;
  if (options.scenario == Scenario::cache)
    variants = make_variants(options.model_path, options.models, options.out_dir + "/models");

  // Arms run interleaved, round by round: drift on a shared machine hits every arm alike.
  const int repeat = std::max(1, options.repeat);
  std::vector<std::vector<ArmRun>> runs(arms.size());
  for (int round = 0; round < repeat && !g_stop.load(); ++round) {
    for (std::size_t i = 0; i < arms.size() && !g_stop.load(); ++i) {
      if (!options.shard.runs(static_cast<std::size_t>(round) * arms.size() + i)) continue;
      WorkerSpec spec;
      spec.options = options;
      spec.arm = arms[i];
      if (repeat > 1) spec.arm.name = fmt::format("{}#{}", arms[i].name, round + 1);
      if (options.threads > 0) spec.arm.knobs["intra"] = std::to_string(options.threads);
      spec.inputs = facts.inputs;
      spec.dims = facts.dims;
      spec.model_variants = variants;
      spec.run_t0_ms = t0;
      runs[i].push_back(run_arm(std::move(spec), options.out_dir, trace_file, notes, progress,
                                on_arm_end, settled));
    }
  }
  trace_file.check(/*sync=*/true);  // a full disk shows at fsync under delayed allocation
  std::error_code ec;
  if (!variants.empty()) fs::remove_all(options.out_dir + "/models", ec);
  return runs;
}

}  // namespace infermem
