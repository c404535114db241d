// The CI gate: thresholds against figures and verdicts, the thresholds file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "infermem/error.h"
#include "infermem/gate.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

constexpr double kMiB = 1024.0 * 1024;

GateSubject leaking_arm() {
  GateSubject s;
  s.name = "ort-default";
  s.peak_bytes = 300 * kMiB;
  s.loaded_bytes = 200 * kMiB;
  s.retained_bytes = 50 * kMiB;
  s.verdict.kind = VerdictKind::leak;
  s.verdict.growth_bytes_per_request = 16 * 1024;
  s.verdict.growth_ci_low_bytes_per_request = 15 * 1024;
  s.verdict.growth_ci_high_bytes_per_request = 17 * 1024;
  s.verdict.growth_bytes_per_minute = 10 * kMiB;
  s.verdict.evidence = {"Growth after warm-up: 16.0 KiB/request"};
  return s;
}

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace

TEST(Gate, OneCheckPerThresholdWithFigureAndLimit) {
  Thresholds t;
  t.max_growth_bytes_per_request = 4 * 1024;
  t.max_growth_bytes_per_minute = 64 * kMiB;
  t.max_peak_bytes = 512 * kMiB;
  t.max_retained_bytes = 32 * kMiB;
  t.max_retained_fraction_of_loaded = 0.20;
  ASSERT_TRUE(t.any());
  auto results = evaluate_gate(t, leaking_arm());
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].check, "max-growth");
  EXPECT_FALSE(results[0].passed);
  EXPECT_THAT(results[0].message, HasSubstr("16.0 KiB/request"));
  EXPECT_THAT(results[0].message, HasSubstr("4.0 KiB/request"));
  EXPECT_THAT(results[0].message, HasSubstr("Theil-Sen"));
  EXPECT_EQ(results[1].check, "max-growth-rate");
  EXPECT_TRUE(results[1].passed);
  EXPECT_EQ(results[2].check, "max-peak");
  EXPECT_TRUE(results[2].passed);
  EXPECT_EQ(results[3].check, "max-retained");
  EXPECT_FALSE(results[3].passed);
  EXPECT_THAT(results[3].message, HasSubstr("50.0 MiB"));
  EXPECT_EQ(results[4].check, "max-retained-fraction");
  EXPECT_FALSE(results[4].passed);  // 25% of loaded > 20%
  EXPECT_THAT(results[4].message, HasSubstr("25.0%"));
  for (const auto& r : results) EXPECT_EQ(r.subject, "ort-default");
}

TEST(Gate, UnmeasuredFigureIsSkippedNotPassedSilently) {
  Thresholds t;
  t.max_growth_bytes_per_request = 1024;
  GateSubject s;
  s.name = "lambda";
  auto results = evaluate_gate(t, s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_TRUE(results[0].passed);
  EXPECT_TRUE(results[0].skipped);
  EXPECT_THAT(results[0].message, HasSubstr("not measured"));
}

TEST(Gate, FailOnLeakAndAny) {
  Thresholds leak_only;
  leak_only.fail_on = FailOn::leak;
  Thresholds anything;
  anything.fail_on = FailOn::any;
  GateSubject s = leaking_arm();
  EXPECT_FALSE(evaluate_gate(leak_only, s).at(0).passed);
  EXPECT_THAT(evaluate_gate(leak_only, s).at(0).message, HasSubstr("16.0 KiB/request"));
  for (VerdictKind kind : {VerdictKind::stable, VerdictKind::plateau}) {
    s.verdict.kind = kind;
    EXPECT_TRUE(evaluate_gate(leak_only, s).at(0).passed) << name(kind);
    EXPECT_TRUE(evaluate_gate(anything, s).at(0).passed) << name(kind);
  }
  for (VerdictKind kind :
       {VerdictKind::fragmentation, VerdictKind::unload_retention, VerdictKind::hwm_artifact}) {
    s.verdict.kind = kind;
    EXPECT_TRUE(evaluate_gate(leak_only, s).at(0).passed) << name(kind);
    EXPECT_FALSE(evaluate_gate(anything, s).at(0).passed) << name(kind);
  }
  EXPECT_TRUE(evaluate_gate(Thresholds{}, s).empty());
  EXPECT_FALSE(Thresholds{}.any());
}

TEST(Thresholds, RetainedAcceptsSizesAndPercentages) {
  Thresholds t;
  parse_retained_threshold("20%", t);
  ASSERT_TRUE(t.max_retained_fraction_of_loaded);
  EXPECT_DOUBLE_EQ(*t.max_retained_fraction_of_loaded, 0.20);
  parse_retained_threshold("64MiB", t);
  ASSERT_TRUE(t.max_retained_bytes);
  EXPECT_DOUBLE_EQ(*t.max_retained_bytes, 64 * kMiB);
  for (const char* bad : {"%", "abc%", "-5%", " 5%", "12XB", ""}) {
    try {
      parse_retained_threshold(bad, t);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("--max-retained")) << bad;
    }
  }
}

TEST(GateConfig, FileWithGateTableCommentsAndUnits) {
  std::string dir = test::make_temp_dir("gate-config");
  std::string path = write_file(dir, "infermem.toml",
                                "# CI gate for the OCR model\n"
                                "[gate]  # thresholds\n"
                                "max_growth = \"16KiB\"   # per request\n"
                                "max-growth-rate = '8MiB/min'\n"
                                "max_peak = 536_870_912\n"
                                "max_retained = \"20%\"\r\n"
                                "fail_on = \"leak\"\n"
                                "allow_short = true\n");
  GateConfig config = load_gate_config(path);
  const Thresholds& t = config.defaults;
  EXPECT_DOUBLE_EQ(t.max_growth_bytes_per_request.value(), 16 * 1024);
  EXPECT_DOUBLE_EQ(t.max_growth_bytes_per_minute.value(), 8 * kMiB);
  EXPECT_DOUBLE_EQ(t.max_peak_bytes.value(), 512 * kMiB);
  EXPECT_DOUBLE_EQ(t.max_retained_fraction_of_loaded.value(), 0.20);
  EXPECT_FALSE(t.max_retained_bytes);
  EXPECT_EQ(t.fail_on, FailOn::leak);
  EXPECT_TRUE(t.allow_short);
  EXPECT_TRUE(config.per_arm.empty());
  std::filesystem::remove_all(dir);
}

TEST(GateConfig, RealTomlWithPerArmThresholdsOverridingTheDefaults) {
  // Keys at the top level (no [gate]), inline comments, a multi-line array elsewhere is not a
  // threshold, so it is rejected; per-arm tables start from the defaults.
  GateConfig config = parse_gate_config_text(
      "max_growth = \"16KiB/request\"\n"
      "fail_on = \"leak\"\n"
      "max_peak = 1.5e9\n"
      "\n"
      "[arms.lean]\n"
      "max_growth = \"4KiB\"   # lean must stay tighter\n"
      "allow_short = true\n"
      "\n"
      "[arms.no-arena]\n"
      "fail_on = \"any\"\n"
      "max_retained = 67108864\n",
      "infermem.toml");
  EXPECT_DOUBLE_EQ(config.defaults.max_growth_bytes_per_request.value(), 16 * 1024);
  EXPECT_DOUBLE_EQ(config.defaults.max_peak_bytes.value(), 1.5e9);
  ASSERT_EQ(config.per_arm.size(), 2u);
  const Thresholds& lean = config.for_subject("lean");
  EXPECT_DOUBLE_EQ(lean.max_growth_bytes_per_request.value(), 4 * 1024);
  EXPECT_DOUBLE_EQ(lean.max_peak_bytes.value(), 1.5e9) << "inherited from the defaults";
  EXPECT_EQ(lean.fail_on, FailOn::leak) << "inherited";
  EXPECT_TRUE(lean.allow_short);
  const Thresholds& no_arena = config.for_subject("no-arena");
  EXPECT_EQ(no_arena.fail_on, FailOn::any);
  EXPECT_DOUBLE_EQ(no_arena.max_retained_bytes.value(), 64 * kMiB);
  EXPECT_FALSE(no_arena.allow_short);
  const Thresholds& other = config.for_subject("ort-default");
  EXPECT_EQ(&other, &config.defaults) << "an arm without a table uses the defaults";
}

TEST(GateConfig, ErrorsNameFileLineAndKey) {
  struct Case {
    std::string text;
    int line;
    std::string says;
  };
  std::vector<Case> cases = {
      {"[gate]\nmax_growth = \"16KiB\"\nmax_grwth = \"1M\"\n", 3, "unknown key 'max_grwth'"},
      {"[server]\n", 1, "unknown table [server]"},
      {"max_peak = \"1G\"\nmax_peak = \"2G\"\n", 2, "max_peak"},
      {"max_peak = \"1G\"\nmax-peak = \"2G\"\n", 2, "set twice"},
      {"\n\nmax_growth = \"16KiB\n", 3, "string"},
      {"max_growth = \"16XB\"\n", 1, "unknown size unit"},
      {"max_growth = 16KiB\n", 1, ""},
      {"fail_on = \"sometimes\"\n", 1, "fail_on must be"},
      {"fail_on = true\n", 1, "not a boolean"},
      {"max_peak = \"1G\" extra\n", 1, ""},
      {"max_peak\n", 1, ""},
      {"max_peak = -5\n", 1, "max_peak: -5 must not be negative"},
      {"max_retained = \"lots%\"\n", 1, "max_retained"},
      {"[[gate]]\nmax_peak = 1\n", 1, "expected a table [gate]"},
      {"max_growth_rate = \"1M/hour\"\n", 1, "unit after '/'"},
      {"max_peak = [1, 2]\n", 1, "max_peak: expected a size"},
      {"allow_short = \"yes\"\n", 1, "allow_short: expected true or false"},
      {"[gate]\nmax_peak = 1\n[arms.lean]\nmax_grwth = 1\n", 4, "'arms.lean.max_grwth'"},
      {"[arms.lean]\nfail_on = \"never\"\n", 2, "arms.lean.fail_on"},
      {"[arms]\nlean = 5\n", 2, "arms.lean: expected a table"},
      {"max_peak = 1\n[gate]\nfail_on = \"leak\"\n", 2, "both at the top level and under [gate]"},
  };
  std::string dir = test::make_temp_dir("gate-config-errors");
  for (const auto& c : cases) {
    std::string path = write_file(dir, "infermem.toml", c.text);
    try {
      load_gate_config(path);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("infermem.toml:" + std::to_string(c.line) + ": ")) << c.text;
      EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.text;
    }
  }
  try {
    load_gate_config(dir + "/missing.toml");
    ADD_FAILURE() << "read a missing file";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.toml"));
  }
  std::filesystem::remove_all(dir);
}

TEST(Gate, TooShortFailsTheVerdictCheckUnlessAllowed) {
  GateSubject s;
  s.name = "short";
  s.verdict = judge(Series{});
  ASSERT_EQ(s.verdict.kind, VerdictKind::too_short);
  for (FailOn fail_on : {FailOn::leak, FailOn::any}) {
    Thresholds t;
    t.fail_on = fail_on;
    auto results = evaluate_gate(t, s);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_FALSE(results[0].passed) << name(fail_on);
    EXPECT_THAT(results[0].message, HasSubstr("too short to judge"));
    EXPECT_THAT(results[0].message, HasSubstr("--allow-short"));
    t.allow_short = true;
    results = evaluate_gate(t, s);
    EXPECT_TRUE(results[0].passed) << name(fail_on);
    EXPECT_THAT(results[0].message, HasSubstr("allow_short"));
  }
  EXPECT_TRUE(evaluate_gate(Thresholds{}, s).empty()) << "no fail_on: no verdict check";
}

TEST(Gate, QuotesTheDecisiveFindingNotTheLastEvidenceLine) {
  // An injected leak adds a note as the last evidence line; the gate must quote why it is a leak.
  Series series;
  series.current_source = "VmRSS";
  for (int i = 0; i < 400; ++i) {
    SeriesPoint p;
    p.req = i + 1;
    p.t_ms = 100.0 * i;
    p.phase = Phase::infer;
    p.current_bytes = 200 * kMiB + 64 * 1024.0 * i + (i % 5) * 100 * 1024.0;
    series.points.push_back(p);
  }
  SeriesContext context;
  context.injected_leak = true;
  GateSubject s;
  s.name = "ort-default";
  s.verdict = judge(series, context);
  ASSERT_EQ(s.verdict.kind, VerdictKind::leak);
  ASSERT_THAT(s.verdict.evidence.back(), HasSubstr("injected a leak"));
  Thresholds t;
  t.fail_on = FailOn::leak;
  auto results = evaluate_gate(t, s);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].passed);
  EXPECT_THAT(results[0].message, HasSubstr("sustained"));
  EXPECT_THAT(results[0].message, ::testing::Not(HasSubstr("injected")));
}
