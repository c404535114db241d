// The CI gate: thresholds against figures and verdicts, the thresholds file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "infermem/error.h"
#include "infermem/gate.h"
#include "support/run_helpers.h"

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
  s.verdict.kind = "leak";
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
  leak_only.fail_on = "leak";
  Thresholds anything;
  anything.fail_on = "any";
  GateSubject s = leaking_arm();
  EXPECT_FALSE(evaluate_gate(leak_only, s).at(0).passed);
  EXPECT_THAT(evaluate_gate(leak_only, s).at(0).message, HasSubstr("16.0 KiB/request"));
  for (const char* kind : {"stable", "plateau"}) {
    s.verdict.kind = kind;
    EXPECT_TRUE(evaluate_gate(leak_only, s).at(0).passed) << kind;
    EXPECT_TRUE(evaluate_gate(anything, s).at(0).passed) << kind;
  }
  for (const char* kind : {"fragmentation", "unload-retention", "hwm-artifact"}) {
    s.verdict.kind = kind;
    EXPECT_TRUE(evaluate_gate(leak_only, s).at(0).passed) << kind;
    EXPECT_FALSE(evaluate_gate(anything, s).at(0).passed) << kind;
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

TEST(Thresholds, FileWithGateTableCommentsAndUnits) {
  std::string dir = test::make_temp_dir("gate-config");
  std::string path = write_file(dir, "infermem.toml",
                                "# CI gate for the OCR model\n"
                                "[gate]  # thresholds\n"
                                "max_growth = \"16KiB\"   # per request\n"
                                "max-growth-rate = '8MiB/min'\n"
                                "max_peak = 536_870_912\n"
                                "max_retained = \"20%\"\r\n"
                                "fail_on = \"leak\"\n");
  Thresholds t = load_thresholds_file(path);
  EXPECT_DOUBLE_EQ(t.max_growth_bytes_per_request.value(), 16 * 1024);
  EXPECT_DOUBLE_EQ(t.max_growth_bytes_per_minute.value(), 8 * kMiB);
  EXPECT_DOUBLE_EQ(t.max_peak_bytes.value(), 512 * kMiB);
  EXPECT_DOUBLE_EQ(t.max_retained_fraction_of_loaded.value(), 0.20);
  EXPECT_FALSE(t.max_retained_bytes);
  EXPECT_EQ(t.fail_on, "leak");
  std::filesystem::remove_all(dir);
}

TEST(Thresholds, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    int line;
    std::string says;
  };
  std::vector<Case> cases = {
      {"[gate]\nmax_growth = \"16KiB\"\nmax_grwth = \"1M\"\n", 3, "unknown key 'max_grwth'"},
      {"[server]\n", 1, "unknown table"},
      {"max_peak = \"1G\"\nmax_peak = \"2G\"\n", 2, "set twice"},
      {"\n\nmax_growth = \"16KiB\n", 3, "unterminated string"},
      {"max_growth = \"16XB\"\n", 1, "unknown size unit"},
      {"max_growth = 16KiB\n", 1, "sizes go in quotes"},
      {"fail_on = \"sometimes\"\n", 1, "fail_on must be"},
      {"fail_on = true\n", 1, "booleans"},
      {"max_peak = \"1G\" extra\n", 1, "unexpected"},
      {"max_peak\n", 1, "expected '='"},
      {"max_peak = -5\n", 1, "negative"},
      {"max_retained = \"lots%\"\n", 1, "max_retained"},
      {"[[gate]]\n", 1, "bad table header"},
      {"max_growth_rate = \"1M/hour\"\n", 1, "unit after '/'"},
  };
  std::string dir = test::make_temp_dir("gate-config-errors");
  for (const auto& c : cases) {
    std::string path = write_file(dir, "infermem.toml", c.text);
    try {
      load_thresholds_file(path);
      ADD_FAILURE() << "accepted: " << c.text;
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("infermem.toml:" + std::to_string(c.line) + ":")) << c.text;
      EXPECT_THAT(e.what(), HasSubstr(c.says)) << c.text;
    }
  }
  try {
    load_thresholds_file(dir + "/missing.toml");
    ADD_FAILURE() << "read a missing file";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.toml"));
  }
  std::filesystem::remove_all(dir);
}
