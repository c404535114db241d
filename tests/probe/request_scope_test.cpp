#include "infermem/request_scope.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace {

using infermem::RequestScope;
using infermem::RequestScopeOptions;
constexpr double kMiB = 1024.0 * 1024;

// Touches every page so the bytes become resident (an untouched malloc block costs no RSS).
std::unique_ptr<char[]> touched(std::size_t bytes) {
  std::unique_ptr<char[]> block(new char[bytes]);
  std::memset(block.get(), 1, bytes);
  return block;
}

// Margins: the test process is single-threaded, but the allocator and the kernel's per-thread
// RSS counter batching move RSS by a few hundred KiB; every bound below leaves 8 MiB or more.
TEST(RequestScope, PeakSeesATransientBlockThatGrowthDoesNot) {
  if (!infermem::self::reset_hwm()) GTEST_SKIP() << "clear_refs is not writable here";
  RequestScope scope;
  { auto block = touched(64 << 20); }  // freed before close: an mmap'd block goes back at once
  auto f = scope.close();
  ASSERT_TRUE(std::isfinite(f.peak_bytes));
  EXPECT_FALSE(f.peak_shared);
  EXPECT_GE(f.peak_bytes - f.rss_start_bytes, 56 * kMiB);
#if !defined(INFERMEM_SANITIZED)  // ASan's quarantine keeps the freed block resident
  EXPECT_LT(f.growth_bytes, 8 * kMiB);
#endif
  EXPECT_GE(f.duration_ms, 0);
}

TEST(RequestScope, GrowthSeesRetainedMemory) {
  std::unique_ptr<char[]> kept;
  RequestScope scope(RequestScopeOptions{.peak = true, .allocator = true});
  kept = touched(32 << 20);
  auto f = scope.close();
  EXPECT_GE(f.growth_bytes, 24 * kMiB);
  EXPECT_LE(f.growth_bytes, 48 * kMiB);
  ASSERT_TRUE(std::isfinite(f.allocator_in_use_growth_bytes));
  EXPECT_GE(f.allocator_in_use_growth_bytes, 32 * kMiB);
  if (std::isfinite(f.peak_bytes)) {
    EXPECT_GE(f.peak_bytes, f.rss_end_bytes);
  }
}

// getrusage keeps the mark of every exited thread, which clear_refs does not reset: after a thread
// exits holding an old 96 MiB mark, the scope must not report that mark as its peak.
TEST(RequestScope, AnExitedThreadsOldMarkIsNotTheScopesPeak) {
  if (!infermem::self::reset_hwm()) GTEST_SKIP() << "clear_refs is not writable here";
  { auto block = touched(96 << 20); }
  std::thread([] {}).join();  // the kernel keeps the process's mark at this thread's exit
  RequestScope scope;
  auto f = scope.close();
  ASSERT_TRUE(std::isfinite(f.peak_bytes));
  EXPECT_LT(f.peak_bytes - f.rss_start_bytes, 32 * kMiB);
  EXPECT_GE(f.peak_bytes, f.rss_end_bytes);
}

TEST(RequestScope, CloseTwiceGivesTheSameFigures) {
  RequestScope scope;
  auto first = scope.close();
  auto second = scope.close();
  EXPECT_TRUE(scope.closed());
  EXPECT_EQ(first.rss_start_bytes, second.rss_start_bytes);
  EXPECT_EQ(first.rss_end_bytes, second.rss_end_bytes);
  EXPECT_GT(first.rss_start_bytes, 0);
  EXPECT_TRUE(std::isnan(first.allocator_in_use_growth_bytes));  // not asked for
}

TEST(RequestScope, AnInnerScopeIsMarkedSharedAndItsPeakCoversTheOuterWindow) {
  if (!infermem::self::reset_hwm()) GTEST_SKIP() << "clear_refs is not writable here";
  RequestScope outer;
  { auto block = touched(64 << 20); }  // before the inner scope opened
  RequestScope inner;                  // no reset: the outer scope is open
  auto in = inner.close();
  auto out = outer.close();
  EXPECT_TRUE(in.peak_shared);
  EXPECT_FALSE(out.peak_shared);
#if !defined(INFERMEM_SANITIZED)  // ASan's quarantine keeps the freed block resident at the start
  // Never lower than the request's own: the inner peak still holds the outer window's block.
  EXPECT_GE(in.peak_bytes - in.rss_start_bytes, 56 * kMiB);
#endif
}

TEST(RequestScope, WithoutPeakNoMarkIsRead) {
  RequestScope scope(RequestScopeOptions{.peak = false});
  auto f = scope.close();
  EXPECT_TRUE(std::isnan(f.peak_bytes));
  EXPECT_FALSE(f.peak_shared);
}

TEST(RequestScopeSelf, ReadingsAreConsistent) {
  double rss = infermem::self::rss_bytes();
  double hwm = infermem::self::hwm_bytes();
  ASSERT_TRUE(std::isfinite(rss));
  ASSERT_TRUE(std::isfinite(hwm));
  EXPECT_GT(rss, 1 * kMiB);
  // VmHWM can trail VmRSS by the kernel's per-thread counter batch (64 pages a thread).
  EXPECT_GE(hwm + 4 * kMiB, rss);
}

}  // namespace
