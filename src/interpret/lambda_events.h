#pragma once
// AWS Lambda REPORT lines and the CloudWatch events around them, parsed into invocations
// (src/interpret/import_lambda.cpp groups them into one series per execution environment). Private
// to src/interpret.
#include <cstdint>
#include <istream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "infermem/series.h"
#include "interpret/import_util.h"

namespace infermem::import_detail::lambda {

inline constexpr double kLambdaMB = 1024.0 * 1024.0;
inline constexpr std::string_view kReportMarker = "REPORT RequestId";

struct Invocation {
  std::string stream;
  double timestamp_ms = kAbsent;
  double duration_ms = kAbsent;
  double max_used_bytes = kAbsent;
  double memory_size_bytes = kAbsent;
  double init_ms = kAbsent;  // Init Duration or Restore Duration: a new environment
  std::string status;        // "" or "success" when it went well
};

// An invocation as kept until the end (grouping and ordering need them all): 48 bytes, its
// stream and status as indexes into tables of the distinct ones.
struct Kept {
  double timestamp_ms, duration_ms, max_used_bytes, memory_size_bytes, init_ms;
  std::uint32_t stream, status;
};

struct Collector {
  std::vector<Kept> invocations;
  std::vector<std::string> streams, statuses;  // distinct values; statuses[0] = ""
  std::unordered_map<std::string, std::uint32_t> stream_index, status_index;
  SkipTally skips;
  std::uint64_t ignored = 0;  // START, END, application logs
  bool any_stream = false;

  std::uint32_t intern(std::vector<std::string>& table,
                       std::unordered_map<std::string, std::uint32_t>& index, std::string& value) {
    auto [it, inserted] = index.try_emplace(value, static_cast<std::uint32_t>(table.size()));
    if (inserted) table.push_back(std::move(value));
    return it->second;
  }
  void add(Invocation& inv) {
    if (statuses.empty()) {
      std::string none;
      intern(statuses, status_index, none);
    }
    invocations.push_back(Kept{
        inv.timestamp_ms, inv.duration_ms, inv.max_used_bytes, inv.memory_size_bytes, inv.init_ms,
        intern(streams, stream_index, inv.stream), intern(statuses, status_index, inv.status)});
  }
};

// One log message (text or Lambda JSON log) with what the event around it said.
void take_message(Collector& c, std::string_view message, const std::string& stream,
                  double timestamp_ms, std::string_view where);
// A CloudWatch event: {"logStreamName", "timestamp", "message"} (or Insights' @-names).
void take_event(Collector& c, const nlohmann::json& event, const std::string& stream_default,
                std::string_view where);
// The whole input as one JSON document of log events. Returns the number of events; nullopt
// with the parser's message in *error when it is not valid JSON.
std::optional<std::size_t> take_json_document(Collector& c, std::istream& in, std::string* error);
// `text` as JSON (discarded when it is not); *duplicate names a key that one of its objects has
// twice, "" when none: the parser keeps the last, so the figure under it cannot be trusted.
nlohmann::json parse_json(std::string_view text, std::string* duplicate);

}  // namespace infermem::import_detail::lambda
