// The fragmenter behind soak --inject-fragmentation: it must leave free heap in holes the
// allocator keeps (free bytes grow by about the size a call) while what is in use grows only by
// the pins. Read from glibc's own counters, as the probe reads them in a soak child.
#include "workload/fragmenter.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdio>
#include <cstdlib>

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

#if !defined(INFERMEM_SANITIZED)
// Measured in a child of its own (a death-test fork): the heap the other tests leave behind, and
// any malloc setting they changed (a lower M_MMAP_THRESHOLD turns the chunks into mappings that
// free unmaps), must not decide the figures. The child sets glibc's default mmap threshold and
// exits 0 when both bounds hold, or prints the figures and exits 1.
void measure_holes() {
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);  // glibc's default: 64 KiB chunks come from the heap
  constexpr std::uint64_t kSize = 256 * 1024;
  constexpr int kCalls = 100;
  infermem::inject_fragmentation(kSize);  // the first call only allocates: its chunks are live
  const Heap before = heap();
  for (int i = 0; i < kCalls; ++i) infermem::inject_fragmentation(kSize);
  const Heap after = heap();
  const double expected = static_cast<double>(kSize) * kCalls;  // 25 MiB
  // Each call leaves one call's chunks as holes, less the 64-byte pins. The fresh chunks may be
  // carved from free heap that was there before (reuse lowers the free bytes), but from no more
  // than there was: the rise is at least the holes less what was free before, less 10% for the
  // pins and headers; and at most 10% above the holes.
  const double rise = after.free - before.free;
  // In use: the fresh chunks of the last call (one call's size) plus 64 bytes a chunk.
  const double in_use = after.in_use - before.in_use;
  const bool ok = rise >= 0.9 * expected - before.free && rise <= 1.1 * expected &&
                  in_use < static_cast<double>(kSize) + 64.0 * 4 * kCalls + 256 * 1024.0;
  if (!ok)
    std::fprintf(stderr, "free rose %.0f (before %.0f), in use rose %.0f, holes %.0f\n", rise,
                 before.free, in_use, expected);
  std::_Exit(ok ? 0 : 1);
}
#endif

TEST(Fragmenter, FreeBytesGrowByAboutTheSizeACallWhileInUseGrowsByThePins) {
#if defined(INFERMEM_SANITIZED)
  GTEST_SKIP() << "needs glibc malloc (ASan's allocator keeps no holes and no mallinfo2)";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(measure_holes(), ::testing::ExitedWithCode(0), "");
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
