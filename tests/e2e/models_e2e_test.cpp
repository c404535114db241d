// gen-model and inspect as a user runs them: the file they write, the JSON they print, and
// exit code 2 with the file or flag named for every bad input.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/run_helpers.h"

using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::run_cli;

namespace {

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class ModelsE2E : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir("models-e2e"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void expect_usage_error(const std::vector<std::string>& args, const std::string& named) {
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(named), std::string::npos) << r.err;
  }

  std::string dir_;
};

TEST_F(ModelsE2E, InspectJsonShowsDimNamesAndVocabulary) {
  auto r = run_cli({"inspect", generated_model("transformer", "1MiB"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["inputs"][0]["name"], "input_ids");
  EXPECT_EQ(j["inputs"][0]["type"], "int64");
  EXPECT_EQ(j["inputs"][0]["dims"], nlohmann::json({"batch", "sequence"}));
  EXPECT_GE(j["inputs"][0]["vocab_size"].get<int>(), 16);
  EXPECT_EQ(j["outputs"][0]["name"], "hidden");
  EXPECT_EQ(j["opsets"]["ai.onnx"], 17);
  // Weights asked: 1 MiB. Within 10% is the contract; the sizing is much tighter.
  EXPECT_NEAR(j["weight_bytes"].get<double>(), 1 << 20, 0.1 * (1 << 20));
}

TEST_F(ModelsE2E, InspectTableShowsEveryKindsDynamicDims) {
  struct Case {
    const char* kind;
    const char* expect;
  };
  for (auto c : {Case{"mlp", "[batch, "}, Case{"conv", "[batch, 3, height, width]"},
                 Case{"transformer", "[batch, sequence]"}}) {
    auto r = run_cli({"inspect", generated_model(c.kind, "512KiB")});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.kind << ":\n" << r.out;
  }
}

TEST_F(ModelsE2E, SameSeedWritesTheSameFile) {
  auto gen = [&](const std::string& seed, const std::string& name) {
    auto r = run_cli({"gen-model", "--kind", "conv", "--weights", "256KiB", "--seed", seed, "-o",
                      dir_ + "/" + name});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return infermem::test::read_file(dir_ + "/" + name);
  };
  auto a = gen("3", "a.onnx");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, gen("3", "b.onnx"));
  EXPECT_NE(a, gen("4", "c.onnx"));
}

TEST_F(ModelsE2E, GenModelBadFlagsExitTwoAndWriteNothing) {
  std::string out = dir_ + "/m.onnx";
  expect_usage_error({"gen-model", "--kind", "resnet", "--weights", "1MiB", "-o", out},
                     "mlp, transformer, conv");
  expect_usage_error({"gen-model", "--kind", "mlp", "--weights", "lots", "-o", out}, "--weights");
  expect_usage_error(
      {"gen-model", "--kind", "mlp", "--weights", "1MiB", "--layers", "0", "-o", out}, "--layers");
  expect_usage_error(
      {"gen-model", "--kind", "mlp", "--weights", "1MiB", "--layers", "x", "-o", out}, "1 to 128");
  expect_usage_error({"gen-model", "--kind", "transformer", "--weights", "2KiB", "-o", out},
                     "too small");
  std::string unwritable = dir_ + "/no/such/dir/m.onnx";
  expect_usage_error({"gen-model", "--kind", "mlp", "--weights", "64KiB", "-o", unwritable},
                     unwritable);
  EXPECT_TRUE(std::filesystem::is_empty(dir_));
}

TEST_F(ModelsE2E, InspectBadFilesExitTwoNamingTheFile) {
  auto model = infermem::test::read_file(generated_model("transformer", "512KiB"));
  std::string missing = dir_ + "/missing.onnx";
  expect_usage_error({"inspect", missing}, missing);

  std::string truncated = dir_ + "/truncated.onnx";
  spit(truncated, model.substr(0, model.size() / 2));
  expect_usage_error({"inspect", truncated}, truncated);

  std::string corrupt = dir_ + "/corrupt.onnx";
  auto at = model.find("MatMul");  // structure, not weights: see model_info_test
  ASSERT_NE(at, std::string::npos);
  for (std::size_t i = at; i < at + 32; ++i) model[i] = static_cast<char>(model[i] ^ 0xFF);
  spit(corrupt, model);
  expect_usage_error({"inspect", corrupt}, corrupt);

  std::string text = dir_ + "/readme.onnx";
  spit(text, "# not a model\nJust some notes about a model.\n");
  expect_usage_error({"inspect", text}, text);
}

TEST_F(ModelsE2E, InspectRealOcrModel) {
  std::string path =
      std::string(INFERMEM_SOURCE_DIR) + "/third_party/models/ch_PP-OCRv4_det_infer.onnx";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is not downloaded";
  auto r = run_cli({"inspect", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["inputs"][0]["name"], "x");
  EXPECT_EQ(j["inputs"][0]["shape"][2], -1) << "height is dynamic";
  EXPECT_EQ(j["inputs"][0]["shape"][3], -1) << "width is dynamic";
}

}  // namespace
