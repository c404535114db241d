// soak --until-confident against the fixed run (docs/soak.md, "Until confident").
//
// 1. Simulated false-leak rates: seeded AR(1) clean series (lag-1 autocorrelation 0.3, 0.6, 0.9),
//    15 looks each; the sequential rule (stop at the first look past the alpha-spending boundary)
//    against the fixed test (95% interval above zero) repeated at every look and run once.
// 2. Requests used on the calibration cases (docs/calibration.md: the generated 8 MiB transformer,
//    gen-model seed 7, --scenario mixed, arm ort-default, --inject-leak 0/4/16/64 KiB): for each
//    case and seed, one fixed soak of --requests CAP and one --until-confident --max-requests CAP;
//    the requests each ran, the verdicts, and why the sequential run stopped.
//
// Standalone: its own main(), figures printed as Markdown tables, never assertions. Exit 2 on a
// usage or run error. --quick: fewer series and seeds (a few minutes).
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "infermem/sequential.h"
#include "infermem/summary.h"
#include "verdict/synthetic.h"

namespace fs = std::filesystem;
using namespace infermem;

namespace {

struct Config {
  int series = 400;  // simulated clean series per autocorrelation
  int seeds = 3;     // real runs per case
  std::int64_t cap = 2000;
  std::string detect = "1KiB";
  std::string work;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

void simulated_false_alarms(const Config& cfg) {
  constexpr std::size_t kLooks = 15, kEvery = 100, kN = kLooks * kEvery;
  fmt::print(
      "## Simulated false-leak rates ({} clean AR(1) series each, sigma 64 KiB, {} looks "
      "of {} requests, seeds 1000..{})\n\n",
      cfg.series, kLooks, kEvery, 1000 + cfg.series - 1);
  fmt::print(
      "| lag-1 autocorrelation | sequential (alpha 2.5%) | sequential, confirmed (soak's rule) | "
      "fixed test, once at {} | fixed test repeated at every look |\n|---|---|---|---|---|\n",
      kN);
  const auto x = test::request_axis(kN);
  for (double phi : {0.3, 0.6, 0.9}) {
    int seq = 0, confirmed = 0, once = 0, repeated = 0;
    for (int s = 0; s < cfg.series; ++s) {
      auto y = test::ar1_series(kN, phi, 64 * 1024, 0, 1000 + static_cast<std::uint32_t>(s));
      SequentialConfig c;
      c.max_requests = kN;
      c.detect_bytes_per_request = 0;  // the boundary alone: every series gets all 15 looks
      c.leak_precision = std::numeric_limits<double>::infinity();
      SequentialRule rule(c), confirmed_rule(c);
      seq += replay_looks(rule, x, y, kEvery).decision == SequentialDecision::settled_leak;
      confirmed += replay_confirmed_looks(confirmed_rule, x, y, kEvery).decision ==
                   SequentialDecision::settled_leak;
      once += fixed_leak_test(x, y);
      bool any = false;
      for (std::size_t k = 1; k <= kLooks && !any; ++k)
        any = fixed_leak_test(std::span(x).first(k * kEvery), std::span(y).first(k * kEvery));
      repeated += any;
    }
    auto pct = [&](int n) { return fmt::format("{:.1f}%", 100.0 * n / cfg.series); };
    fmt::print("| {:.1f} | {} | {} | {} | {} |\n", phi, pct(seq), pct(confirmed), pct(once),
               pct(repeated));
  }
  fmt::print("\n");
}

// One soak of the case; returns its summary, or nothing when it did not run.
std::optional<RunSummary> soak(const Config& cfg, const std::string& model, std::uint64_t leak,
                               int seed, bool sequential) {
  const std::string out = fmt::format("{}/{}-leak{}-seed{}", cfg.work,
                                      sequential ? "until-confident" : "fixed", leak, seed);
  std::string cmd = quote(INFERMEM_BIN) + " soak " + quote(model) +
                    fmt::format(" --scenario mixed --arms ort-default --seed {}", seed);
  cmd += sequential
             ? fmt::format(" --until-confident --max-requests {} --detect {}", cfg.cap, cfg.detect)
             : fmt::format(" --requests {}", cfg.cap);
  if (leak > 0) cmd += fmt::format(" --inject-leak {}", leak);
  cmd += " --force --out " + quote(out) + " > " + quote(out + ".log") + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (!WIFEXITED(rc) || WEXITSTATUS(rc) > 1) {
    std::cerr << "until_confident_bench: soak failed (" << out << ".log)\n";
    return std::nullopt;
  }
  return RunSummary::load(out);
}

bool real_runs(const Config& cfg) {
  const std::string model = cfg.work + "/transformer-8MiB-seed7.onnx";
  const std::string gen = quote(INFERMEM_BIN) +
                          " gen-model --kind transformer --weights 8MiB --seed 7 -o " +
                          quote(model) + " > /dev/null";
  if (std::system(gen.c_str()) != 0) return false;
  fmt::print(
      "## Requests used: --until-confident --max-requests {0} --detect {1} against "
      "--requests {0} (transformer 8 MiB, mixed, ort-default, seeds 1..{2})\n\n",
      cfg.cap, cfg.detect, cfg.seeds);
  fmt::print(
      "| injected | seed | fixed: requests, verdict | until-confident: requests, verdict "
      "| stopped by | at request | seconds | saved |\n|---|---|---|---|---|---|---|---|\n");
  double fixed_total = 0, seq_total = 0;
  for (std::uint64_t leak : {0ull, 4096ull, 16384ull, 65536ull}) {
    for (int seed = 1; seed <= cfg.seeds; ++seed) {
      auto fixed = soak(cfg, model, leak, seed, false);
      auto seq = soak(cfg, model, leak, seed, true);
      if (!fixed || !seq || fixed->arms.empty() || seq->arms.empty()) return false;
      const ArmSummary& f = fixed->arms.front();
      const ArmSummary& s = seq->arms.front();
      const TimeToVerdict t = s.until_confident.value_or(TimeToVerdict{"-"});
      fixed_total += static_cast<double>(f.requests_done);
      seq_total += static_cast<double>(s.requests_done);
      fmt::print("| {} | {} | {}, {} | {}, {} | {} | {} | {:.1f} | {:.0f}% |\n",
                 leak ? fmt::format("{} KiB/req", leak / 1024) : std::string("none"), seed,
                 f.requests_done, name(f.verdict.kind), s.requests_done, name(s.verdict.kind),
                 t.stopped_by, t.requests, t.seconds,
                 100.0 * (1 - static_cast<double>(s.requests_done) /
                                  static_cast<double>(f.requests_done)));
    }
  }
  fmt::print("\nIn all: {:.0f} requests fixed, {:.0f} until confident ({:.0f}% saved).\n",
             fixed_total, seq_total, 100 * (1 - seq_total / fixed_total));
  return true;
}

bool parse_args(int argc, char** argv, Config& cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--quick") {
      cfg.series = 100;
      cfg.seeds = 1;
    } else if (a == "--series") {
      cfg.series = std::atoi(value().c_str());
    } else if (a == "--seeds") {
      cfg.seeds = std::atoi(value().c_str());
    } else if (a == "--cap") {
      cfg.cap = std::atoll(value().c_str());
    } else if (a == "--detect") {
      cfg.detect = value();
    } else if (a == "--work") {
      cfg.work = value();
    } else {
      std::cerr << "usage: until_confident_bench [--quick] [--series N] [--seeds N] [--cap N] "
                   "[--detect SIZE] [--work DIR]\n";
      return false;
    }
  }
  return cfg.series > 0 && cfg.seeds > 0 && cfg.cap > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!parse_args(argc, argv, cfg)) return 2;
  if (cfg.work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "infermem-until-confident-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return 2;
    cfg.work = tmpl;
  }
  fs::create_directories(cfg.work);
  simulated_false_alarms(cfg);
  return real_runs(cfg) ? 0 : 2;
}
