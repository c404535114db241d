#include "support/metrics_helpers.h"

#include "infermem/host.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "support/run_helpers.h"

extern char** environ;

namespace infermem::test {

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool on_path(const std::string& program) {
  return !find_on_path(program).empty();
}

std::string scrape_metrics(int port) {
  httplib::Client exporter("127.0.0.1", port);
  exporter.set_connection_timeout(2);
  exporter.set_read_timeout(5);
  auto res = exporter.Get("/metrics");
  if (!res || res->status != 200) return "";
  return res->body;
}

int promtool_check_metrics(const std::string& exposition, const std::string& dir,
                           std::string* log) {
  std::ofstream(dir + "/exposition.txt") << exposition;
  const int rc = std::system(
      ("promtool check metrics < " + dir + "/exposition.txt > " + dir + "/promtool.log 2>&1")
          .c_str());
  if (log) *log = read_file(dir + "/promtool.log");
  return rc;
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

Process::~Process() {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100 && waitpid(pid, nullptr, WNOHANG) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace infermem::test
