// infermem replay as an application (infermem/replay_app.h): plan -> one policy at a time, each
// in fresh children under the limit (restarted after an OOM kill) -> read the trace back per
// policy -> figures, charts, the headroom check -> render -> write.
#include "infermem/replay_app.h"
#include "infermem/run_files.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "app/replay_text.h"
#include "infermem/atomic_file.h"
#include "infermem/cgroup_limit.h"
#include "infermem/error.h"
#include "infermem/host.h"
#include "infermem/numbers.h"
#include "infermem/render.h"
#include "infermem/soak_app.h"
#include "infermem/units.h"
#include "infermem/version.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;

// An arm name for a policy ([A-Za-z0-9._-], as every arm's): lru-2, budget-300MiB.
std::string arm_name(const CachePolicy& p) {
  if (p.kind == CachePolicy::Kind::lru) return fmt::format("lru-{}", p.count);
  const std::uint64_t mib = 1ull << 20;
  return p.budget_bytes % mib == 0 ? fmt::format("budget-{}MiB", p.budget_bytes / mib)
                                   : fmt::format("budget-{}B", p.budget_bytes);
}

bool regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Every model id the log names, in order of first use, as a file of DIR that ORT loads.
std::vector<ReplayModel> plan_models(const ReplayLog& log, const ReplayOptions& o) {
  std::vector<ReplayModel> models;
  std::set<std::string> seen;
  for (const auto& ev : log.events) {
    if (!seen.insert(ev.model).second) continue;
    ReplayModel m;
    m.id = ev.model;
    m.path = (fs::path(o.models_dir) / (ev.model + ".onnx")).string();
    if (!regular_file(m.path))
      throw InputError(fmt::format("{} line {}: model '{}' has no file {} in --models {}",
                                   o.log_path, ev.line, ev.model, m.path, o.models_dir));
    m.inputs = plan_inputs(m.path);
    m.dims = resolve_dims(m.inputs, Scenario::steady, {});
    models.push_back(std::move(m));
  }
  return models;
}

// Each line's shape fits its model; each tensor file (relative to the log's folder) exists and
// fits too, checked once per model and file as soak --inputs is.
void check_events(ReplayLog& log, const std::vector<ReplayModel>& models, const ReplayOptions& o) {
  std::map<std::string, const ReplayModel*> by_id;
  for (const auto& m : models) by_id[m.id] = &m;
  std::set<std::pair<std::string, std::string>> checked;
  const fs::path log_dir = fs::absolute(o.log_path).parent_path();
  for (auto& ev : log.events) {
    const ReplayModel& m = *by_id.at(ev.model);
    replay_shape_dims(m, ev);
    if (ev.input.empty()) continue;
    fs::path input = ev.input;
    if (input.is_relative()) input = log_dir / input;
    ev.input = input.lexically_normal().string();
    if (!checked.insert({ev.model, ev.input}).second) continue;
    if (!regular_file(ev.input))
      throw InputError(fmt::format("{} line {}: input '{}' is not a regular file", o.log_path,
                                   ev.line, ev.input));
    SoakOptions so;
    so.inputs_path = ev.input;
    try {
      check_user_inputs(m.inputs, so);
    } catch (const InputError& e) {
      throw InputError(fmt::format("{} line {}: {}", o.log_path, ev.line, e.what()));
    }
  }
}

// --settings: a built-in arm or a custom one; the cache policy comes from --policy alone.
Arm settings_arm(const std::string& text) {
  Arm arm;
  try {
    arm = text.find(':') == std::string::npos ? builtin_arm(text) : parse_custom_arm(text);
  } catch (const InputError& e) {
    throw InputError(fmt::format("--settings {}: {}", text, e.what()));
  }
  if (arm.knob("cache") != "default" && !arm.knob("cache").empty())
    throw InputError(
        fmt::format("--settings {}: the cache policy comes from --policy; drop cache={} here", text,
                    arm.knob("cache")));
  return arm;
}

}  // namespace

PlannedReplay plan_replay(const ReplayOptions& o) {
  PlannedReplay plan;
  if (o.policy_texts.empty()) throw InputError("--policy: give at least one (lru:4, budget:1GiB)");
  const Arm base = settings_arm(o.settings);
  std::set<std::string> names;
  for (const auto& text : o.policy_texts) {
    CachePolicy p = parse_cache_policy(text, "--policy");
    Arm arm = base;
    arm.name = arm_name(p);
    arm.knobs["cache"] = std::string(text);
    if (!names.insert(arm.name).second)
      throw InputError(fmt::format("--policy {}: given twice", text));
    plan.policies.push_back(p);
    plan.arms.push_back(std::move(arm));
  }
  if (o.models_dir.empty() || !fs::is_directory(o.models_dir))
    throw InputError(fmt::format("--models {}: not a directory", o.models_dir));
  ReplayLogOptions lo;
  lo.model_field = o.model_field;
  plan.log = read_replay_log(o.log_path, lo);
  plan.models = plan_models(plan.log, o);
  check_events(plan.log, plan.models, o);
  return plan;
}

namespace {

// What one policy's records say, read back from the trace: requests served, cache events, the
// time from each request's due time to its answer, the highest resident set.
struct PolicyRecords {
  ArmAccumulator records;
  std::vector<double> waits_ms;
  double peak = kAbsent;
  PolicyOutcome outcome;
  void add(const trace::Record& r) {
    records.add(r);
    if (r.type == trace::RecordType::request) {
      ++outcome.served;
      const double latency = r.value(Figure::latency_ms).value_or(kAbsent);
      waits_ms.push_back(latency + r.value(Figure::queued_ms).value_or(0));
    } else if (r.type == trace::RecordType::note) {
      const std::string event = r.text(trace::key::kEvent);
      outcome.hits += event == "hit";
      outcome.loads += event == "load";
      outcome.evictions += event == "evict";
      outcome.refused += event == "refused";
    }
    if (auto rss = r.value(Figure::rss_bytes); rss && (!present(peak) || *rss > peak)) peak = *rss;
  }
};

std::map<std::string, PolicyRecords> read_back(const std::string& trace_path) {
  std::map<std::string, PolicyRecords> by_arm;
  trace::Reader reader(trace::Source::open(trace_path, "trace"));
  while (auto r = reader.next())
    if (!r->arm.empty()) by_arm[r->arm].add(*r);
  return by_arm;
}

// The children of one policy: a fresh one after each OOM kill, from the request after the last
// one answered (the one in flight is lost, as the service's would be).
void run_policy(const ReplayOptions& o, const PlannedReplay& plan, std::size_t k,
                trace::FileWriter& trace_file, double t0, RunSummary& summary, PolicyOutcome& out,
                const std::function<void(const SoakProgress&)>& progress) {
  const Arm& arm = plan.arms[k];
  std::size_t from = 0;
  const std::size_t total = plan.log.events.size();
  while (from < total && !soak_stop_requested()) {
    WorkerSpec spec;
    spec.options.scenario = Scenario::cache;
    spec.options.requests = static_cast<std::int64_t>(total);
    spec.options.memory_limit_bytes = o.memory_limit_bytes;
    spec.options.worker_exe = o.worker_exe;
    spec.options.out_dir = o.out_dir;
    spec.options.cache = plan.policies[k];
    spec.arm = arm;
    spec.run_t0_ms = t0;
    spec.replay = ReplayPlan{plan.models, plan.log.events, from, o.speed};
    for (const auto& m : plan.models) spec.model_variants.push_back(m.path);
    std::vector<std::string> notes;
    ArmRun run =
        run_arm_child(std::move(spec), o.out_dir, trace_file, notes, progress, [&](const ArmRun&) {
          return nlohmann::json{{"policy", arm.knob("cache")}, {"replay_from", from}};
        });
    for (auto& n : notes)
      if (std::find(summary.notes.begin(), summary.notes.end(), n) == summary.notes.end())
        summary.notes.push_back(std::move(n));
    ++out.children;
    out.status = run.status;
    out.status_detail = run.status_detail;
    const auto done =
        static_cast<std::size_t>(std::max<std::int64_t>(0, run.records.figures().requests_done));
    if (run.status != ArmStatus::oom_killed) break;
    ++out.oom_kills;
    progress(SoakProgress{
        arm.name, fmt::format("policy {}: OOM-killed after request {}; a fresh "
                              "child goes on from request {}",
                              arm.knob("cache"), std::max(done, from), std::max(done, from) + 2)});
    from = std::max(done, from) + 1;
    if (out.children >= static_cast<std::uint64_t>(o.max_children)) {
      summary.notes.push_back(fmt::format("policy {}: stopped after {} OOM-killed children",
                                          arm.knob("cache"), out.children));
      break;
    }
  }
}

void finish_outcome(PolicyOutcome& out, PolicyRecords& pr, const ReplayOptions& o) {
  out.served = pr.outcome.served;
  out.hits = pr.outcome.hits;
  out.loads = pr.outcome.loads;
  out.evictions = pr.outcome.evictions;
  out.refused = pr.outcome.refused;
  out.lost = std::max<std::int64_t>(0, out.requests - out.served - out.refused);
  if (out.hits + out.loads > 0)
    out.hit_rate = static_cast<double>(out.hits) / static_cast<double>(out.hits + out.loads);
  out.p50_ms = percentile_nearest_rank(pr.waits_ms, 50);
  out.p99_ms = percentile_nearest_rank(pr.waits_ms, 99);
  out.peak_bytes = pr.peak;
  const double ceiling = static_cast<double>(o.memory_limit_bytes) * (1 - o.headroom);
  if (out.oom_kills > 0)
    out.why_not = fmt::format("{} OOM kill{}", out.oom_kills, out.oom_kills == 1 ? "" : "s");
  else if (out.status != ArmStatus::ok)
    out.why_not = fmt::format("ended {}: {}", name(out.status), out.status_detail);
  else if (out.served < out.requests)
    out.why_not =
        fmt::format("served {} of {} requests ({} refused)", out.served, out.requests, out.refused);
  else if (o.memory_limit_bytes > 0 && (!present(out.peak_bytes) || out.peak_bytes > ceiling))
    out.why_not = fmt::format("peak {} is above {} (the limit less {:g}% headroom)",
                              present(out.peak_bytes) ? format_bytes(out.peak_bytes) : "unknown",
                              format_bytes(ceiling), o.headroom * 100);
  out.holds = out.why_not.empty();
}

}  // namespace

ReplayReport run_replay(const ReplayOptions& o, const PlannedReplay& plan,
                        const std::function<void(const SoakProgress&)>& progress) {
  ReplayReport report;
  RunSummary& s = report.summary;
  s.tool_version = INFERMEM_VERSION;
  s.ort_version = ort_version();
  s.model_path = o.models_dir;
  s.scenario = "replay";
  s.host = host_name();
  s.started_at = utc_now();
  s.options = {{"log", o.log_path},
               {"models", o.models_dir},
               {"memory_limit_bytes", o.memory_limit_bytes},
               {"speed", o.speed.text()},
               {"headroom", o.headroom},
               {"policies", o.policy_texts},
               {"command_line", o.command_line}};
  if (o.memory_limit_bytes > 0) {
    std::string why;
    if (!MemoryCgroup::create(fmt::format("infermem-{}-replay-check", getpid()),
                              o.memory_limit_bytes, &why)) {
      const std::string note = fmt::format(
          "no memory cgroup can be created here ({}): every policy runs without --memory-limit, "
          "so no child can be OOM-killed; a policy is judged on its measured peak against the "
          "limit alone",
          why);
      s.notes.push_back(note);
      progress(SoakProgress{"", "warning: " + note});
    }
  }
  const std::string trace_path = o.out_dir + "/trace.jsonl";
  {
    trace::FileWriter trace_file(trace_path);
    const double t0 = std::chrono::duration<double, std::milli>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
    trace::Record h;
    h.type = trace::RecordType::header;
    h.extra = {
        {"tool", "infermem"},  {"tool_version", s.tool_version}, {"ort_version", s.ort_version},
        {"command", "replay"}, {"model", o.models_dir},          {"scenario", "replay"},
        {"host", s.host},      {"started_at", s.started_at}};
    trace_file.write(h);
    for (std::size_t k = 0; k < plan.arms.size() && !soak_stop_requested(); ++k) {
      PolicyOutcome out;
      out.arm = plan.arms[k].name;
      out.policy = o.policy_texts[k];
      out.requests = static_cast<std::int64_t>(plan.log.events.size());
      run_policy(o, plan, k, trace_file, t0, s, out, progress);
      report.policies.push_back(std::move(out));
    }
    trace_file.check(/*sync=*/true);
  }
  auto by_arm = read_back(trace_path);
  for (std::size_t k = 0; k < report.policies.size(); ++k) {
    PolicyOutcome& out = report.policies[k];
    PolicyRecords& pr = by_arm[out.arm];
    finish_outcome(out, pr, o);
    ArmRun run;
    run.name = out.arm;
    run.config = plan.arms[k].knobs;
    run.status = out.status;
    run.status_detail = out.status_detail;
    run.records = std::move(pr.records);
    s.arms.push_back(summarize_arm_run(run, false));
  }
  s.interrupted = soak_stop_requested();
  report.recommendation = recommend_policy(report, o);
  s.replay = report.table(plan, o);
  write_run_reports(s, o.out_dir);
  return report;
}

int replay_exit_code(const ReplayReport& report) {
  if (report.summary.interrupted) return kExitInterrupted;
  return report.recommendation ? kExitOk : kExitCheckFailed;
}

}  // namespace infermem
