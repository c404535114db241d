#pragma once
// Synthetic memory series with known truth for the verdict tests: a shape (bytes as a function of
// the request index) plus seeded Gaussian noise, sampled once per request at 10 requests/s.
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>

#include "infermem/series.h"
#include "infermem/verdict.h"

namespace infermem {
// gtest prints a kind by its name in failure messages.
inline void PrintTo(VerdictKind kind, std::ostream* os) {
  *os << name(kind);
}
}  // namespace infermem

namespace infermem::test {

inline constexpr double kMiB = 1024.0 * 1024;
inline constexpr double kKiB = 1024.0;

struct SeriesShape {
  std::size_t requests = 1000;
  std::function<double(std::size_t)> current;  // noise-free bytes after request i
  double noise_sigma_bytes = 1.5 * kMiB;
  std::uint32_t seed = 1;
  std::size_t warm_requests = 3;  // labelled "warm", the rest "infer"
};

inline Series make_series(const SeriesShape& shape) {
  std::mt19937 rng(shape.seed);
  std::normal_distribution<double> noise(0.0, shape.noise_sigma_bytes);
  Series s;
  s.name = "synthetic";
  s.current_source = "synthetic VmRSS after each request";
  for (std::size_t i = 0; i < shape.requests; ++i) {
    SeriesPoint p;
    p.req = static_cast<std::int64_t>(i + 1);
    p.t_ms = 100.0 * static_cast<double>(i);
    p.phase = i < shape.warm_requests ? "warm" : "infer";
    p.current_bytes = shape.current(i) + noise(rng);
    s.points.push_back(p);
  }
  return s;
}

inline Series flat_series(std::size_t requests, std::uint32_t seed, double noise = 1.5 * kMiB) {
  return make_series({requests, [](std::size_t) { return 200 * kMiB; }, noise, seed});
}

}  // namespace infermem::test
