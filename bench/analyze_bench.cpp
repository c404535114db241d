// analyze's throughput and peak memory on a long CSV: 10 million rows (about 190 MB; set
// INFERMEM_BENCH_CSV_LINES to change it) written to a temp dir, removed afterwards.
//
// BM_ImportCsv: the import alone, in process (MB/s of CSV). BM_AnalyzeCli: `infermem analyze
// FILE --json` as a user runs it (import, verdict, rendering): MB/s of wall time, MB per second
// of the child's CPU time, and the child's peak RSS (VmHWM, from wait4's rusage of that one
// child) as counters. Figures only.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "infermem/importers.h"

namespace {

namespace fs = std::filesystem;

// The CSV, written once per run of the benchmark program and removed at exit.
class LongCsv {
 public:
  LongCsv() {
    const char* env = std::getenv("INFERMEM_BENCH_CSV_LINES");
    const long lines = env ? std::atol(env) : 10'000'000;
    std::string tmpl = (fs::temp_directory_path() / "infermem-analyze-bench-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/long.csv";
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs("time_ms,rss_bytes\n", f);
    std::mt19937_64 rng(1);
    std::string chunk;
    for (long i = 0; i < lines; ++i) {
      // 200 MiB leaking 64 bytes a row under 1 MiB of noise, a row every 10 ms.
      fmt::format_to(std::back_inserter(chunk), "{},{}\n", i * 10,
                     (200L << 20) + 64 * i + static_cast<long>(rng() % (1 << 20)));
      if (chunk.size() > (1 << 20)) {
        std::fwrite(chunk.data(), 1, chunk.size(), f);
        chunk.clear();
      }
    }
    std::fwrite(chunk.data(), 1, chunk.size(), f);
    std::fclose(f);
    bytes_ = static_cast<double>(fs::file_size(path_));
  }
  ~LongCsv() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& path() const { return path_; }
  double bytes() const { return bytes_; }

 private:
  std::string dir_, path_;
  double bytes_ = 0;
};

const LongCsv& csv() {
  static LongCsv file;
  return file;
}

void BM_ImportCsv(benchmark::State& state) {
  const LongCsv& file = csv();
  for (auto _ : state) {
    infermem::Imported imported = infermem::import_file(file.path(), {});
    benchmark::DoNotOptimize(imported);
  }
  state.counters["MB/s"] = benchmark::Counter(
      file.bytes() / 1e6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["input_MB"] = file.bytes() / 1e6;
}
BENCHMARK(BM_ImportCsv)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();

void BM_AnalyzeCli(benchmark::State& state) {
  const LongCsv& file = csv();
  double peak_mib = 0, cpu_s = 0;
  for (auto _ : state) {
    pid_t pid = ::fork();
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, STDOUT_FILENO);
      ::execl(INFERMEM_BIN, INFERMEM_BIN, "analyze", file.path().c_str(), "--json",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    struct rusage usage {};
    ::wait4(pid, &status, 0, &usage);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("infermem analyze failed");
      return;
    }
    peak_mib = std::max(peak_mib, static_cast<double>(usage.ru_maxrss) / 1024.0);
    cpu_s += static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
             static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  }
  state.counters["MB/s"] = benchmark::Counter(
      file.bytes() / 1e6 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["peak_RSS_MiB"] = peak_mib;
  // On a shared machine wall time mostly measures the other processes: CPU time is the figure
  // that says what analyze itself costs.
  state.counters["MB_per_cpu_s"] =
      file.bytes() / 1e6 * static_cast<double>(state.iterations()) / std::max(cpu_s, 1e-9);
  state.counters["input_MB"] = file.bytes() / 1e6;
}
BENCHMARK(BM_AnalyzeCli)->Unit(benchmark::kSecond)->Iterations(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
