#include "support/browser.h"

#include "infermem/host.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "support/run_helpers.h"

extern char** environ;

namespace infermem::test {
namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void drain(int fd, std::string& into) {
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) into.append(buf, static_cast<std::size_t>(n));
}

}  // namespace

std::string find_program(const std::string& name) {
  return find_on_path(name);
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser"})
    if (auto path = find_program(name); !path.empty()) return path;
  return {};
}

ProgramResult run_headless(const std::string& chromium, const std::vector<std::string>& args,
                           const std::string& html_path, double timeout_s,
                           const std::string& fragment) {
  const std::string profile = make_temp_dir("chromium-profile");
  // --no-sandbox: tests run as root here, where Chromium refuses its sandbox.
  std::vector<std::string> argv_s = {chromium,
                                     "--headless",
                                     "--no-sandbox",
                                     "--disable-gpu",
                                     "--no-first-run",
                                     "--no-default-browser-check",
                                     "--disable-extensions",
                                     "--disable-background-networking",
                                     "--disable-component-update",
                                     "--disable-sync",
                                     "--user-data-dir=" + profile};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  argv_s.push_back("file://" + std::filesystem::absolute(html_path).string() +
                   (fragment.empty() ? "" : "#" + fragment));
  return run_program(argv_s, timeout_s);
}

ProgramResult run_program(const std::vector<std::string>& argv_in, double timeout_s) {
  std::vector<std::string> argv_s = argv_in;
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: a timeout kills every process it made
  pid_t pid = 0;
  const double started = now_ms();
  int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  close(err[1]);
  ProgramResult r;
  if (rc != 0) {
    close(out[0]);
    close(err[0]);
    r.err = "cannot start " + argv_s.front();
    return r;
  }
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const double left_ms = timeout_s * 1000 - (now_ms() - started);
    if (left_ms <= 0) {
      r.timed_out = true;
      kill(-pid, SIGKILL);
      break;
    }
    if (poll(fds, 2, static_cast<int>(std::min(left_ms, 1000.0))) < 0) continue;
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      std::string& into = k == 0 ? r.out : r.err;
      const std::size_t before = into.size();
      drain(fds[k].fd, into);
      if (into.size() == before) {  // end of file
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  kill(-pid, SIGKILL);  // helpers it left behind, if any
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.wall_ms = now_ms() - started;
  return r;
}

ProgramResult dump_dom(const std::string& chromium, const std::string& html_path, double timeout_s,
                       const std::string& fragment) {
  return run_headless(chromium, {"--window-size=1280,2000", "--dump-dom"}, html_path, timeout_s,
                      fragment);
}

ProgramResult screenshot(const std::string& chromium, const std::string& html_path,
                         const std::string& png_path, int width, int height, double timeout_s,
                         const std::string& fragment) {
  return run_headless(chromium,
                      {"--window-size=" + std::to_string(width) + "," + std::to_string(height),
                       "--hide-scrollbars", "--screenshot=" + png_path},
                      html_path, timeout_s, fragment);
}

std::string element_text(const std::string& dom, const std::string& id) {
  const std::string marker = "id=\"" + id + "\"";
  auto at = dom.find(marker);
  if (at == std::string::npos) return {};
  auto open_end = dom.find('>', at);
  if (open_end == std::string::npos) return {};
  auto close = dom.find('<', open_end + 1);
  if (close == std::string::npos) return {};
  std::string raw = dom.substr(open_end + 1, close - open_end - 1);
  std::string out;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    auto semi = raw.find(';', i);
    if (semi == std::string::npos) {
      out += raw[i];
      continue;
    }
    const std::string entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "amp")
      out += '&';
    else if (entity == "lt")
      out += '<';
    else if (entity == "gt")
      out += '>';
    else if (entity == "quot")
      out += '"';
    else if (entity == "#39")
      out += '\'';
    else
      out += "&" + entity + ";";
    i = semi;
  }
  return out;
}

}  // namespace infermem::test
