#pragma once
// GoogleTest assertions over infermem (header-only; link infermem::infermem and GTest).
//
//   #include <infermem/gtest.hpp>
//
//   TEST(Service, RequestsDoNotLeak) {
//     Service service;
//     // Fails when memory grows 4 KiB or more per iteration, judged by the verdict engine over
//     // every iteration's reading, or when the process's peak passes 300 MiB.
//     EXPECT_TRUE(infermem::testing::MemoryStaysFlat([&] { service.handle(request()); },
//                                                    infermem::testing::limits("4KiB", "300MiB")));
//   }
//
//   TEST(Service, OneRequestPeak) {
//     EXPECT_TRUE(infermem::testing::PeakStaysBelow("200MiB", [&] { service.handle(big()); }));
//   }
//
// The loop count is chosen for you: from `min_iterations`, doubling until the engine could see
// half of max_growth per iteration, up to `max_iterations` (infermem/loop_check.h). A failure
// reads, one line each: the verdict, the rate with its interval, the peak, the kind.
#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "infermem/loop_check.h"
#include "infermem/request_scope.h"
#include "infermem/units.h"

namespace infermem::testing {

// limits("4KiB") caps growth per iteration; limits("4KiB", "300MiB") also the peak.
inline LoopLimits limits(const std::string& max_growth, const std::string& max_peak = "") {
  LoopLimits l;
  l.max_growth_bytes = parse_limit(max_growth, "max_growth");
  if (!max_peak.empty()) l.max_peak_bytes = parse_limit(max_peak, "max_peak");
  return l;
}

// Runs `body` in a loop and judges every iteration's reading (see above).
template <class Body>
::testing::AssertionResult MemoryStaysFlat(Body&& body, const LoopLimits& limits = {}) {
  LoopReport report = check_loop([&body] { body(); }, limits);
  if (report.passed) return ::testing::AssertionSuccess() << report.message;
  return ::testing::AssertionFailure() << "\n" << report.message;
}

// One scope (RequestScope): fails when the process's peak resident set during `body` passes
// `max_peak`. Where the kernel's mark cannot be reset the peak is unknown and this passes,
// saying so.
template <class Body>
::testing::AssertionResult PeakStaysBelow(const std::string& max_peak, Body&& body) {
  double cap = parse_limit(max_peak, "max_peak");
  RequestScope scope;
  std::forward<Body>(body)();
  RequestFigures f = scope.close();
  if (!present(f.peak_bytes))
    return ::testing::AssertionSuccess() << "peak: n/a (/proc/self/clear_refs is not writable)";
  std::string lines = "\npeak: " + format_bytes(f.peak_bytes) + " (VmHWM during the scope, " +
                      format_bytes(f.rss_start_bytes) + " before it), cap " + format_bytes(cap) +
                      "\ngrowth: " + format_bytes(f.growth_bytes);
  if (f.peak_bytes > cap)
    return ::testing::AssertionFailure()
           << "\nverdict: FAIL: peak over the " << format_bytes(cap) << " cap" << lines;
  return ::testing::AssertionSuccess() << "verdict: pass" << lines;
}

}  // namespace infermem::testing

// EXPECT_/ASSERT_ forms: INFERMEM_EXPECT_FLAT(infermem::testing::limits("4KiB"), { body; });
#define INFERMEM_EXPECT_FLAT(limits, ...) \
  EXPECT_TRUE(::infermem::testing::MemoryStaysFlat([&] __VA_ARGS__, limits))
#define INFERMEM_ASSERT_FLAT(limits, ...) \
  ASSERT_TRUE(::infermem::testing::MemoryStaysFlat([&] __VA_ARGS__, limits))
