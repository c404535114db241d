// infermem recommend: pick the arm for a goal and say how to apply it (infermem/recommend.h).
#include "infermem/recommend.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <cmath>
#include <sstream>

#include "infermem/arms.h"
#include "infermem/error.h"
#include "infermem/numbers.h"
#include "infermem/units.h"

namespace infermem {
namespace {

// What ONNX Runtime and glibc do when nobody asks: a knob at this value needs no line.
const std::map<std::string, std::string>& unasked() {
  static const std::map<std::string, std::string> values{{"arena", "on"},
                                                         {"mem_pattern", "on"},
                                                         {"arena_extend", "default"},
                                                         {"shrink", "off"},
                                                         {"graph_opt", "all"},
                                                         {"prepacking", "on"},
                                                         {"env_allocator", "off"},
                                                         {"load", "path"},
                                                         {"allocator", "glibc"},
                                                         {"trim", "off"},
                                                         {"malloc_arena_max", "default"},
                                                         {"mmap_threshold", "default"},
                                                         {"malloc_tcache", "default"},
                                                         {"prewarm", "off"},
                                                         {"telemetry", "on"},
                                                         {"device_alloc_for_initializers", "off"},
                                                         {"cache", "default"},
                                                         {"intra", "0"},
                                                         {"inter", "0"}};
  return values;
}

bool asked(const std::map<std::string, std::string>& config, const std::string& key) {
  auto it = config.find(key);
  if (it == config.end() || it->second == "default") return false;
  return it->second != unasked().at(key);
}

class Lines {
 public:
  Lines(const std::map<std::string, std::string>& config, std::vector<std::string>* notes)
      : config_(config), notes_(notes) {}
  // A line in `language` from knob `key` (its value in the config).
  void add(const char* language, std::string text, const std::string& key = "") {
    lines_.push_back({language, std::move(text), key, key.empty() ? "" : config_.at(key)});
  }
  void note(std::string text) {
    if (notes_) notes_->push_back(std::move(text));
  }
  std::vector<ApplyLine> take() { return std::move(lines_); }

 private:
  const std::map<std::string, std::string>& config_;
  std::vector<std::string>* notes_;
  std::vector<ApplyLine> lines_;
};

std::string config_key(const std::string& knob) {
  static const std::map<std::string, std::string> keys{
      {"device_alloc_for_initializers", "session.use_device_allocator_for_initializers"},
      {"prepacking", "session.disable_prepacking"},
      {"env_allocator", "session.use_env_allocators"}};
  return keys.at(knob);
}

void python_lines(const std::map<std::string, std::string>& c, Lines& out) {
  out.add("python", "import onnxruntime as ort");
  if (asked(c, "prewarm"))
    out.add("python",
            "ort.InferenceSession(one_node_model_bytes)  # once, at start-up, before the first "
            "model",
            "prewarm");
  if (asked(c, "telemetry")) out.add("python", "ort.disable_telemetry_events()", "telemetry");
  out.add("python", "so = ort.SessionOptions()");
  if (asked(c, "arena")) out.add("python", "so.enable_cpu_mem_arena = False", "arena");
  if (asked(c, "mem_pattern")) out.add("python", "so.enable_mem_pattern = False", "mem_pattern");
  if (asked(c, "graph_opt")) {
    const std::string& g = c.at("graph_opt");
    out.add("python",
            fmt::format("so.graph_optimization_level = ort.GraphOptimizationLevel.{}",
                        g == "off"     ? "ORT_DISABLE_ALL"
                        : g == "basic" ? "ORT_ENABLE_BASIC"
                                       : "ORT_ENABLE_EXTENDED"),
            "graph_opt");
  }
  if (asked(c, "intra"))
    out.add("python", fmt::format("so.intra_op_num_threads = {}", c.at("intra")), "intra");
  if (asked(c, "inter")) {
    out.add("python", fmt::format("so.inter_op_num_threads = {}", c.at("inter")), "inter");
    if (std::stoi(c.at("inter")) > 1)
      out.add("python", "so.execution_mode = ort.ExecutionMode.ORT_PARALLEL", "inter");
  }
  for (const char* k : {"device_alloc_for_initializers", "prepacking", "env_allocator"})
    if (asked(c, k))
      out.add("python", fmt::format("so.add_session_config_entry(\"{}\", \"1\")", config_key(k)),
              k);
  if (asked(c, "env_allocator") || asked(c, "arena_extend")) {
    const std::string& e = c.at("arena_extend");
    const int strategy = e == "power2" ? 0 : e == "same" ? 1 : -1;
    const std::string key = asked(c, "arena_extend") ? "arena_extend" : "env_allocator";
    if (asked(c, "arena_extend") && !asked(c, "env_allocator"))
      out.add("python", "so.add_session_config_entry(\"session.use_env_allocators\", \"1\")",
              "arena_extend");
    out.add("python",
            fmt::format("ort.create_and_register_allocator(ort.OrtMemoryInfo(\"Cpu\", "
                        "ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT), "
                        "ort.OrtArenaCfg(0, {}, -1, -1))",
                        strategy),
            key);
  }
  if (asked(c, "load"))
    out.add("python",
            c.at("load") == "bytes"
                ? "sess = ort.InferenceSession(open(\"model.onnx\", \"rb\").read(), so)"
                : "import mmap; sess = ort.InferenceSession(mmap.mmap(open(\"model.onnx\", "
                  "\"rb\").fileno(), 0, "
                  "access=mmap.ACCESS_READ), so)",
            "load");
  else
    out.add("python", "sess = ort.InferenceSession(\"model.onnx\", so)");
  if (asked(c, "shrink")) {
    out.add("python", "ro = ort.RunOptions()", "shrink");
    out.add("python",
            "ro.add_run_config_entry(\"memory.enable_memory_arena_shrinkage\", \"cpu:0\")  "
            "# pass run_options=ro to every sess.run()",
            "shrink");
  }
  if (asked(c, "trim"))
    out.add("python",
            c.at("allocator") == "jemalloc"
                ? "# after del sess: purge jemalloc's arenas (mallctl \"arena.4096.purge\")"
                : "import ctypes; ctypes.CDLL(\"libc.so.6\").malloc_trim(0)  # after del sess",
            "trim");
}

void cpp_lines(const std::map<std::string, std::string>& c, Lines& out) {
  if (asked(c, "prewarm")) {
    out.add("cpp",
            "{ Ort::Session warm(env, one_node_model.data(), one_node_model.size(), "
            "Ort::SessionOptions{}); }  // once, at start-up, before the first model",
            "prewarm");
    out.note(
        "prewarm: any one-node model will do (an Identity; `infermem gen-model --kind identity "
        "--weights 4B -o one_node.onnx` writes one): ONNX Runtime builds its CPU kernel registry "
        "for the first session and keeps it, so it is built compactly before the first real "
        "model.");
  }
  if (asked(c, "telemetry"))
    out.add("cpp", "env.DisableTelemetryEvents();  // once, after creating the Ort::Env",
            "telemetry");
  out.add("cpp", "Ort::SessionOptions so;");
  if (asked(c, "arena")) out.add("cpp", "so.DisableCpuMemArena();", "arena");
  if (asked(c, "mem_pattern")) out.add("cpp", "so.DisableMemPattern();", "mem_pattern");
  if (asked(c, "graph_opt")) {
    const std::string& g = c.at("graph_opt");
    out.add("cpp",
            fmt::format("so.SetGraphOptimizationLevel(GraphOptimizationLevel::{});",
                        g == "off"     ? "ORT_DISABLE_ALL"
                        : g == "basic" ? "ORT_ENABLE_BASIC"
                                       : "ORT_ENABLE_EXTENDED"),
            "graph_opt");
  }
  if (asked(c, "intra"))
    out.add("cpp", fmt::format("so.SetIntraOpNumThreads({});", c.at("intra")), "intra");
  if (asked(c, "inter")) {
    out.add("cpp", fmt::format("so.SetInterOpNumThreads({});", c.at("inter")), "inter");
    if (std::stoi(c.at("inter")) > 1)
      out.add("cpp", "so.SetExecutionMode(ExecutionMode::ORT_PARALLEL);", "inter");
  }
  for (const char* k : {"device_alloc_for_initializers", "prepacking", "env_allocator"})
    if (asked(c, k))
      out.add("cpp", fmt::format("so.AddConfigEntry(\"{}\", \"1\");", config_key(k)), k);
  if (asked(c, "env_allocator") || asked(c, "arena_extend")) {
    const std::string& e = c.at("arena_extend");
    const int strategy = e == "power2" ? 0 : e == "same" ? 1 : -1;
    const std::string key = asked(c, "arena_extend") ? "arena_extend" : "env_allocator";
    if (asked(c, "arena_extend") && !asked(c, "env_allocator"))
      out.add("cpp", "so.AddConfigEntry(\"session.use_env_allocators\", \"1\");", "arena_extend");
    out.add("cpp",
            fmt::format("env.CreateAndRegisterAllocator(Ort::MemoryInfo::CreateCpu("
                        "OrtArenaAllocator, OrtMemTypeDefault), Ort::ArenaCfg(0, {}, -1, -1));",
                        strategy),
            key);
  }
  if (asked(c, "load"))
    out.add("cpp", "Ort::Session session(env, model_bytes.data(), model_bytes.size(), so);",
            "load");
  else
    out.add("cpp", "Ort::Session session(env, ORT_TSTR(\"model.onnx\"), so);");
  if (asked(c, "shrink")) {
    out.add("cpp", "Ort::RunOptions ro;", "shrink");
    out.add("cpp", "ro.AddConfigEntry(\"memory.enable_memory_arena_shrinkage\", \"cpu:0\");",
            "shrink");
  }
  if (asked(c, "trim"))
    out.add("cpp",
            c.at("allocator") == "jemalloc"
                ? "mallctl(\"arena.4096.purge\", nullptr, nullptr, nullptr, 0);  // after unload"
                : "malloc_trim(0);  // <malloc.h>, after the session is destroyed",
            "trim");
  if (asked(c, "cache")) {
    const std::string& cache = c.at("cache");
    out.add("cpp",
            cache.rfind("lru:", 0) == 0
                ? fmt::format("// cache={}: keep at most {} sessions, least recently used out "
                              "(a count: infermem::ModelCache budgets bytes instead)",
                              cache, cache.substr(4))
                : fmt::format("// cache={}: infermem::ModelCache (infermem/ort_model_cache.h) "
                              "with ModelCacheOptions::budget_bytes",
                              cache),
            "cache");
  }
}

void node_lines(const std::map<std::string, std::string>& c, Lines& out) {
  out.add("node", "const ort = require('onnxruntime-node');");
  if (asked(c, "prewarm"))
    out.add("node",
            "await ort.InferenceSession.create(oneNodeModelBytes);  // once, at start-up, before "
            "the first model",
            "prewarm");
  out.add("node", "const options = {");
  if (asked(c, "arena")) out.add("node", "  enableCpuMemArena: false,", "arena");
  if (asked(c, "mem_pattern")) out.add("node", "  enableMemPattern: false,", "mem_pattern");
  if (asked(c, "graph_opt")) {
    const std::string& g = c.at("graph_opt");
    out.add("node", fmt::format("  graphOptimizationLevel: '{}',", g == "off" ? "disabled" : g),
            "graph_opt");
  }
  if (asked(c, "intra"))
    out.add("node", fmt::format("  intraOpNumThreads: {},", c.at("intra")), "intra");
  if (asked(c, "inter")) {
    out.add("node", fmt::format("  interOpNumThreads: {},", c.at("inter")), "inter");
    if (std::stoi(c.at("inter")) > 1) out.add("node", "  executionMode: 'parallel',", "inter");
  }
  for (const char* k : {"device_alloc_for_initializers", "prepacking"})
    if (asked(c, k)) {
      const std::string key = config_key(k);
      out.add("node",
              fmt::format("  extra: {{ session: {{ {}: '1' }} }},", key.substr(key.find('.') + 1)),
              k);
    }
  out.add("node", "};");
  out.add("node",
          asked(c, "load")
              ? "const session = await ort.InferenceSession.create(modelBytes, options);"
              : "const session = await ort.InferenceSession.create('model.onnx', options);",
          asked(c, "load") ? "load" : "");
  if (asked(c, "device_alloc_for_initializers") && asked(c, "prepacking"))
    out.note("node: give both session entries in one `extra: { session: { ... } }` object.");
  if (asked(c, "env_allocator") || asked(c, "arena_extend"))
    out.note(
        "node: onnxruntime-node cannot register an environment allocator; env_allocator "
        "and arena_extend have no Node equivalent.");
  if (asked(c, "shrink"))
    out.add("node",
            "// every run: session.run(feeds, { extra: { memory: { enable_memory_arena_shrinkage: "
            "'cpu:0' } } })",
            "shrink");
  if (asked(c, "telemetry"))
    out.note("node: onnxruntime-node has no call that turns ONNX Runtime's telemetry events off.");
  if (asked(c, "trim"))
    out.note(
        "node: Node has no malloc_trim; to give the freed heap back, run the model in a "
        "worker process you can end.");
}

void env_lines(const std::map<std::string, std::string>& c, Lines& out) {
  if (asked(c, "allocator")) {
    std::string lib;
    try {
      lib = allocator_library(c.at("allocator"));
    } catch (const InputError&) {
      lib = fmt::format("<path of {}>", c.at("allocator"));
    }
    out.add("env", fmt::format("LD_PRELOAD={}", lib), "allocator");
  }
  if (asked(c, "malloc_arena_max"))
    out.add("env", fmt::format("MALLOC_ARENA_MAX={}", c.at("malloc_arena_max")),
            "malloc_arena_max");
  if (asked(c, "mmap_threshold"))
    out.add("env",
            fmt::format("GLIBC_TUNABLES=glibc.malloc.mmap_threshold={}",
                        parse_size(c.at("mmap_threshold"), "mmap_threshold")),
            "mmap_threshold");
  if (asked(c, "malloc_tcache")) {
    if (asked(c, "mmap_threshold"))
      out.note("env: both glibc tunables go in one GLIBC_TUNABLES, separated by ':'.");
    out.add("env", "GLIBC_TUNABLES=glibc.malloc.tcache_count=0", "malloc_tcache");
  }
}

double ratio(double v, double base) {
  return present(v) && present(base) && base > 0 ? v / base : kAbsent;
}

double goal_figure(const ArmSummary& a, Goal goal) {
  switch (goal) {
    case Goal::peak:
      return a.memory.peak_bytes;
    case Goal::retained:
      return a.memory.retained_bytes;
    case Goal::latency:
      return a.latency_ms.p50;
  }
  return kAbsent;
}

std::size_t knobs_asked(const ArmSummary& a) {
  std::size_t n = 0;
  for (const auto& [k, v] : a.config)
    if (unasked().count(k) && asked(a.config, k)) ++n;
  return n;
}

}  // namespace

std::string_view name(Goal goal) {
  switch (goal) {
    case Goal::peak:
      return "peak";
    case Goal::retained:
      return "retained";
    case Goal::latency:
      return "latency";
  }
  return "unknown";
}

Goal parse_goal(std::string_view text) {
  for (Goal g : {Goal::peak, Goal::retained, Goal::latency})
    if (name(g) == text) return g;
  throw InputError(fmt::format("--goal {}: expected one of peak, retained, latency", text));
}

std::vector<ApplyLine> apply_lines(const std::map<std::string, std::string>& config,
                                   std::vector<std::string>* notes) {
  std::map<std::string, std::string> c = config;
  for (const auto& [k, v] : unasked()) c.emplace(k, v);  // a config from an older run
  Lines out(c, notes);
  python_lines(c, out);
  cpp_lines(c, out);
  node_lines(c, out);
  env_lines(c, out);
  return out.take();
}

Recommendation recommend(const RunSummary& run, Goal goal, const RecommendLimits& limits) {
  Recommendation r;
  const ArmSummary* base = nullptr;
  for (const auto& a : run.arms)
    if (a.name == "ort-default" && a.status == ArmStatus::ok) base = &a;
  const ArmSummary* best = nullptr;
  for (const auto& a : run.arms) {
    std::string why_not;
    if (a.status != ArmStatus::ok)
      why_not = fmt::format("ended {}", name(a.status));
    else if (a.verdict.kind == VerdictKind::leak)
      why_not = "verdict leak";
    else if (!present(goal_figure(a, goal)))
      why_not = fmt::format("no {} figure", name(goal));
    else if (base && limits.max_latency_ratio > 0 &&
             ratio(a.latency_ms.p50, base->latency_ms.p50) > limits.max_latency_ratio)
      why_not =
          fmt::format("p50 {:.2f}x ort-default's, above --max-latency-ratio {:.2f}",
                      ratio(a.latency_ms.p50, base->latency_ms.p50), limits.max_latency_ratio);
    else if (base && limits.max_peak_ratio > 0 &&
             ratio(a.memory.peak_bytes, base->memory.peak_bytes) > limits.max_peak_ratio)
      why_not =
          fmt::format("peak {:.2f}x ort-default's, above --max-peak-ratio {:.2f}",
                      ratio(a.memory.peak_bytes, base->memory.peak_bytes), limits.max_peak_ratio);
    if (!why_not.empty()) {
      r.rejected.push_back(fmt::format("{}: {}", a.name, why_not));
      continue;
    }
    // Lowest figure wins; on a tie, the arm that changes fewer settings.
    if (!best || goal_figure(a, goal) < goal_figure(*best, goal) ||
        (goal_figure(a, goal) == goal_figure(*best, goal) && knobs_asked(a) < knobs_asked(*best)))
      best = &a;
  }
  if (!best)
    throw InputError(fmt::format("no arm of this run qualifies for --goal {}: {}", name(goal),
                                 r.rejected.empty()
                                     ? "the run has no arms"
                                     : fmt::format("{}", fmt::join(r.rejected, "; "))));
  r.arm = best->name;
  r.config = best->config;
  r.baseline_arm = base ? base->name : "";
  for (const auto& a : run.arms)
    if (&a != best && a.status == ArmStatus::ok && present(goal_figure(a, goal)) &&
        std::none_of(r.rejected.begin(), r.rejected.end(),
                     [&](const std::string& s) { return s.rfind(a.name + ":", 0) == 0; }))
      r.rejected.push_back(fmt::format("{}: {} {}", a.name, name(goal),
                                       goal == Goal::latency
                                           ? fmt::format("{:.2f} ms", goal_figure(a, goal))
                                           : format_bytes(goal_figure(a, goal))));
  auto line = [&](const char* what, double v, double b, bool bytes) {
    std::string value = bytes ? format_bytes(v) : fmt::format("{:.2f} ms", v);
    if (!base || !present(b)) return fmt::format("{}: {}", what, value);
    std::string against = bytes ? format_bytes(b) : fmt::format("{:.2f} ms", b);
    if (present(ratio(v, b)))
      return fmt::format("{}: {} ({:.2f}x ort-default's {})", what, value, ratio(v, b), against);
    return fmt::format("{}: {} (ort-default: {})", what, value, against);
  };
  const ArmSummary& a = *best;
  const ArmSummary* b = base;
  r.why.push_back(line("peak", a.memory.peak_bytes, b ? b->memory.peak_bytes : kAbsent, true));
  r.why.push_back(line("retained after unload", a.memory.retained_bytes,
                       b ? b->memory.retained_bytes : kAbsent, true));
  if (present(a.memory.retained_anon_bytes))
    r.why.push_back(line("  of which anonymous", a.memory.retained_anon_bytes,
                         b ? b->memory.retained_anon_bytes : kAbsent, true));
  r.why.push_back(line("p50", a.latency_ms.p50, b ? b->latency_ms.p50 : kAbsent, false));
  r.why.push_back(line("p99", a.latency_ms.p99, b ? b->latency_ms.p99 : kAbsent, false));
  r.why.push_back(fmt::format("verdict: {}", name(a.verdict.kind)));
  r.lines = apply_lines(r.config, &r.notes);
  return r;
}

std::string render_text(const Recommendation& r, Goal goal) {
  std::ostringstream out;
  if (!r.headline.empty())
    out << r.headline << '\n';
  else
    out << fmt::format("Recommended for --goal {}: {}\n", name(goal), r.arm);
  if (r.baseline_arm.empty() && r.headline.empty())
    out << "(this run has no ort-default arm: figures are not compared)\n";
  out << "\nWhy:\n";
  for (const auto& w : r.why) out << "  " << w << '\n';
  if (!r.rejected.empty()) {
    out << "\n" << r.rejected_title << ":\n";
    for (const auto& x : r.rejected) out << "  " << x << '\n';
  }
  const std::pair<const char*, const char*> sections[] = {
      {"python", "Python (onnxruntime)"},
      {"cpp", "C++ (ONNX Runtime C++ API)"},
      {"node", "Node (onnxruntime-node)"},
      {"env", "Environment (Dockerfile: ENV NAME=value; systemd: Environment=NAME=value)"}};
  for (const auto& [lang, title] : sections) {
    std::vector<const ApplyLine*> mine;
    for (const auto& l : r.lines)
      if (l.language == lang) mine.push_back(&l);
    out << fmt::format("\n{}:\n", title);
    if (mine.empty()) out << "  (nothing to set)\n";
    for (const auto* l : mine) out << "  " << l->text << '\n';
  }
  if (!r.notes.empty()) {
    out << "\nNotes:\n";
    for (const auto& n : r.notes) out << "  " << n << '\n';
  }
  return out.str();
}

}  // namespace infermem
