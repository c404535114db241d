#include "cli/out_dir.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "infermem/atomic_file.h"
#include "infermem/error.h"
#include "infermem/run_files.h"

namespace infermem::cli {

OutDir create_out_dir(const std::string& out, bool force, const std::string& default_dir) {
  namespace fs = std::filesystem;
  auto make_parent = [](const std::string& dir) {
    fs::path parent = fs::path(dir).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    if (ec)
      throw InputError(
          fmt::format("--out {}: cannot create {}: {}", dir, parent.string(), ec.message()));
  };
  if (out.empty()) {
    make_parent(default_dir);
    for (int k = 1; k < 10000; ++k) {
      std::string dir = k == 1 ? default_dir : fmt::format("{}-{}", default_dir, k);
      if (::mkdir(dir.c_str(), 0755) == 0) return {dir, true};
      if (errno != EEXIST)
        throw InputError(fmt::format("--out {}: cannot create it: {}", dir, std::strerror(errno)));
    }
    throw InputError(fmt::format("--out: {} and 9998 suffixed names are taken", default_dir));
  }
  struct stat st {};
  if (::stat(out.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode))
      throw InputError(fmt::format("--out {}: it exists and is not a directory", out));
    std::error_code ec;
    const bool empty = fs::is_empty(out, ec);
    if (ec) throw InputError(fmt::format("--out {}: cannot read it: {}", out, ec.message()));
    if (!empty && !force)
      throw InputError(
          fmt::format("--out {}: the directory exists and is not empty; a run "
                      "there would mix with what it holds: choose a new one, or "
                      "give --force to write into it anyway",
                      out));
    for (std::string_view name : kRunFiles) check_writable_target(out + "/" + std::string(name));
    return {out, false};
  }
  make_parent(out);
  if (::mkdir(out.c_str(), 0755) != 0)
    throw InputError(fmt::format("--out {}: cannot create it: {}{}", out, std::strerror(errno),
                                 errno == EEXIST ? " (another run just took it)" : ""));
  return {out, true};
}

void remove_if_created(const OutDir& dir) {
  if (dir.created) ::rmdir(dir.path.c_str());  // fails, harmlessly, unless it is empty
}

std::string default_out_dir() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return std::string("infermem-runs/") + buf;
}

}  // namespace infermem::cli
