// infermem inspect: what ONNX Runtime sees in a model file, as a table or JSON.
#include <fmt/format.h>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/model_info.h"

namespace infermem::cli {
namespace {

struct InspectFlags {
  std::string model;
  bool json = false;
};

void attach(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "inspect", "Inputs, outputs, dynamic dimensions, opsets and weight bytes of a model");
  auto flags = std::make_shared<InspectFlags>();
  cmd->add_option("model", flags->model, "the .onnx file")->required();
  cmd->add_flag("--json", flags->json, "machine-readable output");
  cmd->callback([flags, &exit_code] {
    ModelInfo info = inspect_model(flags->model);
    if (flags->json)
      fmt::print("{}\n", model_info_to_json(info).dump(2));
    else
      fmt::print("{}", format_model_info(info));
    exit_code = kExitOk;
  });
}

const Registration reg{{"inspect", 40, attach}};

}  // namespace
}  // namespace infermem::cli
