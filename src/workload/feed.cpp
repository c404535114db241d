#include "workload/feed.h"

#include <fmt/format.h>

#include "infermem/error.h"
#include "infermem/model_info.h"

namespace infermem {

std::vector<FeedPair> resolve_feed(const std::string& model_path,
                                   const std::vector<InputPlan>& inputs,
                                   const std::map<std::string, std::string>& feed) {
  std::vector<FeedPair> pairs;
  if (feed.empty()) return pairs;
  const ModelInfo info = inspect_model(model_path);
  for (const auto& [output, input] : feed) {
    FeedPair p{output, input, 0, 0};
    std::size_t o = 0, i = 0;
    while (o < info.outputs.size() && info.outputs[o].name != output) ++o;
    while (i < inputs.size() && inputs[i].name != input) ++i;
    auto names = [](const auto& list) {
      std::string out;
      for (const auto& t : list) out += (out.empty() ? "" : ", ") + t.name;
      return out;
    };
    if (o == info.outputs.size())
      throw InputError(
          fmt::format("--feed {}={}: the model has no output named '{}'; its "
                      "outputs are: {}",
                      output, input, output, names(info.outputs)));
    if (i == inputs.size())
      throw InputError(
          fmt::format("--feed {}={}: the model has no input named '{}'; its inputs "
                      "are: {}",
                      output, input, input, names(inputs)));
    if (info.outputs[o].element_type != inputs[i].element_type)
      throw InputError(fmt::format("--feed {}={}: output '{}' is {}, input '{}' is {}", output,
                                   input, output, element_type_name(info.outputs[o].element_type),
                                   input, element_type_name(inputs[i].element_type)));
    p.output_index = o;
    p.input_index = i;
    pairs.push_back(p);
  }
  return pairs;
}

const Feeder::Carried* Feeder::carried(std::int64_t request, const std::string& input) const {
  const std::int64_t position = request / streams_;
  if (length_ > 0 && position % length_ == 0) return nullptr;
  auto it = state_.find({stream_of(request), input});
  return it == state_.end() ? nullptr : &it->second;
}

void Feeder::keep(std::int64_t request, const std::string& input, Carried value) {
  state_[{stream_of(request), input}] = std::move(value);
}

}  // namespace infermem

namespace infermem {

void check_feed(const std::vector<InputPlan>& inputs, const SoakOptions& options) {
  resolve_feed(options.model_path, inputs, options.feed);
}

}  // namespace infermem
