// `infermem diff --json`.
#include "infermem/numbers.h"
#include "report/diff_render.h"

namespace infermem {
namespace {

nlohmann::json num(double v) {
  return json_number(v);
}

}  // namespace

nlohmann::json diff_to_json(const RunDiff& d) {
  auto figures = nlohmann::json::array();
  for (const auto& f : d.figures) {
    nlohmann::json j = {{"arm", f.arm},        {"figure", f.figure},
                        {"base", num(f.base)}, {"new", num(f.next)},
                        {"memory", f.memory},  {"allowed_bytes", num(f.allowed_bytes)},
                        {"basis", f.basis},    {"regressed", f.regressed}};
    // The noise model (docs/diff.md): present for every memory figure that was compared.
    if (present(f.noise_bytes)) {
      j["net_change_bytes"] = num(f.net_change_bytes);
      j["noise_bytes"] = num(f.noise_bytes);
      j["mdd_bytes"] = num(f.mdd_bytes);
      j["held_free_base_bytes"] = num(f.held_base);
      j["held_free_new_bytes"] = num(f.held_new);
      j["confidence"] = f.confidence;
      j["power"] = f.power;
      j["noise_method"] = f.noise_method;
      j["runs"] = {f.runs_base, f.runs_new};
    }
    if (f.basis == "spread") {
      j["base_range"] = {f.base_low, f.base_high};
      j["new_range"] = {f.next_low, f.next_high};
    }
    figures.push_back(std::move(j));
  }
  nlohmann::json out = {{"base", d.base_label},
                        {"new", d.new_label},
                        {"identity_differences", d.identity_differences},
                        {"figures", figures},
                        {"only_in_base", d.only_in_base},
                        {"only_in_new", d.only_in_new},
                        {"notes", d.notes},
                        {"reasons", d.reasons()},
                        {"regressed", d.regressed()}};
  // Runs recorded before arms named their ONNX Runtime have none: the key is then left out.
  if (!d.arm_ort_versions.empty()) out["arm_ort_versions"] = d.arm_ort_versions;
  return out;
}

std::string render_diff_json(const RunDiff& d) {
  return diff_to_json(d).dump(2) + "\n";
}

}  // namespace infermem
