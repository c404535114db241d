// junit.xml checked against the common JUnit XML schema (tests/data/junit/junit.xsd) by a real
// validator, Debian's xmllint (libxml2-utils): the golden file, a real soak's with a failing gate
// check, and the renderer on hostile text. A file the schema rejects proves the check bites.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "infermem/render.h"
#include "support/browser.h"
#include "support/run_helpers.h"

using namespace infermem;
using namespace infermem::test;
using ::testing::HasSubstr;

namespace {

const std::string kSchema = std::string(INFERMEM_TESTDATA_DIR) + "/junit/junit.xsd";

ProgramResult validate(const std::string& xmllint, const std::string& xml_path) {
  return run_program({xmllint, "--noout", "--schema", kSchema, xml_path}, 60);
}

std::string xmllint_or_skip() {
  return find_program("xmllint");
}

}  // namespace

TEST(JunitSchema, GoldenAndRealSoakJunitValidate) {
  const std::string xmllint = xmllint_or_skip();
  if (xmllint.empty()) GTEST_SKIP() << "xmllint is not installed (Debian libxml2-utils)";
  auto golden =
      validate(xmllint, std::string(INFERMEM_TESTDATA_DIR) + "/report/run/expected-junit.xml");
  EXPECT_EQ(golden.exit_code, 0) << golden.err;

  const std::string out = make_temp_dir("junit-soak");
  auto r = run_cli({"soak", generated_model("mlp", "1MiB"), "--scenario", "steady", "--requests",
                    "20", "--arms", "ort-default,no-arena", "--max-peak", "1MiB", "--out", out});
  ASSERT_EQ(r.exit_code, 1) << "a 1 MiB peak limit fails: " << r.err;
  const std::string junit = read_file(out + "/junit.xml");
  ASSERT_THAT(junit, HasSubstr("<failure "));
  auto soak = validate(xmllint, out + "/junit.xml");
  EXPECT_EQ(soak.exit_code, 0) << soak.err;
}

TEST(JunitSchema, HostileTextStillValidatesAndABrokenFileDoesNot) {
  const std::string xmllint = xmllint_or_skip();
  if (xmllint.empty()) GTEST_SKIP() << "xmllint is not installed (Debian libxml2-utils)";
  const std::string dir = make_temp_dir("junit-hostile");
  const std::string xml = render_junit(
      "suite <&>\"'", {{"arm\xff<1>", "max-growth", false, "grew \x01 & <b>\"more\"</b> ]]>"},
                       {"arm 2", "max-peak", true, "within", true},
                       {"arm 3", "run", true, "ok \xc3\xa9\t\r\n"}});
  std::ofstream(dir + "/hostile.xml") << xml;
  auto ok = validate(xmllint, dir + "/hostile.xml");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  std::string broken = xml;
  // Well-formed XML, but an attribute the schema does not define.
  broken.replace(broken.find("<testcase "), 10, "<testcase verdict=\"leak\" ");
  std::ofstream(dir + "/broken.xml") << broken;
  auto bad = validate(xmllint, dir + "/broken.xml");
  EXPECT_NE(bad.exit_code, 0) << "the schema accepted an element it does not define";
}
