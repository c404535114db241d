#include "infermem/trace.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "infermem/error.h"
#include "infermem/input_file.h"

namespace infermem::trace {

namespace {
constexpr std::string_view kRecordTypeNames[] = {"header",  "sample", "phase",
                                                 "request", "arm",    "note"};
constexpr std::string_view kEdgeNames[] = {"", "begin", "end", "result", ""};
constexpr std::string_view kSrcNames[] = {"", "child", "parent", "watch", ""};

}  // namespace

std::string_view name(RecordType type) {
  return kRecordTypeNames[static_cast<std::size_t>(type)];
}
std::optional<RecordType> parse_record_type(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kRecordTypeNames); ++i)
    if (kRecordTypeNames[i] == text) return static_cast<RecordType>(i);
  return std::nullopt;
}
std::string_view name(Edge edge) {
  return kEdgeNames[static_cast<std::size_t>(edge)];
}
std::string_view name(Src src) {
  return kSrcNames[static_cast<std::size_t>(src)];
}
Named<Edge> parse_edge(std::string_view text) {
  return parse_named<Edge>(text, kEdgeNames);
}
Named<Src> parse_src(std::string_view text) {
  return parse_named<Src>(text, kSrcNames);
}

std::optional<double> Record::other_value(std::string_view key) const {
  auto it = other_values.find(std::string(key));
  if (it == other_values.end()) return std::nullopt;
  return it->second;
}

std::optional<int> Record::cycle() const {
  auto c = value(Figure::cycle);
  if (!c || !(*c >= 0 && *c < 1e9) || *c != std::floor(*c)) return std::nullopt;
  return static_cast<int>(*c);
}

std::string Record::text(std::string_view key) const {
  if (!extra.is_object()) return "";
  auto it = extra.find(std::string(key));
  return it != extra.end() && it->is_string() ? it->get<std::string>() : "";
}

nlohmann::json figures_json(const Figures& figures) {
  nlohmann::json j = nlohmann::json::object();
  for (auto [f, v] : figures) j[std::string(name(f))] = v;
  return j;
}

namespace {
bool is_envelope_key(std::string_view k) {
  return k == key::kVersion || k == key::kType || k == key::kTime || k == key::kArm ||
         k == key::kPid || k == key::kPhase || k == key::kReq || k == key::kSrc;
}
}  // namespace

std::string to_line(const Record& r) {
  nlohmann::json j = nlohmann::json::object();
  j[key::kVersion] = kFormatVersion;
  j[key::kType] = std::string(name(r.type));
  // Microsecond rounding, unless scaling would overflow (a huge time stays as it is).
  double us = r.t_ms * 1000.0;
  j[key::kTime] = std::isfinite(us) ? std::round(us) / 1000.0 : r.t_ms;
  if (!r.arm.empty()) j[key::kArm] = r.arm;
  if (r.pid != 0) j[key::kPid] = r.pid;
  if (!r.phase.empty()) j[key::kPhase] = std::string(r.phase.text());
  if (r.req >= 0) j[key::kReq] = r.req;
  if (!r.src.empty()) j[key::kSrc] = std::string(r.src.text());
  if (!r.edge.empty()) j[key::kEdge] = std::string(r.edge.text());
  auto put_number = [&j](std::string_view k, double v) {
    if (!std::isfinite(v)) return;  // JSON has no NaN; an unreadable value is absent
    auto& slot = j[std::string(k)];
    if (v == std::floor(v) && std::fabs(v) < 9.0e15)
      slot = static_cast<std::int64_t>(v);
    else
      slot = v;
  };
  for (auto [f, v] : r.values) put_number(name(f), v);
  for (const auto& [k, v] : r.other_values)
    if (!is_envelope_key(k) && !j.contains(k)) put_number(k, v);  // never shadows the above
  if (r.extra.is_object())
    for (const auto& [k, v] : r.extra.items())
      if (!j.contains(k) && !is_envelope_key(k)) j[k] = v;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<Record> parse_line(std::string_view line, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<Record> {
    if (why) *why = reason;
    return std::nullopt;
  };
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.empty()) return fail("empty line");
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  auto v = j.find(key::kVersion);
  if (v == j.end() || !v->is_number_integer()) return fail("no format version \"v\"");
  if (v->get<std::int64_t>() != kFormatVersion) return fail("unsupported format version");
  auto type = j.find(key::kType);
  if (type == j.end() || !type->is_string()) return fail("no \"type\"");
  auto record_type = parse_record_type(type->get_ref<const std::string&>());
  if (!record_type) return fail("unknown record type");
  Record r;
  r.type = *record_type;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    auto& val = it.value();
    if (k == key::kVersion || k == key::kType) continue;
    if (k == key::kTime) {
      if (!val.is_number()) return fail("\"t_ms\" is not a number");
      r.t_ms = val.get<double>();
    } else if (k == key::kArm || k == key::kPhase || k == key::kSrc) {
      // The envelope's keys are typed: a mistyped one makes the line malformed rather than a
      // value that the writer would emit under the same name with another meaning.
      if (!val.is_string()) return fail("\"arm\", \"phase\" or \"src\" is not a string");
      auto& text = val.get_ref<std::string&>();
      if (k == key::kArm)
        r.arm = std::move(text);
      else if (k == key::kPhase)
        r.phase = parse_phase(text);
      else
        r.src = parse_src(text);
    } else if (k == key::kEdge && val.is_string() && !val.get_ref<const std::string&>().empty()) {
      r.edge = parse_edge(val.get_ref<const std::string&>());
    } else if (k == key::kPid) {
      if (!val.is_number_integer()) return fail("\"pid\" is not an integer");
      auto p = val.get<std::int64_t>();
      if (p < 0 || p > 0x7fffffff) return fail("\"pid\" out of range");
      r.pid = static_cast<int>(p);
    } else if (k == key::kReq) {
      if (!val.is_number_integer()) return fail("\"req\" is not an integer");
      r.req = val.get<std::int64_t>();
    } else if (val.is_number()) {
      double d = val.get<double>();
      if (!std::isfinite(d)) continue;
      if (auto f = parse_figure(k))
        r.values.set(*f, d);
      else
        r.other_values.emplace_hint(r.other_values.end(), k, d);
    } else {
      r.extra[k] = std::move(val);
    }
  }
  return r;
}

bool Writer::write_raw_line(std::string_view line) {
  std::string buf(line);
  buf.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  const char* p = buf.data();
  std::size_t left = buf.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

FileWriter::FileWriter(const std::string& path) : path_(path) {
  auto open_new = [&] {
    return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  };
  fd_ = open_new();
  struct stat st {};
  if (fd_ < 0 && errno == EEXIST && ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
      ::unlink(path.c_str()) == 0)
    fd_ = open_new();  // an earlier run's trace in a directory reused on purpose
  if (fd_ < 0) throw WriteError(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  writer_ = std::make_unique<Writer>(fd_);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::write(const Record& r) {
  if (failed_.load()) return;
  if (!writer_->write(r)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.exchange(true)) error_ = std::strerror(errno);
  }
}

void FileWriter::check(bool sync) {
  if (sync && !failed_.load() && ::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!failed_.exchange(true)) error_ = std::strerror(errno);
  }
  if (!failed_.load()) return;
  std::lock_guard<std::mutex> lock(mu_);
  throw WriteError(fmt::format("cannot write {}: {}; the trace is incomplete", path_, error_));
}

bool Writer::write(const Record& record) {
  return write_raw_line(to_line(record));
}

// ---- Source -----------------------------------------------------------------------------------

struct Source::Owned {
  InputFile file;
};

Source::Source(Source&&) noexcept = default;
Source& Source::operator=(Source&&) noexcept = default;
Source::~Source() = default;

Source Source::open(const std::string& path, std::string_view what) {
  Source s;
  s.owned_ = std::make_unique<Owned>();
  s.owned_->file = open_regular_input(path, what, /*allow_stdin=*/true);
  s.fd_ = s.owned_->file.fd();
  s.name_ = path;
  s.buffer_ = std::make_unique<char[]>(kBufferBytes);
  s.data_ = s.buffer_.get();
  return s;
}

Source Source::from_fd(int fd, std::string name) {
  Source s;
  s.fd_ = fd;
  s.name_ = std::move(name);
  s.buffer_ = std::make_unique<char[]>(kBufferBytes);
  s.data_ = s.buffer_.get();
  return s;
}

Source Source::from_text(std::string_view text, std::string name) {
  Source s;
  s.name_ = std::move(name);
  s.data_ = text.data();
  s.end_ = text.size();
  s.eof_ = true;
  return s;
}

bool Source::fill() {
  if (eof_ || !buffer_) return false;
  if (begin_ > 0) {  // keep the unconsumed bytes, at the front
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == kBufferBytes) return false;  // cannot happen: a line is cut at kMaxLineBytes
  for (;;) {
    ssize_t n = ::read(fd_, buffer_.get() + end_, kBufferBytes - end_);
    if (n > 0) {
      end_ += static_cast<std::size_t>(n);
      return true;
    }
    if (n == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {  // a non-blocking pipe: wait for data
      pollfd p{fd_, POLLIN, 0};
      ::poll(&p, 1, -1);
      continue;
    }
    throw InputError(fmt::format("{}: read error: {}", name_, std::strerror(errno)));
  }
}

std::optional<Line> Source::next_line() {
  std::size_t seen = 0;  // bytes after begin_ known to hold no newline
  for (;;) {
    const auto* nl =
        static_cast<const char*>(std::memchr(data_ + begin_ + seen, '\n', end_ - begin_ - seen));
    if (nl) return take_line(static_cast<std::size_t>(nl - data_), 1);
    seen = end_ - begin_;
    if (seen > kMaxLineBytes) return skip_long_line();
    if (!fill()) {
      if (end_ > begin_) return take_line(end_, 0);  // the last line, without a newline
      return std::nullopt;
    }
  }
}

Line Source::take_line(std::size_t stop, std::size_t separator) {
  Line line;
  line.number = ++line_number_;
  if (stop - begin_ > kMaxLineBytes) {
    line.too_long = true;
  } else {
    line.text = std::string_view(data_ + begin_, stop - begin_);
    if (!line.text.empty() && line.text.back() == '\r') line.text.remove_suffix(1);
  }
  consumed_ += stop + separator - begin_;
  begin_ = stop + separator;
  return line;
}

Line Source::skip_long_line() {
  Line line;
  line.number = ++line_number_;
  line.too_long = true;
  for (;;) {
    const auto* nl = static_cast<const char*>(std::memchr(data_ + begin_, '\n', end_ - begin_));
    if (nl) {
      const auto after = static_cast<std::size_t>(nl - data_) + 1;
      consumed_ += after - begin_;
      begin_ = after;
      return line;
    }
    consumed_ += end_ - begin_;
    begin_ = end_;
    if (!fill()) return line;
  }
}

std::string_view Source::peek(std::size_t n) {
  n = std::min(n, kBufferBytes);
  while (end_ - begin_ < n && fill()) {
  }
  return std::string_view(data_ + begin_, std::min(n, end_ - begin_));
}

std::string_view Source::next_chunk() {
  if (begin_ == end_) fill();
  std::string_view chunk(data_ + begin_, end_ - begin_);
  consumed_ += chunk.size();
  begin_ = end_;
  return chunk;
}

void Source::skip(std::size_t n) {
  n = std::min(n, end_ - begin_);
  begin_ += n;
  consumed_ += n;
}

// ---- Reader -----------------------------------------------------------------------------------

Reader::Reader(Source&& source)
    : owned_(std::make_unique<Source>(std::move(source))), source_(owned_.get()) {}

Reader::Reader(std::FILE* in)
    : owned_(std::make_unique<Source>(Source::from_fd(fileno(in), "pipe"))),
      source_(owned_.get()) {}

Reader::Reader(Reader&&) noexcept = default;
Reader::~Reader() = default;

std::optional<Record> Reader::next() {
  while (auto line = source_->next_line()) {
    last_ = *line;
    why_.clear();
    if (line->too_long) {
      why_ = fmt::format("longer than {} bytes", Source::kMaxLineBytes);
    } else {
      if (line->text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      if (auto r = parse_line(line->text, &why_)) {
        why_.clear();
        return r;
      }
    }
    ++skipped_;
    if (on_skip) on_skip(line->number, why_);
  }
  return std::nullopt;
}

}  // namespace infermem::trace
