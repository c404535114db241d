// report.html of a 100k-request run: how big the page is and how long headless Chromium takes to
// draw it (docs/report.md). Records of a synthetic 100,000-request arm (a child's per-request
// samples with RSS, anon, file, VmHWM and malloc in-use figures, a slow leak and noise) go
// through the same accumulator, verdict and chart model as soak's; the run has 1 or 4 such arms,
// plain or of the cache scenario (load and evict events too, so a cache chart per arm).
// Figures, not assertions: render_ms is the page's own performance.now() when every chart has
// painted (navigation start to the load handler), wall_ms the whole chromium process.
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "infermem/charts.h"
#include "infermem/render.h"
#include "infermem/soak_app.h"
#include "support/browser.h"
#include "support/run_helpers.h"

using namespace infermem;

namespace {

// cache: the arm is a cache-scenario arm (lru:4 over 8 models): before 4 in 10 requests a model
// is loaded, evicting the oldest once 4 are resident, as `note` records like the worker's.
ArmSummary synthetic_arm(const std::string& name, std::int64_t requests, std::uint64_t seed,
                         bool cache = false) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 256 * 1024);
  ArmAccumulator acc;
  auto phase_end = [&](const char* phase, double t, double rss) {
    trace::Record r;
    r.type = trace::RecordType::phase;
    r.t_ms = t;
    r.phase = trace::parse_phase(phase);
    r.src = trace::Src::child;
    r.edge = trace::Edge::end;
    r.values.set(Figure::rss_bytes, rss);
    acc.add(r);
  };
  phase_end("baseline", 0, 40e6);
  phase_end("load", 50, 120e6);
  int resident = 0;
  auto note = [&](const char* event, double t, std::int64_t req) {
    trace::Record n;
    n.type = trace::RecordType::note;
    n.t_ms = t;
    n.req = req;
    n.phase = trace::Phase::infer;
    n.src = trace::Src::child;
    n.extra["event"] = event;
    n.extra["model"] = 0;
    acc.add(n);
  };
  for (std::int64_t i = 1; i <= requests; ++i) {
    const double t = 50 + 2.0 * static_cast<double>(i);
    if (cache && rng() % 10 < 4) {
      if (resident == 4) {
        note("evict", t - 1, i - 1);
        --resident;
      }
      note("load", t - 1, i - 1);
      ++resident;
    }
    trace::Record req;
    req.type = trace::RecordType::request;
    req.t_ms = t;
    req.req = i;
    req.phase = i <= 3 ? trace::Phase::warm : trace::Phase::infer;
    req.values.set(Figure::latency_ms, 1.5 + std::abs(noise(rng)) / 1e6);
    acc.add(req);
    trace::Record s;
    s.type = trace::RecordType::sample;
    s.t_ms = t;
    s.req = i;
    s.phase = req.phase;
    s.src = trace::Src::child;
    const double rss = 130e6 + 40.0 * static_cast<double>(i) + noise(rng);
    s.values.set(Figure::rss_bytes, rss);
    s.values.set(Figure::rss_anon_bytes, rss - 30e6);
    s.values.set(Figure::rss_file_bytes, 30e6);
    s.values.set(Figure::hwm_bytes, rss + 1e6);
    s.values.set(Figure::malloc_in_use_bytes, rss - 50e6);
    acc.add(s);
  }
  phase_end("infer", 50 + 2.0 * static_cast<double>(requests), 130e6);
  phase_end("unload", 60 + 2.0 * static_cast<double>(requests), 60e6);
  JudgedArm j = judge_arm(acc, name, false);
  ArmSummary a;
  static_cast<ArmFigures&>(a) = j.figures;
  a.name = name;
  a.verdict = j.verdict;
  a.charts = make_arm_charts(acc, name, a.verdict, j.context);
  return a;
}

void BM_Report100kInChromium(benchmark::State& state) {
  const int arms = static_cast<int>(state.range(0));
  const bool cache = state.range(1) != 0;
  RunSummary run;
  run.tool_version = "bench";
  run.scenario = cache ? "cache" : "mixed";
  run.model_sha256 = std::string(64, '0');
  for (int k = 0; k < arms; ++k)
    run.arms.push_back(synthetic_arm("arm-" + std::to_string(k), 100000, 7 + k, cache));
  const std::string html = render(run, Format::html);
  const std::string summary = render(run, Format::json);
  const std::string dir = test::make_temp_dir("html-bench");
  const std::string path = dir + "/report.html";
  std::ofstream(path, std::ios::binary) << html;
  const std::string chromium = test::find_chromium();
  if (chromium.empty()) {
    state.SkipWithError("chromium is not installed (scripts/setup.sh installs it)");
    return;
  }
  double render_ms = 0, wall_ms = 0;
  for (auto _ : state) {
    auto r = test::dump_dom(chromium, path, 300);
    const std::string status = test::element_text(r.out, "infermem-status");
    if (status.empty()) {
      state.SkipWithError(("the page wrote no status: " + r.err.substr(0, 300)).c_str());
      return;
    }
    render_ms = nlohmann::json::parse(status)["render_ms"].get<double>();
    wall_ms = r.wall_ms;
    state.SetIterationTime(render_ms / 1000.0);
  }
  state.counters["page_KiB"] = static_cast<double>(html.size()) / 1024.0;
  state.counters["summary_json_KiB"] = static_cast<double>(summary.size()) / 1024.0;
  state.counters["render_ms"] = render_ms;
  state.counters["chromium_wall_ms"] = wall_ms;
  state.counters["windows_per_arm"] = static_cast<double>(run.arms[0].charts.memory.windows());
}
// Args: arms, and 1 for cache-scenario arms (a cache chart each beside the memory chart).
BENCHMARK(BM_Report100kInChromium)
    ->Args({1, 0})
    ->Args({4, 0})
    ->Args({1, 1})
    ->Args({4, 1})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_RenderHtml100k(benchmark::State& state) {
  RunSummary run;
  for (int k = 0; k < 4; ++k)
    run.arms.push_back(synthetic_arm("arm-" + std::to_string(k), 100000, 7 + k));
  for (auto _ : state) benchmark::DoNotOptimize(render(run, Format::html));
}
BENCHMARK(BM_RenderHtml100k)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
