// The stats file between a ModelCache and `infermem watch` (infermem/cache_stats_file.h).
#include "infermem/cache_stats_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "infermem/atomic_file.h"
#include "infermem/error.h"

namespace infermem {

std::string cache_stats_text(const CacheStatsFile& file) {
  const nlohmann::json j = {{"format", kCacheStatsFormat},
                            {"v", 1},
                            {"pid", file.pid},
                            {"seq", file.seq},
                            {"cache", file.stats.to_json()}};
  return j.dump() + "\n";
}

CacheStatsFile parse_cache_stats(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("not a JSON object");
  if (!j.contains("format") || !j["format"].is_string() || j["format"] != kCacheStatsFormat)
    throw InputError(fmt::format("\"format\" is not \"{}\"", kCacheStatsFormat));
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"] != 1)
    throw InputError("\"v\" is not 1");
  CacheStatsFile f;
  if (!j.contains("pid") || !j["pid"].is_number_unsigned() || j["pid"] == 0 ||
      j["pid"].get<std::uint64_t>() > 4194304)
    throw InputError("\"pid\" is not a process id");
  if (!j.contains("seq") || !j["seq"].is_number_unsigned())
    throw InputError("\"seq\" is not a count");
  f.pid = j["pid"].get<int>();
  f.seq = j["seq"].get<std::uint64_t>();
  try {
    f.stats = ModelCacheStats::from_json(j.at("cache"));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("a key is missing or of the wrong type ({})", e.what()));
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
  return f;
}

void write_cache_stats(const std::string& path, const CacheStatsFile& file) {
  write_file_atomic(path, cache_stats_text(file));
}

const char* name(CacheStatsProblem problem) {
  switch (problem) {
    case CacheStatsProblem::none:
      return "none";
    case CacheStatsProblem::missing:
      return "missing";
    case CacheStatsProblem::not_regular:
      return "not-regular";
    case CacheStatsProblem::too_large:
      return "too-large";
    case CacheStatsProblem::unreadable:
      return "unreadable";
    case CacheStatsProblem::malformed:
      return "malformed";
  }
  return "unknown";
}

CacheStatsReader::CacheStatsReader(std::string path, std::uint64_t max_bytes)
    : path_(std::move(path)), max_bytes_(max_bytes) {}

bool CacheStatsReader::poll() {
  auto refused = [&](CacheStatsProblem p, std::string detail) {
    problem_ = p;
    detail_ = std::move(detail);
    if (p != CacheStatsProblem::missing) ++errors_[name(p)];
    return false;
  };
  // O_NONBLOCK: a FIFO put at the path never blocks the open; fstat then refuses it.
  const int fd = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return refused(CacheStatsProblem::missing, "it does not exist (yet)");
    return refused(CacheStatsProblem::unreadable, std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return refused(CacheStatsProblem::not_regular, "it is not a regular file");
  }
  // Read at most one byte more than allowed: a file that grows while being read is caught too.
  std::string text;
  text.resize(static_cast<std::size_t>(max_bytes_) + 1);
  std::size_t got = 0;
  int err = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (err != 0) return refused(CacheStatsProblem::unreadable, std::strerror(err));
  if (got > max_bytes_)
    return refused(CacheStatsProblem::too_large,
                   fmt::format("it holds more than {} bytes", max_bytes_));
  text.resize(got);
  CacheStatsFile f;
  try {
    f = parse_cache_stats(text);
  } catch (const InputError& e) {
    return refused(CacheStatsProblem::malformed, e.what());
  }
  problem_ = CacheStatsProblem::none;
  detail_.clear();
  ++reads_ok_;
  const bool fresh = !last_ || last_->pid != f.pid || last_->seq != f.seq;
  last_ = std::move(f);
  return fresh;
}

nlohmann::json CacheStatsReader::to_json() const {
  nlohmann::json j = {
      {"path", path_},  {"reads_ok", reads_ok_}, {"read_errors", nlohmann::json(errors_)},
      {"pid", nullptr}, {"seq", nullptr},        {"cache", nullptr}};
  if (last_) {
    j["pid"] = last_->pid;
    j["seq"] = last_->seq;
    j["cache"] = last_->stats.to_json();
  }
  return j;
}

}  // namespace infermem
