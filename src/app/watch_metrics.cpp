#include "app/watch_metrics.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <limits>

#include <map>

#include "infermem/error.h"
#include "infermem/metric_families.h"

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

// A family's builder named, and its help, as metric_families.h says (the reporter's too).
template <typename Builder>
Builder named(Builder b, const metrics::Family& f) {
  b.Name(std::string(f.name)).Help(std::string(f.help));
  return b;
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
  auto& memory =
      named(prometheus::BuildGauge(), metrics::kWatchMemoryBytes).Labels(labels).Register(r);
  const char* kinds[] = {"rss", "anon", "file", "shmem", "pss"};
  for (int i = 0; i < 5; ++i) state_->memory[i] = &memory.Add({{"kind", kinds[i]}});
  state_->hwm =
      &named(prometheus::BuildGauge(), metrics::kWatchHwmBytes).Labels(labels).Register(r).Add({});
  state_->cgroup_usage = &named(prometheus::BuildGauge(), metrics::kWatchCgroupUsageBytes)
                              .Labels(labels)
                              .Register(r)
                              .Add({});
  state_->cgroup_limit = &named(prometheus::BuildGauge(), metrics::kWatchCgroupLimitBytes)
                              .Labels(labels)
                              .Register(r)
                              .Add({});
  auto& growth = named(prometheus::BuildGauge(), metrics::kWatchGrowth).Labels(labels).Register(r);
  const char* bounds[] = {"estimate", "low", "high"};
  for (int i = 0; i < 3; ++i) state_->growth[i] = &growth.Add({{"bound", bounds[i]}});
  state_->processes =
      &named(prometheus::BuildGauge(), metrics::kWatchProcesses).Labels(labels).Register(r).Add({});
  state_->samples =
      &named(prometheus::BuildCounter(), metrics::kWatchSamples).Labels(labels).Register(r).Add({});
  auto& verdict =
      named(prometheus::BuildGauge(), metrics::kWatchVerdict).Labels(labels).Register(r);
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

// infermem_cache_stats_read_errors_total, each reason at 0 until it happens.
void ensure_read_errors(WatchMetrics::State& st) {
  if (st.read_errors) return;
  st.read_errors = &named(prometheus::BuildCounter(), metrics::kCacheReadErrors)
                        .Labels(st.labels)
                        .Register(*st.registry);
  for (std::string_view reason : metrics::kCacheReadErrorReasons)
    st.read_errors_by_reason[std::string(reason)] =
        &st.read_errors->Add({{"reason", std::string(reason)}});
}

}  // namespace

void WatchMetrics::update_cache(const CacheStatsFile& file) {
  if (!state_->samples) return;
  auto& st = *state_;
  auto& r = *st.registry;
  const ModelCacheStats& c = file.stats;
  if (!st.cache_described) {
    st.cache_described = true;
    for (const auto& cc : metrics::kCacheCounters)
      st.cache_counters[std::string(cc.family.name)].family =
          &named(prometheus::BuildCounter(), cc.family).Labels(st.labels).Register(r);
    st.refusals =
        &named(prometheus::BuildCounter(), metrics::kCacheRefusals).Labels(st.labels).Register(r);
    auto gauge = [&](const metrics::Family& f) {
      return &named(prometheus::BuildGauge(), f).Labels(st.labels).Register(r).Add({});
    };
    st.resident_bytes = gauge(metrics::kCacheResidentBytes);
    st.peak_resident_bytes = gauge(metrics::kCachePeakResidentBytes);
    st.resident_models = gauge(metrics::kCacheResidentModels);
    st.budget_bytes = gauge(metrics::kCacheBudgetBytes);
    st.limit_bytes = gauge(metrics::kCacheLimitBytes);
    st.model_cost =
        &named(prometheus::BuildGauge(), metrics::kCacheModelCost).Labels(st.labels).Register(r);
    ensure_read_errors(st);
    st.model_resident = &named(prometheus::BuildGauge(), metrics::kCacheModelResident)
                             .Labels(st.labels)
                             .Register(r);
  }
  for (const auto& cc : metrics::kCacheCounters)
    st.cache_counters[std::string(cc.family.name)].set(static_cast<double>(c.*cc.field));
  for (std::string_view why : metrics::kCacheRefusalReasons) {
    const std::string reason(why);
    auto& m = st.refusals_by_reason[reason];
    if (!m.family) {
      m.family = st.refusals;
      m.labels = {{"reason", reason}};
    }
    m.set(metrics::count_by_reason(c.refusals_by_reason, reason));
  }
  st.resident_bytes->Set(static_cast<double>(c.bytes_resident));
  st.peak_resident_bytes->Set(static_cast<double>(c.peak_bytes_resident));
  st.resident_models->Set(static_cast<double>(c.models_resident));
  st.budget_bytes->Set(metrics::cache_size_or_none(c.budget_bytes));
  st.limit_bytes->Set(metrics::cache_size_or_none(c.limit_bytes));
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
