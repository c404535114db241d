#pragma once
// A background thread that reads a process at a fixed rate (1 kHz by default) so that short
// peaks between phase ends are seen ("peak by 1 kHz sampling"). It never blocks the caller, and
// its memory is bounded: a ring of the latest samples plus one running maximum per key.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "infermem/probe.h"

namespace infermem::probe {

struct SamplerOptions {
  int pid = 0;  // 0 = this process
  double rate_hz = 1000;
  unsigned sources = kStatus;
  std::size_t ring_capacity = 4096;
  // t_ms of samples counts from here; the default (epoch) means "when the Sampler was built".
  std::chrono::steady_clock::time_point clock_origin{};
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  ~Sampler();  // stops and joins
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  // Idempotent. start() after stop() resumes sampling.
  void start();
  void stop();

  // Scoped peaks: begin_scope() starts a new maximum for every value key (and takes one sample);
  // end_scope() returns the maximum of each key since begin_scope(), including one final sample
  // taken at end_scope(). Works without start() too (then only those two samples count).
  void begin_scope();
  Reading end_scope();

  // Called from the sampler thread with every Nth reading (decimated for trace output); keep it
  // cheap. Samples taken by begin_scope/end_scope are not passed to the sink.
  void set_sink(std::function<void(double t_ms, const Reading&)> sink, unsigned every_nth = 1);

  std::uint64_t samples_taken() const;
  // Readings that failed (the process exited, a file became unreadable).
  std::uint64_t samples_failed() const;
  // Samples in the bounded ring since the last drain, oldest first. When the ring is full the
  // oldest are dropped and counted in samples_dropped().
  std::vector<std::pair<double, Reading>> drain();
  std::uint64_t samples_dropped() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace infermem::probe
