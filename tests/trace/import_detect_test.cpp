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
