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
using infermem::Figure;

TEST(Trace, RoundTripsASample) {
  Record r;
  r.type = RecordType::sample;
  r.t_ms = 12.5;
  r.arm = "ort-default";
  r.pid = 4242;
  r.phase = Phase::infer;
  r.req = 17;
  r.src = Src::parent;
  r.values.set(Figure::rss_bytes, 83886080);
  r.values.set(Figure::hwm_bytes, 90000000);
  r.extra["method"] = "VmRSS";
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, RecordType::sample);
  EXPECT_DOUBLE_EQ(back->t_ms, 12.5);
  EXPECT_EQ(back->arm, "ort-default");
  EXPECT_EQ(back->pid, 4242);
  EXPECT_EQ(back->phase.text(), "infer");
  EXPECT_EQ(back->req, 17);
  EXPECT_EQ(back->src.text(), "parent");
  EXPECT_EQ(back->value(Figure::rss_bytes), 83886080.0);
  EXPECT_FALSE(back->value(Figure::swap_bytes).has_value()) << "absent stays absent";
  EXPECT_EQ(back->extra["method"], "VmRSS");
}

TEST(Trace, UnreadableValuesAreAbsentNotZero) {
  Record r;
  r.type = RecordType::sample;
  r.values.set(Figure::pss_bytes, std::numeric_limits<double>::quiet_NaN());
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->value(Figure::pss_bytes));
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
  r.type = RecordType::sample;
  r.pid = 12;
  r.other_values["pid"] = 4.29e15;  // only a caller can put these here; the writer ignores them
  r.other_values["v"] = 9;
  r.extra["type"] = "other";
  r.t_ms = 1e306;  // scaling to microseconds would overflow
  auto back = parse_line(to_line(r));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->type, RecordType::sample);
  EXPECT_EQ(back->pid, 12);
  EXPECT_DOUBLE_EQ(back->t_ms, 1e306);
  EXPECT_FALSE(back->other_value("pid"));
  EXPECT_EQ(to_line(*back), to_line(r));
}

TEST(Trace, ReaderSkipsAndCountsBadLines) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  {
    Writer w(fds[1]);
    Record r;
    r.type = RecordType::request;
    r.values.set(Figure::latency_ms, 3.25);
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
  EXPECT_EQ(a->value(Figure::latency_ms), 3.25);
  EXPECT_EQ(reader.skipped(), 2u);
  EXPECT_EQ(reader.lines(), 4u);
  std::fclose(in);
}

TEST(Trace, EveryFigureTheProbeWritesIsANamedKey) {
  // The names are defined once, in trace.h: a figure the probe starts writing under a new name
  // must be added there (and to docs/trace-format.md) or this fails.
  const auto reading = infermem::probe::read_self(infermem::probe::kAll);
  ASSERT_FALSE(reading.values.empty());
  for (auto [figure, value] : reading.values) {
    bool known = false;
    for (auto k : kReadingFigures) known = known || k == figure;
    EXPECT_TRUE(known) << name(figure) << " is not in trace::kReadingFigures";
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
    r.type = RecordType::note;
    w.write(r);
    w.check(/*sync=*/true);
  }
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  ASSERT_TRUE(parse_line(first)) << first;
  EXPECT_EQ(parse_line(first)->type, RecordType::note);

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
    r.values.set(Figure::cycle, ok);
    EXPECT_EQ(r.cycle(), static_cast<int>(ok)) << ok;
  }
  for (double bad : {-1.0, 1.5, 1e9, 1e300}) {
    r.values.set(Figure::cycle, bad);
    EXPECT_EQ(r.cycle(), std::nullopt) << bad;
  }
}

// Every Figure, and numbers under names that are no Figure, read back and print as they were.
TEST(Trace, EveryFigureAndAnUnknownNumberRoundTripByteIdentical) {
  nlohmann::json all = {{"v", 1}, {"type", "sample"}, {"t_ms", 12.5}, {"arm", "a"}};
  for (std::size_t i = 0; i < infermem::kFigureCount; ++i)
    all[std::string(name(static_cast<Figure>(i)))] = static_cast<std::int64_t>(1000 + i);
  all["latency_ms"] = 3.25;
  const std::string every = all.dump();
  auto r = parse_line(every);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->values.size(), infermem::kFigureCount);
  EXPECT_TRUE(r->other_values.empty());
  EXPECT_EQ(to_line(*r), every);

  const std::string unknown =
      R"({"model":3,"rss_bytes":4096,"seed":18446744073,"src":"child","t_ms":1.5,"type":"note",)"
      R"("v":1,"weird_ratio":0.125})";
  auto u = parse_line(unknown);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->value(Figure::rss_bytes), 4096.0);
  EXPECT_EQ(u->other_value("seed"), 18446744073.0);
  EXPECT_EQ(u->other_value("weird_ratio"), 0.125);
  EXPECT_FALSE(u->other_value("rss_bytes")) << "a figure is never an other value";
  EXPECT_EQ(to_line(*u), unknown);
}

TEST(Trace, AnUnknownRecordTypeIsASkippedLineWithItsReason) {
  std::string why;
  EXPECT_FALSE(parse_line(R"({"v":1,"type":"sampel","t_ms":1})", &why));
  EXPECT_EQ(why, "unknown record type");
  for (std::string_view t : {"header", "sample", "phase", "request", "arm", "note"}) {
    auto type = parse_record_type(t);
    ASSERT_TRUE(type) << t;
    EXPECT_EQ(name(*type), t);
  }
}

// Phases, edges and sources are enums; a name none of them has is kept as written.
TEST(Trace, PhaseEdgeAndSrcAreTypedAndUnknownNamesReadBackAsWritten) {
  auto r = parse_line(
      R"({"edge":"end","phase":"unload","src":"child","t_ms":1.5,"type":"phase","v":1})");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->phase == Phase::unload);
  EXPECT_TRUE(r->edge == Edge::end);
  EXPECT_TRUE(r->src == Src::child);
  EXPECT_FALSE(r->extra.contains("edge"));

  const std::string odd =
      R"({"edge":"middle","phase":"compile","src":"gpu","t_ms":1.5,"type":"phase","v":1})";
  auto o = parse_line(odd);
  ASSERT_TRUE(o);
  EXPECT_TRUE(o->phase == Phase::other);
  EXPECT_EQ(o->phase.text(), "compile");
  EXPECT_TRUE(o->edge == Edge::other);
  EXPECT_EQ(o->src.text(), "gpu");
  EXPECT_EQ(to_line(*o), odd);

  // An edge that is no string, or empty, stays context, as before.
  for (std::string line : {R"({"edge":3,"t_ms":1.5,"type":"arm","v":1})",
                           R"({"edge":"","t_ms":1.5,"type":"arm","v":1})"}) {
    auto e = parse_line(line);
    ASSERT_TRUE(e) << line;
    EXPECT_TRUE(e->edge.empty());
    EXPECT_EQ(to_line(*e), line);
  }
}
