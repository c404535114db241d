// WorkerSpec as JSON: how the parent tells a child what to run.
#include "infermem/arms.h"
#include "infermem/soak.h"

namespace infermem {

nlohmann::json WorkerSpec::to_json() const {
  const auto& o = options;
  nlohmann::json inputs_j = nlohmann::json::array();
  for (const auto& p : inputs) {
    nlohmann::json in = {{"name", p.name},
                         {"element_type", p.element_type},
                         {"shape", p.shape},
                         {"dim_keys", p.dim_keys}};
    if (p.vocab_size) in["vocab_size"] = *p.vocab_size;
    inputs_j.push_back(in);
  }
  nlohmann::json dims_j = nlohmann::json::object();
  for (const auto& [k, r] : dims) dims_j[k] = {r.lo, r.hi, r.step};
  return {{"model_path", o.model_path},
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
          {"inputs", inputs_j},
          {"dims", dims_j},
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
          {"stream_length", o.stream_length}};
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
  for (const auto& in : j.at("inputs")) {
    InputPlan p;
    p.name = in.at("name").get<std::string>();
    p.element_type = in.at("element_type").get<int>();
    p.shape = in.at("shape").get<std::vector<std::int64_t>>();
    p.dim_keys = in.at("dim_keys").get<std::vector<std::string>>();
    if (in.contains("vocab_size")) p.vocab_size = in.at("vocab_size").get<std::int64_t>();
    s.inputs.push_back(std::move(p));
  }
  for (const auto& [k, v] : j.at("dims").items())
    s.dims[k] = DimRange{v.at(0).get<std::int64_t>(), v.at(1).get<std::int64_t>(),
                         v.at(2).get<std::int64_t>()};
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
  return s;
}

}  // namespace infermem
