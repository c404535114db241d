// The atomic writer replaces only a new path or a regular file; everything else is refused
// untouched, and a failed write leaves no temp file. Special files are made inside a temp dir
// (mknod, mkfifo), never in the real /dev.
#include "infermem/atomic_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "infermem/error.h"
#include "support/files.h"

using namespace infermem;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = test::make_temp_dir("atomic"); }

  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  // Writing to `path` throws an InputError whose message holds each of `words`.
  void expect_refused(const std::string& path, std::vector<std::string> words) {
    auto before = entries();
    try {
      write_file_atomic(path, "payload\n");
      FAIL() << "wrote to " << path;
    } catch (const InputError& e) {
      for (const auto& w : words) EXPECT_THAT(e.what(), HasSubstr(w));
    }
    EXPECT_EQ(entries(), before) << "a temp file or a replacement was left in " << dir_;
    EXPECT_THROW(check_writable_target(path), InputError);
  }

  std::string dir_;
};

TEST_F(AtomicFileTest, WritesANewFileAndReplacesARegularOneKeepingItsMode) {
  std::string p = dir_ + "/out.json";
  write_file_atomic(p, "one\n");
  EXPECT_EQ(test::read_file(p), "one\n");
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  write_file_atomic(p, "two\n");
  EXPECT_EQ(test::read_file(p), "two\n");
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(entries(), std::vector<std::string>{"out.json"});
}

TEST_F(AtomicFileTest, ACharacterDeviceIsRefusedAndStaysADevice) {
  std::string p = dir_ + "/null";
  if (::mknod(p.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0)
    GTEST_SKIP() << "mknod is not permitted here (not root, or no CAP_MKNOD): " << strerror(errno);
  expect_refused(p, {p, "character device"});
  struct stat st {};
  ASSERT_EQ(::lstat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode)) << "the device node was replaced";
}

TEST_F(AtomicFileTest, AFifoASocketAndADirectoryAreRefused) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  expect_refused(fifo, {fifo, "FIFO"});
  struct stat st {};
  ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));

  std::string sock = dir_ + "/sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.size(), sizeof addr.sun_path);
  std::copy(sock.begin(), sock.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  expect_refused(sock, {sock, "socket"});
  ::close(fd);

  std::string sub = dir_ + "/sub";
  fs::create_directory(sub);
  expect_refused(sub, {sub, "directory"});
  EXPECT_TRUE(fs::is_directory(sub));
}

TEST_F(AtomicFileTest, ASymlinkToAFifoIsRefusedAndToAFileIsFollowed) {
  std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  std::string link = dir_ + "/to-fifo";
  fs::create_symlink(fifo, link);
  expect_refused(link, {link, "FIFO"});
  EXPECT_TRUE(fs::is_symlink(link));

  std::string file = dir_ + "/real.md";
  write_file_atomic(file, "old\n");
  std::string link2 = dir_ + "/to-file.md";
  fs::create_symlink(file, link2);
  write_file_atomic(link2, "new\n");
  EXPECT_TRUE(fs::is_symlink(link2)) << "the link itself was replaced by a file";
  EXPECT_EQ(test::read_file(file), "new\n");
}

TEST_F(AtomicFileTest, AMissingDirectoryNamesThePathAndTheReason) {
  std::string p = dir_ + "/no/such/dir/out.json";
  try {
    write_file_atomic(p, "x");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr(p));
    EXPECT_THAT(e.what(), HasSubstr("No such file or directory"));
  }
}

TEST_F(AtomicFileTest, AFullFilesystemNamesThePathAndLeavesNoTempFile) {
  std::string mnt = dir_ + "/small";
  fs::create_directory(mnt);
  if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs to fill (needs root and CAP_SYS_ADMIN): "
                 << strerror(errno);
  std::string p = mnt + "/summary.json";
  std::string big(1 << 20, 'x');  // 1 MiB into 64 KiB
  try {
    write_file_atomic(p, big);
    ADD_FAILURE() << "wrote 1 MiB into a 64 KiB filesystem";
  } catch (const WriteError& e) {
    EXPECT_THAT(e.what(), HasSubstr(p));
    EXPECT_THAT(e.what(), HasSubstr("No space left on device"));
  }
  EXPECT_TRUE(fs::is_empty(mnt)) << "a temp file was left on the full filesystem";
  ::umount(mnt.c_str());
}

}  // namespace
