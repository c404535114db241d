// The false-regression check of `infermem diff` (docs/diff.md).
//
// Generates a small model (`gen-model --kind mlp --weights 8MiB`), runs pairs of identically
// configured soaks (same arms, seed and request count; scenarios steady and mixed, alternating)
// and diffs each pair with the default options. Identical configurations should not regress:
// prints how many pairs did, which figure moved how much, how far each figure moves between
// identical runs (the noise floors in src/report/run_diff.cpp come from these figures), and what
// the rule diff used before (10% and 4 MiB, no noise floor) would have flagged. Then, as a
// control, diffs a run with --inject-leak against a clean one: that one must read as regressed.
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
#include <string>
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
  std::string inject = "2MiB";
  std::string work;
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

}  // namespace

int main(int argc, char** argv) {
  Config c;
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
    else if (a == "--inject-leak")
      c.inject = value();
    else if (a == "--work")
      c.work = value();
    else {
      fmt::print(
          "usage: diff_bench [--pairs 20 (per scenario)] [--requests 10] [--arms LIST]\n"
          "                  [--kind mlp] [--weights 8MiB]\n"
          "                  [--inject-leak 2MiB] [--work DIR (default: a temp dir, kept)]\n");
      return a == "--help" ? 0 : 2;
    }
  }
  if (c.work.empty())
    c.work =
        (fs::temp_directory_path() / fmt::format("infermem-diff-bench-{}", ::getpid())).string();
  fs::create_directories(c.work);
  const std::string model = c.work + "/" + c.kind + ".onnx";
  if (shell(fmt::format("{} gen-model --kind {} --weights {} -o {} > /dev/null",
                        quote(INFERMEM_BIN), c.kind, c.weights, quote(model))) != 0) {
    fmt::print(stderr, "diff_bench: gen-model failed\n");
    return 2;
  }

  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> scenarios = {"steady", "mixed"};
  const int total_pairs = c.pairs * static_cast<int>(scenarios.size());
  struct Moved {
    double bytes;      // |NEW - BASE|
    double footprint;  // ... as a fraction of the model's footprint (BASE loaded - baseline)
    std::string where;
  };
  std::map<std::string, std::vector<Moved>> moved;  // figure -> every comparison
  std::map<std::string, int> false_pairs, old_rule_pairs, pairs_run;
  std::vector<std::string> false_lines;
  std::map<std::string, std::string> first_base;
  // Scenarios alternate pair by pair, so drift on a shared machine hits both alike.
  for (int p = 0; p < total_pairs; ++p) {
    const std::string& scenario = scenarios[static_cast<std::size_t>(p) % scenarios.size()];
    const std::string base = fmt::format("{}/pair{:02}-{}-base", c.work, p + 1, scenario);
    const std::string next = fmt::format("{}/pair{:02}-{}-new", c.work, p + 1, scenario);
    if (!soak(c, model, scenario, base) || !soak(c, model, scenario, next)) return 2;
    first_base.emplace(scenario, base);
    ++pairs_run[scenario];
    const RunSummary base_run = RunSummary::load(base);
    const RunDiff d = diff_run_dirs(base, next, DiffOptions{});
    bool old_rule = false;
    for (const auto& f : d.figures) {
      if (!f.memory || !present(f.base) || !present(f.next)) continue;
      const double delta = f.next - f.base;
      double footprint = NAN;
      for (const auto& a : base_run.arms)
        if (a.name == f.arm) footprint = a.memory.loaded_bytes - a.memory.baseline_bytes;
      moved[f.figure].push_back({std::fabs(delta), std::fabs(delta) / footprint,
                                 fmt::format("pair {} {} {}", p + 1, scenario, f.arm)});
      if (delta > 4 * kMiB && delta > 0.10 * f.base) old_rule = true;
    }
    if (old_rule) ++old_rule_pairs[scenario];
    if (d.regressed()) {
      ++false_pairs[scenario];
      for (const auto& r : d.reasons())
        false_lines.push_back(fmt::format("pair {} ({}): {}", p + 1, scenario, r));
    }
    fmt::print(stderr, "pair {}/{} {}: {}\n", p + 1, total_pairs, scenario,
               d.regressed() ? "REGRESSED" : "no regression");
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  fmt::print("## diff_bench: identical soaks, {} pairs per scenario\n\n", c.pairs);
  fmt::print("model: gen-model --kind {} --weights {}; soak --requests {} --seed 1 --arms {}\n",
             c.kind, c.weights, c.requests, c.arms);
  fmt::print("{} soaks in {:.0f} s ({:.1f} s a soak)\n\n", 2 * total_pairs, seconds,
             seconds / (2.0 * total_pairs));
  fmt::print("| scenario | pairs | false regressions (diff) | pairs the old rule flagged |\n");
  fmt::print("|---|---:|---:|---:|\n");
  for (const auto& s : scenarios)
    fmt::print("| {} | {} | {} | {} |\n", s, pairs_run[s], false_pairs[s], old_rule_pairs[s]);
  for (const auto& l : false_lines) fmt::print("- {}\n", l);

  fmt::print(
      "\nHow far each figure moved between identical runs (every arm of every pair; footprint ="
      " BASE loaded - baseline):\n\n");
  fmt::print("| figure | comparisons | median | p95 | max | max / footprint | where |\n");
  fmt::print("|---|---:|---:|---:|---:|---:|---|\n");
  for (const auto& [figure, v] : moved) {
    std::vector<double> b;
    double worst_fraction = 0;
    for (const auto& m : v) {
      b.push_back(m.bytes);
      if (std::isfinite(m.footprint)) worst_fraction = std::max(worst_fraction, m.footprint);
    }
    auto worst = std::max_element(v.begin(), v.end(),
                                  [](const Moved& x, const Moved& y) { return x.bytes < y.bytes; });
    fmt::print("| {} | {} | {} | {} | {} | {:.1f}% | {} |\n", figure, v.size(),
               format_bytes(percentile(b, 0.5)), format_bytes(percentile(b, 0.95)),
               format_bytes(worst->bytes), 100 * worst_fraction, worst->where);
  }

  // The control: a real leak must still read as regressed.
  fmt::print("\n| control (--inject-leak {} a request) | regressed | reasons |\n|---|---|---|\n",
             c.inject);
  for (const auto& s : scenarios) {
    if (!first_base.count(s)) continue;
    const std::string leaky = fmt::format("{}/leak-{}", c.work, s);
    if (!soak(c, model, s, leaky, "--inject-leak " + c.inject)) return 2;
    const RunDiff d = diff_run_dirs(first_base[s], leaky, DiffOptions{});
    fmt::print("| {} | {} | {} |\n", s, d.regressed() ? "yes" : "NO", d.reasons().size());
  }
  fmt::print("\nruns kept in {}\n", c.work);
  return 0;
}
