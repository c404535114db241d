#include "infermem/phase_end.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "infermem/error.h"
#include "infermem/series.h"

namespace infermem {

ModelCacheStats phase_cache_from_json(const nlohmann::json& v) {
  if (!v.is_object()) throw InputError("\"cache\" is not an object");
  // What an earlier version did not write yet reads as ModelCache's own zero.
  nlohmann::json full = ModelCacheStats{}.to_json();
  full.update(v);
  if (full["models"].is_object())
    for (auto& entry : full["models"].items()) {
      nlohmann::json& m = entry.value();
      if (!m.is_object()) continue;      // refused by from_json, with its name
      constexpr std::uint64_t zero = 0;  // a count, as ModelCacheStats::from_json reads one
      nlohmann::json per = {{"load_bytes", m.value("cost_bytes", nlohmann::json(zero))},
                            {"inference_bytes", zero},
                            {"resident", false},
                            {"loads", zero},
                            {"hits", zero},
                            {"requests", zero}};
      per.update(m);
      m = std::move(per);
    }
  try {
    return ModelCacheStats::from_json(full);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("\"cache\": a key is of the wrong type ({})", e.what()));
  } catch (const std::invalid_argument& e) {
    throw InputError(fmt::format("\"cache\": {}", e.what()));
  }
}

double PhaseEnd::value(Figure figure) const {
  auto it = figures.find(figure);
  return it == figures.end() ? kAbsent : it->second;
}

nlohmann::json PhaseEnd::to_json() const {
  nlohmann::json j = {{"phase", std::string(phase.text())}, {"t_ms", t_ms}};
  if (cycle) j["cycle"] = *cycle;
  for (const auto& [figure, v] : figures) j[std::string(name(figure))] = v;
  if (cache) j["cache"] = cache->to_json();
  return j;
}

PhaseEnd PhaseEnd::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("not a JSON object");
  PhaseEnd p;
  if (!j.contains("phase") || !j["phase"].is_string())
    throw InputError("\"phase\" is missing or not a string");
  p.phase = parse_phase(j["phase"].get<std::string>());
  if (!j.contains("t_ms") || !j["t_ms"].is_number())
    throw InputError("\"t_ms\" is missing or not a number");
  p.t_ms = j["t_ms"].get<double>();
  for (const auto& [key, v] : j.items()) {
    if (key == "phase" || key == "t_ms") continue;
    if (key == "cycle") {
      // As the trace's cycle (Record::cycle): a whole number in [0, 1e9). Versions before
      // 2026-12-06 wrote it as a double (3.0).
      const double c = v.is_number() ? v.get<double>() : -1;
      if (!(c >= 0 && c < 1e9 && std::floor(c) == c))
        throw InputError("\"cycle\" is not a churn cycle (a whole number from 0)");
      p.cycle = static_cast<int>(c);
    } else if (key == "cache") {
      p.cache = phase_cache_from_json(v);
    } else if (auto figure = parse_figure(key)) {
      if (v.is_null()) continue;
      if (!v.is_number()) throw InputError(fmt::format("\"{}\" is not a number", key));
      p.figures[*figure] = v.get<double>();
    } else {
      throw InputError(fmt::format("\"{}\" is not a field of a phase end", key));
    }
  }
  return p;
}

nlohmann::json to_json(const std::vector<PhaseEnd>& ends) {
  auto out = nlohmann::json::array();
  for (const auto& p : ends) out.push_back(p.to_json());
  return out;
}

std::vector<PhaseEnd> phase_ends_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_array()) throw InputError(fmt::format("{}: \"phases\" is not a list", where));
  std::vector<PhaseEnd> out;
  for (std::size_t i = 0; i < j.size(); ++i) try {
      out.push_back(PhaseEnd::from_json(j[i]));
    } catch (const InputError& e) {
      throw InputError(fmt::format("{}: phases[{}]: {}", where, i, e.what()));
    }
  return out;
}

const PhaseEnd* first_end(const std::vector<PhaseEnd>& ends, Phase phase) {
  for (const auto& p : ends)
    if (p.phase == phase) return &p;
  return nullptr;
}

const PhaseEnd* last_end(const std::vector<PhaseEnd>& ends, Phase phase) {
  const PhaseEnd* found = nullptr;
  for (const auto& p : ends)
    if (p.phase == phase) found = &p;
  return found;
}

}  // namespace infermem
