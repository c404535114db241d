// The memory card's renderers against a fixed card: the exact bytes of text, Markdown and JSON
// are kept in tests/data/report/card/ (INFERMEM_UPDATE_GOLDEN=1 rewrites them; review with git
// diff), and the JSON carries every field docs/memory-card.md names.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "infermem/error.h"
#include "infermem/memory_card.h"
#include "infermem/render.h"

using namespace infermem;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;
const std::string kCardDir = std::string(INFERMEM_TESTDATA_DIR) + "/report/card";

MemoryCard fixed_card() {
  CardMeasurements m;
  m.model_path = "model.onnx";
  m.file_bytes = 16 * 1024 * 1024 + 2048;
  m.weight_bytes = 16 * 1024 * 1024;
  m.ort_version = "1.29.0";
  m.requests = 20;
  m.warm_requests = 3;
  m.seed = 1;
  m.baseline_bytes = 21.5 * kMiB;
  m.load_peak_bytes = 71.25 * kMiB;
  m.steady_bytes = 60 * kMiB;
  m.malloc_in_use_bytes = 26 * kMiB;
  m.malloc_free_bytes = 4 * kMiB;
  m.ort_code_bytes = 14 * kMiB;
  m.arena_reserved_bytes = 20 * kMiB;
  m.after_unload_bytes = 40 * kMiB;
  m.after_trim_bytes = 23 * kMiB;
  m.baseline_anon_bytes = 7 * kMiB;
  m.after_trim_anon_bytes = 8.5 * kMiB;
  m.baseline_file_bytes = 14.5 * kMiB;
  m.after_trim_file_bytes = 14.5 * kMiB;
  m.baseline_malloc_in_use_bytes = 6 * kMiB;
  m.after_trim_malloc_in_use_bytes = 7.25 * kMiB;
  m.ort_state_in_use_bytes = 1.125 * kMiB;
  m.steady_no_prepack_bytes = 61 * kMiB;  // a negative difference: a note
  m.steady_no_arena_bytes = 57 * kMiB;
  m.shape_peaks = {{"input[1x1024]", 62 * kMiB}, {"input[4x1024]", 66.5 * kMiB}};
  return build_memory_card(m);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void expect_golden(const std::string& rendered, const std::string& name) {
  const std::string path = kCardDir + "/" + name;
  if (std::getenv("INFERMEM_UPDATE_GOLDEN")) {
    std::ofstream(path, std::ios::binary) << rendered;
    return;
  }
  EXPECT_EQ(rendered, read_text(path))
      << "renderer output differs from " << name << " (INFERMEM_UPDATE_GOLDEN=1 rewrites it)";
}

}  // namespace

TEST(MemoryCardRender, TextIsTheGolden) {
  expect_golden(render(fixed_card(), Format::terminal), "card.txt");
}

TEST(MemoryCardRender, MarkdownIsTheGolden) {
  expect_golden(render(fixed_card(), Format::markdown), "card.md");
}

TEST(MemoryCardRender, JsonIsTheGoldenAndHasTheDocumentedFields) {
  const std::string text = render(fixed_card(), Format::json);
  expect_golden(text, "card.json");
  const auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j.at("card_version"), 1);
  EXPECT_EQ(j.at("model").at("weight_bytes"), 16 * 1024 * 1024);
  for (const char* k : {"baseline_bytes", "load_peak_bytes", "steady_bytes", "after_unload_bytes",
                        "after_trim_bytes", "retained_bytes"})
    EXPECT_TRUE(j.at("levels").at(k).is_number()) << k;
  ASSERT_EQ(j.at("parts").size(), 6u);
  double sum = 0;
  for (const auto& p : j.at("parts")) {
    EXPECT_TRUE(p.at("settings").is_array());
    sum += p.at("bytes").get<double>();
  }
  // The parts, rest included, are the steady level exactly.
  EXPECT_DOUBLE_EQ(sum, j.at("levels").at("steady_bytes").get<double>());
  EXPECT_EQ(j.at("shapes").size(), 2u);
  EXPECT_EQ(j.at("notes").size(), 1u);
  // What stays splits the same way: its parts, rest included, are the retained figure.
  ASSERT_EQ(j.at("retained_parts").size(), 5u);
  double kept = 0;
  for (const auto& p : j.at("retained_parts")) kept += p.at("bytes").get<double>();
  EXPECT_DOUBLE_EQ(kept, j.at("levels").at("retained_bytes").get<double>());
}

TEST(MemoryCardRender, AnAbsentFigureIsNullInJsonAndNaInText) {
  CardMeasurements m = fixed_card().measured;
  m.ort_code_bytes = kAbsent;
  const MemoryCard card = build_memory_card(m);
  const auto j = nlohmann::json::parse(render(card, Format::json));
  EXPECT_TRUE(j.at("measured").at("ort_code_bytes").is_null());
  EXPECT_NE(render(card, Format::terminal).find("n/a"), std::string::npos);
}

TEST(MemoryCardRender, JunitAndHtmlAreRefused) {
  EXPECT_THROW(render(fixed_card(), Format::junit), InputError);
  EXPECT_THROW(render(fixed_card(), Format::html), InputError);
}
