// Input planning and synthesis: every dynamic dim resolved per scenario, token ids inside the
// vocabulary the graph shows, and clear errors for what soak cannot fill.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <filesystem>
#include <set>

#include "infermem/error.h"
#include "infermem/soak.h"
#include "support/models.h"
#include "support/run_helpers.h"
#include "workload/inputs.h"

using namespace infermem;
using ::testing::HasSubstr;

TEST(Inputs, TransformerTokenIdsStayInsideTheVocabulary) {
  auto plans = plan_inputs(test::generated_model("transformer", "1MiB"));
  ASSERT_EQ(plans.size(), 1u);
  const auto& ids = plans[0];
  EXPECT_EQ(ids.name, "input_ids");
  ASSERT_TRUE(ids.vocab_size.has_value()) << "Gather on the embedding initializer";
  EXPECT_GT(*ids.vocab_size, 2);
  auto dims = resolve_dims(plans, Scenario::mixed, {{"sequence", "8..32"}});
  EXPECT_EQ(dims.at("sequence").lo, 8);
  EXPECT_EQ(dims.at("sequence").hi, 32);
  EXPECT_EQ(dims.at("batch").lo, 1);
  InputSynth synth(plans, dims, false, 42);
  std::int64_t max_id = -1;
  for (int i = 0; i < 20; ++i) {
    auto& values = synth.next();
    ASSERT_EQ(values.size(), 1u);
    auto shape = values[0].GetTensorTypeAndShapeInfo().GetShape();
    ASSERT_EQ(shape.size(), 2u);
    EXPECT_GE(shape[1], 8);
    EXPECT_LE(shape[1], 32);
    const auto* data = values[0].GetTensorData<std::int64_t>();
    for (std::int64_t k = 0; k < shape[0] * shape[1]; ++k) max_id = std::max(max_id, data[k]);
  }
  EXPECT_LT(max_id, *ids.vocab_size);
  EXPECT_GT(max_id, 1) << "ids drawn over the vocabulary, not only 0..1";
}

TEST(Inputs, SteadyFixesShapesAndMixedVariesThem) {
  auto plans = plan_inputs(test::generated_model("mlp", "512KiB"));
  InputSynth steady(plans, resolve_dims(plans, Scenario::steady, {}), true, 1);
  InputSynth mixed(plans, resolve_dims(plans, Scenario::mixed, {}), false, 1);
  std::set<std::string> steady_shapes, mixed_shapes;
  for (int i = 0; i < 30; ++i) {
    steady.next();
    steady_shapes.insert(steady.shape_text());
    mixed.next();
    mixed_shapes.insert(mixed.shape_text());
  }
  EXPECT_EQ(steady_shapes.size(), 1u);
  EXPECT_GT(mixed_shapes.size(), 1u);
}

TEST(Inputs, RealDetectionModelDrawsSpatialDimsInMultiplesOf32ByPosition) {
  std::string model =
      std::string(INFERMEM_SOURCE_DIR) + "/third_party/models/ch_PP-OCRv4_det_infer.onnx";
  if (!std::filesystem::exists(model)) GTEST_SKIP() << "run scripts/setup.sh";
  auto plans = plan_inputs(model);
  auto dims = resolve_dims(plans, Scenario::mixed, {{"x.2", "96..200"}});
  InputSynth synth(plans, dims, false, 3);
  for (int i = 0; i < 20; ++i) {
    auto& v = synth.next();
    auto shape = v[0].GetTensorTypeAndShapeInfo().GetShape();
    ASSERT_EQ(shape.size(), 4u);
    EXPECT_EQ(shape[1], 3);
    EXPECT_EQ(shape[2] % 32, 0);
    EXPECT_GE(shape[2], 96);
    EXPECT_LE(shape[2], 200);
    EXPECT_EQ(shape[3] % 32, 0);
  }
  EXPECT_THROW(resolve_dims(plans, Scenario::mixed, {{"x.2", "97..100"}}), InputError)
      << "no multiple of 32 in range";
}

TEST(Inputs, BadDimOverridesAndUnfillableInputsNameThemselves) {
  auto plans = plan_inputs(test::generated_model("mlp", "512KiB"));
  try {
    resolve_dims(plans, Scenario::mixed, {{"sequenze", "1..4"}});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("sequenze"));
    EXPECT_THAT(e.what(), HasSubstr("batch"));
  }
  EXPECT_THROW(resolve_dims(plans, Scenario::mixed, {{"batch", "4..1"}}), InputError);
  EXPECT_THROW(resolve_dims(plans, Scenario::mixed, {{"batch", "0..3"}}), InputError);
  EXPECT_THROW(resolve_dims(plans, Scenario::mixed, {{"batch", "x"}}), InputError);

  std::string dir = test::make_temp_dir("inputs");
  std::string strings = dir + "/strings.onnx";
  test::write_string_input_model(strings);
  try {
    plan_inputs(strings);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("'text'"));
    EXPECT_THAT(e.what(), HasSubstr("string"));
  }
}
