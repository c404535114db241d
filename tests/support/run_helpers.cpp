#include "support/run_helpers.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <map>
#include <stdexcept>

extern char** environ;

namespace infermem::test {
namespace {

std::string slurp(int fd) {
  std::string s;
  char buf[65536];
  lseek(fd, 0, SEEK_SET);
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<std::size_t>(n));
  return s;
}

}  // namespace

RunningCli start_cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv_s{INFERMEM_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  char out_tmpl[] = "/tmp/infermem-out-XXXXXX";
  char err_tmpl[] = "/tmp/infermem-err-XXXXXX";
  RunningCli r;
  r.out_fd = mkstemp(out_tmpl);
  r.err_fd = mkstemp(err_tmpl);
  unlink(out_tmpl);
  unlink(err_tmpl);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, r.out_fd, 1);
  posix_spawn_file_actions_adddup2(&fa, r.err_fd, 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + std::string(INFERMEM_BIN));
  r.pid = pid;
  return r;
}

std::string stderr_so_far(const RunningCli& running) {
  std::string s;
  char buf[65536];
  off_t at = 0;
  ssize_t n;
  while ((n = pread(running.err_fd, buf, sizeof buf, at)) > 0) {
    s.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return s;
}

bool has_exited(const RunningCli& running) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(running.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return true;  // not our child any more: nothing to wait for
  return info.si_pid == running.pid;
}

CliResult wait_cli(RunningCli& running) {
  int status = 0;
  // Only an interrupted wait is retried: any other error (the child already reaped) would spin.
  while (waitpid(running.pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(running.out_fd);
  r.err = slurp(running.err_fd);
  close(running.out_fd);
  close(running.err_fd);
  return r;
}

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  RunningCli running = start_cli(args, env);
  return wait_cli(running);
}

std::string generated_model(const std::string& kind, const std::string& weights) {
  static std::map<std::string, std::string> cache;
  std::string key = kind + ":" + weights;
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  std::string dir = make_temp_dir("model");
  std::string path = dir + "/" + kind + "-" + weights + ".onnx";
  auto r = run_cli({"gen-model", "--kind", kind, "--weights", weights, "--seed", "7", "-o", path});
  if (r.exit_code != 0) throw std::runtime_error("gen-model failed: " + r.err);
  cache[key] = path;
  return path;
}

}  // namespace infermem::test
