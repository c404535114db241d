#include "infermem/soak_app.h"
#include "infermem/run_files.h"

#include <fmt/format.h>
#include <algorithm>
#include <cstdint>
#include <filesystem>

#include "app/attribute.h"
#include "app/until_confident.h"
#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/units.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;

std::string figure(double bytes) {
  return present(bytes) ? format_bytes(bytes) : "-";
}

std::uint64_t saturating_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

std::string bytes_text(std::uint64_t bytes) {
  return bytes == UINT64_MAX ? std::string("more than 16 EiB")
                             : format_bytes(static_cast<double>(bytes));
}

// The largest input tensor any request can draw, from the resolved dims (as InputSynth draws).
struct LargestInput {
  std::string text;  // "image[4x3x640x640] float"
  std::uint64_t bytes = 0;
};
LargestInput largest_input(const std::vector<InputPlan>& inputs,
                           const std::map<std::string, DimRange>& dims) {
  LargestInput best;
  for (const auto& p : inputs) {
    std::uint64_t bytes = element_size(p.element_type);
    std::string shape;
    for (std::size_t d = 0; d < p.shape.size(); ++d) {
      std::int64_t n = p.shape[d];
      if (n < 0) {
        const DimRange& r = dims.at(p.dim_keys[d]);
        std::int64_t step = std::max<std::int64_t>(1, r.step);
        n = std::max((r.lo + step - 1) / step, r.hi / step) * step;
      }
      bytes = saturating_mul(bytes, static_cast<std::uint64_t>(std::max<std::int64_t>(n, 0)));
      shape += (d ? "x" : "") + std::to_string(n);
    }
    if (best.text.empty() || bytes > best.bytes)
      best = {fmt::format("{}[{}] {}", p.name, shape, element_type_name(p.element_type)), bytes};
  }
  return best;
}

// Requests an arm's child serves, warm ones included (per cycle times the cycles in churn).
std::uint64_t requests_per_arm(const SoakOptions& o) {
  return saturating_mul(
      static_cast<std::uint64_t>(o.requests) + static_cast<std::uint64_t>(o.warm_requests),
      o.scenario == Scenario::churn ? static_cast<std::uint64_t>(o.cycles) : 1);
}

// An injection of `bytes` a request, over every request of an arm, must fit in the machine's
// memory when there is no --memory-limit.
void check_fits_in_memory(const char* flag, std::uint64_t bytes, const SoakOptions& o,
                          std::uint64_t ram, const char* hint) {
  const std::uint64_t per_arm = requests_per_arm(o);
  const std::uint64_t total = saturating_mul(bytes, per_arm);
  if (o.memory_limit_bytes == 0 && total > ram)
    throw InputError(
        fmt::format("{}: {} x {} requests is {}, more than this machine's memory ({}); lower it or "
                    "--requests{}",
                    flag, bytes_text(bytes), per_arm, bytes_text(total), bytes_text(ram), hint));
}

// --inject-fragmentation: 1 KiB..1 MiB a request, and what the holes add up to must fit in memory.
void check_inject_fragmentation(const SoakOptions& o, std::uint64_t ram) {
  if (o.inject_fragmentation_bytes == 0) return;
  constexpr std::uint64_t kLo = 1024, kHi = 1024 * 1024;
  if (o.inject_fragmentation_bytes < kLo || o.inject_fragmentation_bytes > kHi)
    throw InputError(fmt::format("--inject-fragmentation: {} is out of range; give 1KiB..1MiB",
                                 bytes_text(o.inject_fragmentation_bytes)));
  check_fits_in_memory("--inject-fragmentation", o.inject_fragmentation_bytes, o, ram, "");
}

}  // namespace

JudgedArm judge_arm(const ArmAccumulator& records, const std::string& name, bool injected_leak) {
  JudgedArm j;
  j.figures = records.figures();
  j.series = records.series(name);
  j.context = records.context(j.figures);
  j.context.injected_leak = injected_leak;
  j.verdict = judge(j.series, j.context);
  return j;
}

ArmSummary summarize_arm_run(const ArmRun& run, bool injected_leak) {
  JudgedArm j = judge_arm(run.records, run.name, injected_leak);
  ArmSummary a;
  static_cast<ArmFigures&>(a) = j.figures;
  a.name = run.name;
  a.config = run.config;
  a.pid = run.pid;
  a.status = run.status;
  a.status_detail = run.status_detail;
  a.verdict = std::move(j.verdict);
  a.charts = make_arm_charts(run.records, run.name, a.verdict, j.context);
  return a;
}

void add_gated_arms(RunSummary& summary, const std::vector<std::string>& arm_names,
                    std::vector<std::vector<ArmSummary>> repeats, const GateConfig& gate) {
  for (std::size_t i = 0; i < arm_names.size() && i < repeats.size(); ++i) {
    if (repeats[i].empty()) continue;
    ArmSummary a = combine_repeats(arm_names[i], std::move(repeats[i]));
    GateSubject subject{a.name, a.memory.peak_bytes, a.memory.loaded_bytes, a.memory.retained_bytes,
                        a.verdict};
    a.checks = evaluate_gate(gate.for_subject(a.name), subject);
    summary.arms.push_back(std::move(a));
  }
}

RunFacts plan_soak(const SoakOptions& o, const std::vector<Arm>& arms) {
  check_until_confident(o);
  RunFacts facts = prepare_soak(o, arms);
  // What the model's inputs and the flags ask of memory, against the limit or the machine.
  const std::uint64_t ram = physical_memory_bytes();
  const bool limited = o.memory_limit_bytes > 0 && o.memory_limit_bytes < ram;
  const std::uint64_t budget = limited ? o.memory_limit_bytes : ram;
  const std::string budget_text =
      limited ? fmt::format("--memory-limit {}", bytes_text(o.memory_limit_bytes))
              : fmt::format("this machine's memory ({})", bytes_text(ram));
  LargestInput largest = largest_input(facts.inputs, facts.dims);
  if (largest.bytes > budget)
    throw InputError(fmt::format(
        "{}: input {} at its largest is {}, more than {}; bound its dynamic dimensions with "
        "--dim NAME=LO..HI",
        o.model_path, largest.text, bytes_text(largest.bytes), budget_text));
  if (o.inject_leak_bytes > 0) {
    if (o.inject_leak_bytes > budget)
      throw InputError(fmt::format("--inject-leak: {} per request is more than {}",
                                   bytes_text(o.inject_leak_bytes), budget_text));
    check_fits_in_memory("--inject-leak", o.inject_leak_bytes, o, ram,
                         ", or give --memory-limit to see the OOM kill");
  }
  check_inject_fragmentation(o, ram);
  return facts;
}

RunSummary run_soak(const SoakOptions& options, const RunFacts& facts, const std::vector<Arm>& arms,
                    const GateConfig& gate,
                    const std::function<void(const SoakProgress&)>& progress) {
  RunSummary summary;
  summary.tool_version = facts.tool_version;
  summary.ort_version = facts.ort_version;
  summary.model_path = facts.model_path;
  summary.model_sha256 = facts.model_sha256;
  summary.scenario = std::string(name(options.scenario));
  summary.seed = options.seed;
  summary.host = facts.host;
  summary.started_at = facts.started_at;
  summary.options = facts.options;

  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec)
    throw WriteError(fmt::format("--out {}: cannot create it: {}", options.out_dir, ec.message()));

  // Each child is judged as it ends, so its progress line and its trace record carry the verdict.
  std::map<std::string, ArmSummary> judged;
  UntilConfident until(options);
  ArmSettled settled;  // empty unless --until-confident: every arm runs to its end
  if (options.until_confident) {
    summary.options["until_confident"] = until_confident_options(options);
    settled = [&](const std::string& arm, std::int64_t requests, const ArmAccumulator& records) {
      return until.settled(arm, requests, records);
    };
  }
  auto on_arm_end = [&](const ArmRun& run) {
    ArmSummary a = summarize_arm_run(run, options.inject_leak_bytes > 0);
    progress(SoakProgress{
        run.name,
        fmt::format("arm {}: {} — {} requests, peak {}, retained {}, verdict {}", run.name,
                    name(a.status), a.requests_done, figure(a.memory.peak_bytes),
                    figure(a.memory.retained_bytes), a.verdict.kind)});
    nlohmann::json fields = {{"verdict", std::string(name(a.verdict.kind))}};
    if (options.until_confident) {
      a.until_confident = until.result(run.name, run.records);
      fields["until_confident"] = a.until_confident->to_json();
    }
    judged[run.name] = std::move(a);
    return fields;
  };
  auto runs = run_arms(options, arms, facts, summary.notes, progress, on_arm_end, settled);

  std::vector<std::string> arm_names;
  std::vector<std::vector<ArmSummary>> repeats(arms.size());
  for (std::size_t i = 0; i < arms.size(); ++i) {
    arm_names.push_back(arms[i].name);
    for (const auto& run : runs[i]) repeats[i].push_back(std::move(judged.at(run.name)));
  }
  add_gated_arms(summary, arm_names, std::move(repeats), gate);
  summary.interrupted = soak_stop_requested();
  if (options.attribute && !summary.interrupted)
    summary.attribution = attribute_worst_arm(options, arms, facts, summary, progress);

  write_run_reports(summary, options.out_dir);
  return summary;
}

int soak_exit_code(const RunSummary& run, std::vector<std::string>& problems) {
  bool check_failed = false, workload_failed = false;
  for (const auto& a : run.arms) {
    for (const auto& c : a.checks)
      if (!c.passed) {
        check_failed = true;
        problems.push_back(fmt::format("check failed: {} {}: {}", a.name, c.check, c.message));
      }
    if (a.status == ArmStatus::oom_killed) {
      check_failed = true;
      problems.push_back(fmt::format("arm {} was OOM-killed: {}", a.name, a.status_detail));
    } else if (a.status != ArmStatus::ok && a.status != ArmStatus::interrupted) {
      workload_failed = true;
      problems.push_back(fmt::format("arm {} {}: {}", a.name, name(a.status), a.status_detail));
    }
  }
  if (run.interrupted) return kExitInterrupted;
  if (workload_failed) return kExitWorkload;
  return check_failed ? kExitCheckFailed : kExitOk;
}

}  // namespace infermem
