#include "app/watch_metrics.h"

#include <fmt/format.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

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

void WatchMetrics::describe(int pid, const std::string& command) {
  if (state_->samples) return;
  const prometheus::Labels labels = {{"pid", std::to_string(pid)}, {"command", command}};
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

void WatchMetrics::set_verdict(VerdictKind kind) {
  if (!state_->verdict[0]) return;
  for (std::size_t i = 0; i < std::size(kVerdictKinds); ++i)
    state_->verdict[i]->Set(kVerdictKinds[i] == kind ? 1 : 0);
}

}  // namespace infermem
