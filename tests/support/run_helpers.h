#pragma once
// Runs the built infermem binary with arguments and captures exit code, stdout and stderr.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// A fresh empty directory under the system temp dir, removed by the caller (or left for CI).
std::string make_temp_dir(const std::string& tag);

// A whole file as bytes ("" when it cannot be read), and a whole file as JSON.
std::string read_file(const std::string& path);
nlohmann::json read_json_file(const std::string& path);

// The arm of summary.json with that name; throws std::runtime_error naming it when there is none.
const nlohmann::json& arm_named(const nlohmann::json& summary, const std::string& name);

// Path of a generated model, created once per test program (cached by kind and size).
std::string generated_model(const std::string& kind, const std::string& weights);

}  // namespace infermem::test
