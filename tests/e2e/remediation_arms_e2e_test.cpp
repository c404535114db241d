// End-to-end: every command and arm the pattern catalogue prints works. For every verdict kind,
// each `infermem ...` command in its remediations names a real command, every flag is one soak
// accepts, every `--arms` / `--arm` spec parses, and the printed soak command runs to exit 0 on a
// tiny generated model (5 requests, steady scenario).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "infermem/arms.h"
#include "infermem/verdict.h"
#include "support/run_helpers.h"
#include "verdict/patterns.h"

using namespace infermem;
using namespace infermem::test;

namespace {

// The commands `infermem --help` lists.
const std::set<std::string> kCommands = {"soak",     "watch",   "analyze", "diff",
                                         "snapshot", "inspect", "report",  "gen-model"};

// Words of a command as a shell would split them (single quotes group), up to the end of the
// command: a word opening a parenthesis, or the end of the text.
std::vector<std::string> shell_words(const std::string& text, std::size_t from) {
  std::vector<std::string> words;
  std::string word;
  bool quoted = false, in_word = false;
  for (std::size_t i = from; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      quoted = !quoted;
      in_word = true;
      continue;
    }
    if (!quoted && (c == ' ' || c == '\t')) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    if (!quoted && !in_word && c == '(') break;
    if (!quoted && c == '`') break;  // `infermem soak` named in running text
    word += c;
    in_word = true;
  }
  if (in_word) words.push_back(word);
  return words;
}

struct Printed {
  std::string text;                // the remediation
  std::vector<std::string> words;  // after "infermem"
};

std::vector<Printed> printed_commands() {
  std::vector<Printed> out;
  for (VerdictKind kind : kVerdictKinds)
    for (const auto& text : remediation_texts(kind))
      for (auto at = text.find("infermem "); at != std::string::npos;
           at = text.find("infermem ", at + 1))
        out.push_back({text, shell_words(text, at + 9)});
  return out;
}

std::string all_catalogue_text() {
  std::string all;
  for (const auto& p : pattern_catalogue()) {
    all += p.signature + "\n";
    for (const auto& c : p.causes) all += c + "\n";
    for (const auto& r : remediation_texts(p.kind)) all += r + "\n";
  }
  return all;
}

}  // namespace

TEST(RemediationArms, EveryKindPrintsASoakCommand) {
  for (VerdictKind kind : kVerdictKinds) {
    bool found = false;
    for (const auto& text : remediation_texts(kind))
      found = found || text.find("infermem soak MODEL.onnx") != std::string::npos;
    EXPECT_TRUE(found) << name(kind);
  }
}

TEST(RemediationArms, NoTextNamesACommandThatDoesNotExist) {
  std::string all = all_catalogue_text();
  int named = 0;
  for (auto at = all.find("infermem "); at != std::string::npos;
       at = all.find("infermem ", at + 1)) {
    std::string rest = all.substr(at + 9);
    std::string word = rest.substr(0, rest.find_first_not_of("abcdefghijklmnopqrstuvwxyz-"));
    EXPECT_TRUE(kCommands.count(word)) << "names 'infermem " << word << "', not a command";
    ++named;
  }
  EXPECT_GE(named, 7);
}

TEST(RemediationArms, EveryPrintedArmParses) {
  int arms_seen = 0;
  for (const auto& p : printed_commands()) {
    SCOPED_TRACE(p.text);
    for (std::size_t i = 0; i + 1 < p.words.size(); ++i) {
      if (p.words[i] == "--arms") {
        EXPECT_NO_THROW(resolve_arms(p.words[i + 1], {}));
        ++arms_seen;
      }
      if (p.words[i] == "--arm") {
        EXPECT_NO_THROW(parse_custom_arm(p.words[i + 1]));
        ++arms_seen;
      }
    }
  }
  EXPECT_GE(arms_seen, 7) << "one --arms list per kind at least";
}

TEST(RemediationArms, EveryPrintedSoakCommandRunsOnATinyModel) {
  std::string model = generated_model("mlp", "256KiB");
  auto help = run_cli({"soak", "--help"});
  ASSERT_EQ(help.exit_code, 0) << help.err;
  std::set<std::vector<std::string>> seen;
  int runs = 0;
  for (const auto& p : printed_commands()) {
    SCOPED_TRACE(p.text);
    ASSERT_FALSE(p.words.empty());
    ASSERT_TRUE(kCommands.count(p.words[0])) << p.words[0];
    // A command named in running text ("`infermem soak` with the same model") is not one to copy.
    if (p.words[0] != "soak" || p.words.size() < 2) continue;
    EXPECT_EQ(p.words[1], "MODEL.onnx");
    // The command as printed, on the tiny model; 5 requests of the steady scenario (a printed
    // --requests is replaced), and --allow-short where it gates: 5 requests are too short to
    // judge, and that is not what this test is about.
    std::vector<std::string> args = {"soak", model};
    bool gated = false;
    // Every flag the catalogue prints takes one value; a word where a flag would be ends the
    // command (the sentence goes on).
    for (std::size_t i = 2; i + 1 < p.words.size() && p.words[i].rfind("--", 0) == 0; i += 2) {
      const std::string& flag = p.words[i];
      EXPECT_NE(help.out.find(flag), std::string::npos) << flag << " is not a soak flag";
      if (flag == "--fail-on") gated = true;
      if (flag == "--requests") continue;
      args.push_back(flag);
      args.push_back(p.words[i + 1]);
    }
    if (!seen.insert(args).second) continue;
    std::string out = make_temp_dir("remediation");
    for (const char* extra : {"--requests", "5", "--scenario", "steady", "--out"})
      args.push_back(extra);
    args.push_back(out);
    if (gated) args.push_back("--allow-short");
    auto r = run_cli(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 0) << shown << "\n" << r.err;
    ++runs;
    std::filesystem::remove_all(out);
  }
  EXPECT_GE(runs, 7);
}
