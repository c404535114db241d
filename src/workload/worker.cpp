// The child: one arm of a soak, in a fresh process. Streams phase marks, per-request records
// and in-process readings to the parent over a pipe, in the trace format.
#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "infermem/error.h"
#include "infermem/model_cache.h"
#include "infermem/ort_model_cache.h"
#include "infermem/probe.h"
#include "infermem/sampler.h"
#include "infermem/soak.h"
#include "infermem/trace.h"
#include "infermem/units.h"
#include "workload/card_probe.h"
#include "workload/feed.h"
#include "workload/fragmenter.h"
#include "workload/inputs.h"
#include "workload/ort_api.h"
#include "workload/ort_env.h"
#include "workload/ort_versions.h"
#include "workload/pacing.h"
#include "workload/replay_driver.h"
#include "workload/session.h"
#include "workload/session_model.h"
#include "workload/settle_signal.h"
#include "workload/tensor_files.h"
#include "workload/user_inputs.h"
#include "workload/worker_support.h"

namespace infermem {
namespace {

using Clock = std::chrono::steady_clock;

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
    verify_glibc_knobs(spec_.arm);
    verify_ort_library(spec_.arm);
    if (spec_.options.shapes == "spike")
      shape_plan_.spike_every = spec_.options.spike_every;
    else if (!spec_.options.shapes.empty())
      shape_plan_.lines = load_shapes_file(spec_.options.shapes, dim_keys(spec_.dims));
    if (!spec_.options.feed.empty())
      feeder_ = std::make_unique<Feeder>(
          resolve_feed(spec_.options.model_path, spec_.inputs, spec_.options.feed),
          spec_.options.streams, spec_.options.stream_length);
    if (!spec_.options.inputs_path.empty() || !spec_.options.input_constants.empty())
      user_inputs_ = std::make_unique<UserInputs>(
          spec_.inputs, spec_.options.inputs_path, spec_.options.inputs_order,
          spec_.options.input_constants, spec_.options.seed);
    if (spec_.replay) {  // infermem replay: the log's requests, numbered on from a restart
      replay_ = std::make_unique<ReplayDriver>(*spec_.replay, spec_.options.seed);
      req_ = static_cast<std::int64_t>(spec_.replay->from);
    }
    sampler_.start();
    begin_phase(trace::Phase::baseline);
    ort_env();  // runtime initialised, no session
    // telemetry=off: ORT 1.29's Linux build queues its telemetry events (session created, run,
    // released; ~10 KiB a session) in memory it never frees (docs/soak.md, "Lean at the physical
    // limit"). Off for the whole environment, before the first session.
    if (!spec_.arm.on("telemetry")) ort_env().DisableTelemetryEvents();
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
    if (spec_.arm.on("trim") && spec_.options.scenario != Scenario::churn) trim_phase();
    sampler_.stop();
    trace::Record r = record(trace::RecordType::arm);
    r.edge = trace::Edge::end;
    r.extra["status"] = "ok";
    emit(r);
    return 0;
  }

 private:
  double now_ms() const {
    // steady_clock is CLOCK_MONOTONIC, shared by parent and child: times are on the run's clock.
    return std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count() -
           spec_.run_t0_ms;
  }

  // One writer for the threads of --concurrency and the idle sampler.
  void emit(const trace::Record& r) {
    std::lock_guard<std::mutex> lock(write_mu_);
    out_.write(r);
  }

  trace::Record record(trace::RecordType type) {
    trace::Record r;
    r.type = type;
    r.t_ms = now_ms();
    r.pid = getpid();
    r.phase = phase_;
    r.req = req_.load();
    r.src = trace::Src::child;
    if (cycle_ >= 0) r.values.set(Figure::cycle, cycle_);
    return r;
  }

  void emit_arm_begin() {
    trace::Record r = record(trace::RecordType::arm);
    r.edge = trace::Edge::begin;
    r.extra["config"] = spec_.arm.knobs;
    r.extra["ort_version"] = ort_version();
    r.extra["ort_api_version"] = ort_api_version();
    emit(r);
  }

  void begin_phase(trace::Phase name) {
    phase_ = name;
    auto reset = probe::reset_peaks(getpid());
    hwm_reset_ = reset.vm_hwm;
    sampler_.begin_scope();
    phase_start_ms_ = now_ms();
    trace::Record r = record(trace::RecordType::phase);
    r.edge = trace::Edge::begin;
    r.extra["hwm_reset"] = hwm_reset_;
    emit(r);
  }

  void end_phase(const nlohmann::json& extra = nlohmann::json::object(),
                 const Figures& figures = {}) {
    probe::Reading peak = sampler_.end_scope();
    // Cgroup figures only when the cgroup holds this child alone; otherwise they would be the
    // enclosing container's, recorded as if they were the arm's.
    const unsigned sources = spec_.own_memory_cgroup ? probe::kAll : probe::kAll & ~probe::kCgroup;
    probe::Reading now = probe::read_self(sources);
    trace::Record r = record(trace::RecordType::phase);
    // The reading's figures beside the record's own (a churn cycle's `cycle` stays).
    r.values.insert_absent(now.values);
    if (auto p = peak.get(Figure::rss_bytes)) r.values.set(Figure::peak_sampled_rss_bytes, *p);
    if (hwm_reset_)
      if (auto h = now.get(Figure::hwm_bytes)) r.values.set(Figure::peak_hwm_since_reset_bytes, *h);
    if (session_) r.values.assign_present(session_->arena_stats());
    if (spec_.options.library_rss) add_ort_library_rss(r.values);
    r.values.set(Figure::duration_ms, now_ms() - phase_start_ms_);
    r.edge = trace::Edge::end;
    // Written as context, as they always were (the reader takes them for figures).
    r.extra[std::string(name(Figure::sampler_hz))] = spec_.options.child_sample_hz;
    r.extra[std::string(name(Figure::samples_count))] =
        static_cast<double>(sampler_.samples_taken());
    for (const auto& [k, v] : extra.items()) r.extra[k] = v;
    r.values.assign_present(figures);
    emit(r);
  }

  void load(const std::string& path) { session_ = std::make_unique<ArmSession>(path, spec_.arm); }

  void unload() { session_.reset(); }

  bool out_of_time() const {
    if (settle_requested()) return true;  // soak --until-confident: the verdict is settled
    return spec_.options.duration_ms > 0 && now_ms() - infer_start_ms_ > spec_.options.duration_ms;
  }

  // One inference: inputs built outside the timed region, Run() timed, then the reading.
  void infer_once(ArmSession& s, InputSynth& synth, int thread = 0, double queued_ms = -1) {
    if (req_.load() == fail_at_)  // test hook: the workload's own error, reported, not a crash
      throw WorkloadError("[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : test hook rejected input");
    auto& inputs = synth.next();
    const std::int64_t n = req_.load();  // this request's index (--feed runs on one thread)
    nlohmann::json fed = nlohmann::json::object();
    if (feeder_)
      for (const auto& p : feeder_->pairs())
        if (const auto* c = feeder_->carried(n, p.input)) {
          synth.override_input(p.input_index, c->bytes, c->shape);
          fed[p.input] = fnv1a_hex(c->bytes.data(), c->bytes.size());
        }
    const auto& out_names = s.output_name_ptrs();
    auto t = Clock::now();
    auto outputs = s.session().Run(s.run_options(), synth.names().data(), inputs.data(),
                                   inputs.size(), out_names.data(), out_names.size());
    double latency = std::chrono::duration<double, std::milli>(Clock::now() - t).count();
    nlohmann::json digests =
        spec_.options.record_outputs ? output_digests(s.output_names(), outputs) : nlohmann::json();
    if (feeder_) carry_outputs(s, n, outputs);
    outputs.clear();
    inject_leak(spec_.options.inject_leak_bytes);
    inject_fragmentation(spec_.options.inject_fragmentation_bytes);
    const std::int64_t done = ++req_;
    trace::Record r = record(trace::RecordType::request);
    r.req = done;
    r.values.set(Figure::latency_ms, latency);
    if (spec_.options.concurrency > 1) r.values.set(Figure::thread, thread);
    if (queued_ms >= 0) r.values.set(Figure::queued_ms, queued_ms);
    if (feeder_) {
      r.values.set(Figure::stream, static_cast<double>(feeder_->stream_of(n)));
      r.extra["fed"] = fed;  // digests of the carried inputs; empty when the stream starts afresh
    }
    r.extra["shape"] = synth.shape_text();
    if (!digests.is_null()) r.extra["outputs"] = digests;
    emit(r);
    trace::Record s2 = record(trace::RecordType::sample);
    s2.req = done;
    s2.values = probe::read_self(probe::kStatus | probe::kAllocator).values;
    if (done % 10 == 0) s2.values.assign_present(s.arena_stats());
    emit(s2);
    if (done == crash_at_) std::abort();  // test hook: a child that dies mid-run
  }

  // --feed: keeps each fed output of request n for the next request of its stream.
  void carry_outputs(ArmSession& s, std::int64_t n, std::vector<Ort::Value>& outputs) {
    const auto& names = s.output_names();
    for (const auto& p : feeder_->pairs())
      for (std::size_t k = 0; k < names.size() && k < outputs.size(); ++k) {
        if (names[k] != p.output || !outputs[k].IsTensor()) continue;
        auto info = outputs[k].GetTensorTypeAndShapeInfo();
        const std::size_t bytes = info.GetElementCount() * element_size(info.GetElementType());
        const auto* data = outputs[k].GetTensorMutableData<char>();
        feeder_->keep(n, p.input, Feeder::Carried{std::string(data, bytes), info.GetShape()});
      }
  }

  void infer_phases(std::int64_t count, InputSynth& synth, bool with_warm) {
    infer_start_ms_ = now_ms();
    std::int64_t warm = with_warm ? std::min<std::int64_t>(spec_.options.warm_requests, count) : 0;
    if (warm > 0) {
      begin_phase(trace::Phase::warm);
      run_requests(*session_, 0, warm, synth);
      end_phase();
    }
    begin_phase(trace::Phase::infer);
    // --inject-peak: held through the phase, given back before unload (std::free of a block this
    // size returns it to the OS when glibc mmapped it; else it stays as free heap).
    auto extra = held_block(spec_.options.inject_peak_bytes);
    run_requests(*session_, warm, count, synth);
    end_phase();
  }

  // Requests [from, to) on `concurrency` threads sharing the session (thread 0 uses `synth`, the
  // others a synthesizer of their own), paced by --rate, with an --idle gap before every K-th.
  // An idle gap waits for the requests in flight, so it is time without any Run().
  void run_requests(ArmSession& s, std::int64_t from, std::int64_t to, InputSynth& synth) {
    const int threads = std::max(1, spec_.options.concurrency);
    const std::int64_t every = spec_.options.idle_ms > 0 ? spec_.options.idle_every : 0;
    const double start_ms = now_ms();
    std::mutex mu;
    std::condition_variable cv;
    std::int64_t next = from;
    int in_flight = 0;
    bool idling = false, failed = false;
    std::exception_ptr error;
    auto loop = [&](int thread, InputSynth& own) {
      bool counted = false;  // this thread holds a request in flight
      bool idler = false;    // this thread runs the idle gap
      try {
        for (;;) {
          std::int64_t i = 0;
          {
            std::unique_lock<std::mutex> lock(mu);
            cv.wait(lock, [&] { return !idling || failed; });
            i = next++;
            if (i >= to || failed || out_of_time()) return;
            if (idle_gap_before(i, from, every)) {
              idling = idler = true;
              cv.wait(lock, [&] { return in_flight == 0; });
              lock.unlock();
              idle_gap();
              lock.lock();
              idling = idler = false;
              cv.notify_all();
            }
            ++in_flight;
            counted = true;
          }
          double queued = -1;
          if (pacer_.paced()) {
            const double arrival = pacer_.arrival_ms(i - from, start_ms);
            const double wait = arrival - now_ms();
            if (wait > 0)
              std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(wait));
            queued = std::max(0.0, now_ms() - arrival);
          }
          infer_once(s, own, thread, queued);
          std::lock_guard<std::mutex> lock(mu);
          --in_flight;
          counted = false;
          cv.notify_all();
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        failed = true;
        if (counted) --in_flight;
        if (idler) idling = false;
        cv.notify_all();
      }
    };
    std::vector<InputSynth> others;
    for (int t = 1; t < threads; ++t)
      others.push_back(make_synth(1000 + static_cast<std::uint64_t>(t)));
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
      pool.emplace_back(loop, t, std::ref(others[static_cast<std::size_t>(t - 1)]));
    loop(0, synth);
    for (auto& t : pool) t.join();
    if (error) std::rethrow_exception(error);
  }

  // --idle: the process does nothing for a while, as a server between bursts. An arm with
  // trim=on trims at the start of the gap (an idle-time policy); memory is sampled throughout.
  void idle_gap() {
    trace::Record begin = record(trace::RecordType::note);
    begin.extra["event"] = "idle";
    begin.edge = trace::Edge::begin;
    const double rss_before = probe::read_self(probe::kStatus).get(Figure::rss_bytes).value_or(0);
    begin.values.set(Figure::rss_bytes, rss_before);
    if (spec_.arm.on("trim")) {
      begin.extra["trim"] = trim_allocator();
      begin.values.set(Figure::rss_after_trim_bytes,
                       probe::read_self(probe::kStatus).get(Figure::rss_bytes).value_or(0));
    }
    emit(begin);
    const double until = now_ms() + spec_.options.idle_ms;
    for (;;) {
      trace::Record r = record(trace::RecordType::sample);
      r.values = probe::read_self(probe::kStatus | probe::kAllocator).values;
      r.extra["idle"] = true;
      emit(r);
      const double left = until - now_ms();
      if (left <= 0) break;
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(std::min(left, 50.0)));
    }
    trace::Record end = record(trace::RecordType::note);
    end.extra["event"] = "idle";
    end.edge = trace::Edge::end;
    emit(end);
  }

  InputSynth make_synth(std::uint64_t salt) {
    InputSynth synth(spec_.inputs, spec_.dims, spec_.options.scenario == Scenario::steady,
                     spec_.options.seed * 1000003ULL + salt);
    if (user_inputs_) synth.use(user_inputs_.get());
    if (!shape_plan_.empty()) synth.use(&shape_plan_);
    return synth;
  }

  void run_single() {
    begin_phase(trace::Phase::load);
    load(spec_.options.model_path);
    end_phase({{"load", spec_.arm.knob("load")}});
    {
      // The inputs' buffers are the worker's, not the model's: freed before the unload is read.
      InputSynth synth = make_synth(0);
      infer_phases(spec_.options.requests, synth, true);
    }
    begin_phase(trace::Phase::unload);
    unload();
    inject_leak(spec_.options.inject_retained_bytes);  // --inject-retained: kept to the end
    end_phase();
  }

  void run_churn() {
    for (int c = 0; c < spec_.options.cycles; ++c) {
      cycle_ = c;
      begin_phase(trace::Phase::load);
      load(spec_.options.model_path);
      end_phase();
      {
        // Freed before the unload and the trim are read: a cycle's figures are the model's, and
        // the largest input's buffers (2.6 MiB at 1x3x480x480) would otherwise count as kept.
        InputSynth synth = make_synth(static_cast<std::uint64_t>(c));
        infer_phases(spec_.options.requests, synth, c == 0);
      }
      begin_phase(trace::Phase::unload);
      unload();
      end_phase();
      // A trim=on arm trims after every unload, as a service that unloads models would; each
      // cycle is then judged on what its trim leaves (the run's last trim is the final one).
      if (spec_.arm.on("trim")) trim_phase();
    }
    cycle_ = -1;
  }

  void trim_phase() {
    begin_phase(trace::Phase::trim);
    std::string how = trim_allocator();
    end_phase({{"method", how}});
  }

  // The arm's cache= key, or --cache.
  CachePolicy cache_policy() const {
    const std::string& knob = spec_.arm.knob("cache");
    if (knob.empty() || knob == "default") return spec_.options.cache;
    return parse_cache_policy(knob, "cache=");
  }

  void note_event(const char* event, std::size_t model, nlohmann::json extra = {}) {
    trace::Record ev = record(trace::RecordType::note);
    ev.extra["event"] = event;
    ev.extra["model"] = model;
    for (const auto& [k, v] : extra.items()) ev.extra[k] = v;
    emit(ev);
  }

  void run_cache() {
    const CachePolicy policy = cache_policy();
    if (policy.kind == CachePolicy::Kind::budget)
      run_budget_cache(policy);
    else
      run_lru_cache(policy);
  }

  // The cache scenario's request stream: serve(model, synth, due) for each request, a seeded Zipf
  // draw until --requests or out of time; under infermem replay the log's requests at its pace,
  // each due at its time (so the time it waited, its model's load included, is recorded).
  using CacheServe = std::function<void(std::size_t model, InputSynth& synth, Clock::time_point)>;
  void drive_cache(const CacheServe& serve) {
    infer_start_ms_ = now_ms();
    if (replay_) {
      replay_->drive([&](std::size_t model, InputSynth& synth, Clock::time_point due) {
        if (out_of_time()) return false;
        serve(model, synth, due);
        return true;
      });
      return;
    }
    auto zipf = zipf_over(spec_.model_variants.size());
    std::mt19937_64 rng(spec_.options.seed);
    InputSynth synth = make_synth(0);
    for (std::int64_t i = 0; i < spec_.options.requests && !out_of_time(); ++i)
      serve(zipf(rng), synth, Clock::time_point{});
  }

  // How long a replayed request waited from its due time to its Run(); -1 (not recorded) else.
  double waited_ms(Clock::time_point due) const {
    if (due == Clock::time_point{}) return -1;
    return std::chrono::duration<double, std::milli>(Clock::now() - due).count();
  }

  // ModelCache (infermem/model_cache.h) with a byte budget, against the same stream. A request
  // the cache refuses (it would not fit under the limit) is recorded and skipped, not served.
  void run_budget_cache(const CachePolicy& policy) {
    const auto& variants = spec_.model_variants;
    ModelCacheOptions o;
    o.budget_bytes = policy.budget_bytes;
    o.trim_after_unload = true;
    auto meter = process_memory_meter();
    // Room under the limit for what the cache does not hold: inputs, outputs, the runtime.
    o.limit_headroom_bytes = meter->limit_bytes() / 10;
    ModelCache cache(ort_session_loader(spec_.arm), std::move(meter), o);
    begin_phase(trace::Phase::infer);
    drive_cache([&](std::size_t model, InputSynth& synth, Clock::time_point due) {
      const ModelCacheStats before = cache.stats();
      try {
        ModelCache::Lease lease = cache.acquire(variants[model]);
        const ModelCacheStats after = cache.stats();
        for (std::uint64_t k = before.evictions; k < after.evictions; ++k)
          note_event("evict", model);
        if (after.loads > before.loads)
          note_event("load", model);
        else if (replay_)
          note_event("hit", model);
        infer_once(static_cast<ArmSessionModel&>(lease.model()).arm_session(), synth, 0,
                   waited_ms(due));
      } catch (const CacheRefused& e) {
        note_event("refused", model, {{"reason", name(e.reason())}, {"message", e.what()}});
      }
    });
    const ModelCacheStats stats = cache.stats();
    end_phase({{"cache", cache_json(stats)}}, cache_counts(stats.hits, stats.misses));
    begin_phase(trace::Phase::unload);
    cache.clear();
    end_phase();
  }

  // functools.lru_cache(maxsize=COUNT) over M model variants, fed by the same stream.
  // Evicting an entry destroys its session, as dropping the last Python reference would.
  void run_lru_cache(const CachePolicy& policy) {
    const auto& variants = spec_.model_variants;
    const auto capacity = static_cast<std::size_t>(policy.count);
    std::list<std::size_t> lru;  // front = most recent
    std::unordered_map<std::size_t, std::unique_ptr<ArmSession>> cache;
    begin_phase(trace::Phase::infer);
    std::int64_t hits = 0, misses = 0;
    drive_cache([&](std::size_t model, InputSynth& synth, Clock::time_point due) {
      auto it = cache.find(model);
      if (it == cache.end()) {
        ++misses;
        if (cache.size() >= capacity) {
          std::size_t victim = lru.back();
          lru.pop_back();
          cache.erase(victim);
          // trim=on: give the freed heap back after every eviction, the incident's first fix.
          if (spec_.arm.on("trim")) trim_allocator();
          note_event("evict", victim);
        }
        cache[model] = std::make_unique<ArmSession>(variants[model], spec_.arm);
        lru.push_front(model);
        note_event("load", model);
      } else {
        ++hits;
        lru.remove(model);
        lru.push_front(model);
        if (replay_) note_event("hit", model);
      }
      infer_once(*cache[model], synth, 0, waited_ms(due));
    });
    end_phase(nlohmann::json::object(), cache_counts(hits, misses));
    begin_phase(trace::Phase::unload);
    cache.clear();
    end_phase();
  }

  const WorkerSpec& spec_;
  trace::Writer out_;
  probe::Sampler sampler_;
  std::unique_ptr<ArmSession> session_;
  std::unique_ptr<UserInputs> user_inputs_;  // --inputs, --input: loaded before the baseline
  trace::Phase phase_ = trace::Phase::none;
  std::atomic<std::int64_t> req_{0};
  std::mutex write_mu_;
  Pacer pacer_{spec_.options.rate_rps, spec_.options.seed * 7919ULL + 17};
  ShapePlan shape_plan_;
  std::unique_ptr<Feeder> feeder_;
  std::unique_ptr<ReplayDriver> replay_;
  int cycle_ = -1;
  std::int64_t crash_at_ = -1;
  std::int64_t fail_at_ = -1;
  bool hwm_reset_ = false;
  double phase_start_ms_ = 0;
  double infer_start_ms_ = 0;
};

}  // namespace

int run_worker(const WorkerSpec& spec, int trace_fd) {
  install_settle_handler();
  Worker w(spec, trace_fd);
  try {
    return w.run();
  } catch (const std::exception& e) {
    trace::Writer out(trace_fd);
    trace::Record r;
    r.type = trace::RecordType::arm;
    r.pid = getpid();
    r.src = trace::Src::child;
    r.edge = trace::Edge::end;
    r.extra["status"] = std::string(name(ArmStatus::failed));
    r.extra["error"] = e.what();
    out.write(r);
    fmt::print(stderr, "infermem worker: {}\n", e.what());
    return kExitWorkload;
  }
}

}  // namespace infermem
