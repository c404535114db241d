// infermem replay's request log: the three formats, timestamps in each form, malformed lines
// skipped and counted, bad logs refused, --speed parsing and scaling.
#include "infermem/replay_log.h"

#include <gtest/gtest.h>

#include <chrono>

#include "infermem/error.h"

namespace infermem {
namespace {

// 2024-05-01T12:00:00Z in epoch milliseconds.
constexpr double kNoonMs = 1714564800000.0;

TEST(ReplayLog, CsvWithShapeAndInputColumns) {
  const ReplayLog log = parse_replay_log(
      "timestamp,model,shape,input\n"
      "2024-05-01T12:00:00Z,det,1x3x224x224,\n"
      "2024-05-01T12:00:00.250Z,rec,,req1.npy\n"
      "\n"
      "2024-05-01T12:00:01Z,det,1x3x32x32,\n");
  EXPECT_EQ(log.format, "csv");
  ASSERT_EQ(log.events.size(), 3u);
  EXPECT_EQ(log.skipped, 0u);
  EXPECT_DOUBLE_EQ(log.events[0].t_ms, kNoonMs);
  EXPECT_EQ(log.events[0].model, "det");
  EXPECT_EQ(log.events[0].shape, (std::vector<std::int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(log.events[0].line, 2u);
  EXPECT_DOUBLE_EQ(log.events[1].t_ms, kNoonMs + 250);
  EXPECT_TRUE(log.events[1].shape.empty());
  EXPECT_EQ(log.events[1].input, "req1.npy");
  EXPECT_EQ(log.events[2].line, 5u);  // the blank line is neither an event nor malformed
}

TEST(ReplayLog, TimestampsInEveryForm) {
  const ReplayLog log = parse_replay_log(
      "timestamp,model\n"
      "1714564800,a\n"                   // epoch seconds
      "1714564800.5,a\n"                 // epoch seconds with a fraction
      "1714564801000,a\n"                // epoch milliseconds
      "2024-05-01 12:00:02,a\n"          // ISO-8601 with a space, no zone: UTC
      "2024-05-01T14:00:03+02:00,a\n");  // an offset
  ASSERT_EQ(log.events.size(), 5u);
  EXPECT_DOUBLE_EQ(log.events[0].t_ms, kNoonMs);
  EXPECT_DOUBLE_EQ(log.events[1].t_ms, kNoonMs + 500);
  EXPECT_DOUBLE_EQ(log.events[2].t_ms, kNoonMs + 1000);
  EXPECT_DOUBLE_EQ(log.events[3].t_ms, kNoonMs + 2000);
  EXPECT_DOUBLE_EQ(log.events[4].t_ms, kNoonMs + 3000);
}

TEST(ReplayLog, JsonLinesWithStringAndArrayShapes) {
  const ReplayLog log = parse_replay_log(
      R"({"timestamp": "2024-05-01T12:00:00Z", "model": "det", "shape": "1x3x64x64"})"
      "\n"
      R"({"timestamp": 1714564800250, "model": "rec", "shape": [1, 16], "input": "x.pb"})"
      "\n"
      R"({"timestamp": 1714564801, "model": "det", "extra": {"ignored": true}})"
      "\n");
  EXPECT_EQ(log.format, "jsonl");
  ASSERT_EQ(log.events.size(), 3u);
  EXPECT_EQ(log.events[0].shape, (std::vector<std::int64_t>{1, 3, 64, 64}));
  EXPECT_DOUBLE_EQ(log.events[1].t_ms, kNoonMs + 250);
  EXPECT_EQ(log.events[1].shape, (std::vector<std::int64_t>{1, 16}));
  EXPECT_EQ(log.events[1].input, "x.pb");
  EXPECT_DOUBLE_EQ(log.events[2].t_ms, kNoonMs + 1000);
  EXPECT_EQ(log.events[2].line, 3u);
}

TEST(ReplayLog, CloudWatchInsightsExportWithAModelField) {
  // As the console exports it: quoted messages with doubled quotes inside.
  const std::string text =
      "@timestamp,@message\n"
      "2024-05-01 12:00:00.000,\"{\"\"model_id\"\":\"\"det\"\",\"\"ms\"\":12}\"\n"
      "2024-05-01 12:00:00.100,\"{\"\"model_id\"\":\"\"rec\"\",\"\"shape\"\":\"\"1x8\"\"}\"\n"
      "2024-05-01 12:00:00.200,\"START RequestId: 42\"\n"           // not JSON: malformed
      "2024-05-01 12:00:00.300,\"{\"\"model\"\":\"\"det\"\"}\"\n";  // no model_id: malformed
  ReplayLogOptions o;
  o.model_field = "model_id";
  const ReplayLog log = parse_replay_log(text, o);
  EXPECT_EQ(log.format, "cloudwatch");
  ASSERT_EQ(log.events.size(), 2u);
  EXPECT_EQ(log.events[0].model, "det");
  EXPECT_DOUBLE_EQ(log.events[1].t_ms, kNoonMs + 100);
  EXPECT_EQ(log.events[1].shape, (std::vector<std::int64_t>{1, 8}));
  EXPECT_EQ(log.skipped, 2u);
  ASSERT_EQ(log.skip_examples.size(), 2u);
  EXPECT_NE(log.skip_examples[0].find("line 4: not valid JSON"), std::string::npos);
  EXPECT_NE(log.skip_examples[1].find("model_id"), std::string::npos);
}

TEST(ReplayLog, MalformedLinesAreSkippedAndCountedWithTheirReasons) {
  const ReplayLog log = parse_replay_log(
      "timestamp,model,shape\n"
      "2024-05-01T12:00:00Z,a,1x4\n"
      "yesterday,a,1x4\n"                      // bad timestamp
      "2024-05-01T12:00:01Z,,1x4\n"            // no model
      "2024-05-01T12:00:02Z,a,1x-4\n"          // bad shape
      "2024-05-01T12:00:03Z,a\n"               // a field short
      "2024-05-01T12:00:04Z,../etc/passwd,\n"  // not a file name
      "2024-05-01T12:00:05Z,b,2x4\n");
  ASSERT_EQ(log.events.size(), 2u);
  EXPECT_EQ(log.events[1].model, "b");
  EXPECT_EQ(log.skipped, 5u);
  EXPECT_EQ(log.lines, 8u);
  ASSERT_EQ(log.skip_examples.size(), 3u);  // the first few, with their lines
  EXPECT_NE(log.skip_examples[0].find("line 3: timestamp 'yesterday'"), std::string::npos);
  EXPECT_NE(log.skip_examples[1].find("line 4: no model id"), std::string::npos);
  EXPECT_NE(log.skip_examples[2].find("line 5: shape '1x-4'"), std::string::npos);

  const ReplayLog jsonl = parse_replay_log(
      "{\"timestamp\": 1714564800, \"model\": \"a\"}\n"
      "{\"timestamp\": 1714564800, \"model\": 7}\n"
      "{\"model\": \"a\"}\n"
      "{not json\n"
      "[1, 2]\n");
  EXPECT_EQ(jsonl.events.size(), 1u);
  EXPECT_EQ(jsonl.skipped, 4u);
}

TEST(ReplayLog, ALogWithNothingUsableOrWithoutItsColumnsIsAnInputError) {
  EXPECT_THROW(parse_replay_log(""), InputError);
  EXPECT_THROW(parse_replay_log("timestamp,model\n"), InputError);
  EXPECT_THROW(parse_replay_log("timestamp,model\nnever,a\n"), InputError);
  try {
    parse_replay_log("time,model_name\n1,a\n");
    FAIL() << "no timestamp column accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("timestamp"), std::string::npos) << e.what();
  }
  try {
    ReplayLogOptions o;
    o.model_field = "model_id";
    parse_replay_log("timestamp,model\n1,a\n", o);
    FAIL() << "a missing --model-field column accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("model_id"), std::string::npos) << e.what();
  }
}

TEST(ReplayLog, ShapeText) {
  EXPECT_EQ(parse_shape_text("1x3x224x224"), (std::vector<std::int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(parse_shape_text("7"), (std::vector<std::int64_t>{7}));
  for (const char* bad : {"", "x", "1x", "1xx2", "0x3", "1x3.5", "a", "1x2000000000"})
    EXPECT_TRUE(parse_shape_text(bad).empty()) << bad;
}

TEST(ReplaySpeed, ParsesFactorsAndMaxAndRefusesTheRest) {
  EXPECT_DOUBLE_EQ(parse_replay_speed("10x").factor, 10);
  EXPECT_FALSE(parse_replay_speed("10x").max);
  EXPECT_DOUBLE_EQ(parse_replay_speed("0.5x").factor, 0.5);
  EXPECT_TRUE(parse_replay_speed("max").max);
  EXPECT_EQ(parse_replay_speed("10x").text(), "10x");
  EXPECT_EQ(parse_replay_speed("max").text(), "max");
  for (const char* bad : {"", "10", "x", "0x", "-2x", "fastx", "2000000x", "nanx", "infx"}) {
    try {
      parse_replay_speed(bad);
      FAIL() << "accepted --speed " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--speed"), std::string::npos) << e.what();
    }
  }
}

std::vector<ReplayEvent> events_at(std::initializer_list<double> times_ms) {
  std::vector<ReplayEvent> out;
  for (double t : times_ms) out.push_back({t, "m", {}, "", out.size() + 2});
  return out;
}

TEST(ReplaySpeed, DueTimesAreTheLogsGapsDividedByTheFactor) {
  const auto ev = events_at({1000, 1500, 3000, 2000, 4000});  // a clock that steps back once
  const ReplaySpeed real = parse_replay_speed("1x"), ten = parse_replay_speed("10x");
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, 0, real), 0);
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, 1, real), 500);
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, 2, ten), 200);
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, 3, ten), 200);  // never before the one before it
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, 4, ten), 300);
  // A fresh child after an OOM kill starts its clock at its first event.
  EXPECT_DOUBLE_EQ(replay_due_ms(ev, 2, 4, real), 1000);
  for (std::size_t i = 0; i < ev.size(); ++i)
    EXPECT_DOUBLE_EQ(replay_due_ms(ev, 0, i, parse_replay_speed("max")), 0);
}

TEST(ReplaySpeed, TheLoopServesInOrderAtTheScaledDueTimes) {
  // Due times are checked as the loop computes them (due - start), not by how long sleeps took:
  // a loaded machine may wake late, never early, and the order is the log's.
  const auto ev = events_at({0, 400, 200, 1000});
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::size_t> order;
  std::vector<double> due_ms;
  const std::size_t served = replay_events(
      ev, 0, parse_replay_speed("100x"),
      [&](std::size_t i, std::chrono::steady_clock::time_point due) {
        order.push_back(i);
        due_ms.push_back(std::chrono::duration<double, std::milli>(due - start).count());
        EXPECT_GE(std::chrono::steady_clock::now(), due);  // never served before it is due
        return true;
      });
  EXPECT_EQ(served, 4u);
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3}));
  ASSERT_EQ(due_ms.size(), 4u);
  // Scaled gaps: 4 ms, then 0 (the step back), then 6 ms; the start is a few µs before the loop's.
  EXPECT_NEAR(due_ms[1] - due_ms[0], 4.0, 0.01);
  EXPECT_NEAR(due_ms[2] - due_ms[1], 0.0, 0.01);
  EXPECT_NEAR(due_ms[3] - due_ms[2], 6.0, 0.01);

  std::size_t calls = 0;
  EXPECT_EQ(replay_events(ev, 1, parse_replay_speed("max"),
                          [&](std::size_t i, std::chrono::steady_clock::time_point) {
                            ++calls;
                            return i < 2;  // index 1 is served, index 2 stops the loop
                          }),
            1u);
  EXPECT_EQ(calls, 2u);
}

}  // namespace
}  // namespace infermem
