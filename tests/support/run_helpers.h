#pragma once
// Runs the built infermem binary with arguments and captures exit code, stdout and stderr
// (infermem_test_cli: it links no infermem stage, only infermem_test_files).
#include <string>
#include <vector>

#include "support/files.h"

namespace infermem::test {

struct CliResult {
  int exit_code = -1;  // exit status, or 128+signal when killed
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// The same, started in the background: signal it, then wait for its result.
struct RunningCli {
  int pid = 0;
  int out_fd = -1;
  int err_fd = -1;
};
RunningCli start_cli(const std::vector<std::string>& args,
                     const std::vector<std::string>& env = {});
CliResult wait_cli(RunningCli& running);

// What a running command has written to stderr so far (read without moving the file offset it
// shares with the command), and whether it has exited (without reaping it: wait_cli still can).
std::string stderr_so_far(const RunningCli& running);
bool has_exited(const RunningCli& running);

// Path of a generated model, created once per test program (cached by kind and size).
std::string generated_model(const std::string& kind, const std::string& weights);

}  // namespace infermem::test
