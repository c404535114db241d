// End-to-end: the built program, as a user runs it.
#include <gtest/gtest.h>

#include "support/run_helpers.h"

using infermem::test::run_cli;

TEST(Cli, VersionNamesItselfAndTheLoadedOnnxRuntime) {
  auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("infermem 0."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ONNX Runtime 1.29"), std::string::npos) << r.out;
}

TEST(Cli, HelpListsEveryCommand) {
  auto r = run_cli({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"gen-model", "inspect"})
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd << " missing from:\n" << r.out;
}

TEST(Cli, UnknownCommandIsAUsageError) {
  auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("frobnicate"), std::string::npos) << r.err;
}
