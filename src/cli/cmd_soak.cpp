// infermem soak MODEL.onnx: the main job. Parses flags, runs the arms, renders the table.
#include <fmt/format.h>
#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <ctime>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/soak.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct SoakFlags {
  std::string model;
  std::string scenario = "mixed";
  std::string arms = "ort-default,no-arena,no-arena-trim,jemalloc,lean";
  std::vector<std::string> custom_arms;
  std::int64_t requests = 200;
  std::string duration;
  int cycles = 3;
  int repeat = 1;
  std::uint64_t seed = 1;
  std::vector<std::string> dims;
  int threads = 0;
  std::string inject_leak;
  int models = 4;
  std::string cache = "lru:2";
  std::string memory_limit;
  std::string timeout;
  std::string out;
  std::string max_growth, max_growth_rate, max_peak, max_retained, fail_on, config;
  bool allow_short = false;
};

void on_signal(int) {
  request_soak_stop();
}

// Live progress per arm: a bar redrawn in place on a terminal; plain lines otherwise (CI logs),
// one at each tenth of an arm's requests.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool tty) : tty_(tty) {}
  void operator()(const SoakProgress& p) {
    if (!p.line.empty()) {
      if (tty_ && bar_shown_) fmt::print(stderr, "\r\033[K");
      bar_shown_ = false;
      fmt::print(stderr, "  {}\n", p.line);
      last_tenth_ = 0;
      return;
    }
    if (p.requests_total <= 0) return;
    double done =
        std::min(1.0, static_cast<double>(p.requests_done) / static_cast<double>(p.requests_total));
    if (tty_) {
      constexpr int kWidth = 30;
      int filled = static_cast<int>(done * kWidth);
      fmt::print(stderr, "\r\033[K  {:<14} [{}{}] {}/{}  RSS {}  HWM {}", p.arm,
                 std::string(static_cast<std::size_t>(filled), '#'),
                 std::string(static_cast<std::size_t>(kWidth - filled), ' '), p.requests_done,
                 p.requests_total, format_bytes(p.rss_bytes), format_bytes(p.hwm_bytes));
      bar_shown_ = true;
      return;
    }
    int tenth = static_cast<int>(done * 10);
    if (tenth > last_tenth_) {
      last_tenth_ = tenth;
      fmt::print(stderr, "  arm {}: {}/{} requests, RSS {} (VmHWM {})\n", p.arm, p.requests_done,
                 p.requests_total, format_bytes(p.rss_bytes), format_bytes(p.hwm_bytes));
    }
  }

 private:
  bool tty_;
  bool bar_shown_ = false;
  int last_tenth_ = 0;
};

std::string default_out_dir() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return std::string("infermem-runs/") + buf;
}

Thresholds thresholds_from(const SoakFlags& f) {
  Thresholds t;
  if (!f.config.empty()) t = load_gate_config(f.config).defaults;
  if (!f.max_growth.empty())
    t.max_growth_bytes_per_request = static_cast<double>(parse_size(f.max_growth, "--max-growth"));
  if (!f.max_growth_rate.empty())
    t.max_growth_bytes_per_minute =
        static_cast<double>(parse_size(f.max_growth_rate, "--max-growth-rate"));
  if (!f.max_peak.empty())
    t.max_peak_bytes = static_cast<double>(parse_size(f.max_peak, "--max-peak"));
  if (!f.max_retained.empty()) parse_retained_threshold(f.max_retained, t);
  if (auto fail_on = parse_fail_on(f.fail_on)) t.fail_on = *fail_on;
  if (f.allow_short) t.allow_short = true;
  return t;
}

int run(const SoakFlags& f) {
  SoakOptions o;
  o.model_path = f.model;
  o.scenario = f.scenario;
  o.requests = f.requests;
  if (!f.duration.empty()) o.duration_ms = parse_duration_ms(f.duration, "--duration");
  o.cycles = f.cycles;
  o.repeat = f.repeat;
  o.seed = f.seed;
  for (const auto& d : f.dims) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0)
      throw InputError(fmt::format("--dim {}: expected NAME=LO..HI", d));
    o.dim_overrides[d.substr(0, eq)] = d.substr(eq + 1);
  }
  o.threads = f.threads;
  if (!f.inject_leak.empty()) o.inject_leak_bytes = parse_size(f.inject_leak, "--inject-leak");
  o.models = f.models;
  o.cache = f.cache;
  if (f.scenario == "cache") {
    auto colon = f.cache.find(':');
    std::string kind = f.cache.substr(0, colon);
    if (kind == "budget")
      throw InputError("--cache budget:SIZE is not available yet; use --cache lru:COUNT");
    if (kind != "lru" || colon == std::string::npos || f.cache.size() == colon + 1 ||
        f.cache.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
        std::stoul(f.cache.substr(colon + 1)) == 0)
      throw InputError(fmt::format("--cache {}: expected lru:COUNT with COUNT >= 1", f.cache));
  }
  if (!f.memory_limit.empty()) o.memory_limit_bytes = parse_size(f.memory_limit, "--memory-limit");
  if (!f.timeout.empty()) o.arm_timeout_ms = parse_duration_ms(f.timeout, "--timeout");
  o.out_dir = f.out.empty() ? default_out_dir() : f.out;
  std::vector<Arm> arms = resolve_arms(f.arms, f.custom_arms);
  Thresholds thresholds = thresholds_from(f);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  fmt::print(stderr, "infermem soak: {} ({} scenario, {} arm{}), output in {}\n", f.model,
             f.scenario, arms.size(), arms.size() == 1 ? "" : "s", o.out_dir);
  RunSummary s = run_soak(o, arms, thresholds, ProgressPrinter(isatty(STDERR_FILENO) == 1));
  fmt::print("\n{}", render_terminal_table(s));
  for (const auto& n : s.notes) fmt::print("note: {}\n", n);
  fmt::print("\nreport: {}/report.md, summary: {}/summary.json, trace: {}/trace.jsonl\n", o.out_dir,
             o.out_dir, o.out_dir);
  if (s.interrupted) return kExitInterrupted;
  // Exit codes: 3 when an arm's workload failed (crashed, timed out), else 1 when a memory check
  // failed (a gate threshold or verdict, or the kernel's OOM killer under --memory-limit).
  bool failed = false, workload_failed = false;
  for (const auto& a : s.arms) {
    for (const auto& c : a.checks)
      if (!c.passed) {
        failed = true;
        fmt::print(stderr, "infermem: check failed: {} {}: {}\n", a.name, c.check, c.message);
      }
    if (a.status == "oom-killed") {
      failed = true;
      fmt::print(stderr, "infermem: arm {} was OOM-killed: {}\n", a.name, a.status_detail);
    } else if (a.status != "ok") {
      workload_failed = true;
      fmt::print(stderr, "infermem: arm {} {}: {}\n", a.name, a.status, a.status_detail);
    }
  }
  if (workload_failed) return kExitWorkload;
  return failed ? kExitCheckFailed : kExitOk;
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<SoakFlags>();
  auto* sub = app.add_subcommand(
      "soak",
      "Run a real ONNX model under a scenario and configuration arms, each in a fresh "
      "process, and report what memory did");
  sub->add_option("model", f->model, "The .onnx model")->required();
  sub->add_option("--scenario", f->scenario, "steady|mixed|churn|cache")
      ->check(CLI::IsMember({"steady", "mixed", "churn", "cache"}))
      ->capture_default_str();
  std::string builtins;
  for (const auto& n : builtin_arm_names()) builtins += (builtins.empty() ? "" : ", ") + n;
  sub->add_option("--arms", f->arms, "Comma-separated built-in arms: " + builtins)
      ->capture_default_str();
  std::string keys;
  for (const auto& k : knob_specs()) keys += (keys.empty() ? "" : ", ") + k.key;
  sub->add_option("--arm", f->custom_arms, "A custom arm 'NAME:key=value,...'; keys: " + keys);
  sub->add_option("--requests", f->requests, "Inferences per arm (per cycle for churn)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--duration", f->duration,
                  "Also stop an arm's inference after this long (e.g. 2m)");
  sub->add_option("--cycles", f->cycles, "churn: load/infer/unload cycles")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--repeat", f->repeat,
                  "Run every arm this many times, interleaved, each in a fresh process; report "
                  "medians and the spread")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sub->add_option("--seed", f->seed, "Seed for inputs, shapes and request streams")
      ->capture_default_str();
  sub->add_option("--dim", f->dims, "Bounds of a dynamic dimension, NAME=LO..HI");
  sub->add_option("--threads", f->threads, "Intra-op threads for every arm (default: the arm's)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--inject-leak", f->inject_leak,
                  "Leak this much per inference in the child, on purpose");
  sub->add_option("--models", f->models, "cache: model variants on disk")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--cache", f->cache, "cache: lru:COUNT")->capture_default_str();
  sub->add_option("--memory-limit", f->memory_limit,
                  "Run every child in a memory cgroup with this limit");
  sub->add_option("--timeout", f->timeout, "Kill an arm's child after this long");
  sub->add_option("--out", f->out, "Output directory (default infermem-runs/<timestamp>)");
  sub->add_option("--max-growth", f->max_growth, "Gate: growth per request");
  sub->add_option("--max-growth-rate", f->max_growth_rate, "Gate: growth per minute");
  sub->add_option("--max-peak", f->max_peak, "Gate: peak RSS");
  sub->add_option("--max-retained", f->max_retained,
                  "Gate: retained after unload, SIZE or PCT of loaded");
  sub->add_option("--fail-on", f->fail_on, "Gate: fail on a verdict: leak|any")
      ->check(CLI::IsMember({"leak", "any"}));
  sub->add_flag("--allow-short", f->allow_short,
                "Gate: with --fail-on, accept an arm too short to judge instead of failing");
  sub->add_option("--config", f->config, "Gate thresholds from a TOML file");
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"soak", 10, attach}};

}  // namespace
}  // namespace infermem::cli
