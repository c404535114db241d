// The calibration of `infermem diff` (docs/diff.md).
//
// Generates a model (`gen-model --kind mlp --weights 8MiB`, or --model PATH), runs pairs of
// identically configured soaks (same arms, seed and request count; scenarios steady and mixed,
// alternating) and diffs each pair with the default options: identical configurations must not
// regress. Prints the false regressions, how far each figure moved net of the allocator's held free
// heap (the run-to-run sigmas in src/report/diff_noise.cpp come from these figures), and then the
// injected cases: runs with `soak --inject-peak` (a share of the peak) and `--inject-retained`
// (bytes) at a ladder of sizes, each diffed against a clean base, and how often diff found them.
//
// A benchmark: it prints figures and never fails on them (exit 2 only when a soak cannot run).
// `diff_bench --help` lists the knobs.
#include <fmt/format.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "infermem/run_diff.h"
#include "infermem/units.h"

namespace fs = std::filesystem;
using namespace infermem;

namespace {

struct Config {
  int pairs = 20;
  std::int64_t requests = 10;
  std::string arms = "ort-default,no-arena,no-arena-trim,jemalloc,lean";
  std::string kind = "mlp";
  std::string weights = "8MiB";
  std::string model;  // --model: a model file instead of gen-model
  std::vector<double> peak_shares = {0.025, 0.05, 0.10};  // of the base's peak
  std::vector<double> retained_mib = {0.5, 1.0, 2.0};     // MiB
  int injected = 10;  // injected runs per size (each arm of each run is one case)
  std::string work;
  bool reuse = false;  // --reuse: keep the soaks already in WORK (re-diff them after a change)
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int shell(const std::string& cmd) {
  int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

// One soak into OUT (its terminal output into OUT.log). Exit status 0 or 1 is a finished run.
bool soak(const Config& c, const std::string& model, const std::string& scenario,
          const std::string& out, const std::string& extra = "") {
  if (c.reuse && fs::exists(out + "/summary.json")) return true;
  fs::remove_all(out);
  int rc =
      shell(fmt::format("{} soak {} --scenario {} --arms {} --requests {} --seed 1 {} --out "
                        "{} > {} 2>&1",
                        quote(INFERMEM_BIN), quote(model), scenario, c.arms, c.requests, extra,
                        quote(out), quote(out + ".log")));
  if (rc != 0 && rc != 1) fmt::print(stderr, "diff_bench: soak exited {}; see {}.log\n", rc, out);
  return rc == 0 || rc == 1;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::lround(p * static_cast<double>(v.size() - 1)))];
}

constexpr double kMiB = 1024.0 * 1024.0;

// A comma-separated list of numbers: "0.025,0.05,0.1".
std::vector<double> parse_list(const std::string& text) {
  std::vector<double> v;
  std::size_t at = 0;
  while (at <= text.size()) {
    std::size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    v.push_back(std::stod(text.substr(at, comma - at)));
    at = comma + 1;
  }
  return v;
}

void print_usage() {
  fmt::print(
      "usage: diff_bench [--pairs 20 (per scenario)] [--requests 10] [--arms LIST]\n"
      "                  [--kind mlp] [--weights 8MiB] [--model PATH]\n"
      "                  [--peak-shares 0.025,0.05,0.1] [--retained-mib 0.5,1,2]\n"
      "                  [--injected 10 (runs per size)]\n"
      "                  [--work DIR (default: a temp dir, kept)]\n"
      "                  [--reuse (diff the soaks already in WORK again, run the missing)]\n");
}

// The command line into C. Returns the exit status when the program should stop here (--help:
// 0; an unknown flag: 2; a flag without its value exits 2 at once), nothing to go on.
std::optional<int> parse_args(int argc, char** argv, Config& c) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fmt::print(stderr, "diff_bench: {} needs a value\n", a);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--pairs")
      c.pairs = std::stoi(value());
    else if (a == "--requests")
      c.requests = std::stoll(value());
    else if (a == "--arms")
      c.arms = value();
    else if (a == "--kind")
      c.kind = value();
    else if (a == "--weights")
      c.weights = value();
    else if (a == "--model")
      c.model = value();
    else if (a == "--peak-shares")
      c.peak_shares = parse_list(value());
    else if (a == "--retained-mib")
      c.retained_mib = parse_list(value());
    else if (a == "--injected")
      c.injected = std::stoi(value());
    else if (a == "--work")
      c.work = value();
    else if (a == "--reuse")
      c.reuse = true;
    else {
      print_usage();
      return a == "--help" ? 0 : 2;
    }
  }
  return std::nullopt;
}

// Makes the work directory (a temp dir unless --work) and returns the model soaked: --model, or
// one gen-model writes there. Nothing when gen-model fails.
std::optional<std::string> prepare_model(Config& c) {
  if (c.work.empty())
    c.work =
        (fs::temp_directory_path() / fmt::format("infermem-diff-bench-{}", ::getpid())).string();
  fs::create_directories(c.work);
  std::string model = c.model;
  if (model.empty()) {
    model = c.work + "/" + c.kind + ".onnx";
    if (!(c.reuse && fs::exists(model)) &&
        shell(fmt::format("{} gen-model --kind {} --weights {} -o {} > /dev/null",
                          quote(INFERMEM_BIN), c.kind, c.weights, quote(model))) != 0) {
      fmt::print(stderr, "diff_bench: gen-model failed\n");
      return std::nullopt;
    }
  }
  return model;
}

using Bases = std::vector<std::pair<std::string, std::string>>;  // (scenario, run dir)

// What the identical pairs showed.
struct PairTally {
  // figure -> every comparison: |NEW - BASE|, and net of the held free heap (signed).
  std::map<std::string, std::vector<double>> moved, net_known, net_unknown;
  std::map<std::string, double> noise_max;  // figure -> largest noise bound seen
  std::map<std::string, int> false_pairs, old_rule_pairs, pairs_run;
  std::vector<std::string> false_lines;
  Bases bases;
  int comparisons = 0;
};

// One identical pair's diff (pair P + 1, of SCENARIO) into T.
void tally_pair(const RunDiff& d, const std::string& scenario, int p, PairTally& t) {
  bool old_rule = false;
  for (const auto& f : d.figures) {
    if (!f.memory || !present(f.base) || !present(f.next)) continue;
    const double delta = f.next - f.base;
    t.moved[f.figure].push_back(std::fabs(delta));
    if (present(f.net_change_bytes)) {
      ++t.comparisons;
      (present(f.held_base) ? t.net_known : t.net_unknown)[f.figure].push_back(f.net_change_bytes);
      t.noise_max[f.figure] = std::max(t.noise_max[f.figure], f.noise_bytes);
    }
    if (delta > 4 * kMiB && delta > 0.10 * f.base) old_rule = true;
  }
  if (old_rule) ++t.old_rule_pairs[scenario];
  if (d.regressed()) {
    ++t.false_pairs[scenario];
    for (const auto& r : d.reasons())
      t.false_lines.push_back(fmt::format("pair {} ({}): {}", p + 1, scenario, r));
  }
}

// The identical pairs: c.pairs per scenario. False when a soak cannot run.
bool run_pairs(const Config& c, const std::string& model, const std::vector<std::string>& scenarios,
               PairTally& t) {
  const int total_pairs = c.pairs * static_cast<int>(scenarios.size());
  // Scenarios alternate pair by pair, so drift on a shared machine hits both alike.
  for (int p = 0; p < total_pairs; ++p) {
    const std::string& scenario = scenarios[static_cast<std::size_t>(p) % scenarios.size()];
    const std::string base = fmt::format("{}/pair{:02}-{}-base", c.work, p + 1, scenario);
    const std::string next = fmt::format("{}/pair{:02}-{}-new", c.work, p + 1, scenario);
    if (!soak(c, model, scenario, base) || !soak(c, model, scenario, next)) return false;
    t.bases.emplace_back(scenario, base);
    ++t.pairs_run[scenario];
    const RunDiff d = diff_run_dirs(base, next, DiffOptions{});
    tally_pair(d, scenario, p, t);
    fmt::print(stderr, "pair {}/{} {}: {}\n", p + 1, total_pairs, scenario,
               d.regressed() ? "REGRESSED" : "no regression");
  }
  return true;
}

struct Found {
  int cases = 0, found = 0;
  std::vector<double> mdd;
};
// (kind, size label, allocator class) -> tally
using FoundTally = std::map<std::tuple<std::string, std::string, std::string>, Found>;

// One injected size: c.injected runs with FLAG, each diffed against a clean base of its scenario,
// FIGURE of each arm tallied. False when a soak cannot run.
bool inject(const Config& c, const std::string& model, const Bases& bases, const std::string& kind,
            const std::string& label, const std::string& flag, const char* figure,
            FoundTally& found) {
  for (int k = 0; k < c.injected; ++k) {
    const auto& [scenario, base] = bases[static_cast<std::size_t>(k) % bases.size()];
    const std::string run = fmt::format("{}/inject-{}-{}-{:02}", c.work, kind, label, k + 1);
    if (!soak(c, model, scenario, run, flag)) return false;
    const RunDiff d = diff_run_dirs(base, run, DiffOptions{});
    const RunSummary r = RunSummary::load(run);
    for (const auto& f : d.figures) {
      if (f.figure != figure || !present(f.noise_bytes)) continue;
      std::string alloc = "glibc";
      for (const auto& a : r.arms)
        if (a.name == f.arm && a.config.count("allocator")) alloc = a.config.at("allocator");
      auto& t = found[{kind, label, alloc}];
      ++t.cases;
      if (f.regressed) ++t.found;
      t.mdd.push_back(f.mdd_bytes);
    }
  }
  fmt::print(stderr, "injected {} {} done\n", kind, label);
  return true;
}

// The largest peak of the first base: the peak shares are of it.
double first_base_peak(const Bases& bases) {
  double peak_ref = 0;
  for (const auto& a : RunSummary::load(bases.front().second).arms)
    peak_ref = std::max(peak_ref, a.memory.peak_bytes);
  return peak_ref;
}

// Injected cases: each size, c.injected runs. False when a soak cannot run.
bool run_injected(const Config& c, const std::string& model, const Bases& bases, double peak_ref,
                  FoundTally& found) {
  for (double share : c.peak_shares) {
    const auto bytes = static_cast<std::uint64_t>(share * peak_ref);
    if (!inject(c, model, bases, "peak", fmt::format("{:.1f}%", 100 * share),
                fmt::format("--inject-peak {}", bytes), "peak_bytes", found))
      return false;
  }
  for (double mib : c.retained_mib) {
    const auto bytes = static_cast<std::uint64_t>(mib * kMiB);
    if (!inject(c, model, bases, "retained", fmt::format("{:.1f}MiB", mib),
                fmt::format("--inject-retained {}", bytes), "retained_bytes", found))
      return false;
  }
  return true;
}

void print_header(const Config& c, int total_pairs, double seconds) {
  fmt::print("## diff_bench: {} identical pairs per scenario\n\n", c.pairs);
  fmt::print("model: {}; soak --requests {} --seed 1 --arms {}\n",
             c.model.empty() ? fmt::format("gen-model --kind {} --weights {}", c.kind, c.weights)
                             : c.model,
             c.requests, c.arms);
  const int soaks =
      2 * total_pairs + c.injected * static_cast<int>(c.peak_shares.size() + c.retained_mib.size());
  fmt::print("{} soaks in {:.0f} s ({:.1f} s a soak)\n\n", soaks, seconds, seconds / soaks);
}

void print_false_regressions(const std::vector<std::string>& scenarios, PairTally& t) {
  fmt::print(
      "| scenario | pairs | false regressions (diff) | pairs the 10%/4 MiB rule flagged |\n");
  fmt::print("|---|---:|---:|---:|\n");
  for (const auto& s : scenarios)
    fmt::print("| {} | {} | {} | {} |\n", s, t.pairs_run[s], t.false_pairs[s], t.old_rule_pairs[s]);
  for (const auto& l : t.false_lines) fmt::print("- {}\n", l);
  fmt::print("\n{} figure comparisons.\n", t.comparisons);
}

// An estimated sigma of one run from differences of identical pairs (sd / sqrt 2).
double sigma(const std::vector<double>& v) {
  if (v.size() < 2) return NAN;
  double ss = 0;
  for (double x : v) ss += x * x;  // identical runs: the mean difference is 0
  return std::sqrt(ss / static_cast<double>(v.size()) / 2.0);
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

void print_moved(PairTally& t) {
  fmt::print(
      "\nHow far each figure moved between identical runs: |NEW - BASE|, and NEW - BASE net of "
      "the allocator's held free heap where the runs recorded it (glibc, jemalloc) or not "
      "(tcmalloc, "
      "mimalloc), as an estimated sigma of one "
      "run (sd / sqrt 2):\n\n");
  fmt::print(
      "| figure | median abs | max abs | net sigma (held known) | net max abs (held known) | "
      "sigma (held unknown) | max abs (held unknown) | largest noise bound |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& [figure, v] : t.moved)
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {} |\n", figure,
               format_bytes(percentile(v, 0.5)), format_bytes(max_abs(v)),
               format_bytes(sigma(t.net_known[figure])), format_bytes(max_abs(t.net_known[figure])),
               format_bytes(sigma(t.net_unknown[figure])),
               format_bytes(max_abs(t.net_unknown[figure])), format_bytes(t.noise_max[figure]));
}

void print_injected(const FoundTally& found, double peak_ref, const std::string& work) {
  fmt::print("\nInjected cases (each arm of each injected run against a clean base):\n\n");
  fmt::print("| injected | size | allocator | cases | found | rate | median MDD |\n");
  fmt::print("|---|---:|---|---:|---:|---:|---:|\n");
  for (const auto& [key, t] : found)
    fmt::print("| {} | {} | {} | {} | {} | {:.0f}% | {} |\n", std::get<0>(key), std::get<1>(key),
               std::get<2>(key), t.cases, t.found, 100.0 * t.found / std::max(1, t.cases),
               format_bytes(percentile(t.mdd, 0.5)));
  fmt::print("\npeak shares are of {} (the largest peak of the first base run)\n",
             format_bytes(peak_ref));
  fmt::print("runs kept in {}\n", work);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  if (const auto stop = parse_args(argc, argv, c)) return *stop;
  const auto model = prepare_model(c);
  if (!model) return 2;

  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> scenarios = {"steady", "mixed"};
  const int total_pairs = c.pairs * static_cast<int>(scenarios.size());
  PairTally pairs;
  if (!run_pairs(c, *model, scenarios, pairs)) return 2;
  FoundTally found;
  const double peak_ref = first_base_peak(pairs.bases);
  if (!run_injected(c, *model, pairs.bases, peak_ref, found)) return 2;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  print_header(c, total_pairs, seconds);
  print_false_regressions(scenarios, pairs);
  print_moved(pairs);
  print_injected(found, peak_ref, c.work);
  return 0;
}
