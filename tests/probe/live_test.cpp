// Live readings of processes whose memory the test controls: a forked child that maps and touches
// exact amounts (tests/probe/controlled_child.h), and this test process itself.
//
// Margins: the child does nothing but the commanded mmap, so its resident set moves by the block
// size give or take transparent-huge-page rounding (2 MiB at each end) and a few pages of its own
// stack and pipe handling. ±24 MiB also covers reclaim on a busy shared machine nibbling at the
// block. Sanitizer builds are fine: the child's mmap and page touching are not instrumented.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "infermem/error.h"
#include "infermem/probe.h"
#include "infermem/process_tree.h"
#include "infermem/sampler.h"
#include "probe/controlled_child.h"

namespace infermem::probe {
namespace {

using test::ControlledChild;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kMarginBytes = 24 * kMiB;
constexpr double kBlock = static_cast<double>(ControlledChild::kBlockBytes);
constexpr double kSpike = static_cast<double>(ControlledChild::kSpikeBytes);

double value(const Reading& r, std::string_view key) {
  auto f = infermem::parse_figure(key);
  EXPECT_TRUE(f) << key << " is no figure";
  auto v = f ? r.get(*f) : std::nullopt;
  EXPECT_TRUE(v) << key << " missing";
  return v.value_or(-1);
}

// Polls cond every millisecond until it holds or 300 s pass (a deadline on the clock, generous:
// it only turns a wedged sampler into a failure; a count of 1 ms sleeps is no clock under load).
template <class Cond>
void wait_until(Cond cond) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  while (!cond() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

double anonymous_rss(const Snapshot& s) {
  return s.categories[static_cast<int>(Category::kAnonymous)].rss_bytes;
}

TEST(LiveProbe, TouchedAnonymousBlockShowsInRssAnonAndTheAnonymousCategory) {
  ControlledChild child;
  Reading before = read_process(child.pid());
  Snapshot snap_before = take_snapshot(child.pid());
  child.allocate_block();
  Reading after = read_process(child.pid());
  Snapshot snap_after = take_snapshot(child.pid());

  EXPECT_NEAR(value(after, "rss_anon_bytes") - value(before, "rss_anon_bytes"), kBlock,
              kMarginBytes);
  EXPECT_NEAR(value(after, "rss_bytes") - value(before, "rss_bytes"), kBlock, kMarginBytes);
  EXPECT_NEAR(value(after, "pss_anon_bytes") - value(before, "pss_anon_bytes"), kBlock,
              kMarginBytes);
  EXPECT_NEAR(anonymous_rss(snap_after) - anonymous_rss(snap_before), kBlock, kMarginBytes);
}

TEST(LiveProbe, StatmGivesTheSameResidentSetAsStatus) {
  ControlledChild child;
  child.allocate_block();
  Reading status = read_process(child.pid(), kStatus);
  Reading statm = read_process(child.pid(), kStatm);
  // The same kernel counters read a moment apart by a child that does nothing in between.
  EXPECT_NEAR(value(statm, "rss_bytes"), value(status, "rss_bytes"), 64 * 1024.0);
  EXPECT_NEAR(value(statm, "rss_anon_bytes"), value(status, "rss_anon_bytes"), 64 * 1024.0);
}

TEST(LiveProbe, AProcessTreeSumsItsProcessesAndFindsChildrenAsTheyCome) {
  // This test process is the root; the controlled child comes after the tree is made.
  ProcessTree tree(TreeOptions{static_cast<int>(::getpid()), 1, 1, 1, false});
  TreeSample first;
  tree.sample(first);
  ASSERT_TRUE(first.root_alive);
  const std::size_t before = first.processes.size();
  ControlledChild child;
  child.allocate_block();
  TreeSample second;
  tree.sample(second);
  ASSERT_EQ(second.processes.size(), before + 1) << "the new child is found";
  double sum = 0;
  for (const auto& p : second.processes) sum += p.rss_bytes;
  EXPECT_DOUBLE_EQ(second.rss_bytes, sum);
  EXPECT_TRUE(second.detail);
  EXPECT_TRUE(second.total.get(Figure::hwm_bytes).has_value());
  auto it = std::find_if(second.processes.begin(), second.processes.end(),
                         [&](const ProcessSample& p) { return p.pid == child.pid(); });
  ASSERT_NE(it, second.processes.end());
  EXPECT_NEAR(it->rss_bytes, value(read_process(child.pid(), kStatus), "rss_bytes"), kMarginBytes);
  EXPECT_GE(it->rss_bytes, kBlock - kMarginBytes);
}

TEST(LiveProbe, SnapshotCategoriesAddUpToVmRssWithinAPagePerMapping) {
  ControlledChild child;
  child.allocate_block();
  Snapshot snap = take_snapshot(child.pid());
  double sum = 0;
  for (const auto& c : snap.categories) sum += c.rss_bytes;
  EXPECT_EQ(sum, snap.total.rss_bytes);
  // smaps and status are read a moment apart and VmRSS comes from per-mm counters: a page of
  // slack per mapping is the contract's tolerance.
  double slack = 4096.0 * static_cast<double>(snap.total.mappings_count);
  EXPECT_NEAR(snap.total.rss_bytes, value(snap.status, "rss_bytes"), slack);
  EXPECT_GE(snap.total.mappings_count, 5u);
}

TEST(LiveProbe, FreedBlockDropsVmRssButNotVmHwmUntilPeaksAreReset) {
  ControlledChild child;
  child.allocate_block();
  Reading held = read_process(child.pid(), kStatus);
  child.free_block();
  Reading freed = read_process(child.pid(), kStatus);

  EXPECT_NEAR(value(held, "rss_bytes") - value(freed, "rss_bytes"), kBlock, kMarginBytes);
  // VmHWM is a high-water mark: freeing does not lower it.
  EXPECT_GE(value(freed, "hwm_bytes"), value(held, "rss_bytes") - kMarginBytes);

  ResetResult reset = reset_peaks(child.pid());
  ASSERT_TRUE(reset.vm_hwm) << "clear_refs not writable (needs Linux 4.0+ and the same user)";
  Reading after_reset = read_process(child.pid(), kStatus);
  EXPECT_LT(value(after_reset, "hwm_bytes"), value(freed, "rss_bytes") + kMarginBytes);
}

TEST(LiveProbe, SamplerThreadCatchesASpikeThatReadingsAtTheEndsMiss) {
  ControlledChild child;
  double base = value(read_process(child.pid(), kStatus), "rss_bytes");
  Sampler sampler(SamplerOptions{child.pid(), 1000, kStatus, 4096});
  sampler.start();
  sampler.begin_scope();
  Reading start = read_process(child.pid(), kStatus);
  child.begin_spike();  // returns once every page of the spike is touched
  // Hold the spike until the sampler thread has finished a reading that began after it was
  // touched: the one in flight now may have begun before, the next one cannot. A fixed hold
  // (it was 50 ms) is a guess that a shared machine breaks whenever it stalls this thread for
  // longer; waiting for samples holds under any load. Bounded, so a wedged sampler fails
  // instead of hanging.
  const std::uint64_t seen = sampler.samples_taken();
  wait_until([&] { return sampler.samples_taken() >= seen + 2; });
  const std::uint64_t during = sampler.samples_taken();
  child.end_spike();
  Reading end = read_process(child.pid(), kStatus);
  Reading peak = sampler.end_scope();
  sampler.stop();
  ASSERT_GE(during, seen + 2) << "the sampler thread took no reading while the spike was held";
  EXPECT_LT(value(start, "rss_bytes"), base + kMarginBytes);
  EXPECT_LT(value(end, "rss_bytes"), base + kMarginBytes);
  double peak_rss = value(peak, "rss_bytes");
  EXPECT_GE(peak_rss, base + kSpike - kMarginBytes) << "the scope's peak missed the spike";
  EXPECT_LT(peak_rss, base + kSpike + kMarginBytes);
}

TEST(LiveProbe, ReadingADeadPidIsAnInputErrorNamingThePidAndFile) {
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  int status = 0;
  waitpid(pid, &status, 0);
  try {
    read_process(pid);
    FAIL() << "read_process of dead pid " << pid << " did not throw";
  } catch (const InputError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("/proc/" + std::to_string(pid) + "/status"), std::string::npos)
        << message;
  }
  EXPECT_THROW(take_snapshot(pid), InputError);
  EXPECT_THROW(Sampler(SamplerOptions{pid, 1000, kStatus, 16}), InputError);
}

TEST(SelfProbe, AllocatorInUseGrowsByAnAllocationThatIsHeld) {
  Reading before = read_self(kAllocator);
  constexpr std::size_t kBytes = 64u << 20;
  void* volatile block = std::malloc(kBytes);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  Reading after = read_self(kAllocator);
  std::free(block);
  // Whatever allocator serves this process (glibc, or ASan's in sanitizer builds) counts the
  // whole block as in use; 1 MiB covers other allocations made meanwhile by the test runner.
  EXPECT_NEAR(value(after, "malloc_in_use_bytes") - value(before, "malloc_in_use_bytes"),
              static_cast<double>(kBytes), kMiB);
  EXPECT_FALSE(after.get(Figure::rss_bytes)) << "status was not asked for";
}

TEST(SelfProbe, ReadSelfReadsEverySourceThisMachineHas) {
  Reading r = read_self();
  EXPECT_GT(value(r, "rss_bytes"), 0);
  EXPECT_GT(value(r, "pss_bytes"), 0);
  EXPECT_GE(value(r, "threads_count"), 1);
  EXPECT_TRUE(r.get(Figure::malloc_in_use_bytes));
  // A memory cgroup is optional (CI containers may hide it), but when read it must be sane.
  if (auto current = r.get(Figure::cgroup_current_bytes)) {
    EXPECT_GT(*current, 0);
  }
}

TEST(SamplerScope, BeginAndEndSamplesCountEvenWithoutTheThread) {
  Sampler sampler(SamplerOptions{0, 1000, kStatus, 16});
  constexpr std::size_t kBytes = 64u << 20;
  void* block = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(block, MAP_FAILED);
  std::memset(block, 1, kBytes);
  double held = value(read_self(kStatus), "rss_bytes");
  sampler.begin_scope();  // takes a sample with the block resident
  munmap(block, kBytes);
  Reading peak = sampler.end_scope();
  double now = value(read_self(kStatus), "rss_bytes");
  EXPECT_GE(value(peak, "rss_bytes"), held - kMarginBytes);
  EXPECT_LT(now, held - 32 * kMiB);  // the block really was given back before end_scope
  EXPECT_EQ(sampler.samples_taken(), 2u);
}

TEST(SamplerRing, KeepsTheNewestSamplesInOrderAndCountsTheDropped) {
  Sampler sampler(SamplerOptions{0, 1000, kStatus, 8});
  std::atomic<unsigned> sink_calls{0};
  sampler.set_sink(
      [&](double, const Reading& r) {
        if (r.get(Figure::rss_bytes)) ++sink_calls;
      },
      2);
  sampler.start();
  // Wait for samples, not for time: bounded so a wedged sampler fails instead of hanging.
  wait_until([&] { return sampler.samples_taken() >= 20; });
  sampler.stop();
  std::uint64_t taken = sampler.samples_taken();
  ASSERT_GE(taken, 20u);
  auto samples = sampler.drain();
  ASSERT_EQ(samples.size(), 8u);
  EXPECT_EQ(sampler.samples_dropped(), taken - 8);
  for (std::size_t i = 1; i < samples.size(); ++i)
    EXPECT_LT(samples[i - 1].first, samples[i].first);
  EXPECT_TRUE(samples.back().second.get(Figure::rss_bytes));
  EXPECT_EQ(sink_calls.load(), taken / 2);
  EXPECT_TRUE(sampler.drain().empty());
}

}  // namespace
}  // namespace infermem::probe
