// infermem worker SPEC.json: the child side of soak (hidden; started by soak, not by users).
#include <fmt/format.h>
#include <fstream>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/soak.h"

namespace infermem::cli {
namespace {

void attach(CLI::App& app, int& exit_code) {
  auto spec_path = std::make_shared<std::string>();
  auto* sub = app.add_subcommand("worker", "");  // empty description: hidden from --help
  sub->group("");
  sub->add_option("spec", *spec_path)->required();
  sub->callback([spec_path, &exit_code] {
    std::ifstream in(*spec_path);
    if (!in) throw InputError(fmt::format("worker: cannot read {}", *spec_path));
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) throw InputError(fmt::format("worker: {} is not JSON", *spec_path));
    WorkerSpec spec = WorkerSpec::from_json(j);
    exit_code = run_worker(spec, 3);
  });
}

const Registration reg{{"worker", 1000, attach}};

}  // namespace
}  // namespace infermem::cli
