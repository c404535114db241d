#pragma once
// infermem replay's input: a log of the requests a service received (which model, when, and
// optionally the input's shape or a tensor file), read from CSV, JSON Lines or a CloudWatch Logs
// Insights CSV export (docs/replay.md), and the loop that serves them again in the log's order at
// its own pace scaled by --speed. A malformed line is skipped and counted, never fatal; a log
// with no usable line, or without the columns it needs, is an InputError naming the log.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace infermem {

struct ReplayEvent {
  double t_ms = 0;                  // milliseconds since the Unix epoch, as the log says
  std::string model;                // the model id: DIR/<model>.onnx
  std::vector<std::int64_t> shape;  // "1x3x224x224" (empty: none given)
  std::string input;                // a tensor file (.pb, .npy, .npz) as given ("" = none)
  std::uint64_t line = 0;           // 1-based line of the log it came from
};

struct ReplayLog {
  std::string format;                      // "csv", "jsonl" or "cloudwatch"
  std::vector<ReplayEvent> events;         // in the log's order
  std::uint64_t lines = 0;                 // lines read, header included
  std::uint64_t skipped = 0;               // malformed lines, skipped
  std::vector<std::string> skip_examples;  // "line 7: <reason>" for the first few
};

struct ReplayLogOptions {
  std::string model_field = "model";  // --model-field: the column or JSON field of the model id
  std::string source_name = "log";    // how messages name the log
};

// The log's text: a header row first for CSV (`timestamp`, the model field, optional `shape`,
// `input`; a CloudWatch export has `@timestamp` and `@message`, a JSON object holding the model
// field), or one JSON object a line. Timestamps: ISO-8601 or epoch seconds or milliseconds.
ReplayLog parse_replay_log(std::string_view text, const ReplayLogOptions& options = {});
// Reads a regular file (InputError naming it when it is not one or cannot be read).
ReplayLog read_replay_log(const std::string& path, const ReplayLogOptions& options = {});

// "1x3x224x224" as dimensions from 1 to 10^9; empty when the text is not that.
std::vector<std::int64_t> parse_shape_text(std::string_view text);

// --speed: "10x" (ten times faster than the log; any factor above 0 up to 10^6x) or "max" (as
// fast as the requests can be served). InputError naming `flag` and the value otherwise.
struct ReplaySpeed {
  double factor = 1;
  bool max = false;
  std::string text() const;  // "10x", "max"
};
ReplaySpeed parse_replay_speed(std::string_view text, std::string_view flag = "--speed");

// When events[i] is due, in milliseconds after the replay of events[from...] began: its time
// after events[from]'s divided by the factor; never before the previous event's (a log whose
// clock steps back keeps its order); 0 at --speed max.
double replay_due_ms(const std::vector<ReplayEvent>& events, std::size_t from, std::size_t i,
                     const ReplaySpeed& speed);

// Serves events[from...] in order: waits for each one's due time (replay_due_ms, on the steady
// clock from this call) and calls serve(i, due), with `due` the time it was due (at --speed max,
// the moment the loop reached it), so the caller can say how long the request waited. Stops when
// serve returns false. Returns how many events were served.
using ReplayServe =
    std::function<bool(std::size_t index, std::chrono::steady_clock::time_point due)>;
std::size_t replay_events(const std::vector<ReplayEvent>& events, std::size_t from,
                          const ReplaySpeed& speed, const ReplayServe& serve);

}  // namespace infermem
