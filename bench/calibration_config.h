// calibration_bench's configuration: models, injected cells, clean runs, and the command line
// (flags or CAL_* variables). Included by bench/calibration_bench.cpp only.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace calbench {

inline constexpr double KiB = 1024.0;
inline const std::vector<std::string> kAllArms = {"ort-default", "no-arena", "no-arena-trim",
                                                  "jemalloc", "lean"};

// One injected-leak cell: RATE KiB/request, REQUESTS per run, SEEDS runs (seeds 1..SEEDS).
struct LeakCell {
  double rate_kib = 0;
  std::int64_t requests = 0;
  int seeds = 0;
};

struct ModelCfg {
  std::string key;    // "transformer" | "ocr"
  std::string label;  // for the tables
  std::string path;
  std::vector<std::string> extra;  // extra soak arguments (--dim ...)
  std::int64_t leak_requests = 0;
  int leak_seeds = 0;
  std::int64_t clean_requests = 0;
  int clean_seeds = 0;
  std::vector<LeakCell> leak_cells;  // --tr-leak-cells / --ocr-leak-cells: replace rates x seeds
};

struct Config {
  bool quick = false;
  int jobs = 1;
  std::string work;      // where runs go
  std::string markdown;  // optional: also write the tables here
  std::string leak_arm = "ort-default";
  std::vector<std::string> clean_arms = kAllArms;
  std::vector<double> rates_kib = {4, 16, 64};
  std::vector<std::int64_t> horizons = {1000, 2000, 5000};
  std::set<std::string> models = {"transformer", "ocr"};
  std::vector<std::string> clean_scenarios = {"mixed"};
  std::string ocr_model;
  ModelCfg tr, ocr;
  bool keep = true;
  bool reuse = false;  // re-judge the runs already recorded in --work instead of re-running them
};

inline std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

inline void usage() {
  std::cout <<
      R"(calibration_bench: detection rate, estimate error and false positives of the leak verdict
on real soak runs (scenario mixed). See docs/calibration.md.

Options (each also read from the environment variable in brackets):
  --quick                  smoke run, ~1-2 minutes (few seeds, short runs)
  --jobs N                 soak runs in parallel [CAL_JOBS] (default 1)
  --work DIR               where runs are written [CAL_WORK] (default: a new dir under $TMPDIR)
  --markdown FILE          also write the tables to FILE
  --models LIST            transformer,ocr [CAL_MODELS]
  --ocr-model PATH         [CAL_OCR_MODEL] (default third_party/models/ch_PP-OCRv4_det_infer.onnx)
  --rates LIST             injected KiB/request [CAL_RATES] (default 4,16,64)
  --horizons LIST          request counts the leak runs are also judged at [CAL_HORIZONS]
                           (default 1000,2000,5000; each below a run's length, plus its length)
  --leak-arm ARM           arm of the injected runs [CAL_LEAK_ARM] (default ort-default)
  --clean-arms LIST        arms of the clean runs [CAL_CLEAN_ARMS] (default all five)
  --tr-leak-requests N     [CAL_TR_LEAK_REQUESTS]   (default 5000)
  --tr-leak-seeds N        [CAL_TR_LEAK_SEEDS]      (default 4)
  --tr-clean-requests N    [CAL_TR_CLEAN_REQUESTS]  (default 1000)
  --ocr-leak-requests N    [CAL_OCR_LEAK_REQUESTS]  (default 2000)
  --ocr-leak-seeds N       [CAL_OCR_LEAK_SEEDS]     (default 3)
  --ocr-clean-requests N   [CAL_OCR_CLEAN_REQUESTS] (default 300)
  --clean-seeds N          clean runs per arm, model and scenario [CAL_CLEAN_SEEDS] (default 20)
  --clean-scenarios LIST   scenarios of the clean runs [CAL_CLEAN_SCENARIOS] (default mixed;
                           e.g. steady,mixed)
  --tr-leak-cells LIST     transformer injected cells RATE:REQUESTS:SEEDS, e.g. 4:1000:20,1:5000:20
                           [CAL_TR_LEAK_CELLS]; replaces --rates/--tr-leak-requests/-seeds
  --ocr-leak-cells LIST    the same for the OCR model [CAL_OCR_LEAK_CELLS]
  --reuse                  re-judge the runs already in --work (a run directory with a trace.jsonl
                           is not run again), e.g. after an engine change
Exit status: 0 targets met, 1 a target missed, 2 usage or run error.
)";
}

template <class T>
inline std::vector<T> parse_list(const std::string& s) {
  std::vector<T> out;
  for (const auto& p : split(s, ',')) out.push_back(static_cast<T>(std::stod(p)));
  return out;
}

// RATE:REQUESTS:SEEDS[,...]; throws std::invalid_argument naming the bad cell.
inline std::vector<LeakCell> parse_cells(const std::string& s) {
  std::vector<LeakCell> cells;
  for (const auto& item : split(s, ',')) {
    auto parts = split(item, ':');
    if (parts.size() != 3) throw std::invalid_argument("cell '" + item + "' (RATE:REQUESTS:SEEDS)");
    LeakCell c{std::stod(parts[0]), std::stoll(parts[1]), std::stoi(parts[2])};
    if (!(c.rate_kib > 0) || c.requests <= 0 || c.seeds <= 0)
      throw std::invalid_argument("cell '" + item + "' (each part must be positive)");
    cells.push_back(c);
  }
  return cells;
}

inline bool parse_args(int argc, char** argv, Config& c) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(__FILE__).parent_path().parent_path();
  c.ocr_model = "third_party/models/ch_PP-OCRv4_det_infer.onnx";
  if (!fs::exists(c.ocr_model)) c.ocr_model = (root / c.ocr_model).string();
  c.tr = {"transformer", "transformer 8 MiB (gen-model seed 7)", "", {}, 5000, 4, 1000, 20, {}};
  c.ocr = {"ocr", "PP-OCRv4 det (x.2,x.3 = 96..320)",
           "",    {"--dim", "x.2=96..320", "--dim", "x.3=96..320"},
           2000,  3,
           300,   20,
           {}};
  // Environment first, then flags.
  std::map<std::string, std::string> kv;
  const std::vector<std::pair<std::string, std::string>> env_map = {
      {"CAL_JOBS", "--jobs"},
      {"CAL_WORK", "--work"},
      {"CAL_MODELS", "--models"},
      {"CAL_OCR_MODEL", "--ocr-model"},
      {"CAL_RATES", "--rates"},
      {"CAL_HORIZONS", "--horizons"},
      {"CAL_LEAK_ARM", "--leak-arm"},
      {"CAL_CLEAN_ARMS", "--clean-arms"},
      {"CAL_TR_LEAK_REQUESTS", "--tr-leak-requests"},
      {"CAL_TR_LEAK_SEEDS", "--tr-leak-seeds"},
      {"CAL_TR_CLEAN_REQUESTS", "--tr-clean-requests"},
      {"CAL_OCR_LEAK_REQUESTS", "--ocr-leak-requests"},
      {"CAL_OCR_LEAK_SEEDS", "--ocr-leak-seeds"},
      {"CAL_OCR_CLEAN_REQUESTS", "--ocr-clean-requests"},
      {"CAL_CLEAN_SEEDS", "--clean-seeds"},
      {"CAL_CLEAN_SCENARIOS", "--clean-scenarios"},
      {"CAL_TR_LEAK_CELLS", "--tr-leak-cells"},
      {"CAL_OCR_LEAK_CELLS", "--ocr-leak-cells"}};
  for (const auto& [env, flag] : env_map)
    if (const char* v = std::getenv(env.c_str())) kv[flag] = v;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    }
    if (a == "--quick") {
      c.quick = true;
      continue;
    }
    if (a == "--reuse") {
      c.reuse = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "calibration_bench: " << a << " needs a value (see --help)\n";
      return false;
    }
    kv[a] = argv[++i];
  }
  if (c.quick) {
    c.tr.leak_requests = 1000, c.tr.leak_seeds = 1, c.tr.clean_requests = 300, c.tr.clean_seeds = 1;
    c.ocr.leak_requests = 300, c.ocr.leak_seeds = 1, c.ocr.clean_requests = 100,
    c.ocr.clean_seeds = 1;
    c.rates_kib = {16};
    c.horizons = {500};
  }
  try {
    for (const auto& [k, v] : kv) {
      if (k == "--jobs")
        c.jobs = std::max(1, std::stoi(v));
      else if (k == "--work")
        c.work = v;
      else if (k == "--markdown")
        c.markdown = v;
      else if (k == "--models") {
        auto m = split(v, ',');
        c.models = {m.begin(), m.end()};
      } else if (k == "--ocr-model")
        c.ocr_model = v;
      else if (k == "--rates")
        c.rates_kib = parse_list<double>(v);
      else if (k == "--horizons")
        c.horizons = parse_list<std::int64_t>(v);
      else if (k == "--leak-arm")
        c.leak_arm = v;
      else if (k == "--clean-arms")
        c.clean_arms = split(v, ',');
      else if (k == "--tr-leak-requests")
        c.tr.leak_requests = std::stoll(v);
      else if (k == "--tr-leak-seeds")
        c.tr.leak_seeds = std::stoi(v);
      else if (k == "--tr-clean-requests")
        c.tr.clean_requests = std::stoll(v);
      else if (k == "--ocr-leak-requests")
        c.ocr.leak_requests = std::stoll(v);
      else if (k == "--ocr-leak-seeds")
        c.ocr.leak_seeds = std::stoi(v);
      else if (k == "--ocr-clean-requests")
        c.ocr.clean_requests = std::stoll(v);
      else if (k == "--clean-seeds")
        c.tr.clean_seeds = c.ocr.clean_seeds = std::stoi(v);
      else if (k == "--clean-scenarios")
        c.clean_scenarios = split(v, ',');
      else if (k == "--tr-leak-cells")
        c.tr.leak_cells = parse_cells(v);
      else if (k == "--ocr-leak-cells")
        c.ocr.leak_cells = parse_cells(v);
      else {
        std::cerr << "calibration_bench: unknown option " << k << " (see --help)\n";
        return false;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "calibration_bench: bad value: " << e.what() << "\n";
    return false;
  }
  c.ocr.path = c.ocr_model;
  for (const auto& m : c.models)
    if (m != "transformer" && m != "ocr") {
      std::cerr << "calibration_bench: unknown model " << m << " (transformer, ocr)\n";
      return false;
    }
  return true;
}

}  // namespace calbench
