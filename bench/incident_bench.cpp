// The multi-model incident, reproduced at this machine's scale (docs/model-cache.md).
//
// A service held many ONNX models behind a count-bounded LRU, loading each from bytes; a smaller
// cache multiplied load/unload cycles until the process was OOM-killed. This program generates
// one transformer (default 64 MiB of weights), lets soak copy it into --models distinct files,
// and runs one `soak --scenario cache` with four arms over the same seeded Zipf stream, each in a
// fresh process under the same --memory-limit:
//   lru8-bytes      cache=lru:8, load=bytes           (the incident)
//   lru4-bytes      cache=lru:4, load=bytes           (the incident's "fix": a smaller cache)
//   lru4-path-trim  cache=lru:4, load=path, trim=on   (the first real fixes)
//   budget-lean     base=lean, cache=budget:SIZE      (infermem::ModelCache)
// and prints one Markdown table from the run's summary.json and trace.jsonl: requests served,
// OOM kills, peak and final memory, memory after every N requests, p50/p99, loads, evictions,
// refusals. Standalone: its own main(), no Google Benchmark; figures, never assertions.
//   incident_bench [--models 12] [--weights 64MiB] [--requests 300] [--limit 1GiB]
//                  [--budget 600MiB] [--every 100] [--seed 7] [--out DIR] [--reuse]
//                  [--arms lru8-bytes,lru4-bytes,lru4-path-trim,budget-lean]
// --reuse tabulates DIR/run as it is (a run made earlier with the same options).
#include <fmt/format.h>
#include <sys/wait.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "infermem/summary.h"
#include "infermem/trace.h"

#ifndef INFERMEM_BIN
#define INFERMEM_BIN "infermem"
#endif

namespace fs = std::filesystem;
using namespace infermem;

namespace {

struct Options {
  std::string models = "12", weights = "64MiB", requests = "300", limit = "1GiB", budget = "600MiB",
              seed = "7", out;
  // --arms: which of the four arms to run (all by default), e.g. to find the limit at which one
  // of them dies without paying for the others.
  std::string arms = "lru8-bytes,lru4-bytes,lru4-path-trim,budget-lean";
  std::int64_t every = 100;
  bool reuse = false;  // --reuse: tabulate OUT/run as it is, run nothing
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

int run(const std::string& cmd) {
  fmt::print(stderr, "$ {}\n", cmd);
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

struct ArmTrace {
  std::int64_t loads = 0, evictions = 0, refusals = 0;
  std::map<std::int64_t, double> rss_at;  // request -> VmRSS read after it (every Nth)
  double last_rss = -1;                   // the last reading of any source
  double last_infer_rss = -1;             // the child's last reading while serving
};

std::map<std::string, ArmTrace> read_trace(const std::string& path, std::int64_t every) {
  std::map<std::string, ArmTrace> arms;
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return arms;
  trace::Reader reader(f);
  while (auto r = reader.next()) {
    if (r->arm.empty()) continue;
    ArmTrace& a = arms[r->arm];
    if (r->type == trace::RecordType::note) {
      const std::string event = r->text("event");
      a.loads += event == "load";
      a.evictions += event == "evict";
      a.refusals += event == "refused";
    }
    if (r->type == trace::RecordType::sample)
      if (auto rss = r->value(Figure::rss_bytes)) {
        a.last_rss = *rss;
        if (r->src == trace::Src::child && r->phase == trace::Phase::infer) a.last_infer_rss = *rss;
        if (r->src == trace::Src::child && r->req > 0 && r->req % every == 0)
          a.rss_at[r->req] = *rss;
      }
  }
  std::fclose(f);
  return arms;
}

std::string mib(double bytes) {
  return bytes < 0 || std::isnan(bytes) ? "-" : fmt::format("{:.0f}", bytes / 1048576.0);
}

// The command line into O (every flag but --reuse takes a value). False, with a message, on a
// flag without its value or an unknown one.
bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--reuse") {
      o.reuse = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      fmt::print(stderr, "incident_bench: {} needs a value\n", k);
      return false;
    }
    const std::string v = argv[i + 1];
    if (k == "--models")
      o.models = v;
    else if (k == "--weights")
      o.weights = v;
    else if (k == "--requests")
      o.requests = v;
    else if (k == "--limit")
      o.limit = v;
    else if (k == "--budget")
      o.budget = v;
    else if (k == "--seed")
      o.seed = v;
    else if (k == "--every")
      o.every = std::atoll(v.c_str());
    else if (k == "--out")
      o.out = v;
    else if (k == "--arms")
      o.arms = v;
    else {
      fmt::print(stderr, "incident_bench: unknown option {}\n", k);
      return false;
    }
  }
  if (o.every <= 0) o.every = 100;
  if (o.out.empty()) o.out = (fs::temp_directory_path() / "infermem-incident").string();
  return true;
}

// The soak's --arm flags for --arms. Nothing, with a message, when an arm is not one of the four.
std::optional<std::string> arm_flags(const Options& o) {
  const std::map<std::string, std::string> known = {
      {"lru8-bytes", "cache=lru:8,load=bytes"},
      {"lru4-bytes", "cache=lru:4,load=bytes"},
      {"lru4-path-trim", "cache=lru:4,trim=on"},
      {"budget-lean", fmt::format("base=lean,cache=budget:{}", o.budget)}};
  std::string flags;
  for (std::size_t at = 0; at <= o.arms.size();) {
    std::size_t comma = std::min(o.arms.find(',', at), o.arms.size());
    const std::string name = o.arms.substr(at, comma - at);
    at = comma + 1;
    if (name.empty()) continue;
    const auto it = known.find(name);
    if (it == known.end()) {
      fmt::print(stderr,
                 "incident_bench: unknown arm {} (lru8-bytes, lru4-bytes, "
                 "lru4-path-trim, budget-lean)\n",
                 name);
      return std::nullopt;
    }
    flags += fmt::format(" --arm '{}:{}'", name, it->second);
  }
  return flags;
}

// A fresh OUT: the model generated, then the one soak into RUN_DIR. Returns the soak's exit
// status; nothing when gen-model fails or an arm is unknown.
std::optional<int> make_run(const Options& o, const std::string& run_dir) {
  const std::string model = o.out + "/incident.onnx";
  const std::string bin = quote(INFERMEM_BIN);
  fs::remove_all(o.out);
  fs::create_directories(o.out);
  if (run(fmt::format("{} gen-model --kind transformer --weights {} --seed 1 -o {} > /dev/null",
                      bin, o.weights, quote(model))) != 0)
    return std::nullopt;
  const auto flags = arm_flags(o);
  if (!flags) return std::nullopt;
  return run(fmt::format(
      "{} soak {} --scenario cache --models {} --requests {} --seed {} --memory-limit {} --arms "
      "''{} --out {} > {} 2>&1",
      bin, quote(model), o.models, o.requests, o.seed, o.limit, *flags, quote(run_dir),
      quote(o.out + "/soak.log")));
}

// An arm's trace figures, with ModelCache's own counters where the arm has them.
ArmTrace arm_figures(const ArmSummary& a, const std::map<std::string, ArmTrace>& traces) {
  const auto it = traces.find(a.name);
  ArmTrace t = it == traces.end() ? ArmTrace{} : it->second;
  // ModelCache counts its own loads and evictions (some happen after a request, not as a
  // trace event): its counters win when the arm has them.
  for (const auto& ph : a.phases)
    if (ph.cache) {
      t.loads = static_cast<std::int64_t>(ph.cache->loads);
      t.evictions = static_cast<std::int64_t>(ph.cache->evictions);
      t.refusals = static_cast<std::int64_t>(ph.cache->refusals);
    }
  return t;
}

void print_table(const Options& o, const RunSummary& s,
                 const std::map<std::string, ArmTrace>& traces) {
  fmt::print(
      "{} models x {} of weights, {} requests (seeded Zipf 1.1, seed {}), --memory-limit {}\n\n",
      o.models, o.weights, o.requests, o.seed, o.limit);
  fmt::print(
      "| arm | status | served | OOM kills | peak MiB | final MiB | MiB after every {} "
      "requests | p50 ms | p99 ms | loads | evictions | refusals |\n",
      o.every);
  fmt::print("|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|\n");
  for (const auto& a : s.arms) {
    const ArmTrace t = arm_figures(a, traces);
    std::string series;
    for (const auto& [req, rss] : t.rss_at) series += (series.empty() ? "" : " ") + mib(rss);
    const bool oom = a.status == ArmStatus::oom_killed;
    fmt::print("| {} | {} | {} | {} | {} | {} | {} | {:.1f} | {:.1f} | {} | {} | {} |\n", a.name,
               name(a.status), a.requests_done, oom ? 1 : 0, mib(a.memory.peak_bytes),
               mib(t.last_infer_rss >= 0 ? t.last_infer_rss : t.last_rss),
               series.empty() ? "-" : series, a.latency_ms.p50, a.latency_ms.p99, t.loads,
               t.evictions, t.refusals);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse_options(argc, argv, o)) return 2;
  const std::string run_dir = o.out + "/run";
  int rc = 0;
  if (!o.reuse) {
    const auto soak_rc = make_run(o, run_dir);
    if (!soak_rc) return 2;
    rc = *soak_rc;
  }
  if (!fs::exists(run_dir + "/summary.json")) {
    fmt::print(stderr, "incident_bench: soak exited {} without a summary (see {}/soak.log)\n", rc,
               o.out);
    return 2;
  }
  const RunSummary s = RunSummary::load(run_dir);
  print_table(o, s, read_trace(run_dir + "/trace.jsonl", o.every));
  fmt::print(
      "\nfinal: the child's last VmRSS while serving (a killed arm: the last sample of "
      "any source). run: {}\n",
      run_dir);
  return 0;
}
