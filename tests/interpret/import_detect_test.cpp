// Format detection and the errors every importer shares: empty, missing, unknown.
#include <gtest/gtest.h>

#include "infermem/error.h"
#include "infermem/importers.h"

using namespace infermem;

TEST(ImportDetect, RecognisesEveryFormatByContent) {
  EXPECT_EQ(detect_format(R"({"v":1,"type":"sample","t_ms":0,"rss_bytes":1})"), "trace");
  EXPECT_EQ(detect_format("START RequestId: 1\nREPORT RequestId: 1 Max Memory Used: 1 MB\n"),
            "lambda");
  EXPECT_EQ(detect_format(R"({"events": [{"message": "REPORT RequestId: x"}]})"), "lambda");
  EXPECT_EQ(detect_format("# Elapsed time   CPU (%)     Real (MB)      Virtual (MB)\n"),
            "psrecord");
  EXPECT_EQ(detect_format("time,rss\n0,1\n"), "csv");
  EXPECT_EQ(detect_format("Elapsed_S;Memory_MiB\n0;1\n"), "csv");
  EXPECT_EQ(detect_format("hello world\n"), "");
}

TEST(ImportDetect, AutoReadsTheTestDataInTheirFormats) {
  const std::string dir = std::string(INFERMEM_TESTDATA_DIR) + "/analyze/";
  const std::pair<const char*, const char*> expected[] = {{"lambda_report.txt", "lambda"},
                                                          {"lambda_events.json", "lambda"},
                                                          {"lambda_json_lines.jsonl", "lambda"},
                                                          {"leak.csv", "csv"},
                                                          {"flat.csv", "csv"},
                                                          {"psrecord.log", "psrecord"}};
  for (const auto& [file, format] : expected)
    EXPECT_EQ(import_file(dir + file, ImportOptions{}).format, format) << file;
}

TEST(ImportDetect, EmptyMissingAndUnknownInputsNameTheFile) {
  auto message_of = [](const std::string& text, const std::string& format = "auto") {
    ImportOptions options;
    options.format = format;
    options.source_name = "mem.log";
    try {
      import_text(text, options);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("").find("mem.log: the file is empty"), std::string::npos);
  EXPECT_NE(message_of("  \n\n").find("empty"), std::string::npos);
  EXPECT_NE(message_of("hello\n").find("mem.log: cannot tell its format"), std::string::npos);
  EXPECT_NE(message_of("time,rss\n", "yaml").find("--format"), std::string::npos);
  try {
    import_file("/nonexistent/infermem/mem.csv", ImportOptions{});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/infermem/mem.csv"), std::string::npos);
  }
}

// The fuzz input that aborted import_auto_fuzz: a trace whose samples carry rss_bytes -1000,
// some under mangled keys. Auto-detection reads it as a trace, and the importer skips and counts
// those lines instead of keeping the negative figure.
TEST(ImportDetect, AnAutoDetectedTraceSkipsNegativeAndMangledFiguresAndCountsThem) {
  const std::string text =
      R"({"v":1,"type":"sample","t_ms":0,"pid":3,"rss_bytes":1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":1,"pid":3,"rss_bytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":2,"pid":3,"rss_bytes":5,"rss\u005fbytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":3,"pid":3,"RSS_bytes":5,"hwm_bytes":-1000})"
      "\n"
      R"({"v":1,"type":"sample","t_ms":4,"pid":3,"rss_bytes":2000})"
      "\n";
  EXPECT_EQ(detect_format(text), "trace");
  auto imported = import_text(text, ImportOptions{});
  EXPECT_EQ(imported.format, "trace");
  EXPECT_EQ(imported.lines, 5u);
  EXPECT_EQ(imported.skipped_lines, 3u);
  ASSERT_EQ(imported.series.size(), 1u);
  const auto& points = imported.series[0].series.points;
  ASSERT_EQ(points.size(), 2u);
  EXPECT_DOUBLE_EQ(points[0].current_bytes, 1000);
  EXPECT_DOUBLE_EQ(points[1].current_bytes, 2000);
}
