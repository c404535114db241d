// watch's report model through every renderer: each shows what the model holds, and JSON keeps
// absent figures as null.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "infermem/render.h"

namespace infermem {
namespace {

using ::testing::HasSubstr;

WatchSummary oom_killed_watch() {
  WatchSummary w;
  w.tool_version = "0.1.0";
  w.host = "h";
  w.started_at = "2026-11-27T12:00:00Z";
  w.mode = "command";
  w.pid = 42;
  w.command = {"./grower", "--fast"};
  w.interval_ms = 10;
  w.window_ms = 1000;
  w.memory_limit_bytes = 100.0 * 1024 * 1024;
  w.elapsed_ms = 560;
  w.samples = 43;
  w.ended = "exited";
  w.status = ArmStatus::oom_killed;
  w.status_detail = "killed by the kernel's OOM killer";
  w.signal = "SIGKILL";
  w.oom_at_ms = 559;
  w.oom_last_rss_bytes = 99.0 * 1024 * 1024;
  w.last_rss_bytes = 99.0 * 1024 * 1024;
  w.peak_rss_bytes = 99.0 * 1024 * 1024;
  w.processes.push_back(
      {42, 1, "grower", 0, 550, 99.0 * 1024 * 1024, 99.0 * 1024 * 1024, kAbsent, true});
  w.windows.push_back({0, 560, 99.0 * 1024 * 1024, 94.0 * 1024 * 1024});
  w.windows_total = 1;
  w.verdict.kind = VerdictKind::leak;
  w.checks.push_back({"tree", "verdict", false, "verdict leak (fail_on leak)", false});
  return w;
}

TEST(WatchRender, JsonCarriesStatusOomAndProcessesWithAbsentFiguresAsNull) {
  auto j = nlohmann::json::parse(render(oom_killed_watch(), Format::json));
  EXPECT_EQ(j["command"], "watch");
  EXPECT_EQ(j["status"], "oom-killed");
  EXPECT_EQ(j["signal"], "SIGKILL");
  EXPECT_DOUBLE_EQ(j["oom"]["at_ms"].get<double>(), 559);
  EXPECT_TRUE(j["oom"]["cgroup_peak_bytes"].is_null());
  EXPECT_TRUE(j["exit_code"].is_null());
  ASSERT_EQ(j["processes"].size(), 1u);
  EXPECT_TRUE(j["processes"][0]["hwm_bytes"].is_null());
  EXPECT_EQ(j["verdict"]["kind"], "leak");
  EXPECT_EQ(j["windows"].size(), 1u);
}

TEST(WatchRender, MarkdownAndTerminalSayOomKilledWhenAndTheWindows) {
  const std::string md = render(oom_killed_watch(), Format::markdown);
  EXPECT_THAT(md, HasSubstr("**OOM-killed** at 0.56 s"));
  EXPECT_THAT(md, HasSubstr("| 0.00..0.56 | 99.0 | 94.0 |"));
  EXPECT_THAT(md, HasSubstr("Verdict: **leak**"));
  EXPECT_THAT(md, HasSubstr("- verdict: FAIL"));
  const std::string text = render(oom_killed_watch(), Format::terminal);
  EXPECT_THAT(text, HasSubstr("OOM-killed at 0.56 s, last tree memory sampled 99.0 MiB"));
  EXPECT_THAT(text, HasSubstr("(exited)"));
}

TEST(WatchRender, JunitFailsTheRunOfAnOomKilledCommandAndTheFailedCheck) {
  const std::string xml = render(oom_killed_watch(), Format::junit);
  EXPECT_THAT(xml, HasSubstr("failures=\"2\""));
  EXPECT_THAT(xml, HasSubstr("classname=\"pid 42\" name=\"run\""));
}

}  // namespace
}  // namespace infermem
