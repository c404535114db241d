#pragma once
// Helpers of the tests that talk to `infermem watch --metrics-port` and to Prometheus's tools, all
// on 127.0.0.1 and bounded in time.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/run_helpers.h"

namespace infermem::test {

// How long a test waits for a state it needs (a counter, a line in a log, a file) before it
// fails. Only there so a wedged run fails instead of hanging: waits return as soon as the state
// is seen, so a generous bound costs nothing on a fast machine and holds on a slow shared one.
constexpr double kPatienceSeconds = 300;

// Polls fn every 250 ms until it returns true or `seconds` pass (the sleep is between checks of
// the real condition, never in place of one).
template <class Fn>
bool eventually(double seconds, Fn fn) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until) {
    if (fn()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

// The port a `watch --metrics-port 0` listens on, read from its "metrics on http://ADDR:PORT"
// line: the server picks a free port itself and says which, so no port is picked by the test and
// bound later by another process (the race a "free a moment ago" port had). -1 when the watch
// exited first or said nothing within `seconds`.
int served_metrics_port(const RunningCli& watch, double seconds = kPatienceSeconds);

// GET http://127.0.0.1:PORT/metrics: the body on status 200, else "" (2 s to connect, 5 s to read).
std::string scrape_metrics(int port);

// A program started by a test, its output in `log`, stopped (TERM, then KILL) at the end.
struct Process {
  pid_t pid = -1;
  Process(std::vector<std::string> args, const std::string& log);
  ~Process();
  bool exited() const;  // without reaping it
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
};

// `infermem watch ... -- CMD` started by a test, stopped however the test ends: SIGINT (watch
// then stops its command's process group), SIGKILL after a bounded wait, and SIGKILL to the
// command's process group (watch starts the command as the leader of a group of its own) in case
// watch could not stop it.
class ScopedWatch {
 public:
  explicit ScopedWatch(const std::vector<std::string>& args) : cli_(start_cli(args)) {}
  ~ScopedWatch() { stop(); }
  ScopedWatch(const ScopedWatch&) = delete;
  ScopedWatch& operator=(const ScopedWatch&) = delete;
  // The port of --metrics-port 0 (served_metrics_port); -1 when it never said.
  int metrics_port(double seconds = kPatienceSeconds) const;
  // The pid of the command watch started, from its "infermem watch: pid N" line; -1 until then.
  int command_pid() const;
  // Stops it (once; later calls return the same result) within about `seconds` + 1 s.
  const CliResult& stop(double seconds = 30);

 private:
  RunningCli cli_;
  bool stopped_ = false;
  CliResult result_;
};

// The port a server started with a listen address of port 0 says it listens on in its log (a
// line with `msg="Listening on" address=HOST:PORT`, as Prometheus writes it); -1 when it exited
// first or said nothing within `seconds`.
int listening_port(const Process& server, const std::string& log,
                   double seconds = kPatienceSeconds);

}  // namespace infermem::test
