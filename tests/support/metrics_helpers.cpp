#include "support/metrics_helpers.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "support/run_helpers.h"

extern char** environ;

namespace infermem::test {

namespace {

// The port of the address that follows `marker` in text (up to one of `ends`), or -1 while
// there is none or its line is not complete yet.
int port_after(const std::string& text, const std::string& marker, const std::string& ends) {
  const auto at = text.find(marker);
  if (at == std::string::npos) return -1;
  const auto end = text.find_first_of(ends, at + marker.size());
  if (end == std::string::npos) return -1;  // the line is still being written
  const std::string address = text.substr(at + marker.size(), end - at - marker.size());
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return -1;
  try {
    return std::stoi(address.substr(colon + 1));
  } catch (const std::exception&) {
    return -1;
  }
}

bool exited_without_reaping(pid_t pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return true;
  return info.si_pid == pid;
}

}  // namespace

int served_metrics_port(const RunningCli& watch, double seconds) {
  int port = -1;
  eventually(seconds, [&] {
    // Whether it exited is asked first: all it wrote before an exit is then in what is read.
    const bool gone = has_exited(watch);
    port = port_after(stderr_so_far(watch), "metrics on http://", "/\n");
    return port > 0 || gone;
  });
  return port;
}

int listening_port(const Process& server, const std::string& log, double seconds) {
  int port = -1;
  eventually(seconds, [&] {
    const bool gone = server.exited();
    port = port_after(read_file(log), "msg=\"Listening on\" address=", " \n");
    return port > 0 || gone;
  });
  return port;
}

int ScopedWatch::metrics_port(double seconds) const {
  return served_metrics_port(cli_, seconds);
}

int ScopedWatch::command_pid() const {
  const std::string err = stderr_so_far(cli_);
  const std::string marker = "infermem watch: pid ";
  const auto at = err.find(marker);
  if (at == std::string::npos) return -1;
  return std::atoi(err.c_str() + at + marker.size());
}

const CliResult& ScopedWatch::stop(double seconds) {
  if (stopped_) return result_;
  stopped_ = true;
  const int group = command_pid();
  kill(cli_.pid, SIGINT);
  if (!eventually(seconds, [&] { return has_exited(cli_); })) kill(cli_.pid, SIGKILL);
  result_ = wait_cli(cli_);
  if (group > 1) kill(-group, SIGKILL);  // nothing left there when watch stopped it (ESRCH)
  return result_;
}

std::string scrape_metrics(int port) {
  httplib::Client exporter("127.0.0.1", port);
  exporter.set_connection_timeout(2);
  exporter.set_read_timeout(5);
  auto res = exporter.Get("/metrics");
  if (!res || res->status != 200) return "";
  return res->body;
}

Process::Process(std::vector<std::string> args, const std::string& log) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&fa);
}

bool Process::exited() const {
  return pid <= 0 || exited_without_reaping(pid);
}

Process::~Process() {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace infermem::test
