// infermem inspect: what ONNX Runtime sees in a model file, as a table or JSON; with --measure,
// the model's memory card, measured in fresh children (docs/memory-card.md).
#include <fmt/format.h>
#include <csignal>
#include <memory>

#include "cli/command.h"
#include "infermem/card_app.h"
#include "infermem/error.h"
#include "infermem/model_info.h"
#include "infermem/render.h"
#include "infermem/units.h"

namespace infermem::cli {
namespace {

struct InspectFlags {
  std::string model;
  bool json = false;
  bool markdown = false;
  bool measure = false;
  std::vector<std::string> shapes;
  std::string requests = "20";
  std::string warm = "3";
  std::string seed = "1";
};

void on_signal(int) {
  request_soak_stop();  // the runner stops the running child; the card is not printed
}

// Returns the exit code: 0, or 130 when Ctrl-C stopped the children.
int run_measure(const InspectFlags& f) {
  CardRunOptions o;
  o.model_path = f.model;
  o.shapes = f.shapes;
  o.requests = static_cast<std::int64_t>(parse_count(f.requests, "--requests", 1, 100000));
  o.warm_requests = static_cast<int>(parse_count(f.warm, "--warm", 1, 1000));
  o.seed = parse_count(f.seed, "--seed", 0, UINT64_MAX);
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  try {
    const MemoryCard card = measure_memory_card(o);
    const Format format = f.json ? Format::json : f.markdown ? Format::markdown : Format::terminal;
    fmt::print("{}", render(card, format));
    return kExitOk;
  } catch (const CardInterrupted& e) {
    fmt::print(stderr, "infermem: {}; no card printed\n", e.what());
    return kExitInterrupted;
  }
}

void check_flags(const InspectFlags& f) {
  if (f.json && f.markdown) throw InputError("--json and --markdown: give one output format");
  if (!f.measure) {
    if (f.markdown) throw InputError("--markdown: only with --measure (the memory card)");
    if (!f.shapes.empty()) throw InputError("--shape: only with --measure (the memory card)");
  }
}

void attach(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "inspect", "Inputs, outputs, dynamic dimensions, opsets and weight bytes of a model");
  auto flags = std::make_shared<InspectFlags>();
  cmd->add_option("model", flags->model, "the .onnx file")->required();
  cmd->add_flag("--json", flags->json, "machine-readable output");
  auto* measure = cmd->add_flag(
      "--measure", flags->measure,
      "the memory card: load peak, steady level, peak per shape, what stays after "
      "unload, and the split (weights, prepacked, arena, heap, code), measured in fresh "
      "children");
  cmd->add_flag("--markdown", flags->markdown, "--measure: the card as Markdown");
  cmd->add_option("--shape", flags->shapes,
                  "--measure: an input shape, 1x3x224x224 (the first input) or NAME=1x3x224x224; "
                  "repeatable (default: soak's steady shape, the smallest and the largest)");
  cmd->add_option("--requests", flags->requests, "--measure: requests per child after warm-up")
      ->capture_default_str()
      ->needs(measure);
  cmd->add_option("--warm", flags->warm, "--measure: warm-up requests per child")
      ->capture_default_str()
      ->needs(measure);
  cmd->add_option("--seed", flags->seed, "--measure: seed of the synthesized inputs")
      ->capture_default_str()
      ->needs(measure);
  cmd->callback([flags, &exit_code] {
    check_flags(*flags);
    if (flags->measure) {
      exit_code = run_measure(*flags);
      return;
    }
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
