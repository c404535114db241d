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

namespace {

// The fields a stats document and a snapshot share: pid, seq and the cache's counters.
CacheStatsFile file_fields(const nlohmann::json& j) {
  CacheStatsFile f;
  // A pid read from text is unsigned; one set in memory (a snapshot's to_json) is signed.
  if (!j.contains("pid") || !j["pid"].is_number_integer() || j["pid"].get<std::int64_t>() <= 0 ||
      j["pid"].get<std::int64_t>() > 4194304)
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

}  // namespace

CacheStatsFile parse_cache_stats(std::string_view text) {
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError("not a JSON object");
  if (!j.contains("format") || !j["format"].is_string() || j["format"] != kCacheStatsFormat)
    throw InputError(fmt::format("\"format\" is not \"{}\"", kCacheStatsFormat));
  if (!j.contains("v") || !j["v"].is_number_integer() || j["v"] != 1)
    throw InputError("\"v\" is not 1");
  return file_fields(j);
}

nlohmann::json CacheStatsSnapshot::to_json() const {
  nlohmann::json j = {
      {"path", path},   {"reads_ok", reads_ok}, {"read_errors", nlohmann::json(read_errors)},
      {"pid", nullptr}, {"seq", nullptr},       {"cache", nullptr}};
  if (last) {
    j["pid"] = last->pid;
    j["seq"] = last->seq;
    j["cache"] = last->stats.to_json();
  }
  return j;
}

CacheStatsSnapshot CacheStatsSnapshot::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw InputError("not a JSON object");
  CacheStatsSnapshot s;
  if (!j.contains("path") || !j["path"].is_string()) throw InputError("\"path\" is not a string");
  s.path = j["path"].get<std::string>();
  if (!j.contains("reads_ok") || !j["reads_ok"].is_number_unsigned())
    throw InputError("\"reads_ok\" is not a count");
  s.reads_ok = j["reads_ok"].get<std::uint64_t>();
  if (!j.contains("read_errors") || !j["read_errors"].is_object())
    throw InputError("\"read_errors\" is not an object");
  for (const auto& [reason, n] : j["read_errors"].items()) {
    if (!n.is_number_unsigned())
      throw InputError(fmt::format("\"read_errors\": \"{}\" is not a count", reason));
    s.read_errors[reason] = n.get<std::uint64_t>();
  }
  if (j.contains("cache") && !j["cache"].is_null()) s.last = file_fields(j);
  return s;
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

}  // namespace infermem
