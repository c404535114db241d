// The fragmenter behind soak --inject-fragmentation: it must leave free heap in holes the
// allocator keeps (free bytes grow by about the size a call) while what is in use grows only by
// the pins. Read from glibc's own counters, as the probe reads them in a soak child.
#include "workload/fragmenter.h"

#include <gtest/gtest.h>
#include <malloc.h>

namespace {

#if !defined(INFERMEM_SANITIZED)
struct Heap {
  double free, in_use;
};

Heap heap() {
  struct mallinfo2 m = mallinfo2();
  return {static_cast<double>(m.fordblks), static_cast<double>(m.uordblks)};
}
#endif

TEST(Fragmenter, FreeBytesGrowByAboutTheSizeACallWhileInUseGrowsByThePins) {
#if defined(INFERMEM_SANITIZED)
  GTEST_SKIP() << "needs glibc malloc (ASan's allocator keeps no holes and no mallinfo2)";
#else
  constexpr std::uint64_t kSize = 256 * 1024;
  constexpr int kCalls = 40;
  infermem::inject_fragmentation(kSize);  // the first call only allocates: its chunks are live
  const Heap before = heap();
  for (int i = 0; i < kCalls; ++i) infermem::inject_fragmentation(kSize);
  const Heap after = heap();
  const double expected = static_cast<double>(kSize) * kCalls;  // 10 MiB
  // Each call leaves one call's chunks as holes, less the 64-byte pins; the margin (±25%) covers
  // this test program's own allocations between the readings (gtest's, a few KiB), which is all
  // that runs on this thread, and the allocator's per-chunk headers.
  EXPECT_NEAR(after.free - before.free, expected, 0.25 * expected);
  // In use: the fresh chunks of the last call (one call's size) plus 64 bytes a chunk.
  const double pins = 64.0 * 4 * kCalls;
  EXPECT_LT(after.in_use - before.in_use, static_cast<double>(kSize) + pins + 256 * 1024.0);
#endif
}

TEST(Fragmenter, ZeroDoesNothing) {
#if !defined(INFERMEM_SANITIZED)
  const Heap before = heap();
  infermem::inject_fragmentation(0);
  const Heap after = heap();
  EXPECT_EQ(after.free, before.free);
  EXPECT_EQ(after.in_use, before.in_use);
#endif
}

}  // namespace
