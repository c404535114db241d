#pragma once
// Facts about the machine and the moment that run records carry (soak's and watch's summaries),
// and where its tools are.
#include <string>

namespace infermem {

// This host's name (uname's nodename); "unknown" when it cannot be read.
std::string host_name();
// Now in UTC, ISO 8601 to the second: "2026-11-27T14:56:21Z".
std::string utc_now();
// The path of an executable `program` found on PATH ("/usr/bin:/bin" when PATH is unset); "" when
// there is none.
std::string find_on_path(const std::string& program);

}  // namespace infermem
