#include "infermem/input_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "infermem/error.h"
#include "infermem/units.h"

namespace infermem {
namespace {

// "is a FIFO, not a regular file"; "" for a regular file.
std::string kind_problem(mode_t mode) {
  if (S_ISREG(mode)) return "";
  const char* kind = S_ISDIR(mode)    ? "a directory"
                     : S_ISFIFO(mode) ? "a FIFO"
                     : S_ISCHR(mode)  ? "a character device"
                     : S_ISBLK(mode)  ? "a block device"
                     : S_ISSOCK(mode) ? "a socket"
                                      : "not a file";
  return fmt::format("is {}, not a regular file", kind);
}

std::string errno_problem(int err) {
  switch (err) {
    case ENOENT:
      return "does not exist";
    case EACCES:
      return "permission denied";
    case ENOTDIR:
      return "a part of the path is not a directory";
    default:
      return fmt::format("cannot open: {}", std::strerror(err));
  }
}

[[noreturn]] void fail(std::string_view what, const std::string& path, const std::string& why) {
  if (what.empty()) throw InputError(fmt::format("{}: {}", path, why));
  throw InputError(fmt::format("{} {}: {}", what, path, why));
}

}  // namespace

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    size_ = other.size_;
    owned_ = other.owned_;
    other.fd_ = -1;
    other.owned_ = false;
  }
  return *this;
}

int InputFile::release() {
  int fd = fd_;
  fd_ = -1;
  owned_ = false;
  return fd;
}

void InputFile::close() {
  if (owned_ && fd_ >= 0) ::close(fd_);
  fd_ = -1;
  owned_ = false;
}

InputFile open_regular_input(const std::string& path, std::string_view what, bool allow_stdin) {
  if (allow_stdin && path == "-") return InputFile(STDIN_FILENO, path, 0, /*owned=*/false);
  if (path.empty()) fail(what, "''", "an empty path");
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(what, path, errno_problem(errno));
  if (auto why = kind_problem(st.st_mode); !why.empty()) fail(what, path, why);
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) fail(what, path, errno_problem(errno));
  InputFile file(fd, path, 0, /*owned=*/true);
  if (::fstat(fd, &st) != 0) fail(what, path, errno_problem(errno));
  if (auto why = kind_problem(st.st_mode); !why.empty()) fail(what, path, why);
  // A regular file ignores O_NONBLOCK; clear it anyway so the descriptor reads as a user expects.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return InputFile(file.release(), path, static_cast<std::uint64_t>(st.st_size), true);
}

std::string read_regular_file(const std::string& path, std::string_view what,
                              std::uint64_t max_bytes) {
  InputFile file = open_regular_input(path, what);
  auto too_large = [&] {
    fail(what, path,
         fmt::format("is larger than {}, the most it may hold",
                     format_bytes(static_cast<double>(max_bytes))));
  };
  if (file.size() > max_bytes) too_large();
  // One byte past the limit tells a file that grew while being read from one that fits exactly.
  const std::uint64_t cap = max_bytes < UINT64_MAX ? max_bytes + 1 : max_bytes;
  std::string content;
  content.resize(static_cast<std::size_t>(file.size()));
  std::size_t used = 0;
  for (;;) {
    if (used == content.size()) {
      if (used >= cap) too_large();
      content.resize(static_cast<std::size_t>(
          std::min<std::uint64_t>(cap, std::max<std::uint64_t>(used * 2, 4096))));
    }
    ssize_t n = ::read(file.fd(), content.data() + used, content.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(what, path, fmt::format("read error: {}", std::strerror(errno)));
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
    if (used > max_bytes) too_large();
  }
  content.resize(used);
  return content;
}

}  // namespace infermem
