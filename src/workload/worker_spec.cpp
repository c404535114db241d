// WorkerSpec as JSON: how the parent tells a child what to run.
#include "infermem/arms.h"
#include "infermem/soak.h"

namespace infermem {
namespace {

nlohmann::json inputs_json(const std::vector<InputPlan>& inputs) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : inputs) {
    nlohmann::json in = {{"name", p.name},
                         {"element_type", p.element_type},
                         {"shape", p.shape},
                         {"dim_keys", p.dim_keys}};
    if (p.vocab_size) in["vocab_size"] = *p.vocab_size;
    out.push_back(in);
  }
  return out;
}

std::vector<InputPlan> inputs_from_json(const nlohmann::json& j) {
  std::vector<InputPlan> out;
  for (const auto& in : j) {
    InputPlan p;
    p.name = in.at("name").get<std::string>();
    p.element_type = in.at("element_type").get<int>();
    p.shape = in.at("shape").get<std::vector<std::int64_t>>();
    p.dim_keys = in.at("dim_keys").get<std::vector<std::string>>();
    if (in.contains("vocab_size")) p.vocab_size = in.at("vocab_size").get<std::int64_t>();
    out.push_back(std::move(p));
  }
  return out;
}

nlohmann::json dims_json(const std::map<std::string, DimRange>& dims) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [k, r] : dims) out[k] = {r.lo, r.hi, r.step};
  return out;
}

std::map<std::string, DimRange> dims_from_json(const nlohmann::json& j) {
  std::map<std::string, DimRange> out;
  for (const auto& [k, v] : j.items())
    out[k] = DimRange{v.at(0).get<std::int64_t>(), v.at(1).get<std::int64_t>(),
                      v.at(2).get<std::int64_t>()};
  return out;
}

// Events as compact rows: [t_ms, model, shape, input, line].
nlohmann::json replay_json(const ReplayPlan& plan) {
  nlohmann::json models = nlohmann::json::array();
  for (const auto& m : plan.models)
    models.push_back({{"id", m.id},
                      {"path", m.path},
                      {"inputs", inputs_json(m.inputs)},
                      {"dims", dims_json(m.dims)}});
  nlohmann::json events = nlohmann::json::array();
  for (const auto& e : plan.events) events.push_back({e.t_ms, e.model, e.shape, e.input, e.line});
  return {{"models", models},
          {"events", events},
          {"from", plan.from},
          {"speed", plan.speed.max ? 0.0 : plan.speed.factor}};
}

ReplayPlan replay_from_json(const nlohmann::json& j) {
  ReplayPlan plan;
  for (const auto& m : j.at("models"))
    plan.models.push_back({m.at("id").get<std::string>(), m.at("path").get<std::string>(),
                           inputs_from_json(m.at("inputs")), dims_from_json(m.at("dims"))});
  for (const auto& e : j.at("events"))
    plan.events.push_back({e.at(0).get<double>(), e.at(1).get<std::string>(),
                           e.at(2).get<std::vector<std::int64_t>>(), e.at(3).get<std::string>(),
                           e.at(4).get<std::uint64_t>()});
  plan.from = j.at("from").get<std::size_t>();
  const double speed = j.at("speed").get<double>();
  plan.speed.max = speed <= 0;
  plan.speed.factor = speed > 0 ? speed : 1;
  return plan;
}

}  // namespace

nlohmann::json WorkerSpec::to_json() const {
  const auto& o = options;
  nlohmann::json j = {{"model_path", o.model_path},
                      {"scenario", std::string(name(o.scenario))},
                      {"requests", o.requests},
                      {"duration_ms", o.duration_ms},
                      {"cycles", o.cycles},
                      {"seed", o.seed},
                      {"inject_leak_bytes", o.inject_leak_bytes},
                      {"inject_peak_bytes", o.inject_peak_bytes},
                      {"inject_retained_bytes", o.inject_retained_bytes},
                      {"inject_fragmentation_bytes", o.inject_fragmentation_bytes},
                      {"cache", name(o.cache)},
                      {"own_memory_cgroup", own_memory_cgroup},
                      {"warm_requests", o.warm_requests},
                      {"child_sample_hz", o.child_sample_hz},
                      {"arm", {{"name", arm.name}, {"knobs", arm.knobs}}},
                      {"inputs", inputs_json(inputs)},
                      {"dims", dims_json(dims)},
                      {"model_variants", model_variants},
                      {"run_t0_ms", run_t0_ms},
                      {"inputs_path", o.inputs_path},
                      {"inputs_order", o.inputs_order},
                      {"input_constants", o.input_constants},
                      {"record_outputs", o.record_outputs},
                      {"concurrency", o.concurrency},
                      {"rate_rps", o.rate_rps},
                      {"idle_ms", o.idle_ms},
                      {"idle_every", o.idle_every},
                      {"shapes", o.shapes},
                      {"spike_every", o.spike_every},
                      {"feed", o.feed},
                      {"streams", o.streams},
                      {"stream_length", o.stream_length},
                      {"library_rss", o.library_rss}};
  if (replay) j["replay"] = replay_json(*replay);
  return j;
}

WorkerSpec WorkerSpec::from_json(const nlohmann::json& j) {
  WorkerSpec s;
  auto& o = s.options;
  o.model_path = j.at("model_path").get<std::string>();
  o.scenario = parse_scenario(j.at("scenario").get<std::string>());
  o.requests = j.at("requests").get<std::int64_t>();
  o.duration_ms = j.at("duration_ms").get<double>();
  o.cycles = j.at("cycles").get<int>();
  o.seed = j.at("seed").get<std::uint64_t>();
  o.inject_leak_bytes = j.at("inject_leak_bytes").get<std::uint64_t>();
  o.inject_peak_bytes = j.value("inject_peak_bytes", std::uint64_t{0});
  o.inject_retained_bytes = j.value("inject_retained_bytes", std::uint64_t{0});
  o.inject_fragmentation_bytes = j.value("inject_fragmentation_bytes", std::uint64_t{0});
  o.cache = parse_cache_policy(j.at("cache").get<std::string>());
  s.own_memory_cgroup = j.value("own_memory_cgroup", false);
  o.warm_requests = j.at("warm_requests").get<int>();
  o.child_sample_hz = j.at("child_sample_hz").get<double>();
  s.arm.name = j.at("arm").at("name").get<std::string>();
  s.arm.knobs = j.at("arm").at("knobs").get<std::map<std::string, std::string>>();
  check_knobs(s.arm);
  s.inputs = inputs_from_json(j.at("inputs"));
  s.dims = dims_from_json(j.at("dims"));
  s.model_variants = j.at("model_variants").get<std::vector<std::string>>();
  s.run_t0_ms = j.at("run_t0_ms").get<double>();
  o.inputs_path = j.value("inputs_path", "");
  o.inputs_order = j.value("inputs_order", "order");
  o.input_constants = j.value("input_constants", std::map<std::string, std::string>{});
  o.record_outputs = j.value("record_outputs", false);
  o.concurrency = j.value("concurrency", 1);
  o.rate_rps = j.value("rate_rps", 0.0);
  o.idle_ms = j.value("idle_ms", 0.0);
  o.idle_every = j.value("idle_every", std::int64_t{0});
  o.shapes = j.value("shapes", "");
  o.spike_every = j.value("spike_every", std::int64_t{50});
  o.feed = j.value("feed", std::map<std::string, std::string>{});
  o.streams = j.value("streams", std::int64_t{1});
  o.stream_length = j.value("stream_length", std::int64_t{0});
  o.library_rss = j.value("library_rss", false);
  if (j.contains("replay")) s.replay = replay_from_json(j.at("replay"));
  return s;
}

}  // namespace infermem
