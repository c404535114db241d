#pragma once
// The one trace format. Every command that records memory writes it (soak) and every command
// that judges or renders reads it (analyze, report, diff). One JSON object a line, documented in
// docs/trace-format.md. Version 1.
//
// Each line has "v" (format version), "type" and "t_ms" (milliseconds since the run began, on a
// monotonic clock). Common optional keys: "arm", "pid", "phase", "req" (requests done so far in
// the arm), "src" (who measured: "child" in-process, "parent" from outside). Every other numeric
// key is a measured value; names end in their unit (_bytes, _ms, _count). A value that was not
// readable is absent, never zero. Measured values are Figures (infermem/figure.h); record types
// and every other key with a fixed meaning are named once below.
//
// Reading: a Source yields lines from a file, standard input, a pipe or a string in bounded
// memory (a read buffer, lines up to kMaxLineBytes); a Reader turns a Source's lines into
// Records. soak reads its children's pipes with it, analyze its input files.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "infermem/figure.h"
#include "infermem/phase.h"

namespace infermem::trace {

inline constexpr int kFormatVersion = 1;

// Record types: a line of any other type is skipped and counted, as a malformed one is.
enum class RecordType : unsigned char {
  header,   // run metadata (extra holds it)
  sample,   // one memory reading
  phase,    // phase begin/end; end carries peaks
  request,  // one inference: latency_ms, shape
  arm,      // arm begin/end with config and status
  note,     // free text: warnings, degradations
};
std::string_view name(RecordType type);  // "header", "sample", ...
std::optional<RecordType> parse_record_type(std::string_view text);

// The soak child's phases ("phase"), and Named<E>, are common's (infermem/phase.h): a series'
// points carry a phase too.
using infermem::Named;
using infermem::parse_phase;
using infermem::Phase;
// "edge" (phase, arm, an idle note): begin | end | result (the parent's verdict on an arm).
enum class Edge : unsigned char { none, begin, end, result, other };
std::string_view name(Edge edge);
// "src", who measured: child (in-process), parent (from outside the child), watch (infermem
// watch, from outside the watched process).
enum class Src : unsigned char { none, child, parent, watch, other };
std::string_view name(Src src);

// Reads a name: "" is none, a known name its value, anything else other with the text kept.
Named<Edge> parse_edge(std::string_view text);
Named<Src> parse_src(std::string_view text);

// Keys. The fixed keys of every record; context keys (strings, objects); measured values (numbers,
// unit-suffixed). docs/trace-format.md says what each one means and which records carry it.
namespace key {
// On every record (Record's own fields).
inline constexpr char kVersion[] = "v";
inline constexpr char kType[] = "type";
inline constexpr char kTime[] = "t_ms";
inline constexpr char kArm[] = "arm";
inline constexpr char kPid[] = "pid";
inline constexpr char kPhase[] = "phase";
inline constexpr char kReq[] = "req";
inline constexpr char kSrc[] = "src";

// Context (Record::extra).
inline constexpr char kEdge[] = "edge";  // phase, arm: begin | end | result
inline constexpr char kStatus[] = "status";
inline constexpr char kStatusDetail[] = "status_detail";
inline constexpr char kError[] = "error";
inline constexpr char kVerdict[] = "verdict";
inline constexpr char kConfig[] = "config";
inline constexpr char kOrtVersion[] = "ort_version";
inline constexpr char kHwmReset[] = "hwm_reset";
inline constexpr char kMethod[] = "method";
inline constexpr char kLoad[] = "load";
inline constexpr char kShape[] = "shape";
inline constexpr char kEvent[] = "event";
inline constexpr char kModel[] = "model";
inline constexpr char kText[] = "text";
inline constexpr char kMessage[] = "message";
inline constexpr char kTool[] = "tool";
inline constexpr char kToolVersion[] = "tool_version";
inline constexpr char kCommand[] = "command";
inline constexpr char kModelSha256[] = "model_sha256";
inline constexpr char kScenario[] = "scenario";
inline constexpr char kSeed[] = "seed";
inline constexpr char kHost[] = "host";
inline constexpr char kStartedAt[] = "started_at";

// watch: the header's memory cgroup; a process's first sighting (a "process" note:
// "process" holds its ppid); the end record's "exit" (how the watch and the process ended),
// "checks" (the gate's results) and "cache_stats" (the service's cache stats file as last read).
inline constexpr char kCgroupDir[] = "cgroup_dir";
inline constexpr char kName[] = "name";
inline constexpr char kProcess[] = "process";
inline constexpr char kExit[] = "exit";
inline constexpr char kChecks[] = "checks";
inline constexpr char kCacheStats[] = "cache_stats";

}  // namespace key

// Every figure a memory reading (a sample, a phase end) may carry, in the probe's order. The
// measured values of a record are Figures (include/common/infermem/figure.h), named there once.
inline constexpr Figure kReadingFigures[] = {Figure::rss_bytes,
                                             Figure::rss_anon_bytes,
                                             Figure::rss_file_bytes,
                                             Figure::rss_shmem_bytes,
                                             Figure::hwm_bytes,
                                             Figure::swap_bytes,
                                             Figure::threads_count,
                                             Figure::pss_bytes,
                                             Figure::pss_anon_bytes,
                                             Figure::pss_file_bytes,
                                             Figure::private_dirty_bytes,
                                             Figure::shared_clean_bytes,
                                             Figure::cgroup_current_bytes,
                                             Figure::cgroup_peak_bytes,
                                             Figure::cgroup_limit_bytes,
                                             Figure::cgroup_oom_kill_count,
                                             Figure::malloc_arena_bytes,
                                             Figure::malloc_mmap_bytes,
                                             Figure::malloc_in_use_bytes,
                                             Figure::malloc_free_bytes,
                                             Figure::jemalloc_allocated_bytes,
                                             Figure::jemalloc_active_bytes,
                                             Figure::jemalloc_resident_bytes,
                                             Figure::jemalloc_retained_bytes,
                                             Figure::ort_arena_in_use_bytes,
                                             Figure::ort_arena_reserved_bytes,
                                             Figure::ort_arena_max_in_use_bytes,
                                             Figure::smaps_swap_bytes,
                                             Figure::cgroup_anon_bytes,
                                             Figure::cgroup_file_bytes,
                                             Figure::malloc_keepcost_bytes,
                                             Figure::allocator_is_jemalloc_count,
                                             Figure::allocator_is_tcmalloc_count,
                                             Figure::allocator_is_mimalloc_count,
                                             Figure::allocator_is_sanitizer_count,
                                             Figure::ort_arena_extensions_count,
                                             Figure::ort_arena_shrinkages_count};

struct Record {
  RecordType type = RecordType::note;
  double t_ms = 0;
  std::string arm;
  int pid = 0;
  Named<Phase> phase;
  std::int64_t req = -1;
  Named<Src> src;
  Named<Edge> edge;  // a string "edge" (a non-string one stays in extra)
  Figures values;    // the measured numbers
  // Numbers under a name that is no Figure ("seed", a note's "model"), kept (as doubles, as
  // figures are) so that to_line writes them back under their names.
  std::map<std::string, double> other_values;
  nlohmann::json extra = nlohmann::json::object();  // every non-numeric remaining key

  std::optional<double> value(Figure f) const { return values.get(f); }
  // A number under a name that is no Figure (other_values[key]), else none.
  std::optional<double> other_value(std::string_view key) const;
  // The churn cycle the record belongs to: the cycle figure when it is a whole number in
  // [0, 1e9), else none (any other number cannot be an int, and is not a cycle soak wrote).
  std::optional<int> cycle() const;
  // extra[key] when it is a string, else "".
  std::string text(std::string_view key) const;
};

// Figures as a JSON object of their wire names (numbers as doubles), for a file edge.
nlohmann::json figures_json(const Figures& figures);

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

// A run's trace.jsonl, written by several threads. It creates the file, or replaces a regular
// file left by an earlier run in a directory given with --force (never a device, FIFO or link).
// A failed write (full disk, I/O error) is kept and raised as a WriteError by check(): a trace
// cut short never passes as complete.
class FileWriter {
 public:
  explicit FileWriter(const std::string& path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  void write(const Record& r);
  // Throws WriteError naming the path and the OS reason if any write failed; with sync, also
  // flushes to disk first (delayed allocation reports a full disk only there).
  void check(bool sync = false);

 private:
  std::string path_;
  int fd_ = -1;
  std::unique_ptr<Writer> writer_;
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  std::string error_;
};

// A line a Source yields: its text without "\n" or "\r\n" (valid until the next call) and its
// 1-based number. A line longer than kMaxLineBytes is yielded with too_long set and no text.
struct Line {
  std::string_view text;
  std::uint64_t number = 0;
  bool too_long = false;
};

// Where lines come from, read in large chunks with read(2): a regular file, standard input, a
// pipe (data is yielded as it arrives, so a live child's records are read while it runs), or a
// string. Memory is the read buffer, whatever the input's length. Not thread-safe.
class Source {
 public:
  static constexpr std::size_t kMaxLineBytes = std::size_t{1} << 20;  // 1 MiB
  static constexpr std::size_t kBufferBytes = std::size_t{4} << 20;

  // A path a user named: a regular file, or "-" for standard input. Anything else (a FIFO, a
  // device, a directory, a missing file) is an InputError naming `what` and the path, at once.
  static Source open(const std::string& path, std::string_view what = "input");
  // A descriptor the caller keeps open (and closes) while the Source is used, e.g. a pipe.
  static Source from_fd(int fd, std::string name);
  // Text the caller keeps alive while the Source is used; not copied.
  static Source from_text(std::string_view text, std::string name = "input");

  Source(Source&&) noexcept;
  Source& operator=(Source&&) noexcept;
  ~Source();

  // How messages name the input: the path as given, "-" for standard input.
  const std::string& name() const { return name_; }
  // The next line, or nullopt at the end of the input. Throws InputError on a read error.
  std::optional<Line> next_line();
  // Up to n bytes (at most kBufferBytes) from the current position, not consumed: fewer only at
  // the end of the input. For telling a format from the start of a file.
  std::string_view peek(std::size_t n);
  // The bytes not yet consumed that are in memory, consumed by this call; reads more when none
  // are (empty only at the end). For parsers that take a byte stream (a JSON document).
  std::string_view next_chunk();
  // Consumes n bytes of what peek() showed.
  void skip(std::size_t n);
  std::uint64_t lines() const { return line_number_; }  // lines yielded so far
  std::uint64_t bytes() const { return consumed_; }     // bytes consumed so far

 private:
  Source() = default;
  bool fill();  // reads more after end_; false at the end of the input
  Line take_line(std::size_t stop, std::size_t separator);
  Line skip_long_line();

  struct Owned;
  std::unique_ptr<Owned> owned_;  // an opened file
  std::string name_;
  int fd_ = -1;
  const char* data_ = nullptr;  // the buffer, or the text of from_text
  std::unique_ptr<char[]> buffer_;
  std::size_t begin_ = 0, end_ = 0;  // unconsumed bytes: data_[begin_, end_)
  bool eof_ = false;
  std::uint64_t line_number_ = 0;
  std::uint64_t consumed_ = 0;
};

// Reads records line by line from a Source (a file on disk, standard input, a pipe from a
// child). Malformed lines are skipped and counted, never fatal.
class Reader {
 public:
  explicit Reader(Source& source) : source_(&source) {}
  explicit Reader(Source&& source);
  // soak's pipe from a child: reads the descriptor of `in` directly (data already in the
  // FILE*'s own buffer is not seen, so nothing must have been read through `in`). The caller
  // keeps `in` open while reading and closes it.
  explicit Reader(std::FILE* in);
  Reader(Reader&&) noexcept;
  ~Reader();

  std::optional<Record> next();
  std::uint64_t skipped() const { return skipped_; }
  std::uint64_t lines() const { return source_->lines(); }
  // The last line read (valid until the next call), its number, and why it was skipped ("" when
  // it was not). With on_skip set, every skipped line is passed to it as well.
  std::string_view last_raw_line() const { return last_.text; }
  std::uint64_t last_line_number() const { return last_.number; }
  const std::string& last_skip_reason() const { return why_; }
  std::function<void(std::uint64_t line_number, std::string_view why)> on_skip;

 private:
  std::unique_ptr<Source> owned_;
  Source* source_;
  Line last_;
  std::string why_;
  std::uint64_t skipped_ = 0;
};

}  // namespace infermem::trace
