#include "app/watch_metrics.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <limits>

#include <map>

#include "infermem/error.h"

namespace infermem {

struct WatchMetrics::State {
  std::unique_ptr<prometheus::Exposer> exposer;
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Gauge* memory[5] = {};  // rss, anon, file, shmem, pss
  prometheus::Gauge* hwm = nullptr;
  prometheus::Gauge* cgroup_usage = nullptr;
  prometheus::Gauge* cgroup_limit = nullptr;
  prometheus::Gauge* growth[3] = {};  // estimate, low, high
  prometheus::Gauge* processes = nullptr;
  prometheus::Counter* samples = nullptr;
  prometheus::Gauge* verdict[std::size(kVerdictKinds)] = {};
  prometheus::Labels labels;  // pid, command

  // A counter mirrored from another process's count: incremented by the difference, re-created
  // (a reset) when the count goes down.
  struct Mirror {
    prometheus::Family<prometheus::Counter>* family = nullptr;
    prometheus::Labels labels;
    prometheus::Counter* counter = nullptr;
    double last = 0;
    void reset() {
      if (counter) family->Remove(counter);
      counter = nullptr;
      last = 0;
    }
    void set(double v) {
      if (!counter || v < last) {
        if (counter) family->Remove(counter);
        counter = &family->Add(labels);
        last = 0;
      }
      counter->Increment(v - last);
      last = v;
    }
  };
  bool cache_described = false;
  int cache_pid = 0;                             // the process whose counters are mirrored
  std::map<std::string, Mirror> cache_counters;  // by metric name (and reason)
  prometheus::Family<prometheus::Counter>* refusals = nullptr;
  std::map<std::string, Mirror> refusals_by_reason;
  prometheus::Gauge* resident_bytes = nullptr;
  prometheus::Gauge* peak_resident_bytes = nullptr;
  prometheus::Gauge* resident_models = nullptr;
  prometheus::Gauge* budget_bytes = nullptr;
  prometheus::Gauge* limit_bytes = nullptr;
  prometheus::Family<prometheus::Gauge>* model_cost = nullptr;
  prometheus::Family<prometheus::Gauge>* model_resident = nullptr;
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> models;
  prometheus::Family<prometheus::Counter>* read_errors = nullptr;
  std::map<std::string, prometheus::Counter*> read_errors_by_reason;
};

namespace {

void set(prometheus::Gauge* g, double v) {
  // An unread figure is NaN: Prometheus shows it as such rather than a false zero.
  g->Set(v);
}

}  // namespace

WatchMetrics::WatchMetrics(const std::string& bind_address, int port)
    : state_(std::make_unique<State>()) {
  const std::string address = bind_address.find(':') != std::string::npos
                                  ? fmt::format("[{}]:{}", bind_address, port)
                                  : fmt::format("{}:{}", bind_address, port);
  try {
    state_->exposer = std::make_unique<prometheus::Exposer>(address, 2);
  } catch (const std::exception& e) {
    throw InputError(fmt::format(
        "--metrics-port {}: cannot listen on {}: the port is in use or the address is not "
        "one of this machine's ({})",
        port, address, e.what()));
  }
}

void WatchMetrics::describe(int pid, const std::string& command,
                            const std::map<std::string, std::string>& constant_labels) {
  if (state_->samples) return;
  prometheus::Labels labels = constant_labels;
  labels["pid"] = std::to_string(pid);
  labels["command"] = command;
  state_->labels = labels;
  auto& r = *state_->registry;
  auto& memory = prometheus::BuildGauge()
                     .Name("infermem_watch_memory_bytes")
                     .Help(
                         "Resident memory of the watched process tree by kind (rss: VmRSS; "
                         "anon, file, shmem: its split; pss: proportional set size)")
                     .Labels(labels)
                     .Register(r);
  const char* kinds[] = {"rss", "anon", "file", "shmem", "pss"};
  for (int i = 0; i < 5; ++i) state_->memory[i] = &memory.Add({{"kind", kinds[i]}});
  state_->hwm = &prometheus::BuildGauge()
                     .Name("infermem_watch_hwm_bytes")
                     .Help(
                         "VmHWM: the kernel's high-water mark of resident memory over the "
                         "process lifetime (summed over the tree)")
                     .Labels(labels)
                     .Register(r)
                     .Add({});
  state_->cgroup_usage = &prometheus::BuildGauge()
                              .Name("infermem_watch_cgroup_usage_bytes")
                              .Help("Memory charged to the watched process's memory cgroup")
                              .Labels(labels)
                              .Register(r)
                              .Add({});
  state_->cgroup_limit = &prometheus::BuildGauge()
                              .Name("infermem_watch_cgroup_limit_bytes")
                              .Help("The memory cgroup's limit (NaN when unlimited or unknown)")
                              .Labels(labels)
                              .Register(r)
                              .Add({});
  auto& growth = prometheus::BuildGauge()
                     .Name("infermem_watch_growth_bytes_per_second")
                     .Help(
                         "Growth rate of the tree's resident memory so far (Theil-Sen slope "
                         "after warm-up) with its confidence interval bounds")
                     .Labels(labels)
                     .Register(r);
  const char* bounds[] = {"estimate", "low", "high"};
  for (int i = 0; i < 3; ++i) state_->growth[i] = &growth.Add({{"bound", bounds[i]}});
  state_->processes = &prometheus::BuildGauge()
                           .Name("infermem_watch_processes")
                           .Help("Processes in the watched tree (the process and its descendants)")
                           .Labels(labels)
                           .Register(r)
                           .Add({});
  state_->samples = &prometheus::BuildCounter()
                         .Name("infermem_watch_samples_total")
                         .Help("Samples of the process tree taken")
                         .Labels(labels)
                         .Register(r)
                         .Add({});
  auto& verdict = prometheus::BuildGauge()
                      .Name("infermem_watch_verdict_info")
                      .Help("The running verdict on the tree's memory: 1 for the current kind")
                      .Labels(labels)
                      .Register(r);
  for (std::size_t i = 0; i < std::size(kVerdictKinds); ++i)
    state_->verdict[i] = &verdict.Add({{"kind", std::string(name(kVerdictKinds[i]))}});
  set_verdict(VerdictKind::too_short);
  update({});
  state_->exposer->RegisterCollectable(state_->registry);
}

WatchMetrics::~WatchMetrics() = default;

int WatchMetrics::port() const {
  auto ports = state_->exposer->GetListeningPorts();
  return ports.empty() ? -1 : ports.front();
}

void WatchMetrics::update(const WatchMetricsValues& v) {
  if (!state_->samples) return;
  const double memory[] = {v.rss_bytes, v.anon_bytes, v.file_bytes, v.shmem_bytes, v.pss_bytes};
  for (int i = 0; i < 5; ++i) set(state_->memory[i], memory[i]);
  set(state_->hwm, v.hwm_bytes);
  set(state_->cgroup_usage, v.cgroup_usage_bytes);
  set(state_->cgroup_limit, v.cgroup_limit_bytes);
  set(state_->growth[0], v.growth_bytes_per_second);
  set(state_->growth[1], v.growth_low_bytes_per_second);
  set(state_->growth[2], v.growth_high_bytes_per_second);
  set(state_->processes, v.processes);
}

void WatchMetrics::add_samples(double n) {
  if (!state_->samples) return;
  state_->samples->Increment(n);
}

namespace {

// The cache's counters: metric name, HELP, and the field of ModelCacheStats.
struct CacheCounter {
  const char* name;
  const char* help;
  std::uint64_t ModelCacheStats::*field;
};
constexpr CacheCounter kCacheCounters[] = {
    {"infermem_cache_hits_total", "Requests served by a model already resident in the cache",
     &ModelCacheStats::hits},
    {"infermem_cache_misses_total",
     "Requests whose model was not resident (a load or a wait on one)", &ModelCacheStats::misses},
    {"infermem_cache_loads_total", "Models loaded by the cache", &ModelCacheStats::loads},
    {"infermem_cache_load_failures_total", "Model loads that failed",
     &ModelCacheStats::load_failures},
    {"infermem_cache_evictions_total",
     "Models unloaded to make room under the byte budget or the process's limit",
     &ModelCacheStats::evictions},
    {"infermem_cache_idle_unloads_total", "Models unloaded after their idle TTL",
     &ModelCacheStats::idle_unloads},
    {"infermem_cache_waits_total", "Times a load or request waited for in-flight requests to end",
     &ModelCacheStats::waits},
    {"infermem_cache_stats_write_failures_total",
     "Times the service could not write its cache stats file (counted, never thrown)",
     &ModelCacheStats::stats_write_failures},
};

// infermem_cache_stats_read_errors_total, each reason at 0 until it happens.
void ensure_read_errors(WatchMetrics::State& st) {
  if (st.read_errors) return;
  st.read_errors = &prometheus::BuildCounter()
                        .Name("infermem_cache_stats_read_errors_total")
                        .Help(
                            "Cache stats files watch refused, by reason (not-regular, too-large, "
                            "unreadable, malformed)")
                        .Labels(st.labels)
                        .Register(*st.registry);
  for (const char* reason : {"not-regular", "too-large", "unreadable", "malformed"})
    st.read_errors_by_reason[reason] = &st.read_errors->Add({{"reason", reason}});
}

}  // namespace

void WatchMetrics::update_cache(const CacheStatsFile& file) {
  if (!state_->samples) return;
  auto& st = *state_;
  auto& r = *st.registry;
  const ModelCacheStats& c = file.stats;
  if (!st.cache_described) {
    st.cache_described = true;
    for (const auto& cc : kCacheCounters) {
      auto& m = st.cache_counters[cc.name];
      m.family =
          &prometheus::BuildCounter().Name(cc.name).Help(cc.help).Labels(st.labels).Register(r);
    }
    st.refusals = &prometheus::BuildCounter()
                       .Name("infermem_cache_refusals_total")
                       .Help(
                           "Loads or requests the cache refused with CacheRefused, by reason "
                           "(over-budget, over-limit, wait-timeout)")
                       .Labels(st.labels)
                       .Register(r);
    auto gauge = [&](const char* name, const char* help) {
      return &prometheus::BuildGauge().Name(name).Help(help).Labels(st.labels).Register(r).Add({});
    };
    st.resident_bytes = gauge("infermem_cache_resident_bytes",
                              "Bytes held against the budget: the resident models' measured costs "
                              "(load growth plus the most a request added) plus the bytes reserved "
                              "for loads in progress, so it can be above 0 while "
                              "infermem_cache_resident_models is 0");
    st.peak_resident_bytes =
        gauge("infermem_cache_peak_resident_bytes", "Highest infermem_cache_resident_bytes so far");
    st.resident_models = gauge("infermem_cache_resident_models", "Models resident in the cache");
    st.budget_bytes =
        gauge("infermem_cache_budget_bytes", "The cache's byte budget (NaN when it has none)");
    st.limit_bytes = gauge("infermem_cache_limit_bytes",
                           "The process limit the cache admits loads against (its cgroup's or a "
                           "configured cap; NaN when none)");
    st.model_cost = &prometheus::BuildGauge()
                         .Name("infermem_cache_model_cost_bytes")
                         .Help(
                             "A model's measured cost: resident growth across its load plus the "
                             "most a request added (its file size until first loaded)")
                         .Labels(st.labels)
                         .Register(r);
    ensure_read_errors(st);
    st.model_resident = &prometheus::BuildGauge()
                             .Name("infermem_cache_model_resident")
                             .Help("1 when the model is resident in the cache, else 0")
                             .Labels(st.labels)
                             .Register(r);
  }
  for (const auto& cc : kCacheCounters)
    st.cache_counters[cc.name].set(static_cast<double>(c.*cc.field));
  for (const char* reason : {"over-budget", "over-limit", "wait-timeout"}) {
    auto& m = st.refusals_by_reason[reason];
    if (!m.family) {
      m.family = st.refusals;
      m.labels = {{"reason", reason}};
    }
    auto it = c.refusals_by_reason.find(reason);
    m.set(it == c.refusals_by_reason.end() ? 0.0 : static_cast<double>(it->second));
  }
  auto bytes_or_nan = [](std::uint64_t v) {
    return v > 0 ? static_cast<double>(v) : std::numeric_limits<double>::quiet_NaN();
  };
  st.resident_bytes->Set(static_cast<double>(c.bytes_resident));
  st.peak_resident_bytes->Set(static_cast<double>(c.peak_bytes_resident));
  st.resident_models->Set(static_cast<double>(c.models_resident));
  st.budget_bytes->Set(bytes_or_nan(c.budget_bytes));
  st.limit_bytes->Set(bytes_or_nan(c.limit_bytes));
  for (const auto& [path, m] : c.models) {
    auto [it, inserted] = st.models.try_emplace(path);
    if (inserted)
      it->second = {&st.model_cost->Add({{"model_path", path}}),
                    &st.model_resident->Add({{"model_path", path}})};
    it->second.first->Set(static_cast<double>(m.cost.total()));
    it->second.second->Set(m.resident ? 1 : 0);
  }
}

void WatchMetrics::count_cache_read_error(const std::string& reason) {
  if (!state_->samples) return;
  ensure_read_errors(*state_);
  auto& c = state_->read_errors_by_reason[reason];
  if (!c) c = &state_->read_errors->Add({{"reason", reason}});
  c->Increment();
}

void WatchMetrics::set_verdict(VerdictKind kind) {
  if (!state_->verdict[0]) return;
  for (std::size_t i = 0; i < std::size(kVerdictKinds); ++i)
    state_->verdict[i]->Set(kVerdictKinds[i] == kind ? 1 : 0);
}

}  // namespace infermem
