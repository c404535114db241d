// `watch --label KEY=VALUE` (src/app/metric_labels.cpp): what a fleet's constant labels may be.
// A label Prometheus would refuse, or one that would collide with a label watch sets itself, is
// an InputError naming the flag and what is wrong.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "infermem/error.h"
#include "infermem/watch_app.h"

using namespace infermem;
using ::testing::HasSubstr;

namespace {

std::string refusal(const std::vector<std::string>& texts) {
  try {
    parse_metric_labels(texts);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MetricLabels, TheFleetLabelsAreAccepted) {
  const auto labels =
      parse_metric_labels({"model=ocr-det", "model_version=4.0.1", "ort_version=1.29.0",
                           "pod=inference-api-7f9c-x2", "Zone_2=eu west=1"});
  ASSERT_EQ(labels.size(), 5u);
  EXPECT_EQ(labels.at("model"), "ocr-det");
  EXPECT_EQ(labels.at("model_version"), "4.0.1");
  EXPECT_EQ(labels.at("ort_version"), "1.29.0");
  EXPECT_EQ(labels.at("pod"), "inference-api-7f9c-x2");
  EXPECT_EQ(labels.at("Zone_2"), "eu west=1") << "the value is everything after the first '='";
  EXPECT_EQ(parse_metric_label("_private=\xC3\xA9t\xC3\xA9").second, "\xC3\xA9t\xC3\xA9")
      << "UTF-8 values are fine";
  EXPECT_TRUE(parse_metric_labels({}).empty());
}

TEST(MetricLabels, BadSyntaxIsRefusedNamingIt) {
  EXPECT_THAT(refusal({"model"}), HasSubstr("--label 'model': give KEY=VALUE"));
  EXPECT_THAT(refusal({"=x"}), HasSubstr("is not a Prometheus label name"));
  EXPECT_THAT(refusal({"2model=x"}), HasSubstr("'2model' is not a Prometheus label name"));
  EXPECT_THAT(refusal({"model-version=1"}),
              HasSubstr("'model-version' is not a Prometheus label name"));
  EXPECT_THAT(refusal({"mod\xC3\xA9l=1"}), HasSubstr("is not a Prometheus label name"));
  EXPECT_THAT(refusal({"pod="}), HasSubstr("--label 'pod=': the value is empty"));
  EXPECT_THAT(refusal({"pod=\xFF\xFE"}),
              HasSubstr("--label pod=...: the value is not valid UTF-8"));
  EXPECT_THAT(refusal({"pod=\xC0\xAF"}), HasSubstr("not valid UTF-8")) << "an overlong '/'";
  EXPECT_THAT(refusal({"pod=\xED\xA0\x80"}), HasSubstr("not valid UTF-8")) << "a surrogate";
  EXPECT_THAT(refusal({"pod=ab\xE2\x82"}), HasSubstr("not valid UTF-8")) << "cut short";
}

TEST(MetricLabels, ReservedNamesAreRefused) {
  EXPECT_THAT(refusal({"__name__=x"}), HasSubstr("reserved for Prometheus itself"));
  EXPECT_THAT(refusal({"__meta=x"}), HasSubstr("reserved for Prometheus itself"));
  for (const char* name :
       {"pid", "command", "kind", "bound", "reason", "model_path", "instance", "job"})
    EXPECT_THAT(refusal({std::string(name) + "=x"}),
                HasSubstr("'" + std::string(name) + "' is reserved"))
        << name;
}

TEST(MetricLabels, ANameGivenTwiceIsRefused) {
  EXPECT_THAT(refusal({"pod=a", "model=m", "pod=b"}),
              HasSubstr("--label 'pod=b': 'pod' is given twice (once with 'a')"));
  EXPECT_THAT(refusal({"pod=a", "pod=a"}), HasSubstr("given twice"));
}
