#pragma once
// Helpers of the tests that talk to `infermem watch --metrics-port` and to Prometheus's tools, all
// on 127.0.0.1 and bounded in time.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace infermem::test {

// A TCP port on 127.0.0.1 free a moment ago.
int free_port();

// True when `program` is found on PATH.
bool on_path(const std::string& program);

// Polls fn every 250 ms until it returns true or `seconds` pass.
template <class Fn>
bool eventually(double seconds, Fn fn) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

// GET http://127.0.0.1:PORT/metrics: the body on status 200, else "" (2 s to connect, 5 s to read).
std::string scrape_metrics(int port);

// `promtool check metrics` on an exposition (kept in dir/exposition.txt): its exit code, and its
// output in *log.
int promtool_check_metrics(const std::string& exposition, const std::string& dir, std::string* log);

// A program started by a test, its output in `log`, stopped (TERM, then KILL) at the end.
struct Process {
  pid_t pid = -1;
  Process(std::vector<std::string> args, const std::string& log);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
};

}  // namespace infermem::test
