// inspect --measure on generated models whose weight bytes are known: the card's initializer
// part is the weights asked for, its parts add up to the steady level, and bad input is exit 2
// with the file, the flag or the input named.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include <signal.h>

#include "support/metrics_helpers.h"
#include "support/run_helpers.h"

using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::run_cli;
namespace fs = std::filesystem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

nlohmann::json measure(const std::string& model, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"inspect", model, "--measure", "--json", "--requests", "5"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

double part_bytes(const nlohmann::json& card, const std::string& key) {
  for (const auto& p : card.at("parts"))
    if (p.at("key") == key) return p.at("bytes").get<double>();
  ADD_FAILURE() << "no part " << key;
  return 0;
}

void check_card(const nlohmann::json& card, double weights) {
  // gen-model's weights are within 1% of the size asked (docs/models.md); the contract here is
  // +-10% or 1 MiB, whichever is larger.
  EXPECT_NEAR(part_bytes(card, "initializers"), weights, std::max(0.1 * weights, kMiB));
  const auto& levels = card.at("levels");
  const double steady = levels.at("steady_bytes").get<double>();
  const double baseline = levels.at("baseline_bytes").get<double>();
  // The weights are resident once loaded, and the load peak holds them too.
  EXPECT_GT(steady, baseline + 0.9 * weights);
  EXPECT_GE(levels.at("load_peak_bytes").get<double>(), baseline + 0.9 * weights);
  for (const char* key : {"prepacked", "arena", "other_heap", "ort_code"})
    EXPECT_TRUE(std::isfinite(part_bytes(card, key))) << key;
  // The parts add up to the steady level within a margin. What they leave ("rest") is pages
  // the process had before any session: infermem's own, libc's, libstdc++'s, thread stacks. It
  // is bounded by the baseline (taken in the same child before the session, ~26 MiB here), plus
  // 5% of the steady level for pages a busy machine's page cache and the sampler move; RSS of
  // one process does not depend on its neighbours' load unless memory runs short. The lower
  // bound allows malloc counting up to 5% of blocks it never touched.
  const double rest = card.at("rest_bytes").get<double>();
  EXPECT_LE(rest, baseline + 0.05 * steady) << card.dump(2);
  EXPECT_GE(rest, -0.05 * steady) << card.dump(2);
  EXPECT_NEAR(card.at("parts_bytes").get<double>() + rest, steady, 1.0);
  // One peak per shape (mlp: batch 1 and 4), each at least the steady level's weights.
  ASSERT_EQ(card.at("shapes").size(), 2u) << card.dump(2);
  for (const auto& s : card.at("shapes")) EXPECT_GT(s.at("peak_bytes").get<double>(), weights);
  EXPECT_LT(levels.at("after_trim_bytes").get<double>(), steady - 0.5 * weights);
  // What stays after unload and trim: the parts that could be read, rest included, are the
  // retained figure exactly.
  double kept = 0, ort_state = std::nan("");
  for (const auto& p : card.at("retained_parts")) {
    if (p.at("bytes").is_null()) continue;
    kept += p.at("bytes").get<double>();
    if (p.at("key") == "ort_state") ort_state = p.at("bytes").get<double>();
  }
  EXPECT_NEAR(kept, levels.at("retained_bytes").get<double>(), 1.0) << card.dump(2);
#if !defined(INFERMEM_SANITIZED)
  // ORT's process state is its CPU kernel registry, the same for any model: ~1.26 MiB of blocks
  // on ONNX Runtime 1.29 (docs/memory-card.md). Read from glibc's counters, which the machine's
  // load does not move; 256 KiB to 16 MiB tells "the registry" from nothing and from a model.
  EXPECT_GT(ort_state, 256 * 1024.0) << card.dump(2);
  EXPECT_LT(ort_state, 16 * kMiB) << card.dump(2);
#else
  (void)ort_state;  // a sanitizer's allocator has no mallinfo2: the part is absent
#endif
}

TEST(MemoryCardE2E, SixteenAndSixtyFourMiBOfWeightsSplitAsKnown) {
  for (const char* size : {"16MiB", "64MiB"}) {
    SCOPED_TRACE(size);
    const auto card = measure(generated_model("mlp", size));
    check_card(card, (std::string(size) == "16MiB" ? 16 : 64) * kMiB);
  }
}

TEST(MemoryCardE2E, GivenShapesAreMeasuredOneChildEachAndTextAndMarkdownRender) {
  const std::string model = generated_model("mlp", "4MiB");
  const auto card = measure(model, {"--shape", "2x590", "--shape", "input=8x590"});
  ASSERT_EQ(card.at("shapes").size(), 2u);
  EXPECT_EQ(card.at("shapes")[0].at("shape"), "input[2x590]");
  EXPECT_EQ(card.at("shapes")[1].at("shape"), "input[8x590]");
  auto text = run_cli({"inspect", model, "--measure", "--requests", "2", "--shape", "1x590"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("split of the steady level"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("session.disable_prepacking"), std::string::npos);
  auto md =
      run_cli({"inspect", model, "--measure", "--markdown", "--requests", "2", "--shape", "1x590"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("# Memory card", 0), 0u) << md.out;
}

TEST(MemoryCardE2E, BadInputIsExitTwoNamingWhatIsWrong) {
  const std::string dir = make_temp_dir("card-e2e");
  const std::string junk = dir + "/junk.onnx";
  std::ofstream(junk) << "this is not a protobuf";
  const std::string model = generated_model("mlp", "512KiB");
  struct Case {
    std::vector<std::string> args;
    std::string named;
  };
  const std::vector<Case> cases{
      {{"inspect", dir + "/missing.onnx", "--measure"}, "missing.onnx"},
      {{"inspect", junk, "--measure"}, "junk.onnx"},
      {{"inspect", model, "--measure", "--shape", "1x2x3"}, "input 'input' has 2 dimensions"},
      {{"inspect", model, "--measure", "--shape", "1xabc"}, "'abc' is not a whole number"},
      {{"inspect", model, "--measure", "--shape", "1x7"}, "is fixed at"},
      {{"inspect", model, "--measure", "--shape", "nope=1x7"}, "no input named 'nope'"},
      {{"inspect", model, "--measure", "--requests", "0"}, "--requests"},
      {{"inspect", model, "--measure", "--json", "--markdown"}, "--markdown"},
      {{"inspect", model, "--shape", "1x7"}, "only with --measure"},
      {{"inspect", model, "--requests", "5"}, "--measure"},
  };
  for (const auto& c : cases) {
    auto r = run_cli(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.named << ": " << r.err;
    EXPECT_NE(r.err.find(c.named), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  std::filesystem::remove_all(dir);
}

// Ctrl-C while the children run: exit 130, no card, and the children's temporary directory
// (under TMPDIR, pointed at a directory of the test's own) removed.
TEST(MemoryCardE2E, CtrlCStopsTheChildrenExits130AndLeavesNoTemporaryFiles) {
  const std::string tmp = make_temp_dir("card-ctrl-c");
  auto running = infermem::test::start_cli(
      {"inspect", generated_model("mlp", "4MiB"), "--measure", "--requests", "100000"},
      {"TMPDIR=" + tmp});
  // Waits (at most kPatienceSeconds, only so a wedged run fails) until the children's directory
  // exists: the first child has been started.
  const bool started = infermem::test::eventually(infermem::test::kPatienceSeconds, [&] {
    for (const auto& e : fs::directory_iterator(tmp))
      if (e.path().filename().string().rfind("infermem-card-", 0) == 0) return true;
    return false;
  });
  kill(running.pid, SIGINT);
  auto r = infermem::test::wait_cli(running);
  ASSERT_TRUE(started) << r.err;
  EXPECT_EQ(r.exit_code, 130) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  // Only infermem's own entries count: libraries the children load may write their own logs.
  std::string left;
  for (const auto& e : fs::recursive_directory_iterator(tmp))
    if (e.path().string().find("infermem-card-", tmp.size()) != std::string::npos)
      left += e.path().string() + "\n";
  EXPECT_TRUE(left.empty()) << "left behind:\n" << left;
  fs::remove_all(tmp);
}

}  // namespace
