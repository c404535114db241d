// Calibration of the leak detector on real soak runs (docs/calibration.md).
//
// Runs `infermem soak --scenario mixed` on two models (the generated 8 MiB transformer and the
// PP-OCRv4 detection model) and measures, from the traces those runs write:
//   - the detection rate of `leak` for --inject-leak 4/16/64 KiB per request, judged at several
//     request horizons (one long run per seed; its series truncated to req <= H and judged again);
//   - the relative error of growth_bytes_per_request against the injected rate;
//   - the false-positive rate: clean runs of every arm, counting `leak` and every other kind.
// Then checks the targets: no `leak` on any clean run, and 16 KiB/request detected within
// 2,000 requests with the estimate within 25% of the truth.
//
// Standalone: its own main(), no Google Benchmark. Figures and targets are printed as Markdown
// tables; exit status 0 when both targets hold, 1 when one is missed, 2 on a usage/run error.
// `calibration_bench --help` lists the knobs; --quick is a ~1-2 minute smoke run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>

#include "calibration_config.h"
#include "infermem/soak_app.h"
#include "infermem/summary.h"
#include "infermem/trace.h"
#include "infermem/verdict.h"

namespace fs = std::filesystem;
using namespace infermem;
using namespace calbench;

namespace {

// One soak invocation.
struct Job {
  const ModelCfg* model = nullptr;
  std::string scenario = "mixed";
  std::vector<std::string> arms;
  double inject_bytes = 0;
  std::uint64_t seed = 1;
  std::int64_t requests = 0;
  std::string out;
};

// One verdict: an arm of a job, judged at a horizon.
struct Row {
  std::string model, arm, scenario;
  double inject_bytes = 0;
  std::uint64_t seed = 0;
  std::int64_t horizon = 0;   // requests judged (req <= horizon)
  std::int64_t requests = 0;  // the run's length
  bool full = false;          // the whole run (the soak's own verdict should match)
  Verdict v;
  std::string soak_kind;  // the soak's own verdict, for full rows
  std::string out;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string csv_join(const std::vector<std::string>& v) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + v[i];
  return s;
}

std::string kib(double bytes) {
  if (!std::isfinite(bytes)) return "n/a";
  return fmt::format("{:.2f} KiB", bytes / KiB);
}

std::string pct(double x) {
  return std::isfinite(x) ? fmt::format("{:.1f}%", 100 * x) : "n/a";
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

double elapsed_s(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Steady has one shape: a --dim range LO..HI becomes its middle, rounded to a multiple of 32
// (the OCR detector's sides must be), e.g. x.2=96..320 -> x.2=224.
std::string fixed_for(const std::string& scenario, const std::string& arg) {
  auto eq = arg.find('='), dots = arg.find("..");
  if (scenario != "steady" || eq == std::string::npos || dots == std::string::npos) return arg;
  long lo = std::stol(arg.substr(eq + 1, dots - eq - 1)), hi = std::stol(arg.substr(dots + 2));
  return arg.substr(0, eq + 1) + std::to_string((lo + hi + 32) / 64 * 32);
}

// Runs one soak; its terminal output goes to OUT.log. Returns the exit status.
int run_job(const Job& job) {
  std::string cmd = quote(INFERMEM_BIN) + " soak " + quote(job.model->path) + " --scenario " +
                    job.scenario + " --arms " + csv_join(job.arms) +
                    fmt::format(" --requests {} --seed {}", job.requests, job.seed);
  for (const auto& a : job.model->extra) cmd += " " + quote(fixed_for(job.scenario, a));
  if (job.inject_bytes > 0)
    cmd += fmt::format(" --inject-leak {}", static_cast<long long>(job.inject_bytes));
  cmd += " --force --out " + quote(job.out) + " > " + quote(job.out + ".log") + " 2>&1";
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

// Reads a run's trace, and judges each arm at every horizon <= the run's length (and the whole).
std::vector<Row> judge_job(const Job& job, const std::vector<std::int64_t>& horizons) {
  std::vector<Row> rows;
  std::FILE* f = std::fopen((job.out + "/trace.jsonl").c_str(), "r");
  if (!f) return rows;
  trace::Reader reader(f);
  std::map<std::string, std::vector<trace::Record>> by_arm;
  std::map<std::string, std::string> soak_kind;
  while (auto r = reader.next()) {
    if (r->arm.empty()) continue;
    if (r->type == trace::RecordType::arm && r->edge == trace::Edge::result)
      soak_kind[r->arm] = r->extra.value("verdict", "");
    by_arm[r->arm].push_back(std::move(*r));
  }
  std::fclose(f);
  for (const auto& arm : job.arms) {
    const auto& records = by_arm[arm];
    // Judged exactly as soak judges an arm (judge_arm), then again at each shorter horizon.
    const JudgedArm whole = judge_arm(accumulate_arm(records), arm, job.inject_bytes > 0);
    const SeriesContext& ctx = whole.context;
    const Series& full = whole.series;
    std::vector<std::int64_t> hs;
    for (auto h : horizons)
      if (h < job.requests) hs.push_back(h);
    hs.push_back(job.requests);
    for (auto h : hs) {
      Series s = full;
      s.points.erase(std::remove_if(s.points.begin(), s.points.end(),
                                    [&](const SeriesPoint& p) { return p.req > h; }),
                     s.points.end());
      Row row;
      row.model = job.model->key;
      row.arm = arm;
      row.scenario = job.scenario;
      row.inject_bytes = job.inject_bytes;
      row.seed = job.seed;
      row.horizon = h;
      row.requests = job.requests;
      row.full = (h == job.requests);
      row.v = judge(s, ctx);
      if (row.full) row.soak_kind = soak_kind[arm];
      row.out = job.out;
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string kinds_text(const std::map<std::string, int>& kinds) {
  std::string s;
  for (const auto& [k, n] : kinds) s += (s.empty() ? "" : ", ") + fmt::format("{} {}", k, n);
  return s;
}

// An injected cell's verdicts: (model, injected bytes, horizon).
struct Cell {
  int runs = 0, leaks = 0, covered = 0;
  std::map<std::string, int> other;
  std::vector<double> err, mindet;
};
using Cells = std::map<std::tuple<std::string, double, std::int64_t>, Cell>;

// The accuracy targets on the transformer: 4 KiB/request within 1,000 requests and
// 1 KiB/request within 5,000, each called `leak` with the worst relative error <= 25%.
bool accuracy_targets(const Cells& cells, std::ostream& md) {
  bool all = true;
  for (auto [rate, horizon] : {std::pair{4.0, 1000}, std::pair{1.0, 5000}}) {
    auto it = cells.find({"transformer", rate * KiB, horizon});
    if (it == cells.end()) {
      md << fmt::format("- {:.0f} KiB/request within {} requests: not measured by this run\n", rate,
                        horizon);
      continue;
    }
    const Cell& c = it->second;
    double worst = *std::max_element(c.err.begin(), c.err.end());
    bool met = c.leaks == c.runs && worst <= 0.25;
    all = all && met;
    md << fmt::format(
        "- {:.0f} KiB/request within {} requests, every run `leak`, worst error <= 25%: **{}** "
        "({}/{} leak, median {}, worst {} over {} seeds)\n",
        rate, horizon, met ? "met" : "MISSED", c.leaks, c.runs, pct(median(c.err)), pct(worst),
        c.runs);
  }
  return all;
}

// The plan: leak runs first (one arm), then clean runs (all arms in one soak per seed and
// scenario). Run directories are named by what they hold, so --reuse finds them again.
std::vector<Job> plan_jobs(const Config& cfg, const std::vector<const ModelCfg*>& models) {
  std::vector<Job> jobs;
  for (const auto* m : models) {
    std::vector<LeakCell> cells = m->leak_cells;
    if (cells.empty())
      for (double r : cfg.rates_kib) cells.push_back({r, m->leak_requests, m->leak_seeds});
    for (const auto& cell : cells)
      for (int s = 1; s <= cell.seeds; ++s)
        jobs.push_back({m,
                        "mixed",
                        {cfg.leak_arm},
                        cell.rate_kib * KiB,
                        static_cast<std::uint64_t>(s),
                        cell.requests,
                        fmt::format("{}/{}-leak{}k-n{}-seed{}", cfg.work, m->key, cell.rate_kib,
                                    cell.requests, s)});
    for (const auto& scenario : cfg.clean_scenarios)
      for (int s = 1; s <= m->clean_seeds; ++s)
        jobs.push_back({m, scenario, cfg.clean_arms, 0, static_cast<std::uint64_t>(100 + s),
                        m->clean_requests,
                        fmt::format("{}/{}-clean-{}-n{}-seed{}", cfg.work, m->key, scenario,
                                    m->clean_requests, 100 + s)});
  }
  return jobs;
}

// --work, or a new directory under $TMPDIR. False when it cannot be made.
bool make_work_dir(Config& cfg) {
  if (cfg.work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "infermem-calibration-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::perror("mkdtemp");
      return false;
    }
    cfg.work = tmpl;
  }
  fs::create_directories(cfg.work);
  return true;
}

// The models of --models: the transformer generated into the work directory, the OCR model
// found on disk. False (with a message) when one is missing.
bool prepare_models(Config& cfg, std::vector<const ModelCfg*>& models) {
  if (cfg.models.count("transformer")) {
    cfg.tr.path = cfg.work + "/transformer-8MiB-seed7.onnx";
    std::string cmd = quote(INFERMEM_BIN) +
                      " gen-model --kind transformer --weights 8MiB --seed 7 -o " +
                      quote(cfg.tr.path) + " > /dev/null";
    if (std::system(cmd.c_str()) != 0) {
      std::cerr << "calibration_bench: gen-model failed\n";
      return false;
    }
    models.push_back(&cfg.tr);
  }
  if (cfg.models.count("ocr")) {
    if (!fs::exists(cfg.ocr.path)) {
      std::cerr << "calibration_bench: no OCR model at " << cfg.ocr.path
                << " (--ocr-model, or scripts/setup.sh)\n";
      return false;
    }
    models.push_back(&cfg.ocr);
  }
  return true;
}

void announce_plan(const Config& cfg, const std::vector<Job>& jobs,
                   const std::vector<const ModelCfg*>& models) {
  std::cerr << fmt::format("calibration_bench: {} soak runs, {} in parallel, in {}\n", jobs.size(),
                           cfg.jobs, cfg.work);
  for (const auto* m : models)
    std::cerr << fmt::format(
        "  {}: leak runs {} x {} requests per rate (arm {}), clean runs {} x {} requests x {} "
        "arms\n",
        m->key, m->leak_seeds, m->leak_requests, cfg.leak_arm, m->clean_seeds, m->clean_requests,
        cfg.clean_arms.size());
}

// Every job's verdicts, and the jobs that failed.
struct Runs {
  std::vector<Row> rows;
  std::vector<std::string> failures;
};

// Runs (or, with --reuse, finds) every job on cfg.jobs threads and judges each as it ends.
Runs run_jobs(const Config& cfg, const std::vector<Job>& jobs,
              std::chrono::steady_clock::time_point t0) {
  Runs runs;
  std::mutex mu;
  std::atomic<std::size_t> next{0}, done{0};
  auto worker = [&] {
    for (std::size_t i; (i = next++) < jobs.size();) {
      const Job& job = jobs[i];
      bool recorded = cfg.reuse && fs::exists(job.out + "/trace.jsonl");
      int rc = recorded ? 0 : run_job(job);
      auto got = judge_job(job, cfg.horizons);
      std::lock_guard<std::mutex> lock(mu);
      ++done;
      std::string name = fs::path(job.out).filename().string();
      if (rc != 0 || got.empty())
        runs.failures.push_back(fmt::format("{}: exit {} (see {}.log)", name, rc, job.out));
      std::string kinds;
      for (const auto& r : got)
        if (r.full) kinds += " " + r.arm + "=" + std::string(infermem::name(r.v.kind));
      std::cerr << fmt::format("[{:6.0f} s] {}/{} {}:{}{}\n", elapsed_s(t0), done.load(),
                               jobs.size(), name, kinds, rc ? fmt::format(" (exit {})", rc) : "");
      runs.rows.insert(runs.rows.end(), got.begin(), got.end());
    }
  };
  std::vector<std::thread> pool;
  for (int j = 0; j < cfg.jobs; ++j) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return runs;
}

// Every verdict, one JSON line each, for whoever wants to look again.
void write_verdicts(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream out(path);
  for (const auto& r : rows) {
    nlohmann::json j = {{"model", r.model},       {"arm", r.arm},
                        {"scenario", r.scenario}, {"inject_bytes", r.inject_bytes},
                        {"seed", r.seed},         {"horizon", r.horizon},
                        {"full", r.full},         {"soak_kind", r.soak_kind},
                        {"run", r.out},           {"verdict", r.v.to_json()}};
    out << j.dump() << "\n";
  }
}

// The injected runs' verdicts, by cell, and the 16 KiB/request target.
struct Detection {
  Cells cells;
  bool target_detect = true, any_16k_2000 = false;
  std::vector<std::string> misses;  // injected runs not called `leak`, with evidence
};

Detection tally_detection(const std::vector<Row>& rows) {
  Detection d;
  for (const auto& r : rows) {
    if (r.inject_bytes <= 0) continue;
    auto& c = d.cells[{r.model, r.inject_bytes, r.horizon}];
    ++c.runs;
    double est = r.v.growth_bytes_per_request;
    double err = std::isfinite(est) ? std::abs(est - r.inject_bytes) / r.inject_bytes : INFINITY;
    c.err.push_back(err);
    if (std::isfinite(r.v.min_detectable_bytes_per_request))
      c.mindet.push_back(r.v.min_detectable_bytes_per_request);
    if (r.v.growth_ci_low_bytes_per_request <= r.inject_bytes &&
        r.inject_bytes <= r.v.growth_ci_high_bytes_per_request)
      ++c.covered;
    if (r.v.kind == infermem::VerdictKind::leak)
      ++c.leaks;
    else {
      ++c.other[std::string(infermem::name(r.v.kind))];
      d.misses.push_back(fmt::format("{} {} seed {} at {} requests: {} (estimate {})", r.model,
                                     kib(r.inject_bytes), r.seed, r.horizon, r.v.kind,
                                     kib(r.v.growth_bytes_per_request)));
      for (const auto& e : r.v.evidence) d.misses.push_back("    " + e);
    }
    if (std::abs(r.inject_bytes - 16 * KiB) < 1 && r.horizon == 2000) {
      // Target: detected within 2,000 requests (judged on the first 2,000), estimate within 25%.
      // Runs shorter than 2,000 requests (--quick) do not measure it.
      d.any_16k_2000 = true;
      if (r.v.kind != infermem::VerdictKind::leak || !(err <= 0.25)) d.target_detect = false;
    }
  }
  return d;
}

void print_detection(std::ostream& md, const Config& cfg,
                     const std::vector<const ModelCfg*>& models, const Cells& cells) {
  md << "### Detection of injected leaks (arm " << cfg.leak_arm << ")\n\n"
     << "| model | injected | judged over | runs | `leak` | other verdicts | median rel. error | "
        "worst rel. error | 95% CI covers truth | median min. detectable |\n"
     << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto* m : models)
    for (const auto& [key, c] : cells) {
      const auto& [model, inj, h] = key;
      if (model != m->key) continue;
      md << fmt::format(
          "| {} | {:.0f} KiB/req | {} req | {} | {}/{} | {} | {} | {} | {}/{} | {} |\n", m->key,
          inj / KiB, h, c.runs, c.leaks, c.runs, c.other.empty() ? "-" : kinds_text(c.other),
          pct(median(c.err)), pct(*std::max_element(c.err.begin(), c.err.end())), c.covered, c.runs,
          kib(median(c.mindet)));
    }
}

// A clean cell's verdicts: (model, scenario, arm), whole runs only.
struct FpCell {
  int runs = 0, leaks = 0;
  std::int64_t requests = 0;
  std::map<std::string, int> kinds;
  std::vector<double> growth, mindet;
};

// The clean runs' verdicts, by cell; the false `leak`s; the re-judged runs the soak disagrees with.
struct Clean {
  std::map<std::tuple<std::string, std::string, std::string>, FpCell> fp;
  std::vector<std::string> false_leaks;  // with evidence
  int mismatches = 0;
  bool target_fp = true;
  int runs = 0, leaks = 0;  // over the cells the table shows (print_clean)
};

Clean tally_clean(const std::vector<Row>& rows) {
  Clean cl;
  for (const auto& r : rows) {
    if (r.full && !r.soak_kind.empty() && r.soak_kind != infermem::name(r.v.kind)) ++cl.mismatches;
    if (r.inject_bytes > 0 || !r.full) continue;
    auto& c = cl.fp[{r.model, r.scenario, r.arm}];
    ++c.runs;
    c.requests = r.horizon;
    ++c.kinds[std::string(infermem::name(r.v.kind))];
    if (std::isfinite(r.v.growth_bytes_per_request))
      c.growth.push_back(r.v.growth_bytes_per_request);
    if (std::isfinite(r.v.min_detectable_bytes_per_request))
      c.mindet.push_back(r.v.min_detectable_bytes_per_request);
    if (r.v.kind == infermem::VerdictKind::leak) {
      ++c.leaks;
      cl.target_fp = false;
      cl.false_leaks.push_back(
          fmt::format("{} {} {} seed {} ({}):", r.model, r.scenario, r.arm, r.seed, r.out));
      for (const auto& e : r.v.evidence) cl.false_leaks.push_back("    " + e);
    }
  }
  return cl;
}

// The clean table; adds up cl.runs and cl.leaks over the cells it shows.
void print_clean(std::ostream& md, const Config& cfg, const std::vector<const ModelCfg*>& models,
                 Clean& cl) {
  md << "\n### Clean runs (no injection)\n\n"
     << "| model | scenario | arm | requests | runs | `leak` | verdicts | median growth | max "
        "growth | median min. detectable |\n"
     << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto* m : models)
    for (const auto& scenario : cfg.clean_scenarios)
      for (const auto& arm : cfg.clean_arms) {
        auto it = cl.fp.find({m->key, scenario, arm});
        if (it == cl.fp.end()) continue;
        const auto& c = it->second;
        cl.runs += c.runs;
        cl.leaks += c.leaks;
        double gmax = c.growth.empty() ? NAN : *std::max_element(c.growth.begin(), c.growth.end());
        md << fmt::format("| {} | {} | {} | {} | {} | {}/{} | {} | {} | {} | {} |\n", m->key,
                          scenario, arm, c.requests, c.runs, c.leaks, c.runs, kinds_text(c.kinds),
                          kib(median(c.growth)), kib(gmax), kib(median(c.mindet)));
      }
}

// The targets, the mismatches and the run failures. Returns whether the accuracy targets hold.
bool print_targets(std::ostream& md, const Detection& d, const Clean& cl,
                   const std::vector<std::string>& failures) {
  md << "\n### Targets\n\n";
  md << fmt::format("- No false `leak` on clean runs: **{}** ({} of {} clean arm runs)\n",
                    cl.target_fp ? "met" : "MISSED", cl.leaks, cl.runs);
  bool target_accuracy = accuracy_targets(d.cells, md);
  if (d.any_16k_2000)
    md << fmt::format(
        "- 16 KiB/request detected within 2,000 requests, estimate within 25%: **{}**\n",
        d.target_detect ? "met" : "MISSED");
  else
    md << "- 16 KiB/request within 2,000 requests: not measured by this run's settings\n";
  md << fmt::format("- Re-judged full runs that disagree with the soak's own verdict: {}\n",
                    cl.mismatches);
  if (!failures.empty()) {
    md << "\nRun failures:\n\n";
    for (const auto& f : failures) md << "- " << f << "\n";
  }
  return target_accuracy;
}

void print_evidence(const std::vector<std::string>& misses,
                    const std::vector<std::string>& false_leaks) {
  if (!misses.empty()) {
    std::cout << "\nInjected runs not called `leak` (with evidence):\n";
    for (const auto& m : misses) std::cout << m << "\n";
  }
  if (!false_leaks.empty()) {
    std::cout << "\nFalse `leak` verdicts (with evidence):\n";
    for (const auto& m : false_leaks) std::cout << m << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!parse_args(argc, argv, cfg)) return 2;
  auto t0 = std::chrono::steady_clock::now();
  if (!make_work_dir(cfg)) return 2;
  std::vector<const ModelCfg*> models;
  if (!prepare_models(cfg, models)) return 2;

  std::vector<Job> jobs = plan_jobs(cfg, models);
  announce_plan(cfg, jobs, models);
  const Runs runs = run_jobs(cfg, jobs, t0);
  write_verdicts(cfg.work + "/verdicts.jsonl", runs.rows);

  std::ostringstream md;
  md << fmt::format("Scenario mixed; runs in {}; {:.0f} s wall.\n\n", cfg.work, elapsed_s(t0));
  const Detection detection = tally_detection(runs.rows);
  print_detection(md, cfg, models, detection.cells);
  Clean clean = tally_clean(runs.rows);
  print_clean(md, cfg, models, clean);
  const bool target_accuracy = print_targets(md, detection, clean, runs.failures);

  std::cout << md.str();
  print_evidence(detection.misses, clean.false_leaks);
  if (!cfg.markdown.empty()) std::ofstream(cfg.markdown) << md.str();
  if (!runs.failures.empty()) return 2;
  return (clean.target_fp && detection.target_detect && target_accuracy) ? 0 : 1;
}
