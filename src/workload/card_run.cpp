// inspect --measure: the card's children, started by soak's runner (run_arms -> infermem worker).
#include "infermem/card_run.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <stdlib.h>
#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "infermem/error.h"
#include "infermem/model_gen.h"
#include "infermem/units.h"

namespace infermem {
namespace {

namespace fs = std::filesystem;

using Dims = std::map<std::string, std::int64_t>;

// Every dimension at soak's steady size (the first value of its range, on its step).
Dims steady_dims(const std::vector<InputPlan>& inputs) {
  Dims out;
  for (const auto& [key, r] : resolve_dims(inputs, Scenario::steady, {}))
    out[key] = (r.lo + r.step - 1) / r.step * r.step;
  return out;
}

std::string shape_text(const std::vector<InputPlan>& inputs, const Dims& dims) {
  std::vector<std::string> tensors;
  for (const auto& p : inputs) {
    std::vector<std::string> sizes;
    for (std::size_t d = 0; d < p.shape.size(); ++d)
      sizes.push_back(std::to_string(p.shape[d] >= 0 ? p.shape[d] : dims.at(p.dim_keys[d])));
    tensors.push_back(fmt::format("{}[{}]", p.name, fmt::join(sizes, "x")));
  }
  return fmt::format("{}", fmt::join(tensors, " "));
}

// "[1, 3, ?, ?]": what an input expects, dynamic dimensions as '?'.
std::string expected_text(const InputPlan& p) {
  std::vector<std::string> sizes;
  for (auto n : p.shape) sizes.push_back(n >= 0 ? std::to_string(n) : "?");
  return fmt::format("[{}]", fmt::join(sizes, ", "));
}

const InputPlan& input_named(const std::vector<InputPlan>& inputs, const std::string& name,
                             const std::string& value) {
  for (const auto& p : inputs)
    if (p.name == name) return p;
  std::vector<std::string> names;
  for (const auto& p : inputs) names.push_back(p.name);
  throw InputError(fmt::format("--shape {}: the model has no input named '{}'; its inputs are: {}",
                               value, name, fmt::join(names, ", ")));
}

CardShape parse_card_shape(const std::vector<InputPlan>& inputs, const std::string& value) {
  if (inputs.empty()) throw InputError(fmt::format("--shape {}: the model has no inputs", value));
  const auto eq = value.find('=');
  const InputPlan& input =
      eq == std::string::npos ? inputs.front() : input_named(inputs, value.substr(0, eq), value);
  const std::string sizes_text = eq == std::string::npos ? value : value.substr(eq + 1);
  std::vector<std::int64_t> sizes;
  std::size_t start = 0;
  for (;;) {
    const auto x = sizes_text.find('x', start);
    const std::string part = sizes_text.substr(start, x == std::string::npos ? x : x - start);
    sizes.push_back(static_cast<std::int64_t>(
        parse_count(part, fmt::format("--shape {}: a size", value), 1, 1000000)));
    if (x == std::string::npos) break;
    start = x + 1;
  }
  if (sizes.size() != input.shape.size())
    throw InputError(
        fmt::format("--shape {}: input '{}' has {} dimension{} {}; give {} size{} separated by 'x'",
                    value, input.name, input.shape.size(), input.shape.size() == 1 ? "" : "s",
                    expected_text(input), input.shape.size(), input.shape.size() == 1 ? "" : "s"));
  CardShape shape;
  shape.dims = steady_dims(inputs);
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (input.shape[d] >= 0 && input.shape[d] != sizes[d])
      throw InputError(fmt::format(
          "--shape {}: dimension {} of input '{}' is fixed at {} (the input is {}), not {}", value,
          d, input.name, input.shape[d], expected_text(input), sizes[d]));
    if (input.shape[d] < 0) shape.dims[input.dim_keys[d]] = sizes[d];
  }
  shape.text = shape_text(inputs, shape.dims);
  return shape;
}

void add_unique(std::vector<CardShape>& shapes, CardShape shape) {
  for (const auto& s : shapes)
    if (s.dims == shape.dims) return;
  shapes.push_back(std::move(shape));
}

// A directory for the children's trace and specs, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "infermem-card-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw WriteError(fmt::format("cannot create a temporary directory {}: {}", tmpl,
                                   std::generic_category().message(errno)));
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void check_ended_ok(const ArmRun& run, const std::string& shape) {
  if (run.status == ArmStatus::ok) return;
  throw WorkloadError(fmt::format("the {} child at {} {}: {}", run.name, shape, name(run.status),
                                  run.status_detail.empty() ? "no detail" : run.status_detail));
}

// Runs the arms on one model at fixed dims, each child to its end; CardInterrupted on Ctrl-C,
// WorkloadError naming `what` for a child that did not end cleanly.
std::vector<ArmRun> run_children(const CardRunOptions& o, const std::string& model,
                                 const std::vector<InputPlan>& inputs, const Dims& dims,
                                 const std::vector<Arm>& arms, const std::string& what,
                                 const std::string& dir) {
  SoakOptions so;
  so.model_path = model;
  so.scenario = Scenario::steady;
  so.requests = o.requests;
  so.warm_requests = o.warm_requests;
  so.seed = o.seed;
  so.arm_timeout_ms = o.arm_timeout_ms;
  so.worker_exe = o.worker_exe;
  so.library_rss = true;
  so.out_dir = dir;
  fs::create_directories(dir);
  RunFacts facts;
  facts.model_path = model;
  facts.inputs = inputs;
  for (const auto& [key, n] : dims) facts.dims[key] = DimRange{n, n, 1};
  std::vector<std::string> notes;
  auto runs = run_arms(
      so, arms, facts, notes, [](const SoakProgress&) {},
      [](const ArmRun&) { return nlohmann::json::object(); });
  if (soak_stop_requested()) throw CardInterrupted();
  std::vector<ArmRun> out;
  for (auto& r : runs) {
    if (r.empty()) throw CardInterrupted();
    check_ended_ok(r.front(), what);
    out.push_back(std::move(r.front()));
  }
  return out;
}

// The children at one shape: the default session, and at the first shape the two comparisons.
std::vector<ArmRun> run_at_shape(const CardRunOptions& o, const CardRun& run, std::size_t index,
                                 const std::string& dir) {
  std::vector<Arm> arms{parse_custom_arm("default:trim=on")};
  if (index == 0)
    for (const char* text : {"no-prepack:prepacking=off", "no-arena:arena=off"})
      arms.push_back(parse_custom_arm(text));
  return run_children(o, o.model_path, run.inputs, run.shapes[index].dims, arms,
                      run.shapes[index].text, dir);
}

// What ONNX Runtime keeps for any model: a one-node (Identity) model through the same load,
// requests, unload and trim as the reference child. Its blocks still in use after the trim are
// the process-lifetime state the first session creates (docs/memory-card.md).
ArmRun run_ort_state_child(const CardRunOptions& o, const std::string& dir) {
  fs::create_directories(dir);
  const std::string model = dir + "/one-node.onnx";
  generate_model(one_node_model_spec(), model);
  const std::vector<InputPlan> inputs = plan_inputs(model);
  auto runs = run_children(o, model, inputs, steady_dims(inputs),
                           {parse_custom_arm("one-node:trim=on")}, "a one-node model", dir);
  return std::move(runs.at(0));
}

}  // namespace

std::vector<CardShape> plan_card_shapes(const std::vector<InputPlan>& inputs,
                                        const std::vector<std::string>& given) {
  std::vector<CardShape> shapes;
  for (const auto& value : given) add_unique(shapes, parse_card_shape(inputs, value));
  if (!given.empty()) return shapes;
  Dims steady = steady_dims(inputs);
  add_unique(shapes, CardShape{shape_text(inputs, steady), steady});
  Dims lo, hi;
  for (const auto& [key, r] : resolve_dims(inputs, Scenario::mixed, {})) {
    lo[key] = (r.lo + r.step - 1) / r.step * r.step;
    hi[key] = std::max(lo[key], r.hi / r.step * r.step);
  }
  add_unique(shapes, CardShape{shape_text(inputs, lo), lo});
  add_unique(shapes, CardShape{shape_text(inputs, hi), hi});
  return shapes;
}

CardRun run_card_children(const CardRunOptions& options) {
  CardRun run;
  run.inputs = plan_inputs(options.model_path);
  run.shapes = plan_card_shapes(run.inputs, options.shapes);
  TempDir tmp;
  for (std::size_t i = 0; i < run.shapes.size(); ++i) {
    auto runs = run_at_shape(options, run, i, fmt::format("{}/shape-{}", tmp.path(), i));
    if (i == 0) {
      run.no_prepack = std::move(runs.at(1));
      run.no_arena = std::move(runs.at(2));
    }
    run.shape_runs.push_back(std::move(runs.at(0)));
  }
  run.ort_state = run_ort_state_child(options, tmp.path() + "/one-node");
  return run;
}

}  // namespace infermem
