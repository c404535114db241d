// infermem: the truth about the memory of ML inference processes.
#include <fmt/format.h>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <new>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/soak.h"
#include "infermem/version.h"

namespace infermem::cli {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {
std::string g_command_line;

std::string shell_quoted(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789-_./=:,+@%") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
}  // namespace

const std::string& invoked_command_line() {
  return g_command_line;
}

}  // namespace infermem::cli

int main(int argc, char** argv) {
  using namespace infermem;
  for (int i = 0; i < argc; ++i)
    cli::g_command_line += (i ? " " : "") + cli::shell_quoted(i == 0 ? "infermem" : argv[i]);
  CLI::App app{"infermem: the truth about the memory of ML inference processes (ONNX Runtime)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    return fmt::format("infermem {}\nONNX Runtime {}", INFERMEM_VERSION, ort_version());
  });
  auto& commands = cli::registry();
  std::sort(commands.begin(), commands.end(),
            [](const cli::Command& a, const cli::Command& b) { return a.order < b.order; });
  int exit_code = kExitOk;
  for (auto& c : commands) c.attach(app, exit_code);
  // CLI11 reports an unknown first word only as "a subcommand is required": name it instead.
  if (argc > 1 && argv[1][0] != '-') {
    std::string word = argv[1];
    bool known = std::any_of(commands.begin(), commands.end(),
                             [&](const cli::Command& c) { return c.name == word; });
    if (!known) {
      std::string names;
      for (const auto& c : commands)
        if (c.name != "worker") names += (names.empty() ? "" : ", ") + c.name;
      fmt::print(stderr, "infermem: error: unknown command '{}'; commands: {} (see --help)\n", word,
                 names);
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // CLI11's own words, in infermem's form: a missing argument, an unknown flag, a bad choice.
    fmt::print(stderr, "infermem: error: {} (see --help)\n", e.what());
    return kExitUsage;
  } catch (const InputError& e) {
    fmt::print(stderr, "infermem: error: {}\n", e.what());
    return kExitUsage;
  } catch (const WriteError& e) {
    fmt::print(stderr, "infermem: error: {}\n", e.what());
    return kExitWriteFailed;
  } catch (const WorkloadError& e) {
    fmt::print(stderr, "infermem: workload failed: {}\n", e.what());
    return kExitWorkload;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr,
               "infermem: internal error: out of memory (std::bad_alloc); this is a bug in "
               "infermem's input checks, please report it with the command line\n");
    return kExitInternal;
  } catch (const std::exception& e) {
    fmt::print(stderr,
               "infermem: internal error: {}; this is a bug in infermem, please report it with "
               "the command line\n",
               e.what());
    return kExitInternal;
  } catch (...) {
    fmt::print(stderr,
               "infermem: internal error: an unknown exception; this is a bug in "
               "infermem, please report it with the command line\n");
    return kExitInternal;
  }
  return exit_code;
}
