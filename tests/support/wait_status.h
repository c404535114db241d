#pragma once
// The wait status of `/bin/sh -c SCRIPT` run to its end (no core files for the signals it
// raises): real statuses for the tests of the exit classifiers.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace infermem::test {

inline int wait_status_of(const std::string& script) {
  const std::string body = "ulimit -c 0; " + script;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", body.c_str(), static_cast<char*>(nullptr));
    ::_exit(126);
  }
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  return status;
}

}  // namespace infermem::test
