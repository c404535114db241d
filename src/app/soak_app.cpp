#include "infermem/soak_app.h"

#include <fmt/format.h>
#include <filesystem>

#include "app/attribute.h"
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

void write_reports(const RunSummary& summary, const std::string& run_dir) {
  write_file_atomic(run_dir + "/summary.json", render(summary, Format::json));
  write_file_atomic(run_dir + "/report.md", render(summary, Format::markdown));
  write_file_atomic(run_dir + "/report.html", render(summary, Format::html));
  write_file_atomic(run_dir + "/junit.xml", render(summary, Format::junit));
}

RunSummary run_soak(const SoakOptions& options, const std::vector<Arm>& arms,
                    const GateConfig& gate,
                    const std::function<void(const SoakProgress&)>& progress) {
  RunFacts facts = prepare_soak(options, arms);
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
  auto on_arm_end = [&](const ArmRun& run) {
    JudgedArm j = judge_arm(run.records, run.name, options.inject_leak_bytes > 0);
    ArmSummary a;
    static_cast<ArmFigures&>(a) = j.figures;
    a.name = run.name;
    a.config = run.config;
    a.pid = run.pid;
    a.status = run.status;
    a.status_detail = run.status_detail;
    a.verdict = std::move(j.verdict);
    a.charts = make_arm_charts(run.records.chart_series(run.name), a.verdict, j.context,
                               run.records.latency_quantiles_ms());
    progress(SoakProgress{
        run.name,
        fmt::format("arm {}: {} — {} requests, peak {}, retained {}, verdict {}", run.name,
                    name(a.status), a.requests_done, figure(a.memory.peak_bytes),
                    figure(a.memory.retained_bytes), a.verdict.kind)});
    nlohmann::json fields = {{"verdict", std::string(name(a.verdict.kind))}};
    judged[run.name] = std::move(a);
    return fields;
  };
  auto runs = run_arms(options, arms, facts, summary.notes, progress, on_arm_end);

  for (std::size_t i = 0; i < arms.size(); ++i) {
    if (runs[i].empty()) continue;
    std::vector<ArmSummary> repeats;
    for (const auto& run : runs[i]) repeats.push_back(std::move(judged.at(run.name)));
    ArmSummary a = combine_repeats(arms[i].name, std::move(repeats));
    GateSubject subject{a.name, a.memory.peak_bytes, a.memory.loaded_bytes, a.memory.retained_bytes,
                        a.verdict};
    a.checks = evaluate_gate(gate.for_subject(a.name), subject);
    summary.arms.push_back(std::move(a));
  }
  summary.interrupted = soak_stop_requested();
  if (options.attribute && !summary.interrupted)
    summary.attribution = attribute_worst_arm(options, arms, facts, summary, progress);

  write_reports(summary, options.out_dir);
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
