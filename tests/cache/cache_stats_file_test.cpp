// The stats file between a service's ModelCache and `infermem watch`: what is written reads back
// the same, a reader never sees half a file while it is replaced, and a file that cannot be
// trusted (not JSON, not the document, too large, not a regular file) is refused and counted.
#include "infermem/cache_stats_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>
#include <vector>

#include "infermem/error.h"
#include "support/files.h"

using namespace infermem;

namespace {

CacheStatsFile sample_file(std::uint64_t seq, int models = 3) {
  CacheStatsFile f;
  f.pid = 4242;
  f.seq = seq;
  ModelCacheStats& s = f.stats;
  s.hits = 10 * seq;
  s.misses = 4;
  s.loads = 4;
  s.load_failures = 1;
  s.coalesced_loads = 2;
  s.evictions = 3;
  s.idle_unloads = 1;
  s.refusals = 2;
  s.refusals_by_reason = {{"over-budget", 1}, {"wait-timeout", 1}};
  s.waits = 5;
  s.bytes_resident = 96ull << 20;
  s.peak_bytes_resident = 100ull << 20;
  s.models_resident = 2;
  s.budget_bytes = 128ull << 20;
  s.limit_bytes = 1ull << 30;
  s.stats_write_failures = 7;
  s.release_method = "malloc_trim(0)";
  for (int i = 0; i < models; ++i) {
    auto& m = s.models["/models/m" + std::to_string(i) + ".onnx"];
    m.cost = {static_cast<std::uint64_t>(30 + i) << 20, 1ull << 20};
    m.resident = i % 2 == 0;
    m.loads = static_cast<std::uint64_t>(i) + 1;
    m.hits = 3;
    m.requests = 4;
  }
  return f;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

TEST(CacheStatsFile, RoundTripsEveryCounter) {
  const std::string path = test::make_temp_dir("cache-stats") + "/stats.json";
  const CacheStatsFile written = sample_file(1);
  write_cache_stats(path, written);
  CacheStatsReader reader(path);
  ASSERT_TRUE(reader.poll()) << reader.problem_detail();
  ASSERT_TRUE(reader.last());
  const CacheStatsFile& got = *reader.last();
  EXPECT_EQ(got.pid, 4242);
  EXPECT_EQ(got.seq, 1u);
  EXPECT_EQ(got.stats.to_json(), written.stats.to_json());  // every field, models included
  EXPECT_EQ(got.stats.refusals_by_reason.at("over-budget"), 1u);
  EXPECT_EQ(got.stats.models.at("/models/m1.onnx").cost.total(), (31ull << 20) + (1ull << 20));
  EXPECT_EQ(reader.problem(), CacheStatsProblem::none);
  // The same snapshot again is not new; the next write is.
  EXPECT_FALSE(reader.poll());
  write_cache_stats(path, sample_file(2));
  EXPECT_TRUE(reader.poll());
  EXPECT_EQ(reader.last()->stats.hits, 20u);
  EXPECT_EQ(reader.reads_ok(), 3u);
  EXPECT_TRUE(reader.errors().empty());
}

TEST(CacheStatsFile, AMissingFileIsNoErrorYet) {
  CacheStatsReader reader(test::make_temp_dir("cache-stats") + "/not-yet.json");
  EXPECT_FALSE(reader.poll());
  EXPECT_EQ(reader.problem(), CacheStatsProblem::missing);
  EXPECT_TRUE(reader.errors().empty());
  EXPECT_TRUE(reader.to_json()["cache"].is_null());
}

TEST(CacheStatsFile, AReaderNeverSeesHalfAFileWhileItIsReplaced) {
  const std::string dir = test::make_temp_dir("cache-stats");
  const std::string path = dir + "/stats.json";
  write_cache_stats(path, sample_file(1));
  std::atomic<bool> done{false};
  // Documents of very different sizes (1 to 400 models): a torn read would not parse.
  std::thread writer([&] {
    for (std::uint64_t seq = 2; seq < 400; ++seq)
      write_cache_stats(path, sample_file(seq, static_cast<int>(seq % 2 ? 1 : 400)));
    done = true;
  });
  CacheStatsReader reader(path);
  std::uint64_t polls = 0;
  while (!done.load()) {
    reader.poll();
    ++polls;
  }
  writer.join();
  reader.poll();
  EXPECT_TRUE(reader.errors().empty()) << reader.problem_detail();
  EXPECT_EQ(reader.reads_ok(), polls + 1);
  EXPECT_EQ(reader.last()->seq, 399u);
  // No temp file is left beside it.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "stats.json");
  }
  EXPECT_EQ(entries, 1);
}

TEST(CacheStatsFile, MalformedContentIsRefusedCountedAndTheLastGoodSnapshotKept) {
  const std::string path = test::make_temp_dir("cache-stats") + "/stats.json";
  CacheStatsReader reader(path);
  write_cache_stats(path, sample_file(1));
  ASSERT_TRUE(reader.poll());
  const std::vector<std::string> bad = {
      "{not json",
      "[1, 2]",
      R"({"format":"something-else","v":1,"pid":1,"seq":1,"cache":{}})",
      R"({"format":"infermem-cache-stats","v":2,"pid":1,"seq":1,"cache":{}})",
      R"({"format":"infermem-cache-stats","v":1,"pid":1,"seq":1,"cache":{"hits":1}})",
      R"({"format":"infermem-cache-stats","v":1,"pid":-3,"seq":1,"cache":{}})",
  };
  // Values of the wrong kind inside an otherwise valid document.
  std::vector<std::string> all = bad;
  const nlohmann::json good = nlohmann::json::parse(cache_stats_text(sample_file(5)));
  for (const auto& [pointer, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"/cache/loads", "many"},
           {"/cache/hits", -1},        // a count is never negative (not wrapped to 2^64 - 1)
           {"/cache/evictions", 1.5},  // nor fractional
           {"/cache/models", nlohmann::json::array()},
           {"/cache/refusals_by_reason/over-budget", -2},
           {"/cache/models/~1models~1m0.onnx/resident", 1},
           {"/pid", "4242"},
           {"/pid", 0},
           {"/seq", -1},
           {"/format", 7}}) {
    nlohmann::json doc = good;
    doc[nlohmann::json::json_pointer(pointer)] = value;
    all.push_back(doc.dump());
  }
  for (const auto& text : all) {
    write_text(path, text);
    EXPECT_FALSE(reader.poll()) << text;
    EXPECT_EQ(reader.problem(), CacheStatsProblem::malformed) << text;
    EXPECT_FALSE(reader.problem_detail().empty());
  }
  EXPECT_EQ(reader.errors().at("malformed"), all.size());
  ASSERT_TRUE(reader.last());
  EXPECT_EQ(reader.last()->seq, 1u);  // the last good one stays
  EXPECT_EQ(reader.to_json()["read_errors"]["malformed"], all.size());
}

TEST(CacheStatsFile, AnOversizedFileIsRefusedAndCounted) {
  const std::string path = test::make_temp_dir("cache-stats") + "/stats.json";
  write_cache_stats(path, sample_file(1));
  CacheStatsReader small(path, 100);  // the document is larger than 100 bytes
  EXPECT_FALSE(small.poll());
  EXPECT_EQ(small.problem(), CacheStatsProblem::too_large);
  EXPECT_EQ(small.errors().at("too-large"), 1u);
  // At the default bound: a file of 2 MiB is refused without being parsed.
  write_text(path, std::string(2 << 20, ' '));
  CacheStatsReader reader(path);
  EXPECT_FALSE(reader.poll());
  EXPECT_EQ(reader.problem(), CacheStatsProblem::too_large);
}

TEST(CacheStatsFile, ADirectoryOrAFifoIsRefusedWithoutBlocking) {
  const std::string dir = test::make_temp_dir("cache-stats");
  CacheStatsReader at_dir(dir);
  EXPECT_FALSE(at_dir.poll());
  EXPECT_EQ(at_dir.problem(), CacheStatsProblem::not_regular);
  EXPECT_EQ(at_dir.errors().at("not-regular"), 1u);
  const std::string fifo = dir + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  CacheStatsReader at_fifo(fifo);  // no writer: a blocking open would hang here
  EXPECT_FALSE(at_fifo.poll());
  EXPECT_EQ(at_fifo.problem(), CacheStatsProblem::not_regular);
  // And the writer refuses to replace what is not a regular file.
  EXPECT_THROW(write_cache_stats(fifo, sample_file(1)), InputError);
}

// The snapshot a watch's end record and summary.json carry reads back as it was written, with and
// without a last good read, and its JSON is the one the reader gives (the golden files hold it).
TEST(CacheStatsSnapshot, RoundTripsThroughItsJson) {
  const std::string path = test::make_temp_dir("cache-stats") + "/stats.json";
  CacheStatsReader reader(path);
  EXPECT_FALSE(reader.poll());  // missing: no error, no snapshot
  const CacheStatsSnapshot none = CacheStatsSnapshot::from_json(reader.to_json());
  EXPECT_EQ(none.path, path);
  EXPECT_FALSE(none.last.has_value());
  EXPECT_EQ(none.to_json(), reader.to_json());

  write_cache_stats(path, sample_file(3));
  ASSERT_TRUE(reader.poll());
  write_text(path, "{not json");
  EXPECT_FALSE(reader.poll());
  const nlohmann::json j = reader.to_json();
  const CacheStatsSnapshot got = CacheStatsSnapshot::from_json(j);
  EXPECT_EQ(got.reads_ok, 1u);
  EXPECT_EQ(got.read_errors.at("malformed"), 1u);
  ASSERT_TRUE(got.last.has_value());
  EXPECT_EQ(got.last->seq, 3u);
  EXPECT_EQ(got.last->stats.to_json(), sample_file(3).stats.to_json());
  EXPECT_EQ(got.to_json().dump(), j.dump());  // integers stay integers
}

// A snapshot that is not one is an InputError naming the field, never a default.
TEST(CacheStatsSnapshot, AMalformedSnapshotIsAnErrorNamingTheField) {
  CacheStatsReader reader("stats.json");
  const nlohmann::json good = reader.to_json();
  for (const auto& [pointer, value, field] :
       std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"/path", 7, "path"},
           {"/reads_ok", -1, "reads_ok"},
           {"/read_errors", nlohmann::json::array(), "read_errors"},
           {"/read_errors/malformed", 1.5, "malformed"},
           {"/cache", nlohmann::json::object(), "pid"}}) {
    nlohmann::json doc = good;
    doc[nlohmann::json::json_pointer(pointer)] = value;
    try {
      (void)CacheStatsSnapshot::from_json(doc);
      ADD_FAILURE() << doc.dump() << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW((void)CacheStatsSnapshot::from_json(nlohmann::json::array()), InputError);
}
