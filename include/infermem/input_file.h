#pragma once
// Opening a file a user named as input (a recorded trace, a model, a config) so that a wrong kind
// of file is an InputError at once, never a hang or an endless read: only a regular file (or "-"
// for standard input, where the caller allows it) is accepted. The path is checked with stat(2)
// before it is opened, then opened with O_NONBLOCK | O_CLOEXEC and checked again with fstat(2),
// so a FIFO with no writer never blocks the open and a file swapped in between is still caught.
#include <cstdint>
#include <string>
#include <string_view>

namespace infermem {

// An open input: owns its descriptor (standard input is borrowed, never closed).
class InputFile {
 public:
  InputFile() = default;
  InputFile(int fd, std::string path, std::uint64_t size, bool owned)
      : fd_(fd), path_(std::move(path)), size_(size), owned_(owned) {}
  InputFile(InputFile&& other) noexcept { *this = std::move(other); }
  InputFile& operator=(InputFile&& other) noexcept;
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;
  ~InputFile() { close(); }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }  // as the user wrote it; "-" for stdin
  bool is_stdin() const { return !owned_ && fd_ == 0; }
  // The size fstat(2) reported at open; 0 for standard input (unknown).
  std::uint64_t size() const { return size_; }
  // Gives up ownership: the caller closes the returned descriptor.
  int release();
  void close();

 private:
  int fd_ = -1;
  std::string path_;
  std::uint64_t size_ = 0;
  bool owned_ = false;
};

// Opens `path` for reading when it is a regular file. Otherwise throws InputError naming `what`
// (e.g. "input", "--config") and the path and saying what is wrong: "does not exist", "is a
// directory, not a regular file", "is a FIFO, not a regular file", "is a character device, not a
// regular file", "permission denied", ... With allow_stdin, "-" is standard input, whatever it
// is (the user redirected it on purpose).
InputFile open_regular_input(const std::string& path, std::string_view what,
                             bool allow_stdin = false);

// The whole content of the regular file at `path`, for small inputs (configs, models). Throws
// InputError naming `what` and the path when it is not a regular file, cannot be read, or holds
// more than max_bytes (also when it grows past that while being read).
std::string read_regular_file(const std::string& path, std::string_view what,
                              std::uint64_t max_bytes);

}  // namespace infermem
