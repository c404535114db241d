#pragma once
// Prometheus metrics of a running watch, served by prometheus-cpp's exposer (base units, HELP and
// TYPE written by the library). docs/monitoring.md lists every metric and its labels.
#include <map>
#include <memory>
#include <string>

#include "infermem/cache_stats_file.h"
#include "infermem/verdict.h"

namespace infermem {

struct WatchMetricsValues {
  double rss_bytes = kAbsent, anon_bytes = kAbsent, file_bytes = kAbsent, shmem_bytes = kAbsent,
         pss_bytes = kAbsent;
  double hwm_bytes = kAbsent;
  double cgroup_usage_bytes = kAbsent, cgroup_limit_bytes = kAbsent;
  double growth_bytes_per_second = kAbsent, growth_low_bytes_per_second = kAbsent,
         growth_high_bytes_per_second = kAbsent;
  double processes = kAbsent;
};

class WatchMetrics {
 public:
  // Binds bind_address:port (port 0: any free one), before any process is started. InputError
  // naming the address when it cannot be bound (in use, not an address of this machine).
  WatchMetrics(const std::string& bind_address, int port);
  ~WatchMetrics();
  int port() const;
  // Creates the metrics, labelled with the watched pid and command and the constant labels
  // (--label: a fleet's model, model_version, pod...; names checked by parse_metric_label), and
  // starts serving them. Until then the other calls do nothing.
  void describe(int pid, const std::string& command,
                const std::map<std::string, std::string>& constant_labels = {});
  void update(const WatchMetricsValues& values);
  void add_samples(double n);
  void set_verdict(VerdictKind kind);
  // The watched service's ModelCache counters, from its stats file (infermem_cache_*). The
  // families appear with the first snapshot; when the writing pid changes or a count goes down
  // (the service restarted) the counters start again from zero: a counter reset to Prometheus.
  void update_cache(const CacheStatsFile& file);
  // A stats file refused (infermem_cache_stats_read_errors_total{reason}).
  void count_cache_read_error(const std::string& reason);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace infermem
