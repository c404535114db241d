#pragma once
// The stats file: how a service's ModelCache hands its counters to `infermem watch`, which runs in
// another process. The cache writes one small JSON document (docs/model-cache.md shows one) to
// the path INFERMEM_CACHE_STATS names, replacing it whole (temp file + rename in the same
// directory) so a reader never sees half of one; watch reads it at its detail samples and turns
// it into Prometheus metrics, trace notes and summary.json's "cache". A file watch cannot trust
// (not a regular file, larger than kCacheStatsMaxBytes, not the document below) is refused and
// counted by reason, never fatal.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "infermem/model_cache.h"

namespace infermem {

// The environment variable a ModelCache publishes to (when set) and `watch` sets for a command.
inline constexpr const char* kCacheStatsEnv = "INFERMEM_CACHE_STATS";
// The largest stats file read: about 4000 models' entries; a larger one is refused.
inline constexpr std::uint64_t kCacheStatsMaxBytes = 1 << 20;
inline constexpr const char* kCacheStatsFormat = "infermem-cache-stats";

struct CacheStatsFile {
  int pid = 0;            // the process whose cache wrote it
  std::uint64_t seq = 0;  // counts the writer's writes: a new one is a new snapshot
  ModelCacheStats stats;
};

// The document: {"format": "infermem-cache-stats", "v": 1, "pid", "seq", "cache": {...}}, where
// "cache" is ModelCacheStats::to_json() (the same object soak puts in its trace).
std::string cache_stats_text(const CacheStatsFile& file);
// Parses a document; throws InputError saying what is wrong when it is not one.
CacheStatsFile parse_cache_stats(std::string_view text);
// Writes it atomically (write_file_atomic). Throws InputError or WriteError naming the path.
void write_cache_stats(const std::string& path, const CacheStatsFile& file);

// Why a read gave no snapshot. `missing` is no error (the service has not written yet, or does
// not use a cache); the others are counted.
enum class CacheStatsProblem { none, missing, not_regular, too_large, unreadable, malformed };
const char* name(CacheStatsProblem problem);

// What watch knows of one stats file at a moment: where it is, how many reads it took and refused,
// and the last snapshot it read (none yet: nullopt). The watch end record's "cache_stats" and
// summary.json's "cache" hold it; the report stage renders it.
struct CacheStatsSnapshot {
  std::string path;
  std::uint64_t reads_ok = 0;
  std::map<std::string, std::uint64_t> read_errors;  // refused reads by name(CacheStatsProblem)
  std::optional<CacheStatsFile> last;
  // {"path", "reads_ok", "read_errors": {...}, "pid", "seq", "cache": {...}}; pid, seq and cache
  // are null without a snapshot.
  nlohmann::json to_json() const;
  // The inverse of to_json; throws InputError saying what is wrong.
  static CacheStatsSnapshot from_json(const nlohmann::json& j);
};

// Reads one stats file again and again (watch, at each detail sample), keeping the last good
// snapshot and counting what was refused.
class CacheStatsReader {
 public:
  explicit CacheStatsReader(std::string path, std::uint64_t max_bytes = kCacheStatsMaxBytes);
  // Reads the file once; true when it held a snapshot not seen before (a new seq or pid).
  bool poll();
  const std::string& path() const { return path_; }
  const std::optional<CacheStatsFile>& last() const { return last_; }
  // The last read's problem (none after a good read) and what was wrong, for a note.
  CacheStatsProblem problem() const { return problem_; }
  const std::string& problem_detail() const { return detail_; }
  // Refused reads by problem name ("not-regular", "too-large", "unreadable", "malformed").
  const std::map<std::string, std::uint64_t>& errors() const { return errors_; }
  std::uint64_t reads_ok() const { return reads_ok_; }
  CacheStatsSnapshot snapshot() const { return {path_, reads_ok_, errors_, last_}; }
  nlohmann::json to_json() const { return snapshot().to_json(); }

 private:
  std::string path_;
  std::uint64_t max_bytes_;
  std::optional<CacheStatsFile> last_;
  CacheStatsProblem problem_ = CacheStatsProblem::missing;
  std::string detail_;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t reads_ok_ = 0;
};

}  // namespace infermem
