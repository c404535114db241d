// End-to-end: hostile input cannot hurt the host. Every command is given devices, FIFOs,
// directories, symlinks, huge and malformed numbers; each row asserts the exit code, that the
// message names the bad value or file, and that nothing new is left on disk. Special files are
// made with mknod/mkfifo inside a temp dir, never in the real /dev.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "support/run_helpers.h"

using infermem::test::CliResult;
using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::run_cli;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

struct Row {
  std::string name;               // gtest name of the row
  std::vector<std::string> args;  // "{dir}" is the row's temp dir, "{model}" a tiny mlp model
  int exit_code = 2;
  std::vector<std::string> says;  // each must be in stderr ("{dir}" replaced)
};

// gtest prints a parameter it cannot format as raw bytes in every test's name line.
void PrintTo(const Row& row, std::ostream* os) {
  *os << row.name;
}

// Everything under `dir`, each entry with its kind, so a device replaced by a file shows.
std::map<std::string, std::string> listing(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    struct stat st {};
    ::lstat(it->path().c_str(), &st);
    std::string kind = S_ISREG(st.st_mode)    ? "file " + std::to_string(st.st_size)
                       : S_ISDIR(st.st_mode)  ? "dir"
                       : S_ISLNK(st.st_mode)  ? "link"
                       : S_ISCHR(st.st_mode)  ? "chr"
                       : S_ISFIFO(st.st_mode) ? "fifo"
                                              : "other";
    out[fs::relative(it->path(), dir).string()] = kind;
    if (S_ISLNK(st.st_mode)) it.disable_recursion_pending();
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

class HostileInput : public ::testing::TestWithParam<Row> {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("hostile");
    // zero and null: the character devices 1,5 and 1,3, made here; a model, a config and a
    // run's summary that are FIFOs; a directory; links to the device and the FIFO; an old run
    // whose report.md is a link to the device.
    if (::mknod((dir_ + "/zero").c_str(), S_IFCHR | 0666, makedev(1, 5)) != 0 ||
        ::mknod((dir_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
      GTEST_SKIP() << "mknod is not permitted here (needs root or CAP_MKNOD): "
                   << std::strerror(errno);
    ASSERT_EQ(::mkfifo((dir_ + "/fifo").c_str(), 0644), 0);
    fs::create_directory(dir_ + "/subdir");
    fs::create_symlink(dir_ + "/fifo", dir_ + "/link-to-fifo");
    fs::create_symlink(dir_ + "/null", dir_ + "/link-to-null");
    fs::create_directory(dir_ + "/fifo-run");
    ASSERT_EQ(::mkfifo((dir_ + "/fifo-run/summary.json").c_str(), 0644), 0);
    fs::create_directory(dir_ + "/old-run");
    std::ofstream(dir_ + "/old-run/summary.json") << "{\"arms\": []}\n";
    fs::create_symlink(dir_ + "/null", dir_ + "/old-run/report.md");
    std::ofstream(dir_ + "/a-file") << "not a directory\n";
  }

  CliResult run(const Row& row) {
    std::vector<std::string> args;
    for (const auto& a : row.args)
      args.push_back(replace_all(replace_all(a, "{dir}", dir_), "{model}", model()));
    return run_cli(args);
  }

  static const std::string& model() {
    static const std::string path = generated_model("mlp", "64KiB");
    return path;
  }

  std::string dir_;
};

TEST_P(HostileInput, IsRefusedByNameAndLeavesNothingBehind) {
  const Row& row = GetParam();
  model();  // made before the listing (it lives in its own temp dir)
  const auto before = listing(dir_);
  CliResult r = run(row);
  EXPECT_EQ(r.exit_code, row.exit_code) << r.err;
  EXPECT_THAT(r.err, HasSubstr("infermem: error: "));
  for (const auto& s : row.says) EXPECT_THAT(r.err, HasSubstr(replace_all(s, "{dir}", dir_)));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("internal error")));
  EXPECT_EQ(listing(dir_), before) << "the command left something behind or replaced a file";
}

std::string huge_number() {
  return std::string(300, '9');
}

// clang-format off
const std::vector<Row> kRows = {
  // --- soak: the model must be a regular file, read at once --------------------------------
  {"soak_model_is_a_device", {"soak", "{dir}/zero", "--out", "{dir}/run"}, 2,
   {"{dir}/zero", "character device"}},
  {"soak_model_is_a_fifo", {"soak", "{dir}/fifo", "--out", "{dir}/run"}, 2,
   {"{dir}/fifo", "FIFO"}},
  {"soak_model_is_a_link_to_a_fifo", {"soak", "{dir}/link-to-fifo", "--out", "{dir}/run"}, 2,
   {"{dir}/link-to-fifo", "FIFO"}},
  {"soak_model_is_a_directory", {"soak", "{dir}/subdir", "--out", "{dir}/run"}, 2,
   {"{dir}/subdir", "directory"}},
  {"soak_config_is_a_fifo", {"soak", "{model}", "--config", "{dir}/fifo", "--out", "{dir}/run"},
   2, {"--config", "{dir}/fifo", "FIFO"}},
  // --- soak: numbers in their ranges, parsed exactly ---------------------------------------
  {"soak_requests_in_scientific_notation", {"soak", "{model}", "--requests", "1e300", "--out",
   "{dir}/run"}, 2, {"--requests: '1e300' is not a whole number in 1..1000000000"}},
  {"soak_requests_of_300_digits", {"soak", "{model}", "--requests", huge_number(), "--out",
   "{dir}/run"}, 2, {"--requests: '9999", "300 characters", "1..1000000000"}},
  {"soak_requests_zero", {"soak", "{model}", "--requests", "0", "--out", "{dir}/run"}, 2,
   {"--requests: '0'"}},
  {"soak_seed_negative", {"soak", "{model}", "--seed=-1", "--out", "{dir}/run"}, 2,
   {"--seed: '-1'", "0..18446744073709551615"}},
  {"soak_seed_past_64_bits", {"soak", "{model}", "--seed", "18446744073709551616", "--out",
   "{dir}/run"}, 2, {"--seed: '18446744073709551616'"}},
  {"soak_cycles_overflowing_int", {"soak", "{model}", "--scenario", "churn", "--cycles",
   "4294967297", "--out", "{dir}/run"}, 2, {"--cycles: '4294967297'", "1..1000000"}},
  {"soak_repeat_beyond_100", {"soak", "{model}", "--repeat", "101", "--out", "{dir}/run"}, 2,
   {"--repeat: '101'", "1..100"}},
  {"soak_models_beyond_1000", {"soak", "{model}", "--models", "99999999999", "--out",
   "{dir}/run"}, 2, {"--models: '99999999999'", "1..1000"}},
  {"soak_cache_count_overflowing", {"soak", "{model}", "--scenario", "cache", "--cache",
   "lru:99999999999999999999999", "--out", "{dir}/run"}, 2,
   {"--cache lru:COUNT: '99999999999999999999999'"}},
  {"soak_threads_far_beyond_the_machine", {"soak", "{model}", "--threads", "100000", "--out",
   "{dir}/run"}, 2, {"--threads: '100000'"}},
  {"soak_arm_threads_far_beyond_the_machine", {"soak", "{model}", "--arms", "ort-default",
   "--arm", "many:intra=99999", "--out", "{dir}/run"}, 2, {"intra: '99999'"}},
  // glibc knobs that glibc would ignore without a word
  {"soak_glibc_knob_on_another_allocator", {"soak", "{model}", "--arms", "ort-default", "--arm",
   "je:allocator=jemalloc,malloc_arena_max=2", "--out", "{dir}/run"}, 2,
   {"malloc_arena_max=2 is a glibc malloc setting", "allocator=jemalloc"}},
  {"soak_mmap_threshold_above_glibc_maximum", {"soak", "{model}", "--arms", "ort-default",
   "--arm", "big:mmap_threshold=64MiB", "--out", "{dir}/run"}, 2,
   {"mmap_threshold=64MiB is above glibc's maximum of 32 MiB"}},
  {"soak_malloc_arena_max_zero", {"soak", "{model}", "--arms", "ort-default", "--arm",
   "none:malloc_arena_max=0", "--out", "{dir}/run"}, 2, {"malloc_arena_max: '0'"}},
  {"soak_timeout_zero", {"soak", "{model}", "--timeout", "0", "--out", "{dir}/run"}, 2,
   {"--timeout: '0'", "30 days"}},
  {"soak_duration_of_ages", {"soak", "{model}", "--duration", huge_number() + "h", "--out",
   "{dir}/run"}, 2, {"--duration"}},
  // --- soak: memory the run would need, before any child starts ----------------------------
  {"soak_memory_limit_zero", {"soak", "{model}", "--memory-limit", "0", "--out", "{dir}/run"},
   2, {"--memory-limit", "use 'none' for no limit"}},
  {"soak_memory_limit_below_the_floor", {"soak", "{model}", "--memory-limit", "1MiB", "--out",
   "{dir}/run"}, 2, {"--memory-limit: '1MiB'", "16.0 MiB", "'none'"}},
  {"soak_input_tensor_larger_than_the_machine", {"soak", "{model}", "--dim",
   "batch=999999999", "--out", "{dir}/run"}, 2,
   {"input[", "more than this machine's memory", "--dim"}},
  {"soak_input_tensor_larger_than_the_limit", {"soak", "{model}", "--scenario", "steady",
   "--dim", "batch=1000000", "--memory-limit", "128MiB", "--out", "{dir}/run"}, 2,
   {"input[1000000x", "more than --memory-limit 128.0 MiB"}},
  {"soak_leak_larger_than_the_limit", {"soak", "{model}", "--inject-leak", "1GiB",
   "--memory-limit", "128MiB", "--out", "{dir}/run"}, 2,
   {"--inject-leak: 1.0 GiB per request", "more than --memory-limit 128.0 MiB"}},
  {"soak_leak_times_requests_beyond_the_machine", {"soak", "{model}", "--inject-leak", "1GiB",
   "--requests", "1000", "--out", "{dir}/run"}, 2,
   {"--inject-leak: 1.0 GiB x 1003 requests", "this machine's memory"}},
  // --- soak: repeated keys, names that would break files, the run directory ----------------
  {"soak_dim_given_twice", {"soak", "{model}", "--dim", "batch=1..2", "--dim", "batch=3..4",
   "--out", "{dir}/run"}, 2, {"--dim batch=3..4", "'batch' is given twice"}},
  {"soak_arm_key_given_twice", {"soak", "{model}", "--arm", "x:arena=off,arena=on", "--out",
   "{dir}/run"}, 2, {"'arena' is given twice"}},
  {"soak_arm_name_of_300_characters", {"soak", "{model}", "--arms", "ort-default", "--arm",
   std::string(300, 'a') + ":arena=off", "--out", "{dir}/run"}, 2,
   {"300 characters", "at most 64"}},
  {"soak_out_is_an_existing_run", {"soak", "{model}", "--out", "{dir}/old-run"}, 2,
   {"--out {dir}/old-run", "--force"}},
  {"soak_force_into_a_run_whose_report_is_a_device", {"soak", "{model}", "--out",
   "{dir}/old-run", "--force"}, 2, {"{dir}/old-run/report.md", "character device"}},
  {"soak_out_is_a_file", {"soak", "{model}", "--out", "{dir}/a-file", "--force"}, 2,
   {"--out {dir}/a-file", "not a directory"}},
  {"soak_unknown_flag", {"soak", "{model}", "--frobnicate", "--out", "{dir}/run"}, 2,
   {"--frobnicate"}},
  // --- inspect -----------------------------------------------------------------------------
  {"inspect_a_device", {"inspect", "{dir}/zero"}, 2, {"{dir}/zero", "character device"}},
  {"inspect_a_fifo", {"inspect", "{dir}/fifo"}, 2, {"{dir}/fifo", "FIFO"}},
  {"inspect_a_directory", {"inspect", "{dir}/subdir"}, 2, {"{dir}/subdir", "directory"}},
  {"inspect_a_missing_file", {"inspect", "{dir}/absent.onnx"}, 2,
   {"{dir}/absent.onnx", "does not exist"}},
  // --- gen-model: the output is a new path or a regular file -------------------------------
  {"gen_model_over_a_device", {"gen-model", "--kind", "mlp", "--weights", "64KiB", "-o",
   "{dir}/null"}, 2, {"{dir}/null", "character device"}},
  {"gen_model_over_a_fifo", {"gen-model", "--kind", "mlp", "--weights", "64KiB", "-o",
   "{dir}/fifo"}, 2, {"{dir}/fifo", "FIFO"}},
  {"gen_model_over_a_link_to_a_device", {"gen-model", "--kind", "mlp", "--weights", "64KiB",
   "-o", "{dir}/link-to-null"}, 2, {"{dir}/link-to-null", "character device"}},
  {"gen_model_over_a_directory", {"gen-model", "--kind", "mlp", "--weights", "64KiB", "-o",
   "{dir}/subdir"}, 2, {"{dir}/subdir", "directory"}},
  {"gen_model_into_a_missing_directory", {"gen-model", "--kind", "mlp", "--weights", "64KiB",
   "-o", "{dir}/no/such/m.onnx"}, 2, {"{dir}/no/such/m.onnx", "No such file or directory"}},
  {"gen_model_seed_in_scientific_notation", {"gen-model", "--kind", "mlp", "--weights",
   "64KiB", "--seed", "1e300", "-o", "{dir}/m.onnx"}, 2, {"--seed: '1e300'"}},
  {"gen_model_layers_of_300_digits", {"gen-model", "--kind", "mlp", "--weights", "64KiB",
   "--layers", huge_number(), "-o", "{dir}/m.onnx"}, 2, {"--layers '9999", "1 to 128"}},
  {"gen_model_weights_of_300_digits", {"gen-model", "--kind", "mlp", "--weights",
   huge_number(), "-o", "{dir}/m.onnx"}, 2, {"--weights", "too large"}},
  // --- snapshot ----------------------------------------------------------------------------
  {"snapshot_pid_of_300_digits", {"snapshot", "--pid", huge_number()}, 2,
   {"--pid: '9999", "1..4194304"}},
  {"snapshot_pid_zero", {"snapshot", "--pid", "0"}, 2, {"--pid: '0'"}},
  {"snapshot_pid_not_a_number", {"snapshot", "--pid", "12abc"}, 2, {"--pid: '12abc'"}},
  // --- report ------------------------------------------------------------------------------
  {"report_summary_is_a_fifo", {"report", "{dir}/fifo-run"}, 2,
   {"{dir}/fifo-run/summary.json", "FIFO"}},
  {"report_md_is_a_link_to_a_device", {"report", "{dir}/old-run"}, 2,
   {"{dir}/old-run/report.md", "character device"}},
  {"report_of_a_missing_run", {"report", "{dir}/absent-run"}, 2, {"{dir}/absent-run"}},
  // --- analyze and diff: what already holds at this branch ---------------------------------
  {"analyze_a_missing_file", {"analyze", "{dir}/absent.csv"}, 2, {"{dir}/absent.csv"}},
  {"analyze_a_directory", {"analyze", "{dir}/subdir"}, 2, {"{dir}/subdir"}},
  {"diff_of_missing_runs", {"diff", "{dir}/absent-a", "{dir}/absent-b"}, 2, {"{dir}/absent-a"}},
};

// analyze's input and diff's run summaries: a device would be read until memory runs out and a
// FIFO would block, so both are refused at once, by name.
const std::vector<Row> kAnalyzeDiffRows = {
  {"analyze_a_device", {"analyze", "{dir}/zero"}, 2, {"{dir}/zero", "character device"}},
  {"analyze_a_fifo", {"analyze", "{dir}/fifo"}, 2, {"{dir}/fifo", "FIFO"}},
  {"diff_summary_is_a_fifo", {"diff", "{dir}/fifo-run", "{dir}/old-run"}, 2,
   {"{dir}/fifo-run/summary.json", "FIFO"}},
};
// clang-format on

std::string row_name(const ::testing::TestParamInfo<Row>& info) {
  return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Commands, HostileInput, ::testing::ValuesIn(kRows), row_name);
INSTANTIATE_TEST_SUITE_P(AnalyzeAndDiff, HostileInput, ::testing::ValuesIn(kAnalyzeDiffRows),
                         row_name);

// What the checks still accept: a non-empty --out with --force, and --memory-limit none.
TEST(HostileInputAccepted, ForceWritesIntoANonEmptyRunDirectory) {
  std::string out = make_temp_dir("hostile-force");
  std::ofstream(out + "/notes.txt") << "kept\n";
  auto r =
      run_cli({"soak", generated_model("mlp", "64KiB"), "--arms", "ort-default", "--scenario",
               "steady", "--requests", "5", "--memory-limit", "none", "--out", out, "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(out + "/summary.json")) << r.err;
  EXPECT_TRUE(fs::is_regular_file(out + "/notes.txt")) << "--force replaces only a run's files";
  // Again into the same run directory: the earlier run's trace is replaced, not appended to.
  auto lines = [&] {
    std::ifstream in(out + "/trace.jsonl");
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  const auto first = lines();
  auto again =
      run_cli({"soak", generated_model("mlp", "64KiB"), "--arms", "ort-default", "--scenario",
               "steady", "--requests", "5", "--memory-limit", "none", "--out", out, "--force"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_GT(first, 0);
  EXPECT_LT(lines(), first * 3 / 2) << "the second run's trace replaced the first";
}

}  // namespace
