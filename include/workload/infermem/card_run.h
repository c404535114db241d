#pragma once
// The measuring side of `infermem inspect --measure` (the memory card, docs/memory-card.md): the
// model in fresh children started by soak's runner (`infermem worker`), one per input shape with
// the default session, two more at the first shape with one setting changed (prepacking off,
// the CPU arena off), and one on a generated one-node model (what ORT keeps whatever the model
// is). Nothing here judges or splits: the card's arithmetic is the verdict
// stage's (infermem/memory_card.h).
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "infermem/soak.h"

namespace infermem {

// One input shape of the card: every dynamic dimension's size, and how it reads.
struct CardShape {
  std::string text;                          // "x[1x3x320x320]", one tensor per input
  std::map<std::string, std::int64_t> dims;  // dim key -> size
};

// The shapes to measure. `given` are --shape values: "1x3x224x224" (the model's first input)
// or "NAME=1x3x224x224"; a dimension the shapes leave open takes soak's steady size. With none
// given: soak's steady shape, then the smallest and largest of soak's mixed draw (duplicates
// dropped). InputError naming the --shape value, the input and what it expects when a shape has
// the wrong rank, a size that is not a whole number from 1 to 10^6, or a fixed dimension of
// another size; or names an input the model does not have.
std::vector<CardShape> plan_card_shapes(const std::vector<InputPlan>& inputs,
                                        const std::vector<std::string>& given);

struct CardRunOptions {
  std::string model_path;
  std::vector<std::string> shapes;  // --shape values
  std::int64_t requests = 20;       // per child after warm-up
  int warm_requests = 3;
  std::uint64_t seed = 1;
  double arm_timeout_ms = 600000;  // per child
  std::string worker_exe = "/proc/self/exe";
};

// The children's runs, as the runner returns them.
struct CardRun {
  std::vector<InputPlan> inputs;
  std::vector<CardShape> shapes;
  std::vector<ArmRun> shape_runs;  // per shape: default session, trim after unload
  ArmRun no_prepack;               // first shape, session.disable_prepacking=1
  ArmRun no_arena;                 // first shape, CPU arena off
  ArmRun ort_state;                // a generated one-node model: what ORT keeps for any model
};

// Thrown when soak's stop was requested (request_soak_stop: Ctrl-C) while the children ran; the
// running child is stopped and the temporary directory removed.
class CardInterrupted : public std::runtime_error {
 public:
  CardInterrupted() : std::runtime_error("inspect --measure was interrupted") {}
};

// Plans the shapes (InputError before any child starts), runs the children with their trace in a
// temporary directory that is removed afterwards, and returns their runs. WorkloadError naming
// the child and how it ended when one did not finish cleanly; CardInterrupted.
CardRun run_card_children(const CardRunOptions& options);

}  // namespace infermem
