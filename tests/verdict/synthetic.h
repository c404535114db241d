#pragma once
// Synthetic memory series with known truth for the verdict tests: a shape (bytes as a function of
// the request index) plus seeded Gaussian noise, sampled once per request at 10 requests/s.
#include <cmath>
#include <cstdint>
#include <functional>
#include <ostream>
#include <random>
#include <vector>

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
    p.phase = i < shape.warm_requests ? Phase::warm : Phase::infer;
    p.current_bytes = shape.current(i) + noise(rng);
    s.points.push_back(p);
  }
  return s;
}

inline Series flat_series(std::size_t requests, std::uint32_t seed, double noise = 1.5 * kMiB) {
  return make_series({requests, [](std::size_t) { return 200 * kMiB; }, noise, seed});
}

}  // namespace infermem::test

namespace infermem::test {

// A stationary AR(1) memory series: y_i = level + slope * i + e_i, with
// e_i = phi e_{i-1} + sqrt(1 - phi^2) sigma n_i (so e's spread is sigma whatever phi), seeded.
// Memory read after every request is autocorrelated like this (docs/verdicts.md).
inline std::vector<double> ar1_series(std::size_t n, double phi, double sigma, double slope,
                                      std::uint32_t seed, double level = 200 * kMiB) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<double> y(n);
  double e = sigma * noise(rng);
  const double innovation = sigma * std::sqrt(1 - phi * phi);
  for (std::size_t i = 0; i < n; ++i) {
    e = phi * e + innovation * noise(rng);
    y[i] = level + slope * static_cast<double>(i + 1) + e;
  }
  return y;
}

// 1, 2, ..., n: requests done at each reading.
inline std::vector<double> request_axis(std::size_t n) {
  std::vector<double> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<double>(i + 1);
  return x;
}

}  // namespace infermem::test
