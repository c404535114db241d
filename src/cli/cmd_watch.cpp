// infermem watch --pid N | infermem watch [options] -- CMD ARGS...: follows a live process tree,
// then judges it. Parses and checks flags; the pipeline is in the app (infermem/watch_app.h).
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <csignal>
#include <memory>

#include "cli/command.h"
#include "cli/out_dir.h"
#include "infermem/error.h"
#include "infermem/input_file.h"
#include "infermem/render.h"
#include "infermem/units.h"
#include "infermem/watch_app.h"

namespace infermem::cli {
namespace {

struct WatchFlags {
  std::string pid;
  std::vector<std::string> command;
  std::string interval = "100ms";
  std::string duration;
  std::string window = "1s";
  std::string memory_limit;
  std::string out;
  bool force = false;
  std::string metrics_port;
  std::string metrics_bind = "127.0.0.1";
  std::vector<std::string> labels;
  std::string cache_stats;
  std::string max_growth_rate, max_peak, fail_on, config;
  bool allow_short = false;
};

constexpr double kMinIntervalMs = 1;
constexpr double kMaxIntervalMs = 3600.0 * 1000;
constexpr double kMaxDurationMs = 30.0 * 24 * 3600 * 1000;  // 30 days
// The smallest --memory-limit: below a few MiB nothing but a static binary even starts.
constexpr std::uint64_t kMinMemoryLimitBytes = 4ull << 20;

double duration_flag(const std::string& text, const char* flag, double lo, double hi) {
  const double ms = parse_duration_ms(text, flag);
  if (!(ms >= lo) || ms > hi)
    throw InputError(
        fmt::format("{}: '{}' is out of range: give {} to {}", flag, text,
                    lo >= 1000 ? fmt::format("{:g}s", lo / 1000) : fmt::format("{:g}ms", lo),
                    hi >= 86400000 ? fmt::format("{:g} days", hi / 86400000)
                                   : fmt::format("{:g}h", hi / 3600000)));
  return ms;
}

GateConfig gate_from(const WatchFlags& f) {
  GateConfig g;
  if (!f.config.empty()) {
    open_regular_input(f.config, "--config");
    g = load_gate_config(f.config);
  }
  auto apply = [&](Thresholds& t) {
    if (!f.max_growth_rate.empty())
      t.max_growth_bytes_per_minute =
          static_cast<double>(parse_size(f.max_growth_rate, "--max-growth-rate"));
    if (!f.max_peak.empty())
      t.max_peak_bytes = static_cast<double>(parse_size(f.max_peak, "--max-peak"));
    if (auto fail_on = parse_fail_on(f.fail_on)) t.fail_on = *fail_on;
    if (f.allow_short) t.allow_short = true;
  };
  apply(g.defaults);
  for (auto& [_, t] : g.per_arm) apply(t);
  return g;
}

WatchOptions validated(const WatchFlags& f) {
  WatchOptions o;
  const bool pid_mode = !f.pid.empty();
  if (pid_mode == !f.command.empty())
    throw InputError(pid_mode ? "give either --pid N or a command after '--', not both"
                              : "nothing to watch: give --pid N, or a command after '--' "
                                "(infermem watch -- CMD ARGS...)");
  if (pid_mode) {
    o.pid = static_cast<int>(parse_count(f.pid, "--pid", 1, 4194304));
    if (!f.memory_limit.empty())
      throw InputError(
          "--memory-limit applies to a command infermem starts (after '--'), not to --pid: a "
          "running process cannot be moved into a fresh memory cgroup by infermem");
  }
  o.command = f.command;
  o.interval_ms = duration_flag(f.interval, "--interval", kMinIntervalMs, kMaxIntervalMs);
  if (!f.duration.empty())
    o.duration_ms = duration_flag(f.duration, "--duration", kMinIntervalMs, kMaxDurationMs);
  o.window_ms = duration_flag(f.window, "--window", kMinIntervalMs, kMaxDurationMs);
  if (o.window_ms < o.interval_ms)
    throw InputError(fmt::format("--window {}: shorter than --interval {}: a window needs a sample",
                                 f.window, f.interval));
  if (!f.memory_limit.empty()) {
    o.memory_limit_bytes = parse_size(f.memory_limit, "--memory-limit");
    if (o.memory_limit_bytes < kMinMemoryLimitBytes)
      throw InputError(fmt::format("--memory-limit: '{}' is below {}, the least accepted",
                                   f.memory_limit,
                                   format_bytes(static_cast<double>(kMinMemoryLimitBytes))));
  }
  if (!f.metrics_port.empty())
    o.metrics_port = static_cast<int>(parse_count(f.metrics_port, "--metrics-port", 0, 65535));
  o.metrics_bind = f.metrics_bind;
  o.metric_labels = parse_metric_labels(f.labels);
  if (!o.metric_labels.empty() && f.metrics_port.empty())
    throw InputError("--label labels the exported metrics: give --metrics-port too");
  if (!f.cache_stats.empty()) {
    // It may not exist yet (the service writes it when its cache changes); what is there must
    // be a regular file.
    struct stat st {};
    if (::stat(f.cache_stats.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      throw InputError(fmt::format("--cache-stats {}: not a regular file", f.cache_stats));
    o.cache_stats_path = f.cache_stats;
  }
  o.gate = gate_from(f);
  return o;
}

void on_signal(int) {
  request_watch_stop();
}

// A live line redrawn in place on a terminal; plain periodic lines otherwise (CI logs).
class LivePrinter {
 public:
  explicit LivePrinter(bool tty) : tty_(tty) {}
  void operator()(const WatchProgress& p) {
    if (tty_) {
      fmt::print(stderr, "\r\033[K  {}{}", p.line, p.final ? "\n" : "");
      return;
    }
    if (p.periodic || p.final) fmt::print(stderr, "  {}\n", p.line);
  }

 private:
  bool tty_;
};

int run(const WatchFlags& f) {
  WatchOptions o = validated(f);
  OutDir out = create_out_dir(f.out, f.force, default_out_dir());
  o.out_dir = out.path;
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  WatchHandle watch;
  try {
    watch = prepare_watch(o);
  } catch (...) {
    remove_if_created(out);
    throw;
  }
  fmt::print(stderr, "infermem watch: pid {}{}, every {}, output in {}\n", watched_pid(*watch),
             o.pid ? "" : " (started by infermem)", f.interval, o.out_dir);
  if (metrics_port(*watch) >= 0)
    fmt::print(stderr, "infermem watch: metrics on http://{}:{}/metrics\n", o.metrics_bind,
               metrics_port(*watch));
  WatchSummary s = run_watch(*watch, LivePrinter(isatty(STDERR_FILENO) == 1));
  fmt::print("\n{}", render(s, Format::terminal));
  fmt::print(
      "\nreport: {0}/report.md, {0}/report.html, summary: {0}/summary.json, trace: "
      "{0}/trace.jsonl\n",
      o.out_dir);
  std::vector<std::string> problems;
  const int code = watch_exit_code(s, problems);
  for (const auto& p : problems) fmt::print(stderr, "infermem: {}\n", p);
  return code;
}

void attach(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<WatchFlags>();
  auto* sub = app.add_subcommand(
      "watch",
      "Watch a running process (--pid N) or a command infermem starts (-- CMD ARGS...) and its "
      "children: memory over time, live, then a verdict");
  sub->add_option("--pid", f->pid, "Attach to this running process (left running at the end)");
  sub->add_option("command", f->command, "The command to start, after '--' (no shell)");
  sub->add_option("--interval", f->interval, "Sampling interval, 1ms..1h")->capture_default_str();
  sub->add_option("--duration", f->duration,
                  "Stop after this long (default: when the process exits, or Ctrl-C)");
  sub->add_option("--window", f->window,
                  "Report each window's peak beside the lifetime high-water mark")
      ->capture_default_str();
  sub->add_option("--memory-limit", f->memory_limit,
                  "Command mode: run it in a fresh memory cgroup with this limit");
  sub->add_option("--out", f->out,
                  "Output directory, new or empty (default infermem-runs/<timestamp>)");
  sub->add_flag("--force", f->force, "Write into a non-empty --out directory");
  sub->add_option("--metrics-port", f->metrics_port,
                  "Serve Prometheus metrics on this port (0: any free one)");
  sub->add_option("--metrics-bind", f->metrics_bind,
                  "Address the metrics are served on (default 127.0.0.1: this machine only)")
      ->capture_default_str();
  sub->add_option("--label", f->labels,
                  "With --metrics-port: a constant label KEY=VALUE on every exported series "
                  "(repeatable; e.g. model_version=1.4.2, pod=$POD_NAME)")
      ->allow_extra_args(false);
  sub->add_option("--cache-stats", f->cache_stats,
                  "The stats file the service's ModelCache writes (its INFERMEM_CACHE_STATS); "
                  "default in command mode: cache-stats.json in the output directory");
  sub->add_option("--max-growth-rate", f->max_growth_rate, "Gate: growth per minute");
  sub->add_option("--max-peak", f->max_peak, "Gate: peak of the tree's total RSS");
  sub->add_option("--fail-on", f->fail_on, "Gate: fail on a verdict: leak|any")
      ->check(CLI::IsMember({"leak", "any"}));
  sub->add_flag("--allow-short", f->allow_short,
                "Gate: with --fail-on, accept a watch too short to judge");
  sub->add_option("--config", f->config, "Gate thresholds from a TOML file");
  sub->callback([f, &exit_code] { exit_code = run(*f); });
}

const Registration reg{{"watch", 15, attach}};

}  // namespace
}  // namespace infermem::cli
