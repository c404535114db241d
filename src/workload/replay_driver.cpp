#include "workload/replay_driver.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "infermem/error.h"

namespace infermem {

std::map<std::string, std::int64_t> replay_shape_dims(const ReplayModel& model,
                                                      const ReplayEvent& event) {
  std::map<std::string, std::int64_t> dims;
  if (event.shape.empty()) return dims;
  if (model.inputs.empty())
    throw InputError(fmt::format("log line {}: model {} has no input to give shape {} to",
                                 event.line, model.id, fmt::join(event.shape, "x")));
  const InputPlan& in = model.inputs.front();
  auto mismatch = [&](const std::string& why) {
    std::vector<std::string> expected;
    for (std::int64_t d : in.shape) expected.push_back(d < 0 ? "N" : std::to_string(d));
    return InputError(
        fmt::format("log line {}: shape {} does not fit input {} of model {} ({}): {}", event.line,
                    fmt::join(event.shape, "x"), in.name, model.id, fmt::join(expected, "x"), why));
  };
  if (event.shape.size() != in.shape.size())
    throw mismatch(
        fmt::format("{} dimensions where the input has {}", event.shape.size(), in.shape.size()));
  for (std::size_t d = 0; d < in.shape.size(); ++d) {
    if (in.shape[d] >= 0) {
      if (in.shape[d] != event.shape[d])
        throw mismatch(fmt::format("dimension {} is fixed at {}", d, in.shape[d]));
      continue;
    }
    const std::string& key = in.dim_keys[d];
    auto [it, fresh] = dims.emplace(key, event.shape[d]);
    if (!fresh && it->second != event.shape[d])
      throw mismatch(fmt::format("dimension {} ({}) is given two sizes", d, key));
  }
  return dims;
}

ReplayDriver::ReplayDriver(const ReplayPlan& plan, std::uint64_t seed) : plan_(plan), seed_(seed) {
  for (std::size_t k = 0; k < plan.models.size(); ++k) {
    const ReplayModel& m = plan.models[k];
    auto per = std::make_unique<PerModel>();
    per->synth = std::make_unique<InputSynth>(m.inputs, m.dims, /*fixed_shapes=*/true,
                                              seed * 1000003ULL + k);
    per->synth->use(&per->shape);
    models_.push_back(std::move(per));
    index_[m.id] = k;
  }
}

std::vector<std::string> ReplayDriver::model_paths() const {
  std::vector<std::string> paths;
  for (const auto& m : plan_.models) paths.push_back(m.path);
  return paths;
}

InputSynth& ReplayDriver::prepare(const ReplayEvent& event, std::size_t model) {
  PerModel& per = *models_[model];
  per.shape.lines.clear();
  if (!event.shape.empty())
    per.shape.lines.push_back(replay_shape_dims(plan_.models[model], event));
  UserInputs* user = nullptr;
  if (!event.input.empty()) {
    auto& slot = files_[{model, event.input}];
    if (!slot)
      slot = std::make_unique<UserInputs>(plan_.models[model].inputs, event.input, "order",
                                          std::map<std::string, std::string>{}, seed_);
    user = slot.get();
  }
  per.synth->use(user);
  return *per.synth;
}

void ReplayDriver::drive(const Serve& serve) {
  replay_events(plan_.events, plan_.from, plan_.speed,
                [&](std::size_t i, std::chrono::steady_clock::time_point due) {
                  const ReplayEvent& event = plan_.events[i];
                  auto it = index_.find(event.model);
                  if (it == index_.end())
                    throw WorkloadError(fmt::format("log line {}: model {} was not planned",
                                                    event.line, event.model));
                  return serve(it->second, prepare(event, it->second), due);
                });
}

}  // namespace infermem
