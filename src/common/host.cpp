#include "infermem/host.h"

#include <sys/utsname.h>
#include <ctime>

namespace infermem {

std::string host_name() {
  utsname u{};
  return uname(&u) == 0 ? std::string(u.nodename) : std::string("unknown");
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace infermem
