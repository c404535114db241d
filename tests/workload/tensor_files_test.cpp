// The user's tensors for soak --inputs: .npy, .npz and ONNX TensorProto files, and how they are
// matched to a model's inputs and checked before any child starts.
#include "workload/tensor_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "infermem/error.h"
#include "support/files.h"
#include "support/models.h"
#include "workload/user_inputs.h"

using namespace infermem;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

std::string floats(std::initializer_list<float> v) {
  std::string s(v.size() * 4, '\0');
  std::memcpy(s.data(), std::data(v), s.size());
  return s;
}

void write(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

InputPlan plan(const std::string& name, int type, std::vector<std::int64_t> shape) {
  InputPlan p;
  p.name = name;
  p.element_type = type;
  p.shape = shape;
  for (auto d : shape) p.dim_keys.push_back(d < 0 ? name + ".d" : "");
  return p;
}

}  // namespace

TEST(TensorFiles, NpyKeepsTypeShapeAndBytes) {
  const std::string data = floats({1, 2, 3, 4, 5, 6});
  TensorData t = parse_npy(test::npy_bytes("<f4", {2, 3}, data), "a.npy");
  EXPECT_EQ(t.element_type, 1);
  EXPECT_EQ(t.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(t.bytes, data);
  TensorData v = parse_npy(test::npy_bytes("<i8", {3}, std::string(24, '\1')), "v.npy");
  EXPECT_EQ(v.element_type, 7);
  EXPECT_EQ(v.shape, (std::vector<std::int64_t>{3}));
}

TEST(TensorFiles, NpyThatSoakCannotFeedIsAnInputErrorNamingTheFile) {
  try {
    parse_npy(test::npy_bytes(">f4", {2}, floats({1, 2})), "big.npy");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("big.npy"));
    EXPECT_THAT(e.what(), HasSubstr("big-endian"));
  }
  EXPECT_THROW(parse_npy(test::npy_bytes("<f4", {2, 3}, floats({1, 2})), "short.npy"), InputError);
  EXPECT_THROW(parse_npy("not numpy", "x.npy"), InputError);
  EXPECT_THROW(parse_npy(test::npy_bytes("<c8", {1}, std::string(8, '\0')), "c.npy"), InputError);
}

TEST(TensorFiles, NpzMembersAreNamedTensors) {
  const std::string x = floats({1, 2, 3, 4, 5, 6, 7, 8});
  auto members =
      parse_npz(test::npz_bytes({{"x", test::npy_bytes("<f4", {1, 8}, x)},
                                 {"ids", test::npy_bytes("<i8", {1, 2}, std::string(16, '\2'))}}),
                "a.npz");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].name, "x");
  EXPECT_EQ(members[0].bytes, x);
  EXPECT_EQ(members[1].name, "ids");
  EXPECT_EQ(members[1].element_type, 7);
  EXPECT_THROW(parse_npz("PK\3\4 nothing", "bad.npz"), InputError);
}

TEST(TensorFiles, TensorProtoRawData) {
  const std::string dir = test::make_temp_dir("tensor-pb");
  const std::string data = floats({0.5f, -1, 2, 3});
  test::write_tensor_pb(dir + "/input_0.pb", "x", 1, {1, 4}, data);
  auto reqs = load_tensor_requests(dir + "/input_0.pb");
  ASSERT_EQ(reqs.size(), 1u);
  ASSERT_EQ(reqs[0].size(), 1u);
  EXPECT_EQ(reqs[0][0].name, "x");
  EXPECT_EQ(reqs[0][0].position, 0);
  EXPECT_EQ(reqs[0][0].bytes, data);
  write(dir + "/junk.pb", std::string("\xff\xff\xff\xff", 4));
  EXPECT_THROW(load_tensor_requests(dir + "/junk.pb"), InputError);
  fs::remove_all(dir);
}

TEST(TensorFiles, TestDataSetsAreRequestsInOrder) {
  const std::string dir = test::make_temp_dir("tensor-sets");
  for (int n : {0, 1, 10, 2}) {
    const std::string set = dir + "/test_data_set_" + std::to_string(n);
    fs::create_directories(set);
    test::write_tensor_pb(set + "/input_0.pb", "", 1, {1}, floats({static_cast<float>(n)}));
  }
  auto reqs = load_tensor_requests(dir);
  ASSERT_EQ(reqs.size(), 4u);
  float last = -1;
  for (const auto& r : reqs) {
    float v = 0;
    std::memcpy(&v, r[0].bytes.data(), 4);
    EXPECT_GT(v, last);
    last = v;
  }
  EXPECT_THROW(load_tensor_requests(dir + "/missing"), InputError);
  fs::remove_all(dir);
}

TEST(UserInputs, MismatchesNameTheInputExpectedAndGiven) {
  const std::string dir = test::make_temp_dir("user-inputs");
  std::vector<InputPlan> model{plan("x", 1, {-1, 8}), plan("ids", 7, {-1, -1})};
  write(dir + "/x.npy", test::npy_bytes("<f4", {1, 4}, floats({1, 2, 3, 4})));
  try {
    UserInputs u(model, dir + "/x.npy", "order", {}, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'x' expects float [?x8], given float [1x4]"));
  }
  write(dir + "/ids.npy", test::npy_bytes("<f4", {1, 2}, floats({1, 2})));
  try {
    UserInputs u(model, dir + "/ids.npy", "order", {}, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("input 'ids' expects int64 [?x?], given float [1x2]"));
  }
  write(dir + "/q.npz", test::npz_bytes({{"query", test::npy_bytes("<f4", {1}, floats({1}))}}));
  try {
    UserInputs u(model, dir + "/q.npz", "order", {}, 1);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("no input named 'query'"));
    EXPECT_THAT(e.what(), HasSubstr("x, ids"));
  }
  EXPECT_THROW(UserInputs(model, "", "order", {{"rate", "16000"}}, 1), InputError);
  EXPECT_THROW(UserInputs(model, "", "order", {{"ids", "1.5"}}, 1), InputError);
  EXPECT_NO_THROW(UserInputs(model, "", "order", {{"ids", "3"}}, 1));
  fs::remove_all(dir);
}

TEST(UserInputs, CyclesInOrderOrSeededRandom) {
  const std::string dir = test::make_temp_dir("user-cycle");
  std::vector<InputPlan> model{plan("x", 1, {1, 1})};
  for (int k = 0; k < 3; ++k)
    write(dir + "/r" + std::to_string(k) + ".npy",
          test::npy_bytes("<f4", {1, 1}, floats({static_cast<float>(k)})));
  auto sequence = [&](const std::string& order, std::uint64_t seed) {
    UserInputs u(model, dir, order, {}, seed);
    std::vector<float> got;
    for (int i = 0; i < 12; ++i) {
      const std::size_t req = u.next_request();
      float v = 0;
      std::memcpy(&v, u.tensor(req, 0)->bytes.data(), 4);
      got.push_back(v);
    }
    return got;
  };
  auto in_order = sequence("order", 1);
  EXPECT_EQ(in_order, (std::vector<float>{0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(sequence("random", 7), sequence("random", 7));
  EXPECT_NE(sequence("random", 7), in_order);
  fs::remove_all(dir);
}
