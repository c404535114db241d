// infermem replay's table in the report model: summary.json's "replay" object round-trips, a
// missing field is an input error naming it, and report.md shows the policies under replay's
// own heading.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/render.h"
#include "infermem/summary.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

ReplayTable table() {
  ReplayTable t;
  t.log_path = "requests.csv";
  t.log_format = "csv";
  t.log_lines = 301;
  t.requests = 297;
  t.skipped_lines = 3;
  t.skip_examples = {"line 7: no timestamp"};
  t.models = {{"m1", "models/m1.onnx"}};
  t.memory_limit_bytes = 512ull << 20;
  t.headroom = 0.2;
  t.speed = "max";
  ReplayPolicyRow p;
  p.arm = "budget-64MiB";
  p.policy = "budget:64MiB";
  p.requests = p.served = 297;
  p.hits = 294;
  p.loads = 3;
  p.hit_rate = 294.0 / 297;
  p.p50_ms = 1.25;
  p.p99_ms = 7.5;
  p.peak_bytes = 60.0 * 1024 * 1024;
  p.children = 1;
  p.holds = true;
  t.policies = {p};
  t.recommended = "budget:64MiB";
  return t;
}

TEST(ReplayTable, RoundTripsThroughSummaryJson) {
  RunSummary s;
  s.scenario = "replay";
  s.replay = table();
  const RunSummary back = RunSummary::from_json(s.to_json());
  ASSERT_TRUE(back.replay);
  EXPECT_EQ(back.replay->to_json(), s.replay->to_json());
  EXPECT_EQ(back.replay->policies.at(0).loads, 3u);
  EXPECT_EQ(back.replay->recommended, "budget:64MiB");
}

TEST(ReplayTable, AMissingFieldIsAnInputErrorNamingIt) {
  nlohmann::json j = table().to_json();
  j["policies"][0].erase("oom_kills");
  try {
    ReplayTable::from_json(j);
    FAIL() << "accepted a policy without oom_kills";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("budget:64MiB"));
    EXPECT_THAT(e.what(), HasSubstr("oom_kills"));
  }
  nlohmann::json k = table().to_json();
  k.erase("recommended");
  EXPECT_THROW(ReplayTable::from_json(k), InputError);
}

TEST(ReplayTable, ReportMdIsReplaysOwnWithThePolicies) {
  RunSummary s;
  s.scenario = "replay";
  s.replay = table();
  const std::string md = render(s, Format::markdown);
  EXPECT_THAT(md, HasSubstr("# infermem replay report"));
  EXPECT_THAT(md, HasSubstr("| budget:64MiB | ok | 297/297 | 0 | 0 | 0 | 99.0% | 3 | 0 |"));
  EXPECT_THAT(md, HasSubstr("Recommended: `--policy budget:64MiB`"));
  EXPECT_THAT(render(s, Format::html), HasSubstr("<h1>infermem replay report</h1>"));
  s.replay.reset();
  EXPECT_THAT(render(s, Format::markdown), HasSubstr("# infermem soak report"));
}

}  // namespace
