// The child: one arm of a soak, in a fresh process. Streams phase marks, per-request records
// and in-process readings to the parent over a pipe, in the trace format.
#include <dlfcn.h>
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <list>
#include <memory>
#include <random>
#include <unordered_map>

#include "infermem/error.h"
#include "infermem/probe.h"
#include "infermem/sampler.h"
#include "infermem/soak.h"
#include "infermem/trace.h"
#include "workload/inputs.h"
#include "workload/ort_env.h"
#include "workload/session.h"

namespace infermem {
namespace {

using Clock = std::chrono::steady_clock;

// Memory the child leaks on purpose (--inject-leak). Reachable from this list, so the tool's
// own LeakSanitizer runs stay clean while RSS grows exactly as a real leak would.
std::vector<std::unique_ptr<char[]>>& injected_leaks() {
  static auto* blocks = new std::vector<std::unique_ptr<char[]>>();
  return *blocks;
}

void inject_leak(std::uint64_t bytes) {
  if (bytes == 0) return;
  auto block = std::make_unique<char[]>(bytes);
  std::memset(block.get(), 0x5a, bytes);  // touched: resident, as a real leak would be
  injected_leaks().push_back(std::move(block));
}

// Gives memory back to the OS after unload: glibc's malloc_trim, or jemalloc's purge.
std::string trim_allocator() {
  using mallctl_t = int (*)(const char*, void*, size_t*, void*, size_t);
  if (auto mallctl = reinterpret_cast<mallctl_t>(dlsym(RTLD_DEFAULT, "mallctl"))) {
    // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
    if (mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0) == 0) return "jemalloc purge";
  }
  malloc_trim(0);
  return "malloc_trim(0)";
}

#if defined(INFERMEM_SANITIZED)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// An allocator arm must run on that allocator: the preload can fail to take (library missing,
// empty, ignored by the loader) and glibc would serve every malloc silently. Each allocator is
// recognised by an entry point of its own. A sanitizer build never preloads (its runtime owns
// malloc; the parent notes it), so there is nothing to verify there.
void verify_allocator(const Arm& arm) {
  const std::string wanted = arm.knob("allocator");
  if (kSanitized || wanted == "glibc" || wanted == "default" || wanted.empty()) return;
  const char* symbol = wanted == "jemalloc"   ? "mallctl"
                       : wanted == "mimalloc" ? "mi_version"
                       : wanted == "tcmalloc" ? "tc_version"
                                              : nullptr;
  if (!symbol) return;
  if (!dlsym(RTLD_DEFAULT, symbol))
    throw WorkloadError(fmt::format(
        "arm {}: allocator={} requested, but this process runs on glibc malloc ({} not found): "
        "the preload of {} did not take",
        arm.name, wanted, symbol, allocator_library(wanted)));
}

class Worker {
 public:
  Worker(const WorkerSpec& spec, int fd)
      : spec_(spec),
        out_(fd),
        sampler_(probe::SamplerOptions{0, spec.options.child_sample_hz, probe::kStatus, 64, {}}) {}

  int run() {
    // Test hook (tests/e2e): INFERMEM_TEST_CRASH_ARM=NAME and INFERMEM_TEST_CRASH_AT_REQUEST=N
    // make that arm's child abort after request N, to check that soak reports a crashed child.
    const char* crash_arm = std::getenv("INFERMEM_TEST_CRASH_ARM");
    const char* crash_at = std::getenv("INFERMEM_TEST_CRASH_AT_REQUEST");
    if (crash_arm && crash_at && spec_.arm.name == crash_arm) crash_at_ = std::atoll(crash_at);
    // INFERMEM_TEST_FAIL_AT_REQUEST=N: that arm's Run() N+1 fails as ORT fails on a bad input.
    const char* fail_at = std::getenv("INFERMEM_TEST_FAIL_AT_REQUEST");
    if (crash_arm && fail_at && spec_.arm.name == crash_arm) fail_at_ = std::atoll(fail_at);
    emit_arm_begin();
    verify_allocator(spec_.arm);
    sampler_.start();
    begin_phase("baseline");
    ort_env();  // runtime initialised, no session
    end_phase();
    switch (spec_.options.scenario) {
      case Scenario::churn:
        run_churn();
        break;
      case Scenario::cache:
        run_cache();
        break;
      case Scenario::steady:
      case Scenario::mixed:
        run_single();
        break;
    }
    if (spec_.arm.on("trim")) {
      begin_phase("trim");
      std::string how = trim_allocator();
      end_phase({{"method", how}});
    }
    sampler_.stop();
    trace::Record r = record(trace::kArm);
    r.extra["edge"] = "end";
    r.extra["status"] = "ok";
    out_.write(r);
    return 0;
  }

 private:
  double now_ms() const {
    // steady_clock is CLOCK_MONOTONIC, shared by parent and child: times are on the run's clock.
    return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count() -
           spec_.run_t0_ms;
  }

  trace::Record record(std::string_view type) {
    trace::Record r;
    r.type = std::string(type);
    r.t_ms = now_ms();
    r.pid = getpid();
    r.phase = phase_;
    r.req = req_;
    r.src = "child";
    if (cycle_ >= 0) r.values["cycle"] = cycle_;
    return r;
  }

  void emit_arm_begin() {
    trace::Record r = record(trace::kArm);
    r.extra["edge"] = "begin";
    r.extra["config"] = spec_.arm.knobs;
    r.extra["ort_version"] = ort_version();
    out_.write(r);
  }

  void begin_phase(const std::string& name) {
    phase_ = name;
    auto reset = probe::reset_peaks(getpid());
    hwm_reset_ = reset.vm_hwm;
    sampler_.begin_scope();
    phase_start_ms_ = now_ms();
    trace::Record r = record(trace::kPhase);
    r.extra["edge"] = "begin";
    r.extra["hwm_reset"] = hwm_reset_;
    out_.write(r);
  }

  void end_phase(const nlohmann::json& extra = nlohmann::json::object()) {
    probe::Reading peak = sampler_.end_scope();
    // Cgroup figures only when the cgroup holds this child alone; otherwise they would be the
    // enclosing container's, recorded as if they were the arm's.
    const unsigned sources = spec_.own_memory_cgroup ? probe::kAll : probe::kAll & ~probe::kCgroup;
    probe::Reading now = probe::read_self(sources);
    trace::Record r = record(trace::kPhase);
    // The reading's figures beside the record's own (a churn cycle's `cycle` stays).
    r.values.insert(now.values.begin(), now.values.end());
    if (auto p = peak.get("rss_bytes")) r.values["peak_sampled_rss_bytes"] = *p;
    if (hwm_reset_)
      if (auto h = now.get("hwm_bytes")) r.values["peak_hwm_since_reset_bytes"] = *h;
    if (session_)
      for (const auto& [k, v] : session_->arena_stats()) r.values[k] = v;
    r.values["duration_ms"] = now_ms() - phase_start_ms_;
    r.extra["edge"] = "end";
    r.extra["sampler_hz"] = spec_.options.child_sample_hz;
    r.extra["samples_count"] = static_cast<double>(sampler_.samples_taken());
    for (const auto& [k, v] : extra.items()) r.extra[k] = v;
    out_.write(r);
  }

  void load(const std::string& path) { session_ = std::make_unique<ArmSession>(path, spec_.arm); }

  void unload() { session_.reset(); }

  bool out_of_time() const {
    return spec_.options.duration_ms > 0 && now_ms() - infer_start_ms_ > spec_.options.duration_ms;
  }

  // One inference: inputs built outside the timed region, Run() timed, then the reading.
  void infer_once(ArmSession& s, InputSynth& synth) {
    if (req_ == fail_at_)  // test hook: the workload's own error, reported, not a crash
      throw WorkloadError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : test hook rejected input");
    auto& inputs = synth.next();
    const auto& out_names = s.output_name_ptrs();
    auto t = Clock::now();
    auto outputs = s.session().Run(s.run_options(), synth.names().data(), inputs.data(),
                                   inputs.size(), out_names.data(), out_names.size());
    double latency = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    outputs.clear();
    inject_leak(spec_.options.inject_leak_bytes);
    ++req_;
    trace::Record r = record(trace::kRequest);
    r.values["latency_ms"] = latency;
    r.extra["shape"] = synth.shape_text();
    out_.write(r);
    trace::Record s2 = record(trace::kSample);
    s2.values = probe::read_self(probe::kStatus | probe::kAllocator).values;
    if (req_ % 10 == 0)
      for (const auto& [k, v] : s.arena_stats()) s2.values[k] = v;
    out_.write(s2);
    if (req_ == crash_at_) std::abort();  // test hook: a child that dies mid-run
  }

  void infer_phases(std::int64_t count, InputSynth& synth, bool with_warm) {
    infer_start_ms_ = now_ms();
    std::int64_t warm = with_warm ? std::min<std::int64_t>(spec_.options.warm_requests, count) : 0;
    if (warm > 0) {
      begin_phase("warm");
      for (std::int64_t i = 0; i < warm; ++i) infer_once(*session_, synth);
      end_phase();
    }
    begin_phase("infer");
    for (std::int64_t i = warm; i < count && !out_of_time(); ++i) infer_once(*session_, synth);
    end_phase();
  }

  InputSynth make_synth(std::uint64_t salt) {
    return InputSynth(spec_.inputs, spec_.dims, spec_.options.scenario == Scenario::steady,
                      spec_.options.seed * 1000003ULL + salt);
  }

  void run_single() {
    begin_phase("load");
    load(spec_.options.model_path);
    end_phase({{"load", spec_.arm.knob("load")}});
    InputSynth synth = make_synth(0);
    infer_phases(spec_.options.requests, synth, true);
    begin_phase("unload");
    unload();
    end_phase();
  }

  void run_churn() {
    for (int c = 0; c < spec_.options.cycles; ++c) {
      cycle_ = c;
      begin_phase("load");
      load(spec_.options.model_path);
      end_phase();
      InputSynth synth = make_synth(static_cast<std::uint64_t>(c));
      infer_phases(spec_.options.requests, synth, c == 0);
      begin_phase("unload");
      unload();
      end_phase();
    }
    cycle_ = -1;
  }

  // functools.lru_cache(maxsize=COUNT) over M model variants, fed by a seeded Zipf(1.1) stream.
  // Evicting an entry destroys its session, as dropping the last Python reference would.
  void run_cache() {
    const auto& variants = spec_.model_variants;
    const std::size_t m = variants.size();
    const auto capacity = static_cast<std::size_t>(spec_.options.cache.count);
    std::vector<double> weights(m);
    for (std::size_t k = 0; k < m; ++k)
      weights[k] = 1.0 / std::pow(static_cast<double>(k + 1), 1.1);
    std::discrete_distribution<std::size_t> zipf(weights.begin(), weights.end());
    std::mt19937_64 rng(spec_.options.seed);
    std::list<std::size_t> lru;  // front = most recent
    std::unordered_map<std::size_t, std::unique_ptr<ArmSession>> cache;
    InputSynth synth = make_synth(0);
    begin_phase("infer");
    infer_start_ms_ = now_ms();
    std::int64_t hits = 0, misses = 0;
    for (std::int64_t i = 0; i < spec_.options.requests && !out_of_time(); ++i) {
      std::size_t model = zipf(rng);
      auto it = cache.find(model);
      if (it == cache.end()) {
        ++misses;
        if (cache.size() >= capacity) {
          std::size_t victim = lru.back();
          lru.pop_back();
          cache.erase(victim);
          trace::Record ev = record(trace::kNote);
          ev.extra["event"] = "evict";
          ev.extra["model"] = victim;
          out_.write(ev);
        }
        cache[model] = std::make_unique<ArmSession>(variants[model], spec_.arm);
        lru.push_front(model);
        trace::Record ev = record(trace::kNote);
        ev.extra["event"] = "load";
        ev.extra["model"] = model;
        out_.write(ev);
      } else {
        ++hits;
        lru.remove(model);
        lru.push_front(model);
      }
      infer_once(*cache[model], synth);
    }
    end_phase({{"cache_hits", hits}, {"cache_misses", misses}});
    begin_phase("unload");
    cache.clear();
    end_phase();
  }

  const WorkerSpec& spec_;
  trace::Writer out_;
  probe::Sampler sampler_;
  std::unique_ptr<ArmSession> session_;
  std::string phase_;
  std::int64_t req_ = 0;
  int cycle_ = -1;
  std::int64_t crash_at_ = -1;
  std::int64_t fail_at_ = -1;
  bool hwm_reset_ = false;
  double phase_start_ms_ = 0;
  double infer_start_ms_ = 0;
};

}  // namespace

int run_worker(const WorkerSpec& spec, int trace_fd) {
  Worker w(spec, trace_fd);
  try {
    return w.run();
  } catch (const std::exception& e) {
    trace::Writer out(trace_fd);
    trace::Record r;
    r.type = std::string(trace::kArm);
    r.pid = getpid();
    r.src = "child";
    r.extra["edge"] = "end";
    r.extra["status"] = std::string(name(ArmStatus::failed));
    r.extra["error"] = e.what();
    out.write(r);
    fmt::print(stderr, "infermem worker: {}\n", e.what());
    return kExitWorkload;
  }
}

}  // namespace infermem
