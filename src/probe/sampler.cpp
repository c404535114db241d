#include "infermem/sampler.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "probe/proc_reader.h"

namespace infermem::probe {

using Clock = std::chrono::steady_clock;

struct Sampler::State {
  struct Slot {
    double t_ms = 0;
    Values values;
  };

  SamplerOptions options;
  Clock::time_point origin;
  Clock::duration period;

  std::mutex read_mu;  // the reader is used by the sampler thread and by begin/end_scope
  ProcReader reader;

  std::mutex mu;  // guards everything below up to the sink
  bool scope_active = false;
  Values scope_max;
  std::vector<Slot> ring;
  std::size_t ring_head = 0;  // index of the oldest undrained slot
  std::size_t ring_count = 0;
  std::uint64_t dropped = 0;

  std::mutex sink_mu;
  std::function<void(double, const Reading&)> sink;
  unsigned sink_every_nth = 1;

  std::atomic<std::uint64_t> taken{0};
  std::atomic<std::uint64_t> failed{0};

  std::mutex run_mu;  // guards running and the thread; the condition wakes a sleeping sampler
  std::condition_variable wake;
  bool running = false;
  std::thread thread;

  explicit State(const SamplerOptions& o)
      : options(o),
        origin(o.clock_origin == Clock::time_point{} ? Clock::now() : o.clock_origin),
        period(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(1.0 / std::max(o.rate_hz, 0.001)))),
        reader(o.pid, o.sources),
        ring(std::max<std::size_t>(o.ring_capacity, 1)) {}

  // Takes one reading; folds it into the scope and the ring. Returns the reading's sequence
  // number (1-based), or 0 when the reading failed.
  std::uint64_t sample(Values& values, double& t_ms) {
    bool ok;
    {
      std::lock_guard<std::mutex> lock(read_mu);
      ok = reader.read(values);
    }
    t_ms = std::chrono::duration<double, std::milli>(Clock::now() - origin).count();
    if (!ok) {
      failed.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    std::lock_guard<std::mutex> lock(mu);
    if (scope_active) scope_max.max_with(values);
    std::size_t tail = (ring_head + ring_count) % ring.size();
    ring[tail].t_ms = t_ms;
    ring[tail].values = values;
    if (ring_count == ring.size()) {
      ring_head = (ring_head + 1) % ring.size();
      ++dropped;
    } else {
      ++ring_count;
    }
    return taken.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  void loop() {
    Clock::time_point next = Clock::now();
    std::unique_lock<std::mutex> run_lock(run_mu);
    while (running) {
      run_lock.unlock();
      Values values;
      double t_ms = 0;
      std::uint64_t seq = sample(values, t_ms);
      if (seq != 0) {
        std::lock_guard<std::mutex> lock(sink_mu);
        if (sink && seq % sink_every_nth == 0) sink(t_ms, values.to_reading());
      }
      // Fixed-rate schedule; after a stall (machine busy) skip the missed ticks, no burst.
      next += period;
      Clock::time_point now = Clock::now();
      if (next < now) next = now;
      run_lock.lock();
      wake.wait_until(run_lock, next, [&] { return !running; });
    }
  }
};

Sampler::Sampler(SamplerOptions options) : state_(std::make_unique<State>(options)) {}

Sampler::~Sampler() {
  stop();
}

void Sampler::start() {
  std::lock_guard<std::mutex> lock(state_->run_mu);
  if (state_->running) return;
  if (state_->thread.joinable()) state_->thread.join();
  state_->running = true;
  state_->thread = std::thread([s = state_.get()] { s->loop(); });
}

void Sampler::stop() {
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(state_->run_mu);
    state_->running = false;
    thread = std::move(state_->thread);
  }
  state_->wake.notify_all();
  if (thread.joinable()) thread.join();
}

void Sampler::begin_scope() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->scope_max.clear();
    state_->scope_active = true;
  }
  Values values;
  double t_ms = 0;
  state_->sample(values, t_ms);
}

Reading Sampler::end_scope() {
  Values values;
  double t_ms = 0;
  bool ok = state_->sample(values, t_ms) != 0;
  std::lock_guard<std::mutex> lock(state_->mu);
  Values result = state_->scope_active ? state_->scope_max : Values();
  if (!state_->scope_active && ok) result = values;
  state_->scope_active = false;
  return result.to_reading();
}

void Sampler::set_sink(std::function<void(double t_ms, const Reading&)> sink, unsigned every_nth) {
  std::lock_guard<std::mutex> lock(state_->sink_mu);
  state_->sink = std::move(sink);
  state_->sink_every_nth = std::max(every_nth, 1u);
}

std::uint64_t Sampler::samples_taken() const {
  return state_->taken.load();
}
std::uint64_t Sampler::samples_failed() const {
  return state_->failed.load();
}

std::uint64_t Sampler::samples_dropped() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->dropped;
}

std::vector<std::pair<double, Reading>> Sampler::drain() {
  std::vector<State::Slot> slots;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    slots.reserve(state_->ring_count);
    for (std::size_t i = 0; i < state_->ring_count; ++i)
      slots.push_back(state_->ring[(state_->ring_head + i) % state_->ring.size()]);
    state_->ring_head = (state_->ring_head + state_->ring_count) % state_->ring.size();
    state_->ring_count = 0;
  }
  std::vector<std::pair<double, Reading>> out;
  out.reserve(slots.size());
  for (const auto& s : slots) out.emplace_back(s.t_ms, s.values.to_reading());
  return out;
}

}  // namespace infermem::probe
