#pragma once
// Files for tests that need no infermem stage beyond common: temp dirs, whole files as bytes or
// JSON, programs on PATH, and `promtool check metrics`. The test data's folder is
// INFERMEM_TESTDATA_DIR and the source tree's INFERMEM_SOURCE_DIR (both defined for every test
// program that links this library, infermem_test_files).
#include <nlohmann/json.hpp>
#include <string>

namespace infermem::test {

// A fresh empty directory under the system temp dir, removed by the caller (or left for CI).
std::string make_temp_dir(const std::string& tag);

// A whole file as bytes ("" when it cannot be read), and a whole file as JSON.
std::string read_file(const std::string& path);
nlohmann::json read_json_file(const std::string& path);

// The arm of summary.json with that name; throws std::runtime_error naming it when there is none.
const nlohmann::json& arm_named(const nlohmann::json& summary, const std::string& name);

// True when `program` is found on PATH.
bool on_path(const std::string& program);

// `promtool check metrics` on an exposition (kept in dir/exposition.txt): its exit code, and its
// output in *log.
int promtool_check_metrics(const std::string& exposition, const std::string& dir, std::string* log);

}  // namespace infermem::test
