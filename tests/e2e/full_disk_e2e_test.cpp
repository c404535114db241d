// End-to-end: an output that cannot be written because the disk is full is exit 5 (the machine's
// trouble, not the input's), with a message naming the path, and nothing half-written is left.
// The full disk is a 64 KiB tmpfs mounted for the test, which needs root (CI runs as root);
// elsewhere the test says why it is skipped.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "infermem/error.h"
#include "support/run_helpers.h"

using infermem::test::generated_model;
using infermem::test::make_temp_dir;
using infermem::test::run_cli;
using ::testing::HasSubstr;

namespace {

// A tmpfs of `size` bytes at a fresh folder, unmounted when the test ends.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& tag) : dir_(make_temp_dir(tag) + "/disk") {
    std::filesystem::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") == 0)
      mounted_ = true;
    else
      why_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  bool mounted_ = false;
  std::string why_;
};

}  // namespace

TEST(FullDisk, GenModelOntoAFullDiskIsExitFiveAndLeavesNoFile) {
  SmallDisk disk("full-disk-gen");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs: " << disk.why();
  const std::string out = disk.dir() + "/model.onnx";
  // 1 MiB of weights cannot fit on a 64 KiB disk.
  auto r = run_cli({"gen-model", "--kind", "mlp", "--weights", "1MiB", "-o", out});
  EXPECT_EQ(r.exit_code, infermem::kExitWriteFailed) << r.err;
  EXPECT_THAT(r.err, HasSubstr(out));
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
  EXPECT_TRUE(std::filesystem::is_empty(disk.dir())) << "a half-written file was left behind";
}

TEST(FullDisk, ASoakWhoseRunDirectoryFillsUpIsExitFiveNamingTheFile) {
  SmallDisk disk("full-disk-soak");
  if (!disk.mounted()) GTEST_SKIP() << "cannot mount a small tmpfs: " << disk.why();
  const std::string model = generated_model("mlp", "1MiB");
  // Enough requests that the trace outgrows 64 KiB (a sample line is ~200 bytes).
  auto r = run_cli({"soak", model, "--scenario", "steady", "--arms", "ort-default", "--requests",
                    "2000", "--out", disk.dir() + "/run"});
  EXPECT_EQ(r.exit_code, infermem::kExitWriteFailed) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr(disk.dir() + "/run/"));
  EXPECT_THAT(r.err, HasSubstr("No space left on device"));
}
