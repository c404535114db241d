// The memory card's arithmetic on given measurements: each part from its own figures, the rest
// what none explains, absent figures left out with a note, negative differences kept and noted.
#include <gtest/gtest.h>

#include <cmath>

#include "infermem/memory_card.h"

using namespace infermem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

CardMeasurements measured() {
  CardMeasurements m;
  m.model_path = "model.onnx";
  m.weight_bytes = 64 * 1024 * 1024;
  m.baseline_bytes = 20 * kMiB;
  m.load_peak_bytes = 200 * kMiB;
  m.steady_bytes = 120 * kMiB;
  m.malloc_in_use_bytes = 84 * kMiB;
  m.malloc_free_bytes = 6 * kMiB;  // the allocator holds 90 MiB
  m.ort_code_bytes = 15 * kMiB;
  m.after_unload_bytes = 40 * kMiB;
  m.after_trim_bytes = 22 * kMiB;
  m.steady_no_prepack_bytes = 110 * kMiB;
  m.steady_no_arena_bytes = 116 * kMiB;
  m.shape_peaks = {{"x[1x16]", 125 * kMiB}, {"x[4x64]", 150 * kMiB}, {"x[1x8]", kAbsent}};
  return m;
}

const CardPart& part(const MemoryCard& card, const std::string& key) {
  for (const auto& p : card.parts)
    if (p.key == key) return p;
  throw std::runtime_error("no part " + key);
}

}  // namespace

TEST(MemoryCard, EachPartIsItsOwnDifferenceAndTheRestIsWhatNoneExplains) {
  const MemoryCard card = build_memory_card(measured());
  ASSERT_EQ(card.parts.size(), 6u);
  EXPECT_EQ(card.parts.front().key, "initializers");
  EXPECT_EQ(card.parts.back().key, "rest");
  EXPECT_DOUBLE_EQ(part(card, "initializers").bytes, 64 * kMiB);
  EXPECT_DOUBLE_EQ(part(card, "prepacked").bytes, 10 * kMiB);   // 120 - 110
  EXPECT_DOUBLE_EQ(part(card, "arena").bytes, 4 * kMiB);        // 120 - 116
  EXPECT_DOUBLE_EQ(part(card, "other_heap").bytes, 12 * kMiB);  // 84 + 6 - 64 - 10 - 4
  EXPECT_DOUBLE_EQ(part(card, "ort_code").bytes, 15 * kMiB);
  EXPECT_DOUBLE_EQ(card.parts_bytes, 105 * kMiB);  // the allocator's heap + code
  EXPECT_DOUBLE_EQ(card.rest_bytes, 15 * kMiB);    // 120 - 105
  EXPECT_DOUBLE_EQ(part(card, "rest").bytes, 15 * kMiB);
  EXPECT_DOUBLE_EQ(card.retained_bytes, 2 * kMiB);              // after trim 22 - baseline 20
  EXPECT_DOUBLE_EQ(card.largest_shape_peak_bytes, 150 * kMiB);  // the absent one skipped
  EXPECT_TRUE(card.notes.empty());
}

TEST(MemoryCard, EveryPartNamesTheSettingsThatChangeIt) {
  const MemoryCard card = build_memory_card(measured());
  for (const auto& p : card.parts) {
    EXPECT_FALSE(p.settings.empty()) << p.key;
    EXPECT_FALSE(p.method.empty()) << p.key;
  }
  auto names = [&](const std::string& key, const std::string& setting) {
    for (const auto& s : part(card, key).settings)
      if (s.find(setting) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(names("prepacked", "session.disable_prepacking"));
  EXPECT_TRUE(names("arena", "arena=off"));
  EXPECT_TRUE(names("arena", "session.use_env_allocators"));
  EXPECT_TRUE(names("initializers", "session.use_device_allocator_for_initializers"));
  EXPECT_TRUE(names("initializers", "external data"));
}

TEST(MemoryCard, AnAbsentFigureLeavesItsPartOutOfTheSumWithANote) {
  CardMeasurements m = measured();
  m.ort_code_bytes = kAbsent;
  m.after_trim_bytes = kAbsent;  // retained falls back to after unload
  const MemoryCard card = build_memory_card(m);
  EXPECT_TRUE(std::isnan(part(card, "ort_code").bytes));
  EXPECT_DOUBLE_EQ(card.parts_bytes, 90 * kMiB);
  EXPECT_DOUBLE_EQ(card.rest_bytes, 30 * kMiB);
  EXPECT_DOUBLE_EQ(card.retained_bytes, 20 * kMiB);
  ASSERT_EQ(card.notes.size(), 1u);
  EXPECT_NE(card.notes[0].find("ORT code pages touched could not be measured"), std::string::npos);
}

TEST(MemoryCard, ANegativeDifferenceIsKeptAndNoted) {
  CardMeasurements m = measured();
  m.steady_no_prepack_bytes = 121 * kMiB;  // prepacking off came out larger
  const MemoryCard card = build_memory_card(m);
  EXPECT_DOUBLE_EQ(part(card, "prepacked").bytes, -1 * kMiB);
  // Subtracted as it is, so the named parts still sum to heap + code: 90 - 64 + 1 - 4.
  EXPECT_DOUBLE_EQ(part(card, "other_heap").bytes, 23 * kMiB);
  EXPECT_DOUBLE_EQ(card.parts_bytes, 105 * kMiB);
  ASSERT_EQ(card.notes.size(), 1u);
  EXPECT_NE(card.notes[0].find("negative"), std::string::npos);
}

TEST(MemoryCard, NoSteadyLevelMeansNoRest) {
  CardMeasurements m = measured();
  m.steady_bytes = kAbsent;
  const MemoryCard card = build_memory_card(m);
  EXPECT_TRUE(std::isnan(card.rest_bytes));
  EXPECT_TRUE(std::isnan(part(card, "prepacked").bytes));
  EXPECT_TRUE(std::isnan(part(card, "arena").bytes));
}

// What stays after unload and trim: ORT's process state is the one-node child's figure, the
// session's leftovers the rest of the blocks in use, the pinned pages anonymous memory beyond
// the blocks, the file-backed pages their own difference; the rest closes the sum.
TEST(MemoryCard, WhatStaysSplitsIntoOrtStateLeftoversPinnedPagesAndFiles) {
  CardMeasurements m;
  m.baseline_bytes = 26 * kMiB;
  m.after_trim_bytes = 36 * kMiB;  // retained 10 MiB
  m.baseline_anon_bytes = 8 * kMiB;
  m.after_trim_anon_bytes = 10.5 * kMiB;  // +2.5 anonymous
  m.baseline_file_bytes = 18 * kMiB;
  m.after_trim_file_bytes = 25.5 * kMiB;  // +7.5 file-backed
  m.baseline_malloc_in_use_bytes = 7 * kMiB;
  m.after_trim_malloc_in_use_bytes = 8.5 * kMiB;  // +1.5 in use
  m.ort_state_in_use_bytes = 1.25 * kMiB;
  const MemoryCard card = build_memory_card(m);
  ASSERT_EQ(card.retained_parts.size(), 5u);
  auto bytes = [&](const std::string& key) {
    for (const auto& p : card.retained_parts)
      if (p.key == key) return p.bytes;
    ADD_FAILURE() << key;
    return kAbsent;
  };
  EXPECT_DOUBLE_EQ(bytes("ort_state"), 1.25 * kMiB);
  EXPECT_DOUBLE_EQ(bytes("session_leftovers"), 0.25 * kMiB);
  EXPECT_DOUBLE_EQ(bytes("pinned_pages"), 1.0 * kMiB);
  EXPECT_DOUBLE_EQ(bytes("file_backed"), 7.5 * kMiB);
  EXPECT_DOUBLE_EQ(bytes("rest"), 0.0);
  for (const auto& p : card.retained_parts) EXPECT_FALSE(p.settings.empty()) << p.key;
}

TEST(MemoryCard, WithoutTheOneNodeChildOrtStateAndLeftoversAreAbsent) {
  CardMeasurements m;
  m.baseline_bytes = 26 * kMiB;
  m.after_trim_bytes = 36 * kMiB;
  m.baseline_malloc_in_use_bytes = 7 * kMiB;
  m.after_trim_malloc_in_use_bytes = 8.5 * kMiB;
  const MemoryCard card = build_memory_card(m);
  EXPECT_FALSE(present(card.retained_parts.at(0).bytes));
  EXPECT_FALSE(present(card.retained_parts.at(1).bytes));
}
