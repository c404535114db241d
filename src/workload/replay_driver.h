#pragma once
// The child's side of infermem replay (docs/replay.md): the cache scenario's request stream taken
// from the user's log. Each model has its own input synthesizer (its own inputs, planned by the
// parent); a request's shape from the log sets the dynamic dimensions of the model's first input,
// and its tensor file, when given, is fed as soak --inputs feeds one.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "infermem/soak.h"
#include "workload/inputs.h"
#include "workload/pacing.h"
#include "workload/user_inputs.h"

namespace infermem {

class ReplayDriver {
 public:
  ReplayDriver(const ReplayPlan& plan, std::uint64_t seed);
  // The models' files, by the model index serve() is given.
  std::vector<std::string> model_paths() const;
  using Serve = std::function<bool(std::size_t model, InputSynth& synth,
                                   std::chrono::steady_clock::time_point due)>;
  // Serves plan.events[from...] in order at the log's pace (replay_events), each request's synth
  // set up with its shape and tensor file; stops when serve returns false.
  void drive(const Serve& serve);

 private:
  struct PerModel {
    std::unique_ptr<InputSynth> synth;
    ShapePlan shape;  // one line: this request's dimensions (none: the fixed defaults)
  };
  InputSynth& prepare(const ReplayEvent& event, std::size_t model);

  const ReplayPlan& plan_;
  std::vector<std::unique_ptr<PerModel>> models_;
  std::map<std::string, std::size_t> index_;
  std::map<std::pair<std::size_t, std::string>, std::unique_ptr<UserInputs>> files_;
  std::uint64_t seed_;
};

}  // namespace infermem
