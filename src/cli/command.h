#pragma once
// Each command lives in one file under src/cli/ and registers itself here; main() attaches them
// all to the CLI11 app in `order`. A command parses flags, calls the library, renders. Nothing
// more.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace infermem::cli {

struct Command {
  std::string name;
  int order = 0;  // position in --help: soak 10, watch 15, analyze 20, snapshot 30, inspect 40,
                  // gen-model 50, report 60, diff 70, merge 12; unique
  // Adds the subcommand to `app`; its callback stores the exit code in `exit_code`.
  std::function<void(CLI::App& app, int& exit_code)> attach;
};

std::vector<Command>& registry();

// The command line infermem was started with, as one shell-quoted line (run facts in reports).
const std::string& invoked_command_line();

struct Registration {
  explicit Registration(Command c) { registry().push_back(std::move(c)); }
};

}  // namespace infermem::cli
