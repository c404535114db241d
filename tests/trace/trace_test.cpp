#include "infermem/trace.h"

#include "infermem/probe.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <cstdio>
#include <fstream>

#include "infermem/error.h"
#include "support/files.h"

using namespace infermem::trace;

TEST(Trace, RoundTripsASample) {
  Record r;
  r.type = std::string(kSample);
  r.t_ms = 12.5;
  r.arm = "ort-default";
  r.pid = 4242;
  r.phase = "infer";
  r.req = 17;
  r.src = "parent";
  r.values["rss_bytes"] = 83886080;
  r.values["hwm_bytes"] = 90000000;
  r.extra["method"] = "VmRSS";
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "sample");
  EXPECT_DOUBLE_EQ(back->t_ms, 12.5);
  EXPECT_EQ(back->arm, "ort-default");
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->phase, "infer");
  EXPECT_EQ(back->req, 17);
  EXPECT_EQ(back->src, "parent");
  EXPECT_EQ(back->value("rss_bytes"), 83886080.0);
  EXPECT_FALSE(back->value("swap_bytes").has_value()) << "absent stays absent";
  EXPECT_EQ(back->extra["method"], "VmRSS");
}

TEST(Trace, UnreadableValuesAreAbsentNotZero) {
  Record r;
  r.type = std::string(kSample);
  r.values["pss_bytes"] = std::numeric_limits<double>::quiet_NaN();
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->value("pss_bytes"));
}

TEST(Trace, RejectsMalformedLinesWithAReason) {
  std::string why;
  EXPECT_FALSE(parse_line("", &why));
  EXPECT_FALSE(parse_line("not json", &why));
  EXPECT_EQ(why, "not a JSON object");
  EXPECT_FALSE(parse_line("[1,2]", &why));
  EXPECT_FALSE(parse_line(R"({"type":"sample"})", &why));
  EXPECT_EQ(why, "no format version \"v\"");
  EXPECT_FALSE(parse_line(R"({"v":2,"type":"sample"})", &why));
  EXPECT_EQ(why, "unsupported format version");
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sample","t_ms":"soon"})", &why));
}

// Found by the fuzzer: a float "pid" used to land among the values, and the writer then emitted it
// as an integer "pid" that the parser refused, so a line read back did not read again.
TEST(Trace, AMistypedEnvelopeKeyMakesTheLineMalformed) {
  std::string why;
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sample","pid":429000e010})", &why));
  EXPECT_EQ(why, "\"pid\" is not an integer");
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sample","req":1.5})", &why));
  EXPECT_EQ(why, "\"req\" is not an integer");
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sample","arm":7})", &why));
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sample","phase":null})", &why));
}

TEST(Trace, ValuesNeverShadowTheEnvelope) {
  Record r;
  r.type = std::string(kSample);
  r.pid = 12;
  r.values["pid"] = 4.29e15;  // only a caller can put these here; the writer ignores them
  r.values["v"] = 9;
  r.extra["type"] = "other";
  r.t_ms = 1e306;  // scaling to microseconds would overflow
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, "sample");
  EXPECT_EQ(back->pid, 12);
  EXPECT_DOUBLE_EQ(back->t_ms, 1e306);
  EXPECT_FALSE(back->value("pid"));
  EXPECT_EQ(to_line(*back), to_line(r));
}

TEST(Trace, ReaderSkipsAndCountsBadLines) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    Writer w(fds[1]);
    Record r;
    r.type = std::string(kRequest);
    r.values["latency_ms"] = 3.25;
    ASSERT_TRUE(w.write(r));
    ASSERT_TRUE(w.write_raw_line("garbage {"));
    r.req = 2;
    ASSERT_TRUE(w.write(r));
    ASSERT_TRUE(w.write_raw_line(R"({"v":1,"type":"note","text":"partial)"));  // cut short
  }
  close(fds[1]);
  std::FILE* in = fdopen(fds[0], "r");
  Reader reader(in);
  auto a = reader.next();
  auto b = reader.next();
  auto c = reader.next();
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(c);
  EXPECT_EQ(b->req, 2);
  EXPECT_EQ(a->value("latency_ms"), 3.25);
  EXPECT_EQ(reader.skipped(), 2u);
  EXPECT_EQ(reader.lines(), 4u);
  std::fclose(in);
}

TEST(Trace, EveryFigureTheProbeWritesIsANamedKey) {
  // The names are defined once, in trace.h: a figure the probe starts writing under a new name
  // must be added there (and to docs/trace-format.md) or this fails.
  const auto reading = infermem::probe::read_self(infermem::probe::kAll);
  ASSERT_FALSE(reading.values.empty());
  for (const auto& [name, value] : reading.values) {
    bool known = false;
    for (auto k : key::kReadingKeys) known = known || k == name;
    EXPECT_TRUE(known) << name << " is not in trace::key::kReadingKeys";
  }
}

// --force reuses a run directory: its trace.jsonl is replaced; anything but a regular file at the
// path is refused by name, never followed or truncated.
TEST(TraceFileWriter, ReplacesAnEarlierTraceButNeverALinkOrADevice) {
  std::string dir = infermem::test::make_temp_dir("trace-file-writer");
  std::string path = dir + "/trace.jsonl";
  { std::ofstream(path) << "an earlier run's line\n"; }
  {
    FileWriter w(path);
    Record r;
    r.type = std::string(kNote);
    w.write(r);
    w.check(/*sync=*/true);
  }
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  ASSERT_TRUE(parse_line(first)) << first;
  EXPECT_EQ(parse_line(first)->type, "note");

  std::string link = dir + "/link.jsonl";
  ASSERT_EQ(::symlink("/dev/null", link.c_str()), 0);
  try {
    FileWriter w(link);
    FAIL() << "a symlink was opened";
  } catch (const infermem::WriteError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(link));
  }
}

// A cycle is a whole number soak could have written; anything else is no cycle at all (a 1e300
// cast to int was undefined behaviour in the accumulator, found by import_trace_fuzz).
TEST(Trace, ACycleIsAWholeNumberInRangeOrNone) {
  Record r;
  EXPECT_EQ(r.cycle(), std::nullopt);
  for (double ok : {0.0, 3.0, 999999999.0}) {
    r.values[key::kCycle] = ok;
    EXPECT_EQ(r.cycle(), static_cast<int>(ok)) << ok;
  }
  for (double bad : {-1.0, 1.5, 1e9, 1e300}) {
    r.values[key::kCycle] = bad;
    EXPECT_EQ(r.cycle(), std::nullopt) << bad;
  }
}
