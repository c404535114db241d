#pragma once
// The one trace format. Every command that records memory writes it (soak, watch) and every
// command that judges or renders reads it (analyze, report, diff). One JSON object a line,
// documented in docs/trace-format.md. Version 1.
//
// Each line has "v" (format version), "type" and "t_ms" (milliseconds since the run began, on a
// monotonic clock). Common optional keys: "arm", "pid", "phase", "req" (requests done so far in
// the arm), "src" (who measured: "child" in-process, "parent" from outside, "watch"). Every other
// numeric key is a measured value; names end in their unit (_bytes, _ms, _count). A value that
// was not readable is absent, never zero.
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace infermem::trace {

inline constexpr int kFormatVersion = 1;

// Record types.
inline constexpr std::string_view kHeader = "header";    // run metadata (extra holds it)
inline constexpr std::string_view kSample = "sample";    // one memory reading
inline constexpr std::string_view kPhase = "phase";      // phase begin/end; end carries peaks
inline constexpr std::string_view kRequest = "request";  // one inference: latency_ms, shape
inline constexpr std::string_view kArm = "arm";          // arm begin/end with config and status
inline constexpr std::string_view kNote = "note";        // free text: warnings, degradations

struct Record {
  std::string type;
  double t_ms = 0;
  std::string arm;
  int pid = 0;
  std::string phase;
  std::int64_t req = -1;
  std::string src;
  std::map<std::string, double> values;             // measured numbers, unit-suffixed names
  nlohmann::json extra = nlohmann::json::object();  // every non-numeric remaining key

  std::optional<double> value(const std::string& key) const;
};

// One line of JSON, without the newline.
std::string to_line(const Record& record);

// Parses one line. Returns nullopt (and a reason in *why, if given) for a line that is not a
// valid version-1 record; the caller counts and skips it.
std::optional<Record> parse_line(std::string_view line, std::string* why = nullptr);

// Writes records to a file descriptor (a pipe to the parent, or a trace.jsonl file), one
// write(2) per line so that concurrent writers never interleave within a line. Thread-safe.
class Writer {
 public:
  explicit Writer(int fd) : fd_(fd) {}
  // Returns false when the reader is gone (EPIPE) or the write failed.
  bool write(const Record& record);
  bool write_raw_line(std::string_view line);

 private:
  int fd_;
  std::mutex mu_;
};

// Reads records line by line from a FILE* (a file on disk or a pipe from a child). Malformed
// lines are skipped and counted, never fatal.
class Reader {
 public:
  explicit Reader(std::FILE* in) : in_(in) {}
  std::optional<Record> next();
  std::uint64_t skipped() const { return skipped_; }
  std::uint64_t lines() const { return lines_; }
  const std::string& last_raw_line() const { return line_; }

 private:
  std::FILE* in_;
  std::string line_;
  std::uint64_t skipped_ = 0;
  std::uint64_t lines_ = 0;
};

}  // namespace infermem::trace
