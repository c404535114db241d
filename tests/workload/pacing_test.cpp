// Request pacing (src/workload/pacing.h): the arrival schedule of --rate (seeded Poisson), the
// idle gaps of --idle/--idle-every, and --shapes (spike and FILE). Only the computed schedule is
// checked, never elapsed time: a slow machine cannot fail these tests.
#include "workload/pacing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "infermem/error.h"
#include "support/files.h"
#include "workload/inputs.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

std::vector<double> schedule(Pacer& p, int n, double start_ms = 0) {
  std::vector<double> out;
  for (int i = 0; i < n; ++i) out.push_back(p.arrival_ms(i, start_ms));
  return out;
}

// The requests of [from, to) that an idle gap comes before.
std::vector<std::int64_t> gaps(std::int64_t from, std::int64_t to, std::int64_t every) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = from; i < to; ++i)
    if (idle_gap_before(i, from, every)) out.push_back(i);
  return out;
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

// --- --rate -------------------------------------------------------------------------------------

TEST(Pacer, ClosedLoopSendsEveryRequestAtOnce) {
  Pacer p(0, 1);
  EXPECT_FALSE(p.paced());
  EXPECT_EQ(p.arrival_ms(0, 123.0), 123.0);
  EXPECT_EQ(p.arrival_ms(1000, 123.0), 123.0) << "no arrival time: the next request goes now";
}

TEST(Pacer, ArrivalsRiseStrictlyAfterTheStart) {
  Pacer p(100, 7);
  EXPECT_TRUE(p.paced());
  const auto a = schedule(p, 500, 1000.0);
  EXPECT_GT(a.front(), 1000.0) << "the first request waits one gap too";
  for (std::size_t i = 1; i < a.size(); ++i) EXPECT_GT(a[i], a[i - 1]) << "request " << i;
}

TEST(Pacer, TheSameSeedGivesTheSameScheduleAndAnotherSeedAnother) {
  Pacer a(20, 42), b(20, 42), c(20, 43);
  const auto sa = schedule(a, 100), sb = schedule(b, 100), sc = schedule(c, 100);
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Pacer, GapsAreExponentialWithTheMeanOfTheRate) {
  for (double rate : {5.0, 50.0, 2000.0}) {
    Pacer p(rate, 3);
    const int n = 20000;
    const auto a = schedule(p, n);
    std::vector<double> gap{a[0]};
    for (int i = 1; i < n; ++i) gap.push_back(a[i] - a[i - 1]);
    double mean = 0;
    for (double g : gap) mean += g;
    mean /= n;
    double var = 0;
    for (double g : gap) var += (g - mean) * (g - mean);
    const double cv = std::sqrt(var / (n - 1)) / mean;
    const double expected = 1000.0 / rate;
    EXPECT_NEAR(mean, expected, 0.03 * expected) << rate << " per second";
    // Poisson arrivals (open loop), not a fixed period: a gap's sd equals its mean.
    EXPECT_NEAR(cv, 1.0, 0.05) << rate << " per second";
    EXPECT_NEAR(a[n - 1] / 1000.0, n / rate, 0.03 * n / rate) << "n requests take n/R seconds";
  }
}

TEST(Pacer, OffsetsAreFixedOnceDrawnWhateverTheStartOrTheOrderAsked) {
  Pacer sequential(10, 9);
  const auto expected = schedule(sequential, 50);
  Pacer p(10, 9);
  // Asked out of order (a thread far ahead), then again from another start: the same offsets.
  const double far = p.arrival_ms(40, 0);
  EXPECT_EQ(far, expected[40]);
  EXPECT_EQ(p.arrival_ms(3, 0), expected[3]);
  EXPECT_EQ(p.arrival_ms(3, 5000.0), 5000.0 + expected[3]);
  EXPECT_EQ(p.arrival_ms(49, 0), expected[49]);
}

TEST(Pacer, ThreadsAskingAtOnceGetTheSequentialSchedule) {
  Pacer sequential(1000, 5);
  const auto expected = schedule(sequential, 4000);
  Pacer shared(1000, 5);
  std::vector<double> got(4000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)  // --concurrency 4: each thread takes every fourth request
    threads.emplace_back([&, t] {
      for (int i = t; i < 4000; i += 4) got[static_cast<std::size_t>(i)] = shared.arrival_ms(i, 0);
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(got, expected);
}

// --- --idle / --idle-every ----------------------------------------------------------------------

TEST(IdleGaps, NoIdleMeansNoGap) {
  EXPECT_TRUE(gaps(0, 1000, 0).empty());
}

TEST(IdleGaps, AGapBeforeEveryKthRequestButNeverBeforeTheFirst) {
  EXPECT_EQ(gaps(0, 10, 3), (std::vector<std::int64_t>{3, 6, 9}));
  EXPECT_EQ(gaps(0, 10, 1), (std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(gaps(0, 10, 10).empty()) << "K beyond the last request: no gap";
  EXPECT_EQ(gaps(0, 201, 50), (std::vector<std::int64_t>{50, 100, 150, 200}));
}

TEST(IdleGaps, InferCountsRequestsOverTheWholeArmAfterTheWarmOnes) {
  // soak runs warm [0, 3) then infer [3, 200): the gaps come after 50, 100 and 150 requests of
  // the arm, not 50 requests into infer, and none opens a phase.
  EXPECT_TRUE(gaps(0, 3, 50).empty());
  EXPECT_EQ(gaps(3, 200, 50), (std::vector<std::int64_t>{50, 100, 150}));
  EXPECT_EQ(gaps(3, 10, 3), (std::vector<std::int64_t>{6, 9})) << "not before infer's first";
}

// --- --shapes -----------------------------------------------------------------------------------

TEST(Shapes, AFileIsOneRequestALineWithCommentsAndBlankLinesSkipped) {
  const std::string dir = test::make_temp_dir("pacing-shapes");
  const std::string path = write_file(dir, "shapes.txt",
                                      "# batch and sequence per request\n"
                                      "batch=2 sequence=96\n"
                                      "\n"
                                      "   \n"
                                      "sequence=8\n"
                                      "  batch=1000000\tsequence=1\n");
  const auto lines = load_shapes_file(path, {"batch", "sequence"});
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (std::map<std::string, std::int64_t>{{"batch", 2}, {"sequence", 96}}));
  EXPECT_EQ(lines[1], (std::map<std::string, std::int64_t>{{"sequence", 8}}));
  EXPECT_EQ(lines[2], (std::map<std::string, std::int64_t>{{"batch", 1000000}, {"sequence", 1}}));
}

TEST(Shapes, ABadLineNamesTheFileTheLineAndTheKey) {
  const std::string dir = test::make_temp_dir("pacing-shapes-bad");
  const std::vector<std::string> keys = {"batch", "sequence"};
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : std::vector<Case>{
           {"batch=2\nwidth=3\n",
            "line 2: 'width=3' is not KEY=N for a dynamic dimension of "
            "the model (batch, sequence)"},
           {"batch\n", "line 1: 'batch' is not KEY=N"},
           {"batch=0\n", "line 1: batch=0 is not a whole number from 1 to 1000000"},
           {"batch=1000001\n", "batch=1000001 is not a whole number"},
           {"batch=-2\n", "batch=-2 is not a whole number"},
           {"batch=2x\n", "batch=2x is not a whole number"},
           {"batch=\n", "batch= is not a whole number"},
           {"batch=2 # two\n", "'#' is not KEY=N"},
       }) {
    const std::string path = write_file(dir, "s.txt", c.text);
    try {
      load_shapes_file(path, keys);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("--shapes " + path + ": ")) << c.text;
      EXPECT_THAT(e.what(), HasSubstr(c.expect)) << c.text;
    }
  }
}

TEST(Shapes, AFileWithoutAShapeOrAModelWithoutDimensionsIsRefused) {
  const std::string dir = test::make_temp_dir("pacing-shapes-empty");
  const std::string empty = write_file(dir, "empty.txt", "# nothing\n\n");
  EXPECT_THROW(
      {
        try {
          load_shapes_file(empty, {"batch"});
        } catch (const InputError& e) {
          EXPECT_THAT(e.what(), HasSubstr("holds no shape"));
          throw;
        }
      },
      InputError);
  const std::string one = write_file(dir, "one.txt", "batch=1\n");
  try {
    load_shapes_file(one, {});
    ADD_FAILURE() << "a model without dynamic dimensions took a shape";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("(it has none)"));
  }
  EXPECT_THROW(load_shapes_file(dir + "/missing.txt", {"batch"}), InputError);
}

namespace {

// One float input [batch x 4] with batch drawn from 1..8: no model needed to build its tensors.
std::vector<InputPlan> batch_input() {
  InputPlan p;
  p.name = "x";
  p.element_type = 1;  // ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
  p.shape = {-1, 4};
  p.dim_keys = {"batch", ""};
  return {p};
}

std::vector<std::string> shapes_of(InputSynth& synth, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    synth.next();
    out.push_back(synth.shape_text());
  }
  return out;
}

}  // namespace

TEST(Shapes, SpikeSendsTheLargestSizesEveryKthRequestAndTheSmallestOtherwise) {
  const std::map<std::string, DimRange> dims = {{"batch", {1, 8, 1}}};
  ShapePlan plan;
  plan.spike_every = 4;
  InputSynth synth(batch_input(), dims, false, 1);
  synth.use(&plan);
  const auto shapes = shapes_of(synth, 9);
  EXPECT_EQ(shapes, (std::vector<std::string>{"x[1x4]", "x[1x4]", "x[1x4]", "x[8x4]", "x[1x4]",
                                              "x[1x4]", "x[1x4]", "x[8x4]", "x[1x4]"}));
}

TEST(Shapes, AFilesLinesAreCycledOverTheSeededDraw) {
  const std::map<std::string, DimRange> dims = {{"batch", {1, 8, 1}}};
  ShapePlan plan;
  plan.lines = {{{"batch", 3}}, {{"batch", 5}}};
  InputSynth synth(batch_input(), dims, false, 1);
  synth.use(&plan);
  EXPECT_EQ(shapes_of(synth, 5),
            (std::vector<std::string>{"x[3x4]", "x[5x4]", "x[3x4]", "x[5x4]", "x[3x4]"}));
}
