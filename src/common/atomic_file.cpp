#include "infermem/atomic_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "infermem/error.h"

namespace infermem {
namespace {

// A full disk or a failing device is the machine's trouble (WriteError, exit 5); a path that
// cannot be written for any other reason (missing folder, no permission) is the input's (exit 2).
[[noreturn]] void cannot_write(const std::string& path, int err) {
  std::string message = fmt::format("cannot write {}: {}", path, std::strerror(err));
  if (err == ENOSPC || err == EIO || err == EDQUOT || err == EFBIG || err == EROFS)
    throw WriteError(message);
  throw InputError(message);
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

[[noreturn]] void not_regular(const std::string& path, const std::string& via, mode_t mode) {
  throw InputError(
      fmt::format("will not write {}: {}{} is {}, not a regular file; nothing "
                  "was written",
                  path, via.empty() ? "it" : "the link's target ", via, kind_of(mode)));
}

struct Target {
  std::string path;     // where the temp file goes and what is renamed over
  bool exists = false;  // a regular file is there now
  mode_t mode = 0644;   // its permissions, kept
};

// Where a write to `path` really lands: the path itself, or the regular file a symlink names (the
// link is kept). InputError when that is anything but a new path or a regular file.
Target resolve_target(const std::string& path) {
  Target t;
  t.path = path;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return t;  // a new file; a missing directory shows up at mkstemp
    cannot_write(path, errno);
  }
  if (S_ISLNK(st.st_mode)) {
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(path.c_str(), nullptr), &std::free);
    if (!real)
      throw InputError(fmt::format(
          "will not write {}: it is a symbolic link whose target cannot be resolved ({}); "
          "nothing was written",
          path, std::strerror(errno)));
    t.path = real.get();
    if (::stat(t.path.c_str(), &st) != 0) cannot_write(path, errno);
    if (!S_ISREG(st.st_mode)) not_regular(path, t.path, st.st_mode);
  } else if (!S_ISREG(st.st_mode)) {
    not_regular(path, "", st.st_mode);
  }
  t.exists = true;
  t.mode = st.st_mode & 07777;
  return t;
}

}  // namespace

void check_writable_target(const std::string& path) {
  resolve_target(path);
}

void write_file_atomic(const std::string& path, std::string_view content) {
  const Target target = resolve_target(path);
  // The temp file is hidden beside the target, its name short enough for any target name.
  auto slash = target.path.rfind('/');
  std::string dir = slash == std::string::npos ? "" : target.path.substr(0, slash + 1);
  std::string base = slash == std::string::npos ? target.path : target.path.substr(slash + 1);
  std::string tmp = dir + "." + base.substr(0, 200) + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) cannot_write(path, errno);
  auto fail = [&](int err) {
    ::close(fd);
    ::unlink(tmp.c_str());
    cannot_write(path, err);
  };
  if (::fchmod(fd, target.exists ? target.mode : 0644) != 0) fail(errno);
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : ENOSPC);
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  // Delayed allocation reports a full disk or an I/O error only here, not at write().
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS) fail(errno);
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    cannot_write(path, err);
  }
  if (std::rename(tmp.c_str(), target.path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    cannot_write(path, err);
  }
}

}  // namespace infermem
