// gen-model's library half: every kind is a real model ONNX Runtime runs at several dynamic
// shapes, its weights hit the size asked for, and a seed fixes every byte.
#include <gtest/gtest.h>

// infermem_core links the ONNX protobuf classes privately; their compile definitions (set by
// the ONNX CMake package) are repeated here so this test can read the bytes independently.
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#include <onnx/onnx_pb.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "infermem/error.h"
#include "infermem/model_gen.h"
#include "support/files.h"
#include "workload/ort_env.h"

namespace infermem {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

ModelSpec spec_of(ModelKind kind, std::uint64_t weight_bytes, int layers = 0,
                  std::uint64_t seed = 1) {
  ModelSpec spec;
  spec.kind = kind;
  spec.weight_bytes = weight_bytes;
  spec.layers = layers;
  spec.seed = seed;
  return spec;
}

std::uint64_t initializer_bytes(const std::string& model_bytes) {
  onnx::ModelProto model;
  EXPECT_TRUE(model.ParseFromString(model_bytes));
  std::uint64_t sum = 0;
  for (const auto& t : model.graph().initializer()) sum += t.raw_data().size();
  return sum;
}

// Runs the model once on one input of `shape` and returns the first output's shape. Token ids
// stay below 16, the smallest vocabulary the generator makes.
std::vector<std::int64_t> run_once(Ort::Session& session, std::vector<std::int64_t> shape) {
  Ort::AllocatorWithDefaultOptions allocator;
  auto input_name = session.GetInputNameAllocated(0, allocator);
  auto output_name = session.GetOutputNameAllocated(0, allocator);
  auto element = session.GetInputTypeInfo(0).GetTensorTypeAndShapeInfo().GetElementType();
  std::size_t count = std::accumulate(shape.begin(), shape.end(), std::size_t{1},
                                      [](std::size_t a, std::int64_t d) { return a * d; });
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  std::vector<float> floats(count);
  std::vector<std::int64_t> ids(count);
  for (std::size_t i = 0; i < count; ++i) {
    floats[i] = static_cast<float>(i % 7) / 7.0f - 0.5f;
    ids[i] = static_cast<std::int64_t>(i % 16);
  }
  Ort::Value input = element == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64
                         ? Ort::Value::CreateTensor<std::int64_t>(memory, ids.data(), count,
                                                                  shape.data(), shape.size())
                         : Ort::Value::CreateTensor<float>(memory, floats.data(), count,
                                                           shape.data(), shape.size());
  const char* in_names[] = {input_name.get()};
  const char* out_names[] = {output_name.get()};
  auto outputs = session.Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1);
  auto info = outputs[0].GetTensorTypeAndShapeInfo();
  const float* data = outputs[0].GetTensorData<float>();
  for (std::size_t i = 0; i < info.GetElementCount(); ++i)
    EXPECT_TRUE(std::isfinite(data[i])) << "output element " << i << " is " << data[i];
  return info.GetShape();
}

Ort::Session load(const std::string& bytes) {
  Ort::SessionOptions options;
  options.SetIntraOpNumThreads(1);
  return Ort::Session(ort_env(), bytes.data(), bytes.size(), options);
}

std::int64_t static_dim(Ort::Session& session, bool input, std::size_t index) {
  auto info = input ? session.GetInputTypeInfo(0) : session.GetOutputTypeInfo(0);
  return info.GetTensorTypeAndShapeInfo().GetShape().at(index);
}

TEST(ModelGen, MlpRunsAtTwoBatchSizes) {
  auto session = load(generate_model_bytes(spec_of(ModelKind::mlp, kMiB)));
  std::int64_t features = static_dim(session, true, 1), out = static_dim(session, false, 1);
  EXPECT_EQ(static_dim(session, true, 0), -1) << "batch must be dynamic";
  EXPECT_EQ(run_once(session, {1, features}), (std::vector<std::int64_t>{1, out}));
  EXPECT_EQ(run_once(session, {5, features}), (std::vector<std::int64_t>{5, out}));
}

TEST(ModelGen, TransformerRunsAtTwoBatchAndSequenceSizes) {
  auto session = load(generate_model_bytes(spec_of(ModelKind::transformer, kMiB)));
  std::int64_t d = static_dim(session, false, 2);
  EXPECT_EQ(run_once(session, {1, 16}), (std::vector<std::int64_t>{1, 16, d}));
  EXPECT_EQ(run_once(session, {3, 7}), (std::vector<std::int64_t>{3, 7, d}));
}

TEST(ModelGen, ConvRunsAtTwoImageSizes) {
  auto session = load(generate_model_bytes(spec_of(ModelKind::conv, kMiB)));
  std::int64_t channels = static_dim(session, false, 1);
  EXPECT_EQ(run_once(session, {1, 3, 32, 32}), (std::vector<std::int64_t>{1, channels}));
  EXPECT_EQ(run_once(session, {2, 3, 17, 45}), (std::vector<std::int64_t>{2, channels}));
}

TEST(ModelGen, OneLayerAndManyLayersStillRun) {
  for (auto kind : {ModelKind::mlp, ModelKind::transformer, ModelKind::conv}) {
    for (int layers : {1, 12}) {
      SCOPED_TRACE(std::string(model_kind_name(kind)) + " layers " + std::to_string(layers));
      auto session = load(generate_model_bytes(spec_of(kind, 512 * 1024, layers)));
      auto shape = kind == ModelKind::mlp           ? std::vector<std::int64_t>{2, 0}
                   : kind == ModelKind::transformer ? std::vector<std::int64_t>{2, 9}
                                                    : std::vector<std::int64_t>{1, 3, 20, 12};
      if (kind == ModelKind::mlp) shape[1] = static_dim(session, true, 1);
      EXPECT_EQ(run_once(session, shape).at(0), shape[0]);
    }
  }
}

TEST(ModelGen, WeightsLandWithinTenPercentOfTheSizeAsked) {
  struct Case {
    ModelKind kind;
    std::uint64_t bytes;
    int layers;
  };
  const Case cases[] = {{ModelKind::mlp, kMiB, 0},
                        {ModelKind::mlp, 8 * kMiB, 1},
                        {ModelKind::conv, kMiB, 0},
                        {ModelKind::conv, 8 * kMiB, 2},
                        {ModelKind::transformer, kMiB, 0},
                        {ModelKind::transformer, 8 * kMiB, 0},
                        {ModelKind::transformer, 64 * kMiB, 0},
                        {ModelKind::transformer, 64 * 1024, 6}};
  for (const auto& c : cases) {
    auto weights = initializer_bytes(generate_model_bytes(spec_of(c.kind, c.bytes, c.layers)));
    SCOPED_TRACE(std::string(model_kind_name(c.kind)) + " " + std::to_string(c.bytes));
    EXPECT_GE(weights, c.bytes * 9 / 10);
    EXPECT_LE(weights, c.bytes * 11 / 10);
  }
}

TEST(ModelGen, SameSeedSameBytesOtherSeedOtherBytes) {
  for (auto kind : {ModelKind::mlp, ModelKind::transformer, ModelKind::conv}) {
    auto a = generate_model_bytes(spec_of(kind, 256 * 1024, 0, 7));
    EXPECT_EQ(a, generate_model_bytes(spec_of(kind, 256 * 1024, 0, 7)));
    auto b = generate_model_bytes(spec_of(kind, 256 * 1024, 0, 8));
    EXPECT_EQ(a.size(), b.size()) << "the seed changes values, not the architecture";
    EXPECT_NE(a, b);
  }
}

void expect_input_error(const ModelSpec& spec, const std::string& must_mention) {
  try {
    generate_model_bytes(spec);
    ADD_FAILURE() << "expected InputError mentioning " << must_mention;
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(must_mention), std::string::npos) << e.what();
  }
}

TEST(ModelGen, BadSpecsNameTheFlag) {
  expect_input_error(spec_of(ModelKind::mlp, 0), "--weights");
  expect_input_error(spec_of(ModelKind::mlp, 2ull << 30), "--weights");
  expect_input_error(spec_of(ModelKind::transformer, 4 * 1024, 64), "--layers");
  expect_input_error(spec_of(ModelKind::conv, kMiB, kMaxModelLayers + 1), "--layers");
  expect_input_error(spec_of(ModelKind::mlp, kMiB, -1), "1 to 128");
  try {
    parse_model_kind("resnet");
    ADD_FAILURE() << "resnet is not a kind";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("--kind 'resnet'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mlp, transformer, conv"), std::string::npos);
  }
}

TEST(ModelGen, UnwritablePathIsAnInputErrorAndLeavesNothing) {
  std::string dir = test::make_temp_dir("gen-unwritable");
  std::string path = dir + "/missing-subdir/model.onnx";
  try {
    generate_model(spec_of(ModelKind::mlp, 64 * 1024), path);
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  std::filesystem::remove_all(dir);
}

TEST(ModelGen, WrittenFileIsTheBytesAndNoTemporaryRemains) {
  std::string dir = test::make_temp_dir("gen-write");
  std::string path = dir + "/model.onnx";
  auto spec = spec_of(ModelKind::conv, 128 * 1024);
  generate_model(spec, path);
  std::ifstream in(path, std::ios::binary);
  std::string written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(written, generate_model_bytes(spec));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir),
                          std::filesystem::directory_iterator()),
            1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace infermem
