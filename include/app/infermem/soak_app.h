#pragma once
// soak as an application: the workload runs the arms and hands back raw results; this layer
// runs summarize -> judge -> combine repeats -> gate -> render -> write, as google/benchmark's
// runner hands its runs to a reporter. watch and analyze follow the same order.
#include <functional>
#include <string>
#include <vector>

#include "infermem/arm_figures.h"
#include "infermem/gate.h"
#include "infermem/soak.h"
#include "infermem/summary.h"
#include "infermem/verdict.h"

namespace infermem {

// One arm's records judged: its figures, the series and context the engine saw, and the verdict.
// soak, the calibration bench and analyze of a soak trace all judge an arm through this.
struct JudgedArm {
  ArmFigures figures;
  Series series;
  SeriesContext context;
  Verdict verdict;
};
JudgedArm judge_arm(const ArmAccumulator& records, const std::string& name, bool injected_leak);

// One child's run as reported: its records judged (judge_arm) and its charts, with how it ended.
// soak calls it as each child ends; merge on each cell of the shards' traces.
ArmSummary summarize_arm_run(const ArmRun& run, bool injected_leak);

// The end of a soak: each arm's repeats (repeats[i] for arm_names[i], in round order; an arm
// with none is left out) combined into medians (combine_repeats), gated with the arm's
// thresholds, and appended to summary.arms. soak and merge both finish a run with it.
void add_gated_arms(RunSummary& summary, const std::vector<std::string>& arm_names,
                    std::vector<std::vector<ArmSummary>> repeats, const GateConfig& gate);

// Everything about a soak that needs the model, checked before anything is written or started:
// the model loads and its inputs can be synthesized (prepare_soak), the largest input any request
// can draw fits in memory (the machine's, or --memory-limit), and an injected leak fits too.
// InputError naming the input or flag otherwise. The facts are planned once and reused by the run.
RunFacts plan_soak(const SoakOptions& options, const std::vector<Arm>& arms);

// Runs the arms, judges and gates each (with its [arms.NAME] thresholds when the config has them),
// with --attribute re-runs the worst arm under heaptrack (its sites go into the summary), and
// writes trace.jsonl, summary.json, report.md, report.html and junit.xml into options.out_dir
// (created here if missing; the caller has planned the run with plan_soak first). WriteError when
// an output cannot be written.
RunSummary run_soak(const SoakOptions& options, const RunFacts& facts, const std::vector<Arm>& arms,
                    const GateConfig& gate,
                    const std::function<void(const SoakProgress&)>& progress);

// The command contract's exit code for a finished run: 130 interrupted, 3 when an arm's workload
// failed (failed, crashed, timed out), else 1 when a memory check failed (a gate check, or the
// kernel's OOM killer under --memory-limit), else 0. `problems` gets one line per reason.
int soak_exit_code(const RunSummary& run, std::vector<std::string>& problems);

}  // namespace infermem
