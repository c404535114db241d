// infermem gen-model: writes a real, seeded ONNX model of about a given weight size.
#include <fmt/format.h>
#include <charconv>
#include <filesystem>
#include <memory>

#include "cli/command.h"
#include "infermem/error.h"
#include "infermem/model_gen.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct GenModelFlags {
  std::string kind;
  std::string weights;
  std::string layers;  // empty: the kind's default
  std::string seed = "1";
  std::string out;
};

int parse_layers(const std::string& text) {
  if (text.empty()) return 0;  // ModelSpec's "the kind's default"
  int layers = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), layers);
  if (ec != std::errc() || end != text.data() + text.size() || layers < 1)
    throw InputError(
        fmt::format("--layers '{}' is not a number of layers: valid values are 1 to {}", text,
                    kMaxModelLayers));
  return layers;
}

void run(const GenModelFlags& flags) {
  ModelSpec spec;
  spec.kind = parse_model_kind(flags.kind);
  spec.weight_bytes = parse_size(flags.weights, "--weights");
  spec.layers = parse_layers(flags.layers);
  spec.seed = parse_count(flags.seed, "--seed", 0, UINT64_MAX);
  generate_model(spec, flags.out);
  fmt::print("wrote {} ({}): {}, {} of weights asked, seed {}\n", flags.out,
             format_bytes(static_cast<double>(std::filesystem::file_size(flags.out))),
             model_kind_name(spec.kind), format_bytes(static_cast<double>(spec.weight_bytes)),
             spec.seed);
}

void attach(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("gen-model",
                                 "Write a real ONNX model of about SIZE bytes of seeded weights");
  auto flags = std::make_shared<GenModelFlags>();
  cmd->add_option("--kind", flags->kind, "mlp | transformer | conv | identity | stateful")
      ->required();
  cmd->add_option("--weights", flags->weights, "bytes of float weights, e.g. 64MiB")->required();
  cmd->add_option("--layers", flags->layers,
                  fmt::format("1 to {} (default: mlp 3, transformer 4, conv 4)", kMaxModelLayers));
  cmd->add_option("--seed", flags->seed,
                  "seed of every weight, 0..18446744073709551615 (default 1)");
  cmd->add_option("-o,--out", flags->out, "the .onnx file to write")->required();
  cmd->callback([flags, &exit_code] {
    run(*flags);
    exit_code = kExitOk;
  });
}

const Registration reg{{"gen-model", 50, attach}};

}  // namespace
}  // namespace infermem::cli
