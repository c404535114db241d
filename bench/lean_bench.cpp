// lean at the physical limit (docs/soak.md, "Lean at the physical limit"): on each model, what a
// churn of load/run/unload/trim leaves anonymous above the baseline, the peak and the p50 of
// `lean` against `ort-default`, and of `lean-arena`: lean as it was before it turned ORT's arena
// off and prepacking back on (arena on, prepacking off, initializers outside the arena).
//
// For each model: one `soak --scenario churn --cycles N --requests 5` (--cycles, default 20) and
// one `soak --scenario mixed`, both with the three arms interleaved over --repeat N fresh children.
// Figures are the medians over the repeats ([min, max] for retained), printed as Markdown; never
// assertions. Exit 2 on a usage or run error. Models: the PP-OCRv4 detection and recognition models
// that scripts/setup.sh fetches, and the generated 64 MiB transformer (--quick: fewer repeats).
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "infermem/summary.h"

namespace fs = std::filesystem;
using namespace infermem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

struct Model {
  std::string name, path, dims;  // dims: soak's --dim flags for the model's dynamic sizes
  int mixed_requests;
};

struct Config {
  int repeat = 4;
  int cycles = 20;  // churn: load/run/unload/trim cycles per child
  std::string work;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::optional<RunSummary> soak(const Config& cfg, const Model& m, const std::string& scenario) {
  const std::string out = fmt::format("{}/{}-{}", cfg.work, m.name, scenario);
  std::string cmd = quote(INFERMEM_BIN) + " soak " + quote(m.path) + " " + m.dims;
  cmd += scenario == "churn" ? fmt::format(" --scenario churn --cycles {} --requests 5", cfg.cycles)
                             : fmt::format(" --scenario mixed --requests {}", m.mixed_requests);
  cmd += fmt::format(
      " --arms ort-default,lean --arm "
      "'lean-arena:base=lean,arena=on,prepacking=off,device_alloc_for_initializers=on'"
      " --repeat {} --force --out {} > {} 2>&1",
      cfg.repeat, quote(out), quote(out + ".log"));
  const int rc = std::system(cmd.c_str());
  if (!WIFEXITED(rc) || WEXITSTATUS(rc) > 1) {
    std::cerr << "lean_bench: soak failed (" << out << ".log)\n";
    return std::nullopt;
  }
  return RunSummary::load(out);
}

const ArmSummary* arm(const RunSummary& s, const std::string& name) {
  for (const auto& a : s.arms)
    if (a.name == name) return &a;
  return nullptr;
}

std::string spread(const ArmSummary& a) {
  double lo = a.memory.retained_anon_bytes, hi = lo;
  for (const auto& r : a.repeats) {
    lo = std::min(lo, r.memory.retained_anon_bytes);
    hi = std::max(hi, r.memory.retained_anon_bytes);
  }
  return fmt::format("{:.2f} [{:.2f}, {:.2f}]", a.memory.retained_anon_bytes / kMiB, lo / kMiB,
                     hi / kMiB);
}

bool bench_model(const Config& cfg, const Model& m) {
  auto churn = soak(cfg, m, "churn");
  auto mixed = soak(cfg, m, "mixed");
  if (!churn || !mixed) return false;
  const ArmSummary* base_c = arm(*churn, "ort-default");
  const ArmSummary* base_m = arm(*mixed, "ort-default");
  if (!base_c || !base_m) return false;
  for (const char* name : {"ort-default", "lean", "lean-arena"}) {
    const ArmSummary* c = arm(*churn, name);
    const ArmSummary* x = arm(*mixed, name);
    if (!c || !x) return false;
    fmt::print("| {} | {} | {} | {} | {:.1f} ({:.2f}x) | {:.1f} ({:.2f}x) |\n", m.name, name,
               spread(*c), spread(*x), x->memory.peak_bytes / kMiB,
               x->memory.peak_bytes / base_m->memory.peak_bytes, x->latency_ms.p50,
               x->latency_ms.p50 / base_m->latency_ms.p50);
  }
  return true;
}

bool parse_args(int argc, char** argv, Config& cfg) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--quick") {
      cfg.repeat = 2;
      cfg.cycles = 6;
    } else if (a == "--repeat") {
      cfg.repeat = std::atoi(value().c_str());
    } else if (a == "--cycles") {
      cfg.cycles = std::atoi(value().c_str());
    } else if (a == "--work") {
      cfg.work = value();
    } else {
      std::cerr << "usage: lean_bench [--quick] [--repeat N] [--cycles N] [--work DIR]\n";
      return false;
    }
  }
  return cfg.repeat > 0 && cfg.cycles > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  if (!parse_args(argc, argv, cfg)) return 2;
  if (cfg.work.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "infermem-lean-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) return 2;
    cfg.work = tmpl;
  }
  fs::create_directories(cfg.work);
  const std::string models = std::string(INFERMEM_SOURCE_DIR) + "/third_party/models";
  const std::string transformer = cfg.work + "/transformer-64MiB.onnx";
  const std::string gen = quote(INFERMEM_BIN) +
                          " gen-model --kind transformer --weights 64MiB -o " + quote(transformer) +
                          " > /dev/null";
  if (std::system(gen.c_str()) != 0) return 2;
  const std::vector<Model> all{{"PP-OCRv4 rec", models + "/ch_PP-OCRv4_rec_infer.onnx",
                                "--dim x.0=1 --dim x.3=80..320", 150},
                               {"PP-OCRv4 det", models + "/ch_PP-OCRv4_det_infer.onnx",
                                "--dim x.2=96..480 --dim x.3=96..480", 40},
                               {"transformer 64 MiB", transformer, "--dim sequence=16..256", 60}};
  fmt::print(
      "## lean at the physical limit ({} interleaved repeats; churn: {} cycles of load, 5 "
      "requests, unload and trim)\n\n| model | arm | churn: retained anon MiB [min, max] | "
      "mixed: retained anon MiB [min, max] | mixed: peak MiB | mixed: p50 ms |\n"
      "|---|---|---|---|---|---|\n",
      cfg.repeat, cfg.cycles);
  for (const auto& m : all)
    if (!bench_model(cfg, m)) return 2;
  return 0;
}
