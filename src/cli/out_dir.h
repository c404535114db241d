#pragma once
// The run directory of a command that records (soak, watch): created as the last input check.
#include <string>

namespace infermem::cli {

struct OutDir {
  std::string path;
  bool created = false;  // made by this call (a command that then fails its checks removes it)
};

// A default directory (`out` empty) gets a suffix when its name is taken (two runs in the same
// second); an explicit one must be new or empty unless `force`. InputError naming --out.
OutDir create_out_dir(const std::string& out, bool force, const std::string& default_dir);

// Removes a directory create_out_dir made, when it is still empty.
void remove_if_created(const OutDir& dir);

// infermem-runs/<local time>.
std::string default_out_dir();

}  // namespace infermem::cli
