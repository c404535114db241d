#include "infermem/atomic_file.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "infermem/error.h"

namespace infermem {
namespace {

[[noreturn]] void cannot_write(const std::string& path, int err) {
  throw InputError(fmt::format("cannot write {}: {}", path, std::strerror(err)));
}

}  // namespace

void write_file_atomic(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) cannot_write(path, errno);
  ::fchmod(fd, 0644);
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      cannot_write(path, err);
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    cannot_write(path, err);
  }
}

}  // namespace infermem
