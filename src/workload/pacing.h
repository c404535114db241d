#pragma once
// When a soak child sends its requests (docs/soak.md, "Concurrency and time"): as fast as it can
// (closed loop, the default), or at seeded Poisson arrivals of --rate R per second (open loop:
// a request waits for its arrival time, never for the previous answer); and an --idle gap every
// K requests, during which memory is sampled and idle-time policies (trim=on) act.
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace infermem {

class Pacer {
 public:
  Pacer(double rate_rps, std::uint64_t seed) : rate_(rate_rps), rng_(seed) {}
  bool paced() const { return rate_ > 0; }
  // Arrival of the n-th request counted from `start_ms`, in ms on the same clock: the sum of n
  // exponential gaps of mean 1000/R. Thread-safe; arrivals are drawn in order of n.
  double arrival_ms(std::int64_t n, double start_ms);

 private:
  double rate_;
  std::mt19937_64 rng_;
  std::mutex mu_;
  std::vector<double> arrivals_;  // offsets from the start, by n
};

// --idle D --idle-every K: whether an idle gap comes before request `i` of a span of requests
// [from, ...) (a phase): before every request whose index, counted over the whole arm, is a
// multiple of K, except the span's first. `every` 0 (no --idle): never.
inline bool idle_gap_before(std::int64_t i, std::int64_t from, std::int64_t every) {
  return every > 0 && i > from && i % every == 0;
}

// --shapes: how a request's dynamic dimensions are chosen besides the seeded draw.
struct ShapePlan {
  std::int64_t spike_every = 0;  // spike: every K-th request at the largest sizes, others smallest
  std::vector<std::map<std::string, std::int64_t>> lines;  // FILE: one request a line, cycled
  bool empty() const { return spike_every == 0 && lines.empty(); }
};

// Reads --shapes FILE: one request a line, `KEY=N` for some dynamic dimensions separated by
// spaces (`batch=2 sequence=96`); blank lines and lines starting with '#' are skipped. InputError
// naming the file, the line and the key when a key is not one of `keys` or N is not a whole
// number from 1 to 10^6.
std::vector<std::map<std::string, std::int64_t>> load_shapes_file(
    const std::string& path, const std::vector<std::string>& keys);

}  // namespace infermem
