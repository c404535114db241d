// The fragmentation rule on the allocator's free bytes (src/verdict/fragmentation.cpp) on
// synthetic series whose truth is known: a static gap is not fragmentation; free bytes that grow
// over the run, or that stay far above in-use after the load, are.
#include <gtest/gtest.h>

#include <random>

#include "infermem/verdict.h"
#include "synthetic.h"

using namespace infermem;
using namespace infermem::test;

namespace {

struct Shape {
  std::function<double(std::size_t)> free;    // noise-free free bytes after request i
  std::function<double(std::size_t)> in_use;  // noise-free in-use bytes after request i
  std::size_t requests = 1000;
  std::uint32_t seed = 1;
};

// RSS = in-use + free + 20 MiB of file pages, with 1 MiB of noise on the free bytes (glibc's free
// lists move by a few hundred KiB to a few MiB between requests on a mixed-shape soak).
Series series(const Shape& shape) {
  std::mt19937 rng(shape.seed);
  std::normal_distribution<double> noise(0.0, 1 * kMiB);
  Series s;
  s.name = "synthetic";
  s.current_source = "synthetic VmRSS";
  for (std::size_t i = 0; i < shape.requests; ++i) {
    SeriesPoint p;
    p.req = static_cast<std::int64_t>(i + 1);
    p.t_ms = 100.0 * static_cast<double>(i);
    p.phase = i < 3 ? Phase::warm : Phase::infer;
    p.allocator_in_use_bytes = shape.in_use(i);
    p.allocator_free_bytes = std::max(0.0, shape.free(i) + noise(rng));
    p.anon_bytes = p.allocator_in_use_bytes + p.allocator_free_bytes;
    p.current_bytes = p.anon_bytes + 20 * kMiB;
    s.points.push_back(p);
  }
  return s;
}

double flat_in_use(std::size_t) {
  return 120 * kMiB;
}

std::string evidence(const Verdict& v) {
  std::string out;
  for (const auto& e : v.evidence) out += e + "\n";
  return out;
}

// After the load: the last unload's allocator figures.
SeriesContext after_load(double free, double in_use) {
  SeriesContext c;
  c.after_load_free_bytes = free;
  c.after_load_in_use_bytes = in_use;
  c.after_load_anon_bytes = free + in_use;
  return c;
}

}  // namespace

TEST(FreeHeld, AStaticGapIsNotFragmentation) {
  // 60 MiB free beside 120 MiB in use from the first request to the last, in 10 seeds: glibc's
  // normal free lists (arena=off), however large the gap, do not grow.
  for (std::uint32_t seed = 1; seed <= 10; ++seed) {
    Verdict v = judge(series({[](std::size_t) { return 60 * kMiB; }, flat_in_use, 1000, seed}),
                      after_load(20 * kMiB, 30 * kMiB));
    EXPECT_NE(v.kind, VerdictKind::fragmentation) << "seed " << seed << "\n" << evidence(v);
    EXPECT_NE(v.kind, VerdictKind::leak) << "seed " << seed << "\n" << evidence(v);
  }
}

TEST(FreeHeld, AFreeListStepThatStaysIsNotFragmentation) {
  // +12 MiB of free lists when a larger shape first arrives (request 300), flat after: a gap
  // that does not grow after the step.
  Verdict v =
      judge(series({[](std::size_t i) { return (i < 300 ? 40 : 52) * kMiB; }, flat_in_use}));
  EXPECT_NE(v.kind, VerdictKind::fragmentation) << evidence(v);
}

TEST(FreeHeld, GrowingFreeBytesAreFragmentation) {
  // 32 KiB a request of free heap that is never reused: +31 MiB over 1000 requests, in-use flat.
  // RSS follows, so current memory alone reads as a leak; the free bytes say what it is.
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    Verdict v = judge(
        series({[](std::size_t i) { return 30 * kMiB + 32 * kKiB * i; }, flat_in_use, 1000, seed}));
    EXPECT_EQ(v.kind, VerdictKind::fragmentation) << "seed " << seed << "\n" << evidence(v);
    ASSERT_NE(v.decisive_finding(), nullptr);
    const auto* held = std::get_if<finding::FreeHeld>(&v.decisive_finding()->detail);
    ASSERT_NE(held, nullptr);
    EXPECT_EQ(held->outcome, finding::FreeHeld::Outcome::growing);
    EXPECT_TRUE(held->replaces_leak);
    // The slope is the injected 32 KiB/request; 25% covers the 1 MiB noise on 1000 points.
    EXPECT_NEAR(held->slope, 32 * kKiB, 8 * kKiB);
  }
}

TEST(FreeHeld, SmallFreeGrowthBelowTheFloorIsNotFragmentation) {
  // 4 KiB a request over 1000 requests: +3.9 MiB, below the 8 MiB floor even if significant.
  Verdict v = judge(series({[](std::size_t i) { return 30 * kMiB + 4 * kKiB * i; }, flat_in_use}));
  EXPECT_NE(v.kind, VerdictKind::fragmentation) << evidence(v);
}

TEST(FreeHeld, HighFreeAfterTheLoadIsFragmentation) {
  // Flat while serving, but after unload 150 MiB stays free beside 20 MiB in use (above 32 MiB
  // and 2x in use): memory the process keeps and cannot use.
  Verdict v = judge(series({[](std::size_t) { return 40 * kMiB; }, flat_in_use}),
                    after_load(150 * kMiB, 20 * kMiB));
  EXPECT_EQ(v.kind, VerdictKind::fragmentation) << evidence(v);
  const auto* held = std::get_if<finding::FreeHeld>(&v.decisive_finding()->detail);
  ASSERT_NE(held, nullptr);
  EXPECT_EQ(held->outcome, finding::FreeHeld::Outcome::high_after_load);
}

TEST(FreeHeld, FreeBytesATrimReturnedDoNotCountAfterTheLoad) {
  // mallinfo2 still counts 150 MiB free after malloc_trim, but RssAnon is only 30 MiB: the trim
  // returned the pages, so at most 10 MiB stays held.
  SeriesContext c = after_load(150 * kMiB, 20 * kMiB);
  c.after_load_anon_bytes = 30 * kMiB;
  Verdict v = judge(series({[](std::size_t) { return 40 * kMiB; }, flat_in_use}), c);
  EXPECT_NE(v.kind, VerdictKind::fragmentation) << evidence(v);
}

TEST(FreeHeld, ALeakOfLiveAllocationsStaysALeak) {
  // In-use grows 64 KiB a request and free grows too (the heap grows around live blocks): the
  // live allocations are the leak; fragmentation never replaces it.
  Verdict v = judge(series({[](std::size_t i) { return 30 * kMiB + 16 * kKiB * i; },
                            [](std::size_t i) { return 120 * kMiB + 64 * kKiB * i; }}));
  EXPECT_EQ(v.kind, VerdictKind::leak) << evidence(v);
}

TEST(FreeHeld, WithoutFreeBytesTheOlderRulesDecide) {
  // No allocator_free_bytes (an imported CSV, mimalloc): the in-use rule decides as before.
  Series s = series({[](std::size_t i) { return 30 * kMiB + 32 * kKiB * i; }, flat_in_use});
  for (auto& p : s.points) p.allocator_free_bytes = kAbsent;
  Verdict v = judge(s);
  for (const auto& f : v.findings)
    EXPECT_FALSE(std::holds_alternative<finding::FreeHeld>(f.detail));
}
