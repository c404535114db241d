#include "support/files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "infermem/host.h"

namespace infermem::test {

std::string read_file(const std::string& path) {
  // Bulk reads: a byte at a time (istreambuf_iterator) is slow in the sanitizer build, and tests
  // poll growing trace files with this.
  std::ifstream in(path, std::ios::binary);
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    bytes.append(buf, static_cast<std::size_t>(in.gcount()));
  return bytes;
}

nlohmann::json read_json_file(const std::string& path) {
  return nlohmann::json::parse(read_file(path));
}

const nlohmann::json& arm_named(const nlohmann::json& summary, const std::string& name) {
  for (const auto& a : summary["arms"])
    if (a["name"] == name) return a;
  throw std::runtime_error("no arm " + name + " in summary.json");
}

namespace {

// Temp dirs made by tests are removed when the test program exits, so repeated `make test`
// runs do not fill the disk with models and traces. INFERMEM_KEEP_TEST_DIRS=1 keeps them.
std::vector<std::string>& temp_dirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

void remove_temp_dirs() {
  if (const char* keep = std::getenv("INFERMEM_KEEP_TEST_DIRS"); keep && *keep == '1') return;
  for (const auto& d : temp_dirs()) {
    std::error_code ec;
    std::filesystem::remove_all(d, ec);
  }
}

}  // namespace

std::string make_temp_dir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("infermem-" + tag + "-XXXXXX"));
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  if (temp_dirs().empty()) std::atexit(remove_temp_dirs);
  temp_dirs().push_back(tmpl);
  return tmpl;
}

bool on_path(const std::string& program) {
  return !find_on_path(program).empty();
}

int promtool_check_metrics(const std::string& exposition, const std::string& dir,
                           std::string* log) {
  std::ofstream(dir + "/exposition.txt") << exposition;
  const int rc = std::system(
      ("promtool check metrics < " + dir + "/exposition.txt > " + dir + "/promtool.log 2>&1")
          .c_str());
  if (log) *log = read_file(dir + "/promtool.log");
  return rc;
}

}  // namespace infermem::test
