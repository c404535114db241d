#pragma once
// Growth attributed to call sites: what `heaptrack_print` (KDE's heaptrack, run by soak
// --attribute over the worst arm) says of a recording, as figures. infermem drives heaptrack and
// reads its printed report; it does not re-implement it.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "infermem/series.h"

namespace infermem {

// One call stack that allocated: what it held at the heap's peak and what it never freed.
struct AllocationSite {
  double peak_bytes = kAbsent;    // at the peak of heap consumption
  double leaked_bytes = kAbsent;  // not freed when the process ended
  std::uint64_t calls = 0;        // allocation calls (from the leak report, else the peak one)
  // Innermost first: "function (file:line, library)" as heaptrack resolved them.
  std::vector<std::string> frames;
};

struct Attribution {
  std::string arm;                    // the arm re-run under heaptrack
  std::string outcome;                // "done", "unavailable" (no heaptrack) or "failed"
  std::string message;                // how it ran, or why it did not
  std::string command;                // the heaptrack command line that ran
  std::string data_file;              // heaptrack's recording, relative to the run directory
  std::vector<AllocationSite> sites;  // most leaked bytes first, then most peak bytes

  nlohmann::json to_json() const;
  static Attribution from_json(const nlohmann::json& j);
};

// Reads heaptrack_print's text (its PEAK MEMORY CONSUMERS and MEMORY LEAKS sections, printed
// with --merge-backtraces 0) into sites, one per distinct call stack, most leaked bytes first,
// at most `limit`. Sizes are heaptrack's decimal units (1K = 1000 B). Text that is not such a
// report gives no sites.
std::vector<AllocationSite> parse_heaptrack_print(std::string_view text, std::size_t limit = 10);

}  // namespace infermem
