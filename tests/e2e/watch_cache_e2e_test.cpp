// End-to-end: `infermem watch --metrics-port P -- example_model_cache_service ...` serves the
// service's ModelCache counters (published through the stats file watch names in
// INFERMEM_CACHE_STATS) as Prometheus metrics on 127.0.0.1, writes them into its trace and puts the
// last ones in summary.json, equal to what the service itself prints. Every wait is for a state
// (a line on watch's stderr, a scrape with the counters asserted) and bounded only against a hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::make_temp_dir;
using infermem::test::read_file;
using infermem::test::read_json_file;
using infermem::test::run_cli;
using infermem::test::start_cli;
using infermem::test::wait_cli;
using ::testing::HasSubstr;

namespace {

// The example service, built beside the infermem binary.
std::string example_service() {
  return (std::filesystem::path(INFERMEM_BIN).parent_path() / "example_model_cache_service")
      .string();
}

// The samples of one metric in an exposition: "name{labels} value" or "name value" lines.
std::vector<std::pair<std::string, double>> samples(const std::string& exposition,
                                                    const std::string& name) {
  std::vector<std::pair<std::string, double>> out;
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    const auto space = line.rfind(' ');
    out.emplace_back(line.substr(0, space), std::stod(line.substr(space + 1)));
  }
  return out;
}

double value(const std::string& exposition, const std::string& name) {
  auto s = samples(exposition, name);
  return s.empty() ? std::numeric_limits<double>::quiet_NaN() : s.front().second;
}

// Four models of 24 MiB weights in DIR (m1.onnx .. m4.onnx), appended to MODELS.
void generate_models(const std::string& dir, std::vector<std::string>& models) {
  for (int seed = 1; seed <= 4; ++seed) {
    models.push_back(dir + "/m" + std::to_string(seed) + ".onnx");
    auto g = run_cli({"gen-model", "--kind", "mlp", "--weights", "24MiB", "--seed",
                      std::to_string(seed), "-o", models.back()});
    ASSERT_EQ(g.exit_code, 0) << g.err;
  }
}

// 4 models of 24 MiB weights under a 96 MiB budget, asked in turn: the cache loads, evicts
// and reloads. The pause between requests keeps the service alive for a few seconds, so the
// metrics are scraped while it serves; --duration bounds the watch on a stalled machine. Port 0:
// watch picks a free port and says which (no port picked here and bound later by another).
std::vector<std::string> watch_args(const std::string& dir,
                                    const std::vector<std::string>& models) {
  std::vector<std::string> args = {"watch",           "--interval", "50ms",  "--duration", "600s",
                                   "--metrics-port",  "0",          "--out", dir + "/run", "--",
                                   example_service(), "--pause-ms", "100",   "96MiB",      "60"};
  args.insert(args.end(), models.begin(), models.end());
  return args;
}

// The last exposition scraped, and whether one had a model loaded and resident.
struct Scrape {
  std::string exposition;
  bool served = false;
};

// Wait for the state asserted below, not a neighbour of it. infermem_cache_resident_bytes also
// counts the bytes reserved for a load in progress, while resident_models counts loaded models
// only: with ~52 MiB models under a 96 MiB budget at most one is resident, and a scrape during
// an evict-and-reload has resident_bytes > 0 with resident_models == 0. So the wait is for a
// scrape with a model loaded and resident. That state comes back after every load (the model
// stays resident through its request and the pause), so it is seen while the service serves;
// the wait also ends if the watch ends first, and a deadline stops a wedged run only.
Scrape scrape_until_served(const infermem::test::RunningCli& watch, int port) {
  Scrape s;
  if (port <= 0) return s;
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration<double>(infermem::test::kPatienceSeconds);
  while (!s.served && std::chrono::steady_clock::now() < until) {
    const bool ended = infermem::test::has_exited(watch);
    const std::string scraped = infermem::test::scrape_metrics(port);
    if (!scraped.empty()) s.exposition = scraped;
    s.served = value(scraped, "infermem_cache_loads_total") >= 1 &&
               value(scraped, "infermem_cache_resident_models") >= 1;
    if (ended) break;
    // Short: the state lasts a request and a 100 ms pause each time it comes.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return s;
}

// What was served: HELP and TYPE, base units, figures a 4-model 96 MiB cache can have.
void expect_served_metrics(const std::string& exposition, const std::string& dir) {
  EXPECT_THAT(exposition, HasSubstr("# HELP infermem_cache_hits_total"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_cache_loads_total counter"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_cache_evictions_total counter"));
  EXPECT_THAT(exposition, HasSubstr("# TYPE infermem_cache_resident_bytes gauge"));
  EXPECT_THAT(exposition, HasSubstr("reason=\"over-budget\""));
  const double budget = 96.0 * 1024 * 1024;
  EXPECT_EQ(value(exposition, "infermem_cache_budget_bytes"), budget);
  EXPECT_LE(value(exposition, "infermem_cache_resident_bytes"), budget);
  EXPECT_GE(value(exposition, "infermem_cache_resident_models"), 1);
  EXPECT_LE(value(exposition, "infermem_cache_resident_models"), 4);
  const auto costs = samples(exposition, "infermem_cache_model_cost_bytes");
  ASSERT_FALSE(costs.empty());
  for (const auto& [labels, cost] : costs) {
    EXPECT_THAT(labels, HasSubstr("model_path=\"" + dir + "/m"));
    EXPECT_GT(cost, 0) << labels;
  }
  {
    std::string log;
    EXPECT_EQ(infermem::test::promtool_check_metrics(exposition, dir, &log), 0)
        << "promtool check metrics: " << log;
  }
}

// The service's own counters, as it printed them at its end ("cache: N loads, N hits, ...").
struct Counters {
  unsigned long long loads = 0, hits = 0, evictions = 0, refusals = 0;
};

void read_service_counters(const std::string& out, Counters& c) {
  const auto at = out.find("cache: ");
  ASSERT_NE(at, std::string::npos) << out;
  ASSERT_EQ(std::sscanf(out.c_str() + at, "cache: %llu loads, %llu hits, %llu evictions, %llu",
                        &c.loads, &c.hits, &c.evictions, &c.refusals),
            4)
      << out;
}

// The last counters in summary.json are exactly the service's (the cache publishes once more as
// it is destroyed, and watch reads the file after the service ended).
void expect_summary_counters(const std::string& dir, const Counters& c) {
  const auto summary = read_json_file(dir + "/run/summary.json");
  ASSERT_TRUE(summary.contains("cache")) << summary.dump(2);
  const auto& cache = summary["cache"]["cache"];
  EXPECT_EQ(cache["loads"], c.loads);
  EXPECT_EQ(cache["hits"], c.hits);
  EXPECT_EQ(cache["evictions"], c.evictions);
  EXPECT_EQ(cache["refusals"], c.refusals);
  EXPECT_EQ(cache["hits"].get<unsigned long long>() + cache["misses"].get<unsigned long long>(),
            60u);  // every request counted once
  EXPECT_EQ(cache["budget_bytes"], 96ull << 20);
  EXPECT_EQ(cache["models"].size(), 4u);
  EXPECT_EQ(summary["cache"]["read_errors"], nlohmann::json::object());
  EXPECT_GE(summary["cache"]["reads_ok"].get<int>(), 1);
  EXPECT_EQ(summary["cache"]["path"],
            std::filesystem::absolute(dir + "/run/cache-stats.json").string());
}

// The trace has the counters as `note` records (event "cache"), the last one equal to those.
void expect_trace_notes(const std::string& dir, const Counters& c) {
  nlohmann::json last_note;
  std::istringstream trace(read_file(dir + "/run/trace.jsonl"));
  std::string line;
  while (std::getline(trace, line)) {
    auto j = nlohmann::json::parse(line);
    if (j["type"] == "note" && j.value("event", "") == "cache") last_note = j;
  }
  ASSERT_FALSE(last_note.is_null());
  EXPECT_EQ(last_note["src"], "watch");
  EXPECT_EQ(last_note["cache"]["loads"], c.loads);
}

}  // namespace

TEST(WatchCacheMetrics, TheServiceCacheCountersAreServedTracedAndSummarised) {
  ASSERT_TRUE(infermem::test::on_path("promtool"))
      << "Debian's prometheus package is needed (scripts/setup.sh installs it)";
  const std::string dir = make_temp_dir("watch-cache");
  std::vector<std::string> models;
  ASSERT_NO_FATAL_FAILURE(generate_models(dir, models));
  // In the sanitizer build ASan's quarantine holds freed memory, which the cache would measure as
  // the models' cost (over the budget: a refusal); the examples' ctest runs it the same way.
  auto watch =
      start_cli(watch_args(dir, models),
                {"ASAN_OPTIONS=quarantine_size_mb=0:detect_leaks=1:allocator_may_return_null=1"});
  const int port = infermem::test::served_metrics_port(watch);
  const Scrape scrape = scrape_until_served(watch, port);
  auto r = wait_cli(watch);
  ASSERT_GT(port, 0) << "watch never said which port it serves on: " << r.err;
  ASSERT_TRUE(scrape.served) << "no scrape had a model loaded and resident; last exposition:\n"
                             << scrape.exposition << "\nwatch: " << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;

  ASSERT_NO_FATAL_FAILURE(expect_served_metrics(scrape.exposition, dir));
  Counters counters;
  ASSERT_NO_FATAL_FAILURE(read_service_counters(r.out, counters));
  // The service's counters are at least what was scraped earlier (counters only grow) ...
  EXPECT_LE(value(scrape.exposition, "infermem_cache_loads_total"),
            static_cast<double>(counters.loads));
  EXPECT_LE(value(scrape.exposition, "infermem_cache_hits_total"),
            static_cast<double>(counters.hits));
  // ... and exactly the last counters in summary.json and the trace.
  ASSERT_NO_FATAL_FAILURE(expect_summary_counters(dir, counters));
  ASSERT_NO_FATAL_FAILURE(expect_trace_notes(dir, counters));

  // analyze reads the watch's trace back, cache notes included.
  auto a = run_cli({"analyze", dir + "/run/trace.jsonl"});
  EXPECT_EQ(a.exit_code, 0) << a.err;
}

TEST(WatchCacheMetrics, ACacheStatsPathThatIsNotARegularFileIsAnInputError) {
  const std::string dir = make_temp_dir("watch-cache-bad");
  auto r = run_cli({"watch", "--pid", std::to_string(getpid()), "--cache-stats", dir, "--duration",
                    "1s", "--out", dir + "/run"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--cache-stats " + dir + ": not a regular file"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/run"));
}
