#include "infermem/spawn.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string_view>
#include <thread>

#include "infermem/error.h"

extern char** environ;

namespace infermem {
namespace {

std::vector<char*> pointers(std::vector<std::string>& words) {
  std::vector<char*> out;
  for (auto& w : words) out.push_back(w.data());
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(const SpawnSpec& spec, char* const* argv, char* const* envp,
                             int error_fd) {
  ::setpgid(0, 0);
  if (!spec.cgroup_procs.empty()) {
    int cg = ::open(spec.cgroup_procs.c_str(), O_WRONLY);
    if (cg >= 0) {
      (void)!::write(cg, "0", 1);  // "0" = the writing process itself
      ::close(cg);
    }
  }
  if (spec.records_fd >= 0) {
    if (error_fd == 3) error_fd = ::fcntl(error_fd, F_DUPFD_CLOEXEC, 4);
    if (spec.records_fd == 3)
      ::fcntl(3, F_SETFD, 0);  // already there: only the close-on-exec flag goes
    else
      ::dup2(spec.records_fd, 3);  // dup2 clears O_CLOEXEC on the new descriptor
  }
  if (spec.log_fd >= 0) {
    ::dup2(spec.log_fd, 1);
    ::dup2(spec.log_fd, 2);
  }
  ::execvpe(spec.program.c_str(), argv, envp);
  int e = errno;
  (void)!::write(error_fd, &e, sizeof e);
  ::_exit(127);
}

}  // namespace

Spawned spawn_process(const SpawnSpec& spec) {
  // Everything the child needs is built before fork.
  std::vector<std::string> args = spec.argv, env = spec.env;
  std::vector<char*> argv = pointers(args), envp = pointers(env);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw WorkloadError(fmt::format("pipe: {}", std::strerror(errno)));
  Spawned out;
  out.pid = ::fork();
  if (out.pid < 0) {
    int e = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw WorkloadError(fmt::format("fork: {}", std::strerror(e)));
  }
  if (out.pid == 0) exec_child(spec, argv.data(), envp.data(), fds[1]);
  ::setpgid(out.pid, out.pid);  // also here: whichever side runs first, the group exists
  ::close(fds[1]);
  int e = 0;
  ssize_t n;
  do n = ::read(fds[0], &e, sizeof e);
  while (n < 0 && errno == EINTR);
  ::close(fds[0]);
  if (n == static_cast<ssize_t>(sizeof e)) out.exec_errno = e;
  return out;
}

std::optional<int> try_reap(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, WNOHANG) == pid) return status;
  return std::nullopt;
}

int stop_and_reap(pid_t pid, double grace_ms) {
  ::kill(-pid, SIGTERM);
  ::kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double, std::milli>(grace_ms));
  for (;;) {
    if (auto status = try_reap(pid)) return *status;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::vector<std::string> environment_with(const std::vector<std::string>& set) {
  std::vector<std::string> out;
  auto name_of = [](std::string_view var) { return var.substr(0, var.find('=') + 1); };
  for (char** e = environ; e && *e; ++e) {
    const std::string_view var(*e);
    bool replaced = false;
    for (const auto& add : set)
      if (name_of(var) == name_of(add)) replaced = true;
    if (!replaced) out.emplace_back(var);
  }
  out.insert(out.end(), set.begin(), set.end());
  return out;
}

}  // namespace infermem
