#pragma once
// Reading summary.json back: a field the report depends on, missing or of the wrong type, is an
// input error naming it, never a default (a missing "passed" read as true would let a broken
// summary pass the gate).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>

#include "infermem/error.h"

namespace infermem::report {

template <typename T>
T required(const nlohmann::json& obj, const char* key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key))
    throw InputError(fmt::format("summary.json: {} has no \"{}\" field", where, key));
  try {
    return obj.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(fmt::format("summary.json: {}: \"{}\" has the wrong type", where, key));
  }
}

}  // namespace infermem::report
