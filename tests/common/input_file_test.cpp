#include "infermem/input_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "infermem/error.h"
#include "support/files.h"

using namespace infermem;

namespace {

// The InputError's message, or "" when none was thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(InputFile, OpensARegularFileAndReportsItsSize) {
  const std::string dir = test::make_temp_dir("input-file");
  const std::string path = dir + "/trace.csv";
  std::ofstream(path) << "time,rss\n0,1\n";
  InputFile f = open_regular_input(path, "input");
  EXPECT_GE(f.fd(), 0);
  EXPECT_EQ(f.size(), 13u);
  EXPECT_EQ(f.path(), path);
  char buf[32];
  EXPECT_EQ(::read(f.fd(), buf, sizeof buf), 13);
  EXPECT_EQ(read_regular_file(path, "input", 13), "time,rss\n0,1\n");
  std::filesystem::remove_all(dir);
}

TEST(InputFile, AFifoIsRefusedAtOnceInsteadOfBlocking) {
  // Opening a FIFO without a writer would block forever; the check must come before that.
  const std::string dir = test::make_temp_dir("input-file");
  const std::string fifo = dir + "/pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string why = error_of([&] { open_regular_input(fifo, "input"); });
  EXPECT_NE(why.find(fifo), std::string::npos) << why;
  EXPECT_NE(why.find("is a FIFO, not a regular file"), std::string::npos) << why;
  EXPECT_NE(why.find("input"), std::string::npos) << "names what the file was for: " << why;
  EXPECT_NE(error_of([&] { read_regular_file(fifo, "--config", 1024); }).find("FIFO"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(InputFile, DevicesDirectoriesAndMissingFilesAreNamedWithWhatIsWrong) {
  // /dev/zero would be an endless read: refused, never read.
  std::string why = error_of([] { open_regular_input("/dev/zero", "input"); });
  EXPECT_NE(why.find("/dev/zero: is a character device, not a regular file"), std::string::npos)
      << why;
  const std::string dir = test::make_temp_dir("input-file");
  why = error_of([&] { open_regular_input(dir, "--model"); });
  EXPECT_NE(why.find("--model " + dir + ": is a directory, not a regular file"), std::string::npos)
      << why;
  why = error_of([&] { open_regular_input(dir + "/missing.csv", "input"); });
  EXPECT_NE(why.find("missing.csv: does not exist"), std::string::npos) << why;
  std::filesystem::remove_all(dir);
}

TEST(InputFile, DashIsStandardInputOnlyWhenTheCallerAllowsIt) {
  InputFile in = open_regular_input("-", "input", /*allow_stdin=*/true);
  EXPECT_TRUE(in.is_stdin());
  EXPECT_EQ(in.fd(), STDIN_FILENO);
  in.close();
  EXPECT_NE(::fcntl(STDIN_FILENO, F_GETFD), -1) << "standard input is borrowed, never closed";
  EXPECT_THROW(open_regular_input("-", "input"), InputError) << "no file named '-' here";
}

TEST(InputFile, ReadRegularFileRefusesAFileLargerThanItsLimit) {
  const std::string dir = test::make_temp_dir("input-file");
  const std::string path = dir + "/model.onnx";
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_EQ(read_regular_file(path, "--model", 4096).size(), 4096u) << "exactly the limit fits";
  std::string why = error_of([&] { read_regular_file(path, "--model", 4095); });
  EXPECT_NE(why.find(path), std::string::npos) << why;
  EXPECT_NE(why.find("larger than"), std::string::npos) << why;
  std::filesystem::remove_all(dir);
}
