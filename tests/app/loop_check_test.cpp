// The loop check behind infermem/gtest.hpp and the pytest plugin, on loops with known growth.
#include "infermem/loop_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "infermem/error.h"
#include "infermem/gtest.hpp"

namespace {

using infermem::LoopLimits;

// A "leak" the test can still free: every block is kept until the test ends (LeakSanitizer runs
// on these tests too), and touched so it is resident.
struct Retainer {
  std::vector<std::unique_ptr<char[]>> kept;
  void leak(std::size_t bytes) {
    kept.emplace_back(new char[bytes]);
    std::memset(kept.back().get(), 7, bytes);
  }
};

LoopLimits cap(double growth) {
  LoopLimits l;
  l.max_growth_bytes = growth;
  return l;
}

TEST(LoopCheck, ALoopLeaking16KiBAnIterationFails) {
  Retainer r;
  auto report = infermem::check_loop([&] { r.leak(16 << 10); }, cap(4096));
  EXPECT_FALSE(report.passed) << report.message;
  EXPECT_TRUE(report.growth_failed) << report.message;
  EXPECT_EQ(report.kind, "leak") << report.message;
  // The rate is 16 KiB/iteration give or take what the allocator adds per block (headers, page
  // rounding on the RSS axis): a wide margin, the point is the order of magnitude.
  EXPECT_GT(report.rate_bytes, 12 << 10) << report.message;
  EXPECT_LT(report.rate_bytes, 24 << 10) << report.message;
  EXPECT_EQ(report.iterations, r.kept.size());
  // Four short lines: verdict, rate with its interval, peak, kind.
  EXPECT_NE(report.message.find("verdict: FAIL: memory grows per iteration"), std::string::npos);
  EXPECT_NE(report.message.find("rate: "), std::string::npos);
  EXPECT_NE(report.message.find("95% interval ["), std::string::npos);
  EXPECT_NE(report.message.find("\npeak: "), std::string::npos);
  EXPECT_NE(report.message.find("\nkind: leak"), std::string::npos);
}

TEST(LoopCheck, ALoopThatTouchesNoNewMemoryPasses) {
  std::vector<char> buffer(1 << 20);
  int round = 0;
  auto report =
      infermem::check_loop([&] { std::memset(buffer.data(), ++round, buffer.size()); }, cap(4096));
  EXPECT_TRUE(report.passed) << report.message;
  EXPECT_NE(report.message.find("verdict: pass"), std::string::npos) << report.message;
  // The loop ran until the engine could see half the cap (1 MiB over the judged window at
  // least: at 4 KiB that is more than 256 iterations), and no further than the ceiling.
  EXPECT_GE(report.iterations, 256u);
  EXPECT_LE(report.iterations, LoopLimits{}.max_iterations);
  EXPECT_LE(report.min_detectable_bytes, 2048) << report.message;
}

TEST(LoopCheck, AnAllocatingLoopThatFreesPasses) {
#if defined(INFERMEM_SANITIZED)
  GTEST_SKIP() << "AddressSanitizer's quarantine keeps freed blocks resident: RSS grows";
#endif
  auto report = infermem::check_loop(
      [] {
        std::vector<char> block(16 << 10, 3);
        asm volatile("" : : "r"(block.data()) : "memory");
      },
      cap(4096));
  EXPECT_TRUE(report.passed) << report.message;
}

TEST(LoopCheck, APeakOverTheCapFails) {
  if (!infermem::self::reset_hwm()) GTEST_SKIP() << "clear_refs is not writable here";
  LoopLimits l = cap(64 << 10);
  l.max_peak_bytes = infermem::self::rss_bytes() + 32.0 * (1 << 20);
  bool once = false;
  auto report = infermem::check_loop(
      [&] {
        if (once) return;
        once = true;
        std::vector<char> big(96 << 20, 1);  // resident for a moment, then freed
        asm volatile("" : : "r"(big.data()) : "memory");
      },
      l);
  EXPECT_FALSE(report.passed) << report.message;
  EXPECT_TRUE(report.peak_failed) << report.message;
  EXPECT_NE(report.message.find("verdict: FAIL: peak over the"), std::string::npos);
}

TEST(LoopCheck, ACeilingTooLowToSeeTheCapIsUndecided) {
  LoopLimits l = cap(16);  // 16 bytes an iteration: 1 MiB / 16 B = 65536 iterations to see
  l.max_iterations = 100;
  auto report = infermem::check_loop([] {}, l);
  EXPECT_FALSE(report.passed);
  EXPECT_TRUE(report.undecided) << report.message;
  EXPECT_EQ(report.iterations, 100u);
  EXPECT_NE(report.message.find("undecided"), std::string::npos);
  l.allow_undecided = true;
  EXPECT_TRUE(infermem::check_loop([] {}, l).passed);
}

TEST(LoopCheck, LimitsParseAsSizesAndNameWhatWasWrong) {
  auto l = infermem::testing::limits("16KiB", "300MiB");
  EXPECT_EQ(l.max_growth_bytes, 16 * 1024);
  EXPECT_EQ(l.max_peak_bytes, 300.0 * 1024 * 1024);
  EXPECT_TRUE(std::isnan(infermem::testing::limits("1KiB").max_peak_bytes));
  try {
    infermem::testing::limits("lots");
    FAIL() << "no error";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("max_growth"), std::string::npos) << e.what();
  }
}

// The assertions themselves: the gtest.hpp wrappers give the same outcome and message.
TEST(GtestAssertions, WrapTheLoopCheck) {
  Retainer r;
  auto leaking = infermem::testing::MemoryStaysFlat([&] { r.leak(16 << 10); },
                                                    infermem::testing::limits("4KiB"));
  EXPECT_FALSE(leaking);
  EXPECT_NE(std::string(leaking.message()).find("kind: leak"), std::string::npos);
  INFERMEM_EXPECT_FLAT(infermem::testing::limits("4KiB"), { asm volatile("" ::: "memory"); });
  EXPECT_TRUE(infermem::testing::PeakStaysBelow("64GiB", [] {}));
}

}  // namespace
