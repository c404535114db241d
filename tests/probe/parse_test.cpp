// The probe's parsers on recorded kernel texts (tests/data/proc): a current kernel, old kernels
// without RssAnon or Pss_Anon, cgroup v1 (hybrid host, co-mounted controllers) and v2 ("max"
// limits, oom_kill events, kernels before memory.peak).
#include <gtest/gtest.h>
#include <fstream>
#include <sstream>

#include "probe/categorize.h"
#include "probe/proc_parse.h"
#include "probe/proc_reader.h"

namespace infermem::probe {
namespace {

constexpr double kKiB = 1024.0;
const std::string kDataDir = std::string(INFERMEM_TESTDATA_DIR) + "/proc";

std::string recorded(const std::string& name) {
  std::ifstream in(kDataDir + "/" + name);
  EXPECT_TRUE(in) << "missing test data " << name;
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ParseStatus, ReadsEveryMemoryLineOfACurrentKernelInBytes) {
  Values v;
  parse_status(recorded("status_linux6.txt"), v);
  EXPECT_EQ(v.get(Key::kRss), 1980 * kKiB);
  EXPECT_EQ(v.get(Key::kRssAnon), 576 * kKiB);
  EXPECT_EQ(v.get(Key::kRssFile), 1404 * kKiB);
  EXPECT_EQ(v.get(Key::kRssShmem), 0);
  EXPECT_EQ(v.get(Key::kHwm), 1980 * kKiB);
  EXPECT_EQ(v.get(Key::kSwap), 0);
  EXPECT_EQ(v.get(Key::kThreads), 1);
}

TEST(ParseStatus, OldKernelWithoutRssAnonLeavesThoseKeysAbsentNotZero) {
  Values v;
  parse_status(recorded("status_linux3_no_rssanon.txt"), v);
  EXPECT_EQ(v.get(Key::kRss), 498212 * kKiB);
  EXPECT_EQ(v.get(Key::kHwm), 512340 * kKiB);
  EXPECT_EQ(v.get(Key::kSwap), 10240 * kKiB);
  EXPECT_EQ(v.get(Key::kThreads), 9);
  EXPECT_FALSE(v.has(Key::kRssAnon));
  EXPECT_FALSE(v.has(Key::kRssFile));
  auto reading = v.to_reading();
  EXPECT_FALSE(reading.get(Figure::rss_anon_bytes));
  EXPECT_EQ(reading.get(Figure::rss_bytes), 498212 * kKiB);
}

TEST(ParseStatus, GarbageGivesNoValues) {
  Values v;
  parse_status("VmRSS: lots kB\nVmHWM:\nThreads: -3\n:::\n\n", v);
  EXPECT_TRUE(v.to_reading().values.empty());
}

TEST(ParseSmapsRollup, ReadsPssSplitOnCurrentKernels) {
  Values v;
  parse_smaps_rollup(recorded("smaps_rollup_linux6.txt"), v);
  EXPECT_EQ(v.get(Key::kPss), 435 * kKiB);
  EXPECT_EQ(v.get(Key::kPssAnon), 304 * kKiB);
  EXPECT_EQ(v.get(Key::kPssFile), 131 * kKiB);
  EXPECT_EQ(v.get(Key::kPrivateDirty), 176 * kKiB);
  EXPECT_EQ(v.get(Key::kSharedClean), 1404 * kKiB);
  EXPECT_EQ(v.get(Key::kSmapsSwap), 0);
}

TEST(ParseSmapsRollup, Kernel414HasNoPssAnonAndItIsNotMadeUp) {
  Values v;
  parse_smaps_rollup(recorded("smaps_rollup_linux414.txt"), v);
  EXPECT_EQ(v.get(Key::kPss), 470100 * kKiB);
  EXPECT_EQ(v.get(Key::kSmapsSwap), 10240 * kKiB);
  EXPECT_FALSE(v.has(Key::kPssAnon));
  EXPECT_FALSE(v.has(Key::kPssFile));
}

TEST(ParseSmaps, ReadsEveryMappingWithPathsPermsAndSizes) {
  auto maps = parse_smaps(recorded("smaps_inference_server.txt"));
  ASSERT_EQ(maps.size(), 27u);
  EXPECT_EQ(maps[0].path, "/usr/bin/myserver");
  EXPECT_EQ(maps[0].start, 0x55d0a0000000u);
  EXPECT_EQ(maps[0].size_bytes(), 8 * 1024u);
  EXPECT_EQ(maps[3].path, "[heap]");
  EXPECT_EQ(maps[8].path, "");
  EXPECT_STREQ(maps[8].perms, "rw-p");
  EXPECT_EQ(maps[18].path, "/memfd:pool (deleted)");
  EXPECT_TRUE(maps[18].shared());
  EXPECT_EQ(maps[10].swap_bytes, 1024 * kKiB);
}

TEST(ParseSmaps, KernelsWithoutRollupGetTheSameKeysBySumming) {
  Values v;
  sum_smaps(parse_smaps(recorded("smaps_inference_server.txt")), v);
  EXPECT_EQ(v.get(Key::kSmapsSwap), 1024 * kKiB);
  EXPECT_GT(v.get(Key::kPss), 0);
  // This kernel prints Pss_Anon only in smaps_rollup, never per mapping: absent, not zero.
  EXPECT_FALSE(v.has(Key::kPssAnon));
}

TEST(Categorize, SortsAnInferenceServersMappingsIntoTheSnapshotCategories) {
  CategoryUsage cats[kCategoryCount];
  CategoryUsage total;
  tally_mappings(parse_smaps(recorded("smaps_inference_server.txt")), cats, total);
  auto cat = [&](Category c) { return cats[static_cast<int>(c)]; };
  // Expected figures in KiB, added up by hand from the recorded file.
  EXPECT_EQ(cat(Category::kOnnxRuntime).rss_bytes, 10304 * kKiB);
  EXPECT_EQ(cat(Category::kOnnxRuntime).mappings_count, 3u);
  EXPECT_EQ(cat(Category::kLibraries).rss_bytes, (32 + 1876) * kKiB);  // the executable + libc
  EXPECT_EQ(cat(Category::kLibraries).anonymous_bytes, 20 * kKiB);
  EXPECT_EQ(cat(Category::kMappedFiles).rss_bytes, (16384 + 200) * kKiB);  // model + locale
  EXPECT_EQ(cat(Category::kHeap).rss_bytes, 1024 * kKiB);
  EXPECT_EQ(cat(Category::kAnonymous).rss_bytes, (132 + 65536 + 300) * kKiB);
  EXPECT_EQ(cat(Category::kAnonymous).swap_bytes, 1024 * kKiB);
  EXPECT_EQ(cat(Category::kAnonymous).mappings_count, 5u);  // incl. reservations and a guard
  EXPECT_EQ(cat(Category::kThreadStacks).rss_bytes, (40 + 132) * kKiB);
  EXPECT_EQ(cat(Category::kThreadStacks).mappings_count, 2u);
  EXPECT_EQ(cat(Category::kSharedMemory).rss_bytes, (1024 + 512 + 256 + 128) * kKiB);
  EXPECT_EQ(cat(Category::kSharedMemory).pss_bytes, (1024 + 512 + 256 + 128) / 2 * kKiB);
  EXPECT_EQ(cat(Category::kOther).rss_bytes, 8 * kKiB);
  EXPECT_EQ(cat(Category::kOther).mappings_count, 3u);
  EXPECT_EQ(total.rss_bytes, 97888 * kKiB);
  EXPECT_EQ(total.mappings_count, 27u);
}

TEST(Categorize, AnArenaHeapFollowedByItsReservationIsNotAStack) {
  auto maps = parse_smaps(recorded("smaps_inference_server.txt"));
  EXPECT_EQ(classify(maps, 8), Category::kAnonymous);      // arena heap, reservation above it
  EXPECT_EQ(classify(maps, 10), Category::kAnonymous);     // big block after a big reservation
  EXPECT_EQ(classify(maps, 12), Category::kThreadStacks);  // right above a 4 KiB guard
}

TEST(ParseProcCgroup, FindsTheV1MemoryControllerOnAHybridHost) {
  auto ref = parse_proc_cgroup(recorded("proc_cgroup_hybrid.txt"));
  EXPECT_EQ(ref.v1_memory_path, "/docker/abc123");
  EXPECT_EQ(ref.v2_path, "/");
  auto comounted = parse_proc_cgroup(recorded("proc_cgroup_v1_comounted.txt"));
  EXPECT_EQ(comounted.v1_memory_path, "/limited");
  auto v2 = parse_proc_cgroup(recorded("proc_cgroup_v2.txt"));
  EXPECT_FALSE(v2.v1_memory_path);
  EXPECT_EQ(v2.v2_path, "/user.slice/app.scope");
}

TEST(CgroupNumbers, MaxAndV1UnlimitedAreNoLimitAtAll) {
  EXPECT_FALSE(parse_cgroup_number("max\n"));
  EXPECT_FALSE(parse_cgroup_number("9223372036854771712\n"));
  EXPECT_FALSE(parse_cgroup_number(""));
  EXPECT_FALSE(parse_cgroup_number("12x"));
  EXPECT_EQ(parse_cgroup_number("536870912\n"), 536870912.0);
  EXPECT_EQ(parse_keyed_number("low 0\nmax 118\noom_kill 2\n", "oom_kill"), 2.0);
  EXPECT_EQ(parse_keyed_number("oom_kill_disable 0\noom_kill 3\n", "oom_kill"), 3.0);
  EXPECT_FALSE(parse_keyed_number("oom_kill_disable 0\n", "oom_kill"));
}

Values read_cgroup(const std::string& proc_cgroup_file, const std::string& sys_tree,
                   CgroupDir* where_out = nullptr) {
  CgroupDir where = find_memory_cgroup(recorded(proc_cgroup_file), kDataDir + "/" + sys_tree);
  if (where_out) *where_out = where;
  Values v;
  std::vector<char> buffer;
  CgroupReader(where).read(buffer, v);
  return v;
}

TEST(CgroupFiles, V1UnlimitedGroupReadsUsagePeakAndHierarchyTotals) {
  CgroupDir where;
  Values v = read_cgroup("proc_cgroup_hybrid.txt", "sys_v1", &where);
  EXPECT_FALSE(where.v2);
  EXPECT_EQ(v.get(Key::kCgroupCurrent), 127184896);
  EXPECT_EQ(v.get(Key::kCgroupPeak), 392097792);
  EXPECT_FALSE(v.has(Key::kCgroupLimit));
  EXPECT_EQ(v.get(Key::kCgroupAnon), 2068480);   // total_rss
  EXPECT_EQ(v.get(Key::kCgroupFile), 60071936);  // total_cache
  EXPECT_EQ(v.get(Key::kCgroupOomKill), 0);
}

TEST(CgroupFiles, V1LimitedGroupWithoutTotalsFallsBackToRssAndCache) {
  Values v = read_cgroup("proc_cgroup_v1_comounted.txt", "sys_v1");
  EXPECT_EQ(v.get(Key::kCgroupLimit), 536870912);
  EXPECT_EQ(v.get(Key::kCgroupOomKill), 3);
  EXPECT_EQ(v.get(Key::kCgroupAnon), 2068480);
}

TEST(CgroupFiles, V2ReadsCurrentPeakStatAndEventsWithMaxAsNoLimit) {
  CgroupDir where;
  Values v = read_cgroup("proc_cgroup_v2.txt", "sys_v2", &where);
  EXPECT_TRUE(where.v2);
  EXPECT_EQ(v.get(Key::kCgroupCurrent), 209715200);
  EXPECT_EQ(v.get(Key::kCgroupPeak), 314572800);
  EXPECT_FALSE(v.has(Key::kCgroupLimit));
  EXPECT_EQ(v.get(Key::kCgroupAnon), 150994944);
  EXPECT_EQ(v.get(Key::kCgroupFile), 52428800);
  EXPECT_EQ(v.get(Key::kCgroupOomKill), 0);
}

TEST(CgroupFiles, V2BeforeMemoryPeakHasNoPeakAndCountsOomKills) {
  Values v = read_cgroup("proc_cgroup_v2_old_kernel.txt", "sys_v2");
  EXPECT_EQ(v.get(Key::kCgroupLimit), 1073741824);
  EXPECT_FALSE(v.has(Key::kCgroupPeak));
  EXPECT_EQ(v.get(Key::kCgroupOomKill), 2);
}

TEST(CgroupFiles, NoMemoryCgroupMeansNoCgroupKeys) {
  Values v = read_cgroup("proc_cgroup_v2.txt", "sys_v1");
  EXPECT_TRUE(v.to_reading().values.empty());
}

TEST(ParseStatm, ResidentAndAnonymousPagesInBytes) {
  // "size resident shared text lib data dt" in pages; anon = resident - shared (file + shmem).
  Values v;
  parse_statm("6270 495 403 195 0 107 0\n", 4096, v);
  EXPECT_EQ(v.get(Key::kRss), 495 * 4096.0);
  EXPECT_EQ(v.get(Key::kRssAnon), (495 - 403) * 4096.0);
  EXPECT_FALSE(v.has(Key::kHwm)) << "statm has no high-water mark";
}

TEST(ParseStatm, AProcessWithoutMemoryOrTextThatIsNotStatmSetsNothing) {
  for (const char* text : {"0 0 0 0 0 0 0\n", "", "Name: x\n", "12 abc", "5 3 4 0 0 0 0"}) {
    Values v;
    parse_statm(text, 4096, v);
    EXPECT_TRUE(v.to_reading().values.empty()) << text;
  }
}

}  // namespace
}  // namespace infermem::probe
